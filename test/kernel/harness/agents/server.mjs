// Tiny pod server, run as `ip netns exec <ns> node server.mjs '<json>'`.
// Answers every TCP connection and UDP datagram with "<name> <peer ip>:<peer port>\n", so a test sees
// which endpoint served it and whether the source was masqueraded. Prints "ready" once every port listens.
// It ends itself when its parent goes away (stdin closes) or after ttlMs, so it can never outlive a run.
import dgram from 'node:dgram';
import net from 'node:net';

const { name, tcp = [], udp = [], ttlMs = 600_000 } = JSON.parse(process.argv[2] ?? '{}');
// '::' without ipv6Only takes IPv4 too (as ::ffff:a.b.c.d), so one socket serves both families.
const HOST = '::';
const unmap = (ip) => (ip?.startsWith('::ffff:') ? ip.slice(7) : ip);
const answer = (ip, port) => `${name} ${unmap(ip)}:${port}\n`;

const listening = [];
for (const port of tcp) {
  const server = net.createServer((conn) => {
    conn.on('error', () => {});
    conn.end(answer(conn.remoteAddress, conn.remotePort));
  });
  listening.push(new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: HOST, ipv6Only: false }, resolve);
  }));
}
for (const port of udp) {
  const sock = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  sock.on('message', (_msg, peer) => sock.send(answer(peer.address, peer.port), peer.port, peer.address));
  listening.push(new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, HOST, resolve);
  }));
}

Promise.all(listening).then(
  () => process.stdout.write('ready\n'),
  (err) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  },
);

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), ttlMs);
