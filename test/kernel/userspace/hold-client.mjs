// A client that keeps one connection open: prints the greeting, then sends each stdin line and prints the
// echoed line, until stdin closes. Run as `ip netns exec <client> node hold-client.mjs '{"ip":…,"port":…}'`.
import net from 'node:net';
import { createInterface } from 'node:readline';
const { ip, port } = JSON.parse(process.argv[2]);
const s = net.connect(port, ip);
let buf = '';
s.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    process.stdout.write(`${buf.slice(0, i)}\n`);
    buf = buf.slice(i + 1);
  }
});
s.on('error', (e) => process.stdout.write(`!${e.code ?? e.message}\n`));
s.on('close', () => process.stdout.write('!closed\n'));
createInterface({ input: process.stdin }).on('line', (l) => s.write(`${l}\n`)).on('close', () => process.exit(0));
