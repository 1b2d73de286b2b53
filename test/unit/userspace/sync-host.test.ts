// The userspace mode's host side for `sync` (core/proxier/apply-userspace.ts) with real sockets on this
// host and a recording command runner standing in for iptables and conntrack: the portal rules carry the
// ports the sockets really got, iptablesInit's jumps are ensured, a removed UDP service port's flows are
// cleared, a node port that cannot be claimed gets no rules, close() removes the rules and the sockets.
// Also: UDP datagrams through the proxy are cut at upstream's 4096-byte buffer; conntrack's answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import type { CommandResult, CommandRunner } from '../../../src/core/host/index.js';
import { clearUDPEntriesArgv, clearUDPEntriesForIP, startUserspaceProxier, UDP_BUFFER_BYTES } from '../../../src/core/host/userspace/index.js';
import { staleUDPClusterIPs, userspaceHost } from '../../../src/core/proxier/apply-userspace.js';
import { modeHost } from '../../../src/core/proxier/index.js';
import { userspaceMode } from '../../../src/core/userspace/index.js';
import { renderUserspace } from '../../../src/core/userspace/render.js';
import type { FamilyState, ProxyModeDefinition } from '../../../src/core/modes/types.js';
import { view, NODE_IP, type SvcSpec } from './fixtures.js';

const def = userspaceMode as unknown as ProxyModeDefinition<FamilyState>;

