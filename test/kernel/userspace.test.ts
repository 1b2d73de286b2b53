// The userspace mode for real, in network namespaces: our proxier (core/host/userspace) runs as a process
// in the node's namespace, the portal rules rendered with the ports it picked are loaded with
// iptables-restore --noflush (and iptablesInit's jumps with iptables), and real TCP and UDP go from the
// client namespace and from the node itself to ClusterIPs and a NodePort.
//
//   client 192.168.77.100 ── node 192.168.77.10 (cni0 10.244.1.1, the proxy) ── pod-1..3 10.244.1.11..13
//
// Asserted: replies come from the pods, which see a node address as the source (the proxy connects from
// the node); the round-robin order is exactly the balancer's; ClientIP affinity sticks; UDP sessions close
// when idle; an endpoint removed under traffic leaves an open connection working while new ones go
// elsewhere; a dead endpoint is skipped after the dial timeout; a removed service closes its proxy port.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderUserspaceFamily, portalJumpRules, jumpRuleArgv, portalRestoreText, type UserspaceState } from '../../src/core/userspace/index.js';
import { view, type SvcSpec } from '../unit/userspace/fixtures.js';
import { announceSkip, connect, connectBatch, execOk, iptablesRestore, kernelSkipReason, parseReply, withTopology, type Topology } from './harness/index.js';
import { podGateway } from './harness/addresses.js';
import { spawnInNs, type LineChild } from './userspace/process.js';

const TOOLS = ['iptables-nft', 'iptables-nft-restore'];
const skip = announceSkip(kernelSkipReason(TOOLS), 'userspace proxy');

const HERE = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const IP = { web: '10.96.0.20', sticky: '10.96.0.21', dns: '10.96.0.22', hold: '10.96.0.23', flaky: '10.96.0.24', gone: '10.96.0.25' };
const WEB_NODE_PORT = 30080;
const WEB_EXTERNAL_IP = '203.0.113.10'; // routed to the node by the client, owned by nobody
const DEAD_POD = '10.244.1.250'; // on cni0's subnet, nobody answers: a SYN there waits until the dial timeout
const UDP_IDLE_MS = 300;

interface Synced {
  ports: Record<string, number>;
  order: Record<string, string[]>;
  state: UserspaceState;
}

class Cluster {
  private applied = false;
  constructor(
    private readonly topo: Topology,
    private readonly proxy: LineChild,
  ) {}

  /** Render the services, sync the proxy, render again with its ports, load the portal rules (and once, the jumps). */
  async apply(specs: SvcSpec[]): Promise<Synced> {
    const { view: v, config } = view(specs, {}, [this.topo.node.ipv4]);
    const family = v.families.find((f) => f.family === 'IPv4')!;
    this.proxy.send(JSON.stringify({ op: 'sync', services: renderUserspaceFamily(family, config).proxies }));
    const res = JSON.parse(await this.proxy.next()) as { ports: Record<string, number>; order: Record<string, string[]>; error?: string };
    if (res.error) throw new Error(res.error);
    const state = renderUserspaceFamily(family, config, new Map(Object.entries(res.ports)));
    await iptablesRestore(this.topo.node.ns, portalRestoreText([state]), { backend: 'nft', noflush: true });
    if (!this.applied) {
      for (const j of portalJumpRules()) await execOk(this.topo.node.ns, ['iptables-nft', ...jumpRuleArgv(j)]);
      this.applied = true;
    }
    return { ...res, state };
  }

  async active(): Promise<Record<string, number>> {
    this.proxy.send(JSON.stringify({ op: 'active' }));
    return (JSON.parse(await this.proxy.next()) as { active: Record<string, number> }).active;
  }
}

