// `kubectl proxymode sync --mode userspace --netns NODE`, the BUILT CLI, against the harness's node
// namespace: the proxy runs in a child process inside the namespace (its sockets are there), the portal
// rules are written with the ports it got. Asserted: --dry-run changes nothing; --once syncs and leaves
// nothing behind (the proxy lives only while sync runs); in the loop, TCP and UDP from the client reach
// the pods through the ClusterIP and the NodePort; an endpoint removed from the files moves new
// connections within one sync while an open one keeps working; a removed UDP service's conntrack flows
// are cleared; SIGTERM removes the portal rules and closes the ports; after a SIGKILL the child goes
// by itself and --cleanup removes the rules left behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { before } from 'node:test';
import { stringify } from 'yaml';
import { announceSkip, connect, connectBatch, exec, httpGet, kernelSkipReason, netnsPids, parseReply, withTopology, type Host, type Topology, BIN, cli, ensureBuiltCli } from './harness/index.js';
import { spawnInNs, type LineChild } from './userspace/process.js';

const HERE = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const skip = announceSkip(kernelSkipReason(['iptables-nft', 'iptables-nft-save', 'iptables-nft-restore', 'conntrack', 'ss']), 'sync --mode userspace (built CLI)');

const NS = 'app';
const WEB_IP = '10.96.0.40';
const DNS_IP = '10.96.0.41';
const HOLD_IP = '10.96.0.42';
const WEB_NODE_PORT = 30091;
const PORTAL_CHAINS = /^:(KUBE-PORTALS-(CONTAINER|HOST)|KUBE-NODEPORT-(CONTAINER|HOST|NON-LOCAL)) /m;

before(() => ensureBuiltCli(skip));

interface Wanted {
  web: readonly Host[];
  hold: readonly Host[];
  dns: boolean;
}