/** Answers every command with exit 0, keeping the single rules added (-I/-A) so `-C` answers truly; records argv and stdin. */
function recorder() {
  const calls: Array<{ argv: string[]; stdin?: string }> = [];
  const rules = new Set<string>();
  const run: CommandRunner = async (argv, stdin) => {
    calls.push({ argv: [...argv], stdin });
    const op = argv.findIndex((w) => ['-C', '-I', '-A', '-D'].includes(w));
    if (op < 0) return { code: 0, stdout: '', stderr: '' };
    const key = argv.slice(op + 1).join(' ');
    const had = rules.has(key);
    if (argv[op] === '-I' || argv[op] === '-A') rules.add(key);
    if (argv[op] === '-D') rules.delete(key);
    return { code: argv[op] === '-C' && !had ? 1 : 0, stdout: '', stderr: '' };
  };
  return { run, calls };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const planFor = (specs: SvcSpec[]) => {
  const { view: v, config } = view(specs, {}, [NODE_IP]);
  const [state] = renderUserspace(v, config);
  return { plan: def.plan(undefined, state!), config };
};

const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('sync --mode userspace: the host side', () => {
  it('modeHost dispatches the userspace mode to it', async () => {
    const { run } = recorder();
    const { config } = planFor([]);
    const host = await modeHost(def, { run, description: 'test host' }, config);
    assert.match(host.description, /the userspace proxy in this process/);
    assert.equal(typeof host.close, 'function');
  });

  it('sockets first, then the portal rules with their real ports and the jumps; a removed UDP service port clears its flows; close() undoes it all', async () => {
    const { run, calls } = recorder();
    const specs: SvcSpec[] = [
      { name: 'web', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }], endpoints: ['10.244.1.2'] },
      { name: 'dns', clusterIP: '10.96.0.11', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }], endpoints: ['10.244.1.3'] },
    ];
    const { plan, config } = planFor(specs);
    const host = await userspaceHost(def, { run, description: 'test host' }, config);
    try {
      await host.apply(plan);
      const restore = calls.find((c) => c.argv[0]!.endsWith('-restore'));
      assert.ok(restore?.argv.includes('--noflush'), JSON.stringify(restore?.argv));
      assert.equal([...restore!.stdin!.matchAll(/--to-ports (\d+)/g)].length, 2, restore!.stdin);
      const webPort = Number(/--comment default\/web:http .*--to-ports (\d+)/.exec(restore!.stdin!)?.[1]);
      const ports = [webPort];
      // the stand-in ports of the plan's text are not what the sockets got
      assert.notEqual(restore!.stdin, plan.text());
      assert.equal(await listens(ports[0]!), true, `the web proxy listens on ${ports[0]}`);
      assert.match(restore!.stdin!, new RegExp(`-A KUBE-PORTALS-HOST -m comment --comment default/web:http .* -j DNAT --to-destination ${NODE_IP.replace(/\./g, '\\.')}:${ports[0]}`));
      const added = calls.filter((c) => c.argv.includes('-I') || c.argv.includes('-A')).map((c) => c.argv[c.argv.length - 1]);
      assert.deepEqual(added, ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST', 'KUBE-NODEPORT-NON-LOCAL']);
      assert.equal(calls.filter((c) => c.argv[0] === 'conntrack').length, 0, 'nothing removed yet');

      calls.length = 0;
      await host.apply(planFor(specs.slice(0, 1)).plan);
      assert.deepEqual(calls.filter((c) => c.argv[0] === 'conntrack').map((c) => c.argv), [clearUDPEntriesArgv('10.96.0.11')]);
      const again = calls.find((c) => c.argv[0]!.endsWith('-restore'))!.stdin!;
      assert.doesNotMatch(again, /default\/dns:dns/);
      assert.match(again, new RegExp(`--to-ports ${ports[0]}\\b`), 'an unchanged service port keeps its socket');

      calls.length = 0;
      await host.close!();
      const deleted = calls.filter((c) => c.argv.includes('-D')).map((c) => c.argv[c.argv.length - 1]);
      assert.deepEqual(deleted, ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST', 'KUBE-NODEPORT-NON-LOCAL']);
      const removal = calls.filter((c) => c.argv[0]!.endsWith('-restore')).at(-1)!.stdin!;
      assert.match(removal, /^-X KUBE-PORTALS-CONTAINER$/m);
      assert.match(removal, /^-X KUBE-NODEPORT-NON-LOCAL$/m);
      assert.equal(await listens(ports[0]!), false, 'the proxy port is closed');
    } finally {
      await host.close!();
    }
  });

  it('a service port that goes, or restarts, loses its portal rules while its socket still listens; then the socket closes (closePortal, then stopProxy)', async () => {
    const { run: record } = recorder();
    let watched: number[] = [];
    const restores: Array<{ text: string; listening: boolean[] }> = [];
    const run: CommandRunner = async (argv, stdin) => {
      if (argv[0]!.endsWith('-restore')) restores.push({ text: stdin ?? '', listening: await Promise.all(watched.map(listens)) });
      return record(argv, stdin);
    };
    const web: SvcSpec = { name: 'web', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }], endpoints: ['10.244.1.2'] };
    const api: SvcSpec = { name: 'api', clusterIP: '10.96.0.13', ports: [{ name: 'http', port: 8080 }], endpoints: ['10.244.1.4'] };
    const { plan, config } = planFor([web, api]);
    const host = await userspaceHost(def, { run, description: 'test host' }, config);
    try {
      await host.apply(plan);
      const portOf = (name: string, text: string) => Number(new RegExp(`--comment default/${name}:http .*--to-ports (\\d+)`).exec(text)?.[1]);
      watched = [portOf('web', restores[0]!.text), portOf('api', restores[0]!.text)];
      assert.ok(watched.every((p) => p > 0), restores[0]!.text);
      restores.length = 0;
      // web goes; api gains ClientIP affinity, which restarts its proxy (sameConfig is false)
      await host.apply(planFor([{ ...api, affinitySeconds: 600 }]).plan);
      assert.equal(restores.length, 2, 'the stopping proxies\' rules are written away first, then the new state');
      assert.doesNotMatch(restores[0]!.text, /default\/(web|api):http/);
      assert.deepEqual(restores[0]!.listening, [true, true], 'both sockets still listened when their rules went');
      assert.doesNotMatch(restores[1]!.text, /default\/web:http/);
      assert.match(restores[1]!.text, /default\/api:http/, 'the restarted proxy gets its rules back');
      assert.deepEqual(restores[1]!.listening, [false, watched[1] === portOf('api', restores[1]!.text)], 'the old sockets closed before the new rules');
      // nothing stopping: one write, as before
      restores.length = 0;
      await host.apply(planFor([{ ...api, affinitySeconds: 600 }]).plan);
      assert.equal(restores.length, 1);
    } finally {
      await host.close!();
    }
  });

  it('a node port that cannot be claimed gets no rules (its cluster IP still does); freed, the next sync writes them', async () => {
    const nodePort = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(nodePort, '0.0.0.0', () => r()));
    const { run, calls } = recorder();
    const lines: string[] = [];
    const specs: SvcSpec[] = [{ name: 'np', clusterIP: '10.96.0.12', ports: [{ name: 'http', port: 80, nodePort }], endpoints: ['10.244.1.2'] }];
    const { plan, config } = planFor(specs);
    const host = await userspaceHost(def, { run, description: 'test host', log: (l) => lines.push(l) }, config);
    try {
      assert.match(plan.text(), new RegExp(`--dport ${nodePort}\\b`), 'the rendered plan has the node port');
      await host.apply(plan);
      const text = calls.find((c) => c.argv[0]!.endsWith('-restore'))!.stdin!;
      assert.match(text, /-A KUBE-PORTALS-CONTAINER .*--dport 80 -d 10\.96\.0\.12\/32/);
      assert.doesNotMatch(text, new RegExp(`--dport ${nodePort}\\b`));
      assert.doesNotMatch(text, /^-A KUBE-NODEPORT-/m);
      assert.ok(lines.some((l) => l.includes('default/np:http: failed to open portal') && l.includes(`can't open node port for :${nodePort}/TCP`)), lines.join('\n'));
      await new Promise((r) => squatter.close(r));
      calls.length = 0;
      await host.apply(plan);
      const later = calls.find((c) => c.argv[0]!.endsWith('-restore'))!.stdin!;
      assert.match(later, new RegExp(`^-A KUBE-NODEPORT-CONTAINER .*--dport ${nodePort}\\b`, 'm'));
    } finally {
      squatter.close();
      await host.close!();
    }
  });

  it('staleUDPClusterIPs: only UDP service ports that went away, by cluster IP', () => {
    const sp = (servicePort: string, protocol: string, ip: string) => ({ servicePort, protocol, proxyPort: 1, portals: [{ kind: 'cluster IP' as const, ip, port: 53 }], endpoints: [], affinitySeconds: null });
    const before = [sp('a/dns:udp', 'UDP', '10.0.0.1'), sp('a/dns:tcp', 'TCP', '10.0.0.1'), sp('b/x:u', 'UDP', '10.0.0.2'), sp('c/kept:u', 'UDP', '10.0.0.3')];
    assert.deepEqual(staleUDPClusterIPs(before, [sp('c/kept:u', 'UDP', '10.0.0.3')]), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(staleUDPClusterIPs(before, before), []);
  });
});

