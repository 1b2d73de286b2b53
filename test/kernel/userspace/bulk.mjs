// Bulk transfer for the userspace bench. Server: `bulk.mjs '{"serve":9100,"mb":64}'` sends mb MiB to each
// connection, then ends it; prints "ready". Client: `bulk.mjs '{"ip":…,"port":…}'` reads to the end and
// prints {"bytes":n,"ms":t}.
import net from 'node:net';
const spec = JSON.parse(process.argv[2]);
if (spec.serve) {
  const chunk = Buffer.alloc(1 << 20, 120);
  net
    .createServer((c) => {
      c.on('error', () => {});
      let left = spec.mb;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!c.write(chunk)) return void c.once('drain', pump);
        }
        c.end();
      };
      pump();
    })
    .listen({ port: spec.serve, host: '::', ipv6Only: false }, () => process.stdout.write('ready\n'));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} else {
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  const s = net.connect(spec.port, spec.ip);
  s.on('data', (d) => (bytes += d.length));
  s.on('end', () => {
    process.stdout.write(JSON.stringify({ bytes, ms: Number(process.hrtime.bigint() - t0) / 1e6 }) + '\n');
    process.exit(0);
  });
  s.on('error', (e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