function objects(topo: Topology, w: Wanted): unknown[] {
  const svc = (name: string, ip: string, port: Record<string, unknown>, type = 'ClusterIP') => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type, clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [port] },
  });
  const slice = (name: string, hosts: readonly Host[], port: number, protocol: string, portName: string) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-x1`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: hosts.map((h) => ({ addresses: [h.ipv4], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node' })),
    ports: [{ name: portName, port, protocol }],
  });
  return [
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node' }, spec: { podCIDR: topo.node.podCIDR }, status: { addresses: [{ type: 'InternalIP', address: topo.node.ipv4 }] } },
    svc('web', WEB_IP, { name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: WEB_NODE_PORT }, 'NodePort'),
    slice('web', w.web, 80, 'TCP', 'http'),
    svc('hold', HOLD_IP, { name: 'echo', port: 80, targetPort: 9000, protocol: 'TCP' }),
    slice('hold', w.hold, 9000, 'TCP', 'echo'),
    ...(w.dns ? [svc('dns', DNS_IP, { name: 'dns', port: 53, targetPort: 80, protocol: 'UDP' }), slice('dns', [topo.pods[0]!], 80, 'UDP', 'dns')] : []),
  ];
}

const write = (file: string, docs: unknown[]) => writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));

/** Both iptables backends' save of the node: the portal chains may be in either. */
async function saveAll(ns: string): Promise<string> {
  return (await exec(ns, ['iptables-nft-save'])).stdout + (await exec(ns, ['iptables-legacy-save'])).stdout;
}

/** The proxy ports the portal rules send to (REDIRECT --to-ports / DNAT to node:port). */
function proxyPortsIn(save: string): number[] {
  return [...new Set([...save.matchAll(/--to-ports (\d+)|--to-destination [\d.]+:(\d+)/g)].map((m) => Number(m[1] ?? m[2])))].sort();
}

async function listening(ns: string): Promise<Set<number>> {
  const out = (await exec(ns, ['ss', '-Hltnu'])).stdout;
  return new Set([...out.matchAll(/\s\S+:(\d+)\s/g)].map((m) => Number(m[1])));
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() >= end) assert.fail(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A metric of the loop's /metrics, scraped inside the namespace, where --netns makes the servers listen. */
async function metric(ns: string, url: string, name: string): Promise<number> {
  const text = (await httpGet(ns, url)).body;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function udpFlows(ns: string, ip: string): Promise<number> {
  const r = await exec(ns, ['conntrack', '-L', '-p', 'udp', '--orig-dst', ip]);
  return r.stdout.split('\n').filter((l) => l.trim()).length;
}

test('sync --mode userspace (built CLI) in the node namespace: dry run, once, the loop, SIGTERM, --cleanup', { skip, timeout: 240_000 }, async (t) => {
  await withTopology(t, { pods: 3 }, async (topo) => {
    const [p1, p2] = topo.pods;
    assert.ok(p1 && p2);
    const node = topo.node.ns;
    await topo.serve([p1, p2], { tcp: [80], udp: [80] });
    const children: LineChild[] = [];
    let loop: ChildProcess | undefined;
    t.after(async () => {
      if (loop && loop.exitCode === null) loop.kill('SIGKILL');
      for (const c of children) await c.stop();
    });
    for (const pod of [p1, p2]) {
      const echo = spawnInNs(pod.ns, [process.execPath, HERE('./userspace/echo-server.mjs'), JSON.stringify({ name: pod.name, port: 9000 })]);
      children.push(echo);
      assert.equal(await echo.next(), 'ready');
    }
    const dir = mkdtempSync(join(tmpdir(), 'pm-us-sync-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'cluster.yaml');
    write(file, objects(topo, { web: [p1, p2], hold: [p1, p2], dns: true }));
    const base = ['sync', '-f', file, '--mode', 'userspace', '--node', 'node', '--netns', node];
    const port = 20_000 + ((process.pid * 7 + 5) % 9_000);
    const metrics = `http://127.0.0.1:${port + 1}/metrics`;
    const syncs = () => metric(node, metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_count');

    await t.test('--dry-run prints the portal chains and changes nothing', async () => {
      const dry = cli([...base, '--dry-run']);
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, /^:KUBE-PORTALS-CONTAINER - \[0:0\]$/m);
      assert.match(dry.stdout, /--comment app\/web:http .* -j REDIRECT --to-ports \d+/);
      assert.doesNotMatch(await saveAll(node), PORTAL_CHAINS);
    });

    await t.test('--once syncs, then takes its portal rules and its proxy process away again', async () => {
      const once = cli([...base, '--once']);
      assert.equal(once.status, 0, once.stderr);
      assert.match(once.stdout, new RegExp(`synced node node on network namespace ${node} .*mode userspace, full`));
      assert.match(once.stderr, /proxying app\/web:http on TCP port \d+/, 'the child in the namespace opened the socket');
      assert.doesNotMatch(await saveAll(node), PORTAL_CHAINS);
      assert.deepEqual(netnsPids(node), []);
    });

    let stderr = '';
    let exited: Promise<number | null> = Promise.resolve(null);
    const startLoop = () => {
      stderr = '';
      const c = spawn(BIN, [...base, '--healthz-bind-address', `127.0.0.1:${port}`, '--metrics-bind-address', `127.0.0.1:${port + 1}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      c.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      exited = new Promise((r) => c.once('exit', (code) => r(code)));
      loop = c;
    };
    startLoop();
    await until(async () => (await syncs()) >= 1, 30_000, () => `the loop's first sync (stderr: ${stderr})`);
    const ports = proxyPortsIn(await saveAll(node));

    await t.test('the proxy lives in the namespace; TCP and UDP from the client reach the pods', async () => {
      assert.equal(ports.length, 3, `one proxy port per service port: ${ports.join(' ')}`);
      const open = await listening(node);
      for (const p of ports) assert.ok(open.has(p), `port ${p} listens in ${node}`);
      assert.ok(netnsPids(node).length >= 1, 'a process of ours is in the node namespace');
      const web = await connectBatch(topo.client.ns, WEB_IP, 80, { proto: 'tcp', count: 8, timeoutMs: 3_000, concurrency: 2 });
      assert.deepEqual(Object.keys(web.counts).sort(), ['pod-1', 'pod-2'], JSON.stringify(web.counts));
      const np = await connect(topo.client.ns, topo.node.ipv4, WEB_NODE_PORT, { timeoutMs: 3_000 });
      assert.ok(np.ok, JSON.stringify(np));
      const dns = await connect(topo.client.ns, DNS_IP, 53, { proto: 'udp', timeoutMs: 3_000 });
      assert.ok(dns.ok && parseReply(dns.reply).name === 'pod-1', JSON.stringify(dns));
    });

    await t.test('an endpoint removed from the files: new connections move within one sync, an open one survives', async () => {
      const holder = spawnInNs(topo.client.ns, [process.execPath, HERE('./userspace/hold-client.mjs'), JSON.stringify({ ip: HOLD_IP, port: 80 })]);
      children.push(holder);
      const held = parseReply(await holder.next()).name;
      const keep = held === 'pod-1' ? p2 : p1;
      const before = await syncs();
      write(file, objects(topo, { web: [p2], hold: [keep], dns: true }));
      await until(async () => (await syncs()) > before, 15_000, () => `a sync after the change (stderr: ${stderr})`);
      const web = await connectBatch(topo.client.ns, WEB_IP, 80, { proto: 'tcp', count: 6, timeoutMs: 3_000, concurrency: 2 });
      assert.deepEqual(web.counts, { 'pod-2': 6 });
      const fresh = spawnInNs(topo.client.ns, [process.execPath, HERE('./userspace/hold-client.mjs'), JSON.stringify({ ip: HOLD_IP, port: 80 })]);
      children.push(fresh);
      assert.equal(parseReply(await fresh.next()).name, keep.name);
      await fresh.stop();
      holder.send('still there');
      assert.equal(await holder.next(), 'still there');
    });

    await t.test('a removed UDP service: its port closes and its conntrack flows are cleared', async () => {
      const r = await connect(topo.client.ns, DNS_IP, 53, { proto: 'udp', timeoutMs: 3_000 });
      assert.ok(r.ok, JSON.stringify(r));
      assert.ok((await udpFlows(node, DNS_IP)) >= 1, 'the client made a UDP flow to the cluster IP');
      const before = await syncs();
      write(file, objects(topo, { web: [p2], hold: [p1, p2], dns: false }));
      await until(async () => (await syncs()) > before, 15_000, () => `a sync after the change (stderr: ${stderr})`);
      assert.equal(await udpFlows(node, DNS_IP), 0);
      assert.equal(proxyPortsIn(await saveAll(node)).length, 2);
    });

    await t.test('SIGTERM: exit 0, the portal rules removed and the proxy ports closed', async () => {
      const now = proxyPortsIn(await saveAll(node));
      loop!.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      const save = await saveAll(node);
      assert.doesNotMatch(save, PORTAL_CHAINS);
      assert.doesNotMatch(save, /-j KUBE-(PORTALS|NODEPORT)-/);
      const open = await listening(node);
      for (const p of [...now, WEB_NODE_PORT]) assert.ok(!open.has(p), `port ${p} is closed`);
      await until(async () => netnsPids(node).length === 0, 5_000, () => 'the proxy process in the namespace to end');
      const r = await connect(topo.client.ns, WEB_IP, 80, { timeoutMs: 1_000 });
      assert.ok(!r.ok, JSON.stringify(r));
    });

    await t.test('SIGKILL: the child ends by itself; --cleanup removes the rules left behind', async () => {
      startLoop();
      await until(async () => PORTAL_CHAINS.test(await saveAll(node)) && (await connect(topo.client.ns, WEB_IP, 80, { timeoutMs: 1_000 })).ok, 30_000, () => `the loop's first sync (stderr: ${stderr})`);
      loop!.kill('SIGKILL');
      await exited;
      await until(async () => netnsPids(node).length === 0, 5_000, () => 'the orphaned proxy process to end');
      assert.match(await saveAll(node), PORTAL_CHAINS, 'a killed sync cannot remove its rules');
      const r = cli(['sync', '--cleanup', '--netns', node]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /removed from network namespace/);
      const save = await saveAll(node);
      assert.doesNotMatch(save, PORTAL_CHAINS);
      assert.doesNotMatch(save, /-j KUBE-(PORTALS|NODEPORT)-/);
    });
  });
});
