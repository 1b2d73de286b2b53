// proxier_test.go (v1.25) cases for the proxy sockets, on loopback without portal rules (the kernel tests
// add those): TestTCPProxy / TestUDPProxy (bytes reach the endpoint and come back), TestMultiPortProxy,
// TestTCPProxyStop (a closed service port refuses), TestUDPProxyTimeout (an idle session ends),
// TestProxyUpdateDeleteUpdate; plus the dial fallback past a dead endpoint and live endpoint changes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { startUserspaceProxier, syncUserspaceFamily, type ServicePortToProxy } from '../../../src/core/host/userspace/index.js';
import { view } from './fixtures.js';

const keepOrder = () => 0.999999;

/** A TCP echo-ish server answering "<name>\n" then echoing; and a UDP one answering "<name>:<msg>". */
async function tcpServer(name: string): Promise<{ port: number; close: () => Promise<void>; conns: Set<net.Socket> }> {
  const conns = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => {});
    s.write(`${name}\n`);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, conns, close: () => new Promise((r) => { for (const c of conns) c.destroy(); srv.close(() => r()); }) };
}
async function udpServer(name: string): Promise<{ port: number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(`${name}:${m}`, r.port, r.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, close: () => s.close() };
}
/** Connects, reads the first line (the server's name), keeps the socket open when asked. */
function hello(port: number, keep = false): Promise<{ name: string; sock: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        if (!keep) s.destroy();
        resolve({ name: buf.split('\n')[0]!, sock: s });
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed before a reply')));
  });
}
function udpAsk(port: number, msg: string, sock?: dgram.Socket): Promise<string> {
  const s = sock ?? dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no reply')), 1000);
    s.once('message', (m) => {
      clearTimeout(t);
      if (!sock) s.close();
      resolve(String(m));
    });
    s.send(msg, port, '127.0.0.1');
  });
}

const tcp = (name: string, endpoints: string[], affinitySeconds: number | null = null): ServicePortToProxy => ({ servicePort: name, protocol: 'TCP', portals: [{ kind: 'cluster IP', ip: '10.96.0.1', port: 80 }], endpoints, affinitySeconds });