describe('conntrack -D for a removed UDP service', () => {
  it('argv per family', () => {
    assert.deepEqual(clearUDPEntriesArgv('10.96.0.10'), ['conntrack', '-D', '--orig-dst', '10.96.0.10', '-p', 'udp']);
    assert.deepEqual(clearUDPEntriesArgv('fd00::a'), ['conntrack', '-f', 'ipv6', '-D', '--orig-dst', 'fd00::a', '-p', 'udp']);
  });
  it('"0 flow entries" (exit 1) is success; counts are read; a missing tool or a failure is one sentence', async () => {
    const answer = (r: Partial<CommandResult>): CommandRunner => async () => ({ code: 0, stdout: '', stderr: '', ...r });
    assert.equal(await clearUDPEntriesForIP(answer({ code: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }), '10.0.0.1'), 0);
    assert.equal(await clearUDPEntriesForIP(answer({ stderr: 'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted.\n' }), '10.0.0.1'), 3);
    await assert.rejects(clearUDPEntriesForIP(answer({ code: 127 }), '10.0.0.1'), /conntrack is not installed/);
    await assert.rejects(clearUDPEntriesForIP(answer({ code: 2, stderr: 'Operation not permitted\n' }), '10.0.0.1'), /exit 2\): Operation not permitted/);
  });
});

describe('UDP datagrams through the proxy', () => {
  it(`are cut at upstream's ${UDP_BUFFER_BYTES}-byte buffer, both ways`, async () => {
    const seen: number[] = [];
    const server = dgram.createSocket('udp4');
    server.on('message', (m, r) => {
      seen.push(m.length);
      server.send(Buffer.alloc(m.length + 1000, 0x62), r.port, r.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const p = await startUserspaceProxier({ listenIP: '127.0.0.1' }, [{ servicePort: 'ns/u:p', protocol: 'UDP', portals: [], endpoints: [`127.0.0.1:${server.address().port}`], affinitySeconds: null }]);
    const client = dgram.createSocket('udp4');
    try {
      const port = p.proxyPorts().get('ns/u:p')!;
      const ask = (size: number) =>
        new Promise<number>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no reply')), 2000);
          client.once('message', (m) => (clearTimeout(t), resolve(m.length)));
          client.send(Buffer.alloc(size, 0x61), port, '127.0.0.1');
        });
      assert.equal(await ask(100), 1100);
      assert.equal(await ask(6000), UDP_BUFFER_BYTES);
      assert.deepEqual(seen, [100, UDP_BUFFER_BYTES]);
    } finally {
      client.close();
      server.close();
      await p.stop();
    }
  });
});
