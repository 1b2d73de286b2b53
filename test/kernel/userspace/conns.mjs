// New-connection load for the userspace bench: `conns.mjs '{"ip":…,"port":…,"count":n,"concurrency":c}'`
// opens n connections, c at a time; each waits for the server's first bytes, then closes. Prints
// {"ok":n,"failed":n,"ms":t,"errors":{code:n}} once all are done.
import net from 'node:net';
const { ip, port, count, concurrency } = JSON.parse(process.argv[2]);
let started = 0;
let ok = 0;
let failed = 0;
const errors = {};
const t0 = process.hrtime.bigint();
const one = () =>
  new Promise((resolve) => {
    const s = net.connect({ host: ip, port, noDelay: true });
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      if (err) {
        failed++;
        errors[err] = (errors[err] ?? 0) + 1;
      } else ok++;
      s.destroy();
      resolve();
    };
    s.setTimeout(5000, () => finish('timeout'));
    s.once('data', () => finish());
    s.once('error', (e) => finish(e.code ?? e.message));
    s.once('close', () => finish('closed-early'));
  });
const worker = async () => {
  while (started < count) {
    started++;
    await one();
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(JSON.stringify({ ok, failed, ms: Number(process.hrtime.bigint() - t0) / 1e6, errors }) + '\n');
