// New-connection load for the userspace bench, kept cheap so that on a small machine the load generator and
// the pod's server leave the cores to the path under test (both paths get the same client and server).
// Client: `conns.mjs '{"ip":…,"port":…,"count":n,"concurrency":c}'` opens n connections, c at a time; each
// waits for the server's first bytes, then closes (no promise or timer per connection: one watchdog gives
// up on a connection after 5 s). Prints {"ok":n,"failed":n,"ms":t,"errors":{code:n},"cpuUs":µs} when done.
// Server: `conns.mjs '{"serve":port}'` answers each connection with a short greeting and ends it; prints
// "ready"; exits when stdin ends.
import net from 'node:net';
const spec = JSON.parse(process.argv[2]);

if (spec.serve) {
  const greeting = Buffer.from('hello\n');
  const ignore = () => {};
  net
    .createServer({ noDelay: true }, (c) => {
      c.on('error', ignore);
      c.end(greeting);
    })
    .listen({ port: spec.serve, host: '::', ipv6Only: false, backlog: 4096 }, () => process.stdout.write('ready\n'));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} else {
  const { ip, port, count, concurrency } = spec;
  const TIMEOUT_MS = 5000;
  const live = new Set();
  const errors = {};
  let started = 0;
  let ok = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();

  const fail = (s, why) => {
    if (s.done) return;
    s.done = true;
    failed++;
    errors[why] = (errors[why] ?? 0) + 1;
    s.destroy();
  };
  function onData() {
    if (this.done) return;
    this.done = true;
    ok++;
    this.destroy();
  }
  function onError(e) {
    fail(this, e.code ?? e.message);
  }
  function onClose() {
    fail(this, 'closed-early');
    live.delete(this);
    if (started < count) open();
    else if (live.size === 0) finish();
  }
  function open() {
    started++;
    const s = net.connect({ host: ip, port, noDelay: true });
    s.done = false;
    s.openedAt = Date.now();
    s.on('data', onData).on('error', onError).on('close', onClose);
    live.add(s);
  }
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const s of live) if (now - s.openedAt > TIMEOUT_MS) fail(s, 'timeout');
  }, 500);
  function finish() {
    clearInterval(watchdog);
    const cpu = process.cpuUsage();
    process.stdout.write(JSON.stringify({ ok, failed, ms: Number(process.hrtime.bigint() - t0) / 1e6, errors, cpuUs: cpu.user + cpu.system }) + '\n');
  }
  for (let i = 0; i < Math.min(concurrency, count); i++) open();
}
