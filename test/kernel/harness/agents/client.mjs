// Client run as `ip netns exec <ns> node client.mjs '<json>'`: makes `count` connections (TCP) or
// exchanges (UDP, a new socket and so a new source port each time) to ip:port and prints one JSON object
// {results: [...], complete} on stdout. Each attempt ends by timeoutMs; no attempt starts after deadlineMs.
import dgram from 'node:dgram';
import net from 'node:net';

const spec = JSON.parse(process.argv[2] ?? '{}');
const { ip, port, proto = 'tcp', timeoutMs = 1000, count = 1, concurrency = 1, deadlineMs = 60_000, localAddress, payload } = spec;

// Hard stop, whatever happens below.
setTimeout(() => process.exit(3), deadlineMs + timeoutMs + 1000).unref();

const unmap = (a) => (a?.startsWith('::ffff:') ? a.slice(7) : a);

function classify(code) {
  switch (code) {
    case 'ECONNREFUSED': return 'refused';
    case 'ETIMEDOUT': return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL': return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE': return 'reset';
    default: return 'error';
  }
}

function tcpOnce() {
  return new Promise((resolve) => {
    const started = Date.now();
    let done = false;
    let connected = false;
    let local;
    let data = '';
    const sock = net.connect({ host: ip, port, localAddress });
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, ...(local && !r.local ? { local } : {}), ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(connected
      ? { ok: false, error: 'no-reply', detail: 'connected but no reply' }
      : { ok: false, error: 'timeout', detail: 'connect timed out' }), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      local = `${unmap(sock.localAddress)}:${sock.localPort}`;
      if (payload) sock.write(payload);
    });
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => finish({ ok: true, reply: data.trim(), local }));
    sock.on('error', (e) => finish({ ok: false, error: classify(e.code), detail: e.code ?? e.message }));
  });
}

function udpOnce() {
  return new Promise((resolve) => {
    const started = Date.now();
    let done = false;
    let local;
    const sock = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { sock.close(); } catch {}
      resolve({ ...r, ...(local && !r.local ? { local } : {}), ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout', detail: 'no answer' }), timeoutMs);
    // A connected UDP socket gets ICMP errors (port unreachable -> ECONNREFUSED) as 'error' events.
    sock.on('error', (e) => finish({ ok: false, error: classify(e.code), detail: e.code ?? e.message }));
    sock.on('message', (m) => finish({ ok: true, reply: m.toString('utf8').trim(), local }));
    const go = () => sock.connect(port, ip, (err) => {
      if (err) return finish({ ok: false, error: classify(err.code), detail: err.code ?? err.message });
      const a = sock.address();
      local = `${unmap(a.address)}:${a.port}`;
      sock.send(payload ?? 'ping');
    });
    if (localAddress) sock.bind({ address: localAddress, port: 0 }, go);
    else go();
  });
}

const once = proto === 'udp' ? udpOnce : tcpOnce;
const started = Date.now();
const results = [];
let next = 0;
async function worker() {
  while (next < count && Date.now() - started < deadlineMs) {
    const i = next++;
    results[i] = await once();
  }
}
await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
const made = results.filter(Boolean);
// Exit only once the answer is flushed: a large answer to a pipe is written asynchronously.
process.stdout.write(JSON.stringify({ results: made, complete: made.length === count }) + '\n', () => process.exit(0));