function specs(topo: Topology, opts: { holdEndpoints?: string[]; withGone?: boolean } = {}): SvcSpec[] {
  const pods = topo.pods.map((p) => p.ipv4);
  const out: SvcSpec[] = [
    { name: 'web', clusterIP: IP.web, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: WEB_NODE_PORT }], endpoints: pods, externalIPs: [WEB_EXTERNAL_IP] },
    { name: 'sticky', clusterIP: IP.sticky, ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: pods, affinitySeconds: 60 },
    { name: 'dns', clusterIP: IP.dns, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }], endpoints: pods.slice(0, 2) },
    { name: 'hold', clusterIP: IP.hold, ports: [{ name: 'echo', port: 80, targetPort: 9000 }], endpoints: opts.holdEndpoints ?? pods.slice(0, 2) },
    { name: 'flaky', clusterIP: IP.flaky, ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [DEAD_POD, pods[1]!] },
  ];
  if (opts.withGone ?? true) out.push({ name: 'gone', clusterIP: IP.gone, ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: pods.slice(0, 1) });
  return out;
}

const podName = (topo: Topology, endpoint: string) => topo.pods.find((p) => endpoint.startsWith(`${p.ipv4}:`))?.name ?? endpoint;

test('userspace proxy in namespaces', { skip, timeout: 180_000 }, async (t) => {
  await withTopology(t, { pods: 3 }, async (topo) => {
    await topo.serve(topo.pods, { tcp: [8080], udp: [5353] });
    const children: LineChild[] = [];
    t.after(async () => {
      for (const c of children) await c.stop();
    });
    for (const pod of topo.pods.slice(0, 2)) {
      const echo = spawnInNs(pod.ns, [process.execPath, HERE('./userspace/echo-server.mjs'), JSON.stringify({ name: pod.name, port: 9000 })]);
      children.push(echo);
      assert.equal(await echo.next(), 'ready');
    }
    const proxy = spawnInNs(topo.node.ns, [process.execPath, '--import', 'tsx', HERE('./userspace/proxy-child.ts'), JSON.stringify({ listenIP: '0.0.0.0', udpIdleTimeoutMs: UDP_IDLE_MS })]);
    children.push(proxy);
    assert.equal(await proxy.next(30_000), '{"ready":true}');
    const cluster = new Cluster(topo, proxy);
    const first = await cluster.apply(specs(topo));
    const nodeAddresses = [topo.node.ipv4, podGateway(1).v4];

    await t.test('client -> ClusterIP: the balancer\'s round-robin order exactly, the pod sees a node address', async () => {
      const r = await connectBatch(topo.client.ns, IP.web, 80, { count: 6 });
      const names = r.results.map((x) => (x.ok ? parseReply(x.reply).name : `!${x.error}`));
      const order = first.order['default/web:http']!.map((e) => podName(topo, e));
      assert.equal(new Set(order).size, 3);
      // the index walks on from where earlier syncs left it: the sequence is the order, rotated
      const start = order.indexOf(names[0]!);
      assert.deepEqual(names, [0, 1, 2, 3, 4, 5].map((i) => order[(start + i) % 3]));
      for (const x of r.results) if (x.ok) assert.ok(nodeAddresses.includes(parseReply(x.reply).peerIp), x.reply);
    });

    await t.test('the node itself -> ClusterIP (KUBE-PORTALS-HOST DNAT), client and node -> NodePort', async () => {
      for (const [ns, ip, port] of [
        [topo.node.ns, IP.web, 80],
        [topo.client.ns, topo.node.ipv4, WEB_NODE_PORT],
        [topo.node.ns, topo.node.ipv4, WEB_NODE_PORT],
      ] as const) {
        const r = await connect(ns, ip, port, { timeoutMs: 3000 });
        assert.ok(r.ok, `${ns} -> ${ip}:${port}: ${JSON.stringify(r)}`);
        assert.ok(nodeAddresses.includes(parseReply(r.reply).peerIp), r.reply);
      }
    });

    await t.test('a pod -> ClusterIP (REDIRECT to cni0\'s address), hairpin included; client -> external IP (not bridged in)', async () => {
      const fromPod = await connectBatch(topo.pods[0]!.ns, IP.web, 80, { count: 3 });
      assert.deepEqual(Object.keys(fromPod.counts).sort(), ['pod-1', 'pod-2', 'pod-3'], JSON.stringify(fromPod.counts));
      for (const x of fromPod.results) if (x.ok) assert.ok(nodeAddresses.includes(parseReply(x.reply).peerIp), x.reply);
      await execOk(topo.client.ns, ['ip', 'route', 'replace', `${WEB_EXTERNAL_IP}/32`, 'via', topo.node.ipv4]);
      const ext = await connect(topo.client.ns, WEB_EXTERNAL_IP, 80, { timeoutMs: 3000 });
      assert.ok(ext.ok, JSON.stringify(ext));
    });

    await t.test('ClientIP affinity: every connection of the client reaches one pod', async () => {
      const r = await connectBatch(topo.client.ns, IP.sticky, 80, { count: 8 });
      assert.equal(Object.keys(r.counts).length, 1, JSON.stringify(r.counts));
      assert.ok(!Object.keys(r.counts)[0]!.startsWith('!'), JSON.stringify(r.counts));
    });

    await t.test('UDP through the proxy; the session closes after udpIdleTimeout', async () => {
      const r = await connect(topo.client.ns, IP.dns, 53, { proto: 'udp', timeoutMs: 2000 });
      assert.ok(r.ok, JSON.stringify(r));
      assert.ok(['pod-1', 'pod-2'].includes(parseReply(r.reply).name), r.reply);
      assert.equal((await cluster.active())['default/dns:dns'], 1);
      await new Promise((res) => setTimeout(res, UDP_IDLE_MS * 3));
      assert.equal((await cluster.active())['default/dns:dns'], 0);
    });

    await t.test('an endpoint removed under live traffic: the open connection keeps working, new ones go elsewhere', async () => {
      const holder = spawnInNs(topo.client.ns, [process.execPath, HERE('./userspace/hold-client.mjs'), JSON.stringify({ ip: IP.hold, port: 80 })]);
      children.push(holder);
      const greeting = await holder.next();
      const held = parseReply(greeting).name;
      assert.ok(['pod-1', 'pod-2'].includes(held), greeting);
      const remaining = topo.pods.slice(0, 2).filter((p) => p.name !== held);
      await cluster.apply(specs(topo, { holdEndpoints: remaining.map((p) => p.ipv4) }));
      for (let i = 0; i < 3; i++) {
        const fresh = spawnInNs(topo.client.ns, [process.execPath, HERE('./userspace/hold-client.mjs'), JSON.stringify({ ip: IP.hold, port: 80 })]);
        children.push(fresh);
        assert.equal(parseReply(await fresh.next()).name, remaining[0]!.name);
        await fresh.stop();
      }
      holder.send('still there');
      assert.equal(await holder.next(), 'still there');
    });

    await t.test('a dead endpoint is skipped after its dial timeout (250 ms first)', async () => {
      const r = await connectBatch(topo.client.ns, IP.flaky, 80, { count: 2, timeoutMs: 5000 });
      assert.deepEqual(r.counts, { 'pod-2': 2 });
      // one of the two always meets the dead endpoint first (rotation over two): the proxy says it gave up after 250 ms
      assert.match(proxy.stderr(), new RegExp(`dial ${DEAD_POD.replace(/\./g, '\\.')}:8080 for default/flaky:http failed: i/o timeout after 250ms`));
    });

    await t.test('a removed service closes its proxy port and its portal', async () => {
      const oldPort = first.ports['default/gone:http']!;
      const before = await connect(topo.client.ns, IP.gone, 80, { timeoutMs: 2000 });
      assert.ok(before.ok, JSON.stringify(before));
      const after = await cluster.apply(specs(topo, { withGone: false, holdEndpoints: [] }));
      assert.equal(after.ports['default/gone:http'], undefined);
      const direct = await connect(topo.node.ns, topo.node.ipv4, oldPort, { timeoutMs: 1000 });
      assert.ok(!direct.ok && direct.error === 'refused', JSON.stringify(direct));
      const viaPortal = await connect(topo.client.ns, IP.gone, 80, { timeoutMs: 1000 });
      assert.ok(!viaPortal.ok, JSON.stringify(viaPortal));
    });
  });
});
