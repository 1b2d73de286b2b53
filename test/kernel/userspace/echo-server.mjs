// A pod server that keeps its connections: greets with "<name> <peer ip>:<peer port>\n", then echoes.
// Run as `ip netns exec <pod> node echo-server.mjs '{"name":"pod-1","port":9000}'`; prints "ready";
// ends when stdin closes (its parent is gone).
import net from 'node:net';
const { name, port } = JSON.parse(process.argv[2]);
const server = net.createServer((c) => {
  c.on('error', () => {});
  c.write(`${name} ${c.remoteAddress?.replace(/^::ffff:/, '')}:${c.remotePort}\n`);
  c.pipe(c);
});
server.listen({ port, host: '::', ipv6Only: false }, () => process.stdout.write('ready\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