describe('userspace proxy sockets (proxier_test.go)', () => {
  const servers: Array<{ close: () => unknown }> = [];
  let a: Awaited<ReturnType<typeof tcpServer>>, b: Awaited<ReturnType<typeof tcpServer>>, c: Awaited<ReturnType<typeof tcpServer>>;
  before(async () => {
    [a, b, c] = await Promise.all([tcpServer('a'), tcpServer('b'), tcpServer('c')]);
    servers.push(a, b, c);
  });
  after(async () => {
    for (const s of servers) await s.close();
  });
  const ep = (s: { port: number }) => `127.0.0.1:${s.port}`;

  it('TCPProxy: round robin in the balancer\'s order, exactly', async () => {
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', random: keepOrder }, [tcp('ns/echo:p', [ep(a), ep(b), ep(c)])]);
    try {
      const port = p.proxyPorts().get('ns/echo:p')!;
      const names = [];
      for (let i = 0; i < 6; i++) names.push((await hello(port)).name);
      assert.deepEqual(names, ['a', 'b', 'c', 'a', 'b', 'c']);
    } finally {
      await p.stop();
    }
  });

  it('ClientIP affinity: every connection of one client reaches the same endpoint', async () => {
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', random: keepOrder }, [tcp('ns/echo:p', [ep(a), ep(b)], 10800)]);
    try {
      const port = p.proxyPorts().get('ns/echo:p')!;
      const names = [];
      for (let i = 0; i < 4; i++) names.push((await hello(port)).name);
      assert.deepEqual(names, ['a', 'a', 'a', 'a']);
    } finally {
      await p.stop();
    }
  });

  it('a dead endpoint is skipped: the dial fails and the next endpoint serves the connection', async () => {
    const dead = await tcpServer('dead');
    const deadEp = ep(dead);
    await dead.close(); // its port now refuses
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', random: keepOrder }, [tcp('ns/echo:p', [deadEp, ep(b)], 10800)]);
    try {
      const port = p.proxyPorts().get('ns/echo:p')!;
      assert.equal((await hello(port)).name, 'b');
      assert.equal((await hello(port)).name, 'b'); // the reset affinity now points at b
    } finally {
      await p.stop();
    }
  });

  it('endpoint changes under live traffic: an open connection keeps working, new ones go to the new list', async () => {
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', random: keepOrder }, [tcp('ns/echo:p', [ep(a)])]);
    try {
      const port = p.proxyPorts().get('ns/echo:p')!;
      const open = await hello(port, true);
      assert.equal(open.name, 'a');
      await p.sync([tcp('ns/echo:p', [ep(b)])]);
      assert.equal(p.proxyPorts().get('ns/echo:p'), port, 'an endpoint change keeps the proxy port');
      assert.equal((await hello(port)).name, 'b');
      const echoed = await new Promise<string>((r) => {
        open.sock.once('data', (d) => r(String(d)));
        open.sock.write('still here');
      });
      assert.equal(echoed, 'still here');
      open.sock.destroy();
    } finally {
      await p.stop();
    }
  });

  it('TCPProxyStop / ProxyUpdateDeleteUpdate: a removed service port closes its port; added back, it serves again', async () => {
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', random: keepOrder }, [tcp('ns/echo:p', [ep(a)]), tcp('ns/other:q', [ep(c)])]);
    try {
      const port = p.proxyPorts().get('ns/echo:p')!;
      await p.sync([tcp('ns/other:q', [ep(c)])]);
      assert.deepEqual([...p.proxyPorts().keys()], ['ns/other:q']);
      await assert.rejects(hello(port), /ECONNREFUSED/);
      await p.sync([tcp('ns/echo:p', [ep(a)]), tcp('ns/other:q', [ep(c)])]);
      assert.equal((await hello(p.proxyPorts().get('ns/echo:p')!)).name, 'a');
    } finally {
      await p.stop();
    }
  });

  it('ProxyUpdatePortal: a changed portal restarts the proxy; connections to the old socket live on', async () => {
    const logs: string[] = [];
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', log: (l) => logs.push(l) }, [tcp('ns/echo:p', [ep(a)])]);
    try {
      const open = await hello(p.proxyPorts().get('ns/echo:p')!, true);
      const moved = { ...tcp('ns/echo:p', [ep(a)]), portals: [{ kind: 'cluster IP' as const, ip: '10.96.0.2', port: 80 }] };
      await p.sync([moved]);
      assert.ok(logs.some((l) => l.startsWith('stopped proxying ns/echo:p')), logs.join('\n'));
      assert.equal((await hello(p.proxyPorts().get('ns/echo:p')!)).name, 'a');
      const echoed = await new Promise<string>((r) => {
        open.sock.once('data', (d) => r(String(d)));
        open.sock.write('old socket');
      });
      assert.equal(echoed, 'old socket');
      open.sock.destroy();
      logs.length = 0;
      await p.sync([{ ...moved, affinitySeconds: null }]);
      assert.deepEqual(logs, [], 'the same config restarts nothing');
    } finally {
      await p.stop();
    }
  });

  it('no endpoints: the proxy accepts and closes the connection', async () => {
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1' }, [tcp('ns/empty:p', [])]);
    try {
      await assert.rejects(hello(p.proxyPorts().get('ns/empty:p')!), /closed before a reply|ECONNRESET/);
    } finally {
      await p.stop();
    }
  });

  it('UDPProxy and UDPProxyTimeout: replies come back from the proxy port; an idle session ends after udpIdleTimeout', async () => {
    const u = await udpServer('u');
    servers.push(u);
    const spec: ServicePortToProxy = { servicePort: 'ns/dns:dns', protocol: 'UDP', portals: [{ kind: 'cluster IP', ip: '10.96.0.10', port: 53 }], endpoints: [`127.0.0.1:${u.port}`], affinitySeconds: null };
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', udpIdleTimeoutMs: 100 }, [spec]);
    const client = dgram.createSocket('udp4');
    try {
      const port = p.proxyPorts().get('ns/dns:dns')!;
      assert.equal(await udpAsk(port, 'hi', client), 'u:hi');
      assert.equal(await udpAsk(port, 'again', client), 'u:again');
      assert.equal(p.active().get('ns/dns:dns'), 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(p.active().get('ns/dns:dns'), 0);
    } finally {
      client.close();
      await p.stop();
    }
  });

  it('claimNodePort: a node port is held open while its service port is proxied, and freed with it', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const nodePort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const spec = { ...tcp('ns/np:p', [ep(a)]), portals: [{ kind: 'cluster IP' as const, ip: '10.96.0.1', port: 80 }, { kind: 'nodePort' as const, ip: null, port: nodePort }] };
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1' }, [spec]);
    const tryListen = () => new Promise<string>((resolve) => { const s = net.createServer(); s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error')); s.listen(nodePort, '127.0.0.1', () => s.close(() => resolve('free'))); });
    try {
      assert.deepEqual([...p.claimedPorts()], [[`:${nodePort}/TCP`, 'ns/np:p']]);
      assert.equal(await tryListen(), 'EADDRINUSE');
      await p.sync([]);
      assert.equal(await tryListen(), 'free');
    } finally {
      await p.stop();
    }
  });

  it('syncUserspaceFamily: the portal rules name the ports the proxier holds, not the stand-ins', async () => {
    const { view: v, config } = view([{ name: 'web', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }], endpoints: ['127.0.0.1'] }], { bindAddress: '127.0.0.1' });
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1' }, []);
    try {
      const st = await syncUserspaceFamily(p, v.families[0]!, config);
      const port = p.proxyPorts().get('default/web:http')!;
      assert.equal(st.proxies[0]!.proxyPort, port);
      const rule = st.rules.tables.find((t) => t.name === 'nat')!.chains[0]!.rules[0]!.words.join(' ');
      assert.ok(rule.endsWith(`-j DNAT --to-destination 127.0.0.1:${port}`), rule);
    } finally {
      await p.stop();
    }
  });

  it('SCTP is not proxied (newProxySocket knows TCP and UDP only)', async () => {
    const logs: string[] = [];
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1', log: (l) => logs.push(l) }, [{ ...tcp('ns/s:p', [ep(a)]), protocol: 'SCTP' }]);
    assert.equal(p.proxyPorts().size, 0);
    assert.ok(logs.some((l) => l.includes('no SCTP sockets')));
    await p.stop();
  });
});
