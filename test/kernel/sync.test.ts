// `kubectl proxymode sync` end to end, the BUILT CLI (bin/kubectl-proxymode) programming the harness's node
// namespace through --netns, for iptables and nftables modes:
//   --once: connections from the client to a ClusterIP land on the Service's pods;
//   the loop: an endpoint removed from the -f files moves traffic within one sync; a real refused apply
//     (a foreign rule still jumping to the endpoint's chain, so the kernel refuses to delete it) leaves the
//     old rules and traffic intact, is counted, and a retry succeeds; /healthz, /livez, /metrics,
//     /proxyMode and a health-check node port answer over real sockets; SIGTERM stops it with exit 0;
//   --cleanup: no kube-proxy chain, jump, nft table or ipset is left.
// Every namespace and process is removed even when an assertion fails.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { before } from 'node:test';
import { stringify } from 'yaml';
import { isKubeProxyChain } from '../../src/core/proxier/cleanup.js';
import { announceSkip, connectBatch, exec, execOk, httpGet as get, kernelSkipReason, withTopology, type Host, type Topology, BIN, cli, ensureBuiltCli } from './harness/index.js';

const skip = announceSkip(kernelSkipReason(['iptables-nft', 'iptables-nft-save', 'nft', 'nfacct', 'conntrack']), 'sync (built CLI)');

const NS = 'app';
const WEB_IP = '10.96.0.10';
const LB_IP = '10.96.0.11';
const EXTRA_IP = '10.96.0.12';
const LB_NODE_PORT = 30180;

before(() => ensureBuiltCli(skip));

function objects(topo: Topology, web: readonly Host[], hcPort: number, extra = true) {
  const svc = (name: string, ip: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }], ...extra },
  });
  const slice = (name: string, hosts: readonly Host[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-x1`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: hosts.map((h) => ({ addresses: [h.ipv4], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node' })),
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node', labels: { 'kubernetes.io/hostname': 'node' } },
    spec: { podCIDR: topo.node.podCIDR, podCIDRs: [topo.node.podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: topo.node.ipv4 }] },
  };
  return [
    node,
    svc('web', WEB_IP),
    svc('lb', LB_IP, { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: hcPort, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: LB_NODE_PORT }] }),
    slice('web', web),
    slice('lb', [topo.pods[0]!]),
    ...(extra ? [svc('extra', EXTRA_IP), slice('extra', [topo.pods[0]!])] : []),
  ];
}

function writeObjects(file: string, docs: unknown[]): void {
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
}

async function landsOn(topo: Topology, ip: string, count = 12): Promise<Record<string, number>> {
  const b = await connectBatch(topo.client.ns, ip, 80, { proto: 'tcp', count, timeoutMs: 2_000, concurrency: 4 });
  return b.counts;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Polls `cond` until it holds; fails naming `what` after `timeoutMs`. */
async function until(cond: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() >= end) assert.fail(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ports for this process's servers on loopback, apart from other test processes'. */
function ports(offset: number): { healthz: number; metrics: number; hc: number } {
  const base = 20_000 + ((process.pid * 7 + offset * 3) % 9_000);
  return { healthz: base, metrics: base + 1, hc: 32_000 + ((process.pid + offset) % 700) };
}

/**
 * A real refusal of the next partial sync, made by touching the host behind the proxier's back, and how to
 * undo it. iptables: a rule of the test's own in a built-in chain jumps to p3's endpoint chain, so the
 * kernel refuses to delete that chain (the restore is refused whole) until the rule goes. nftables: the
 * test deletes the element of Service "extra" from the service-ips map, so the transaction's
 * `delete element` of it fails (ENOENT) and nothing of it is applied; the full-sync retry rewrites the
 * table and succeeds by itself.
 */
async function breakNextSync(mode: 'iptables' | 'nftables', node: string, p3: Host): Promise<() => Promise<void>> {
  if (mode === 'iptables') {
    const chain = await endpointChain(mode, node, p3);
    const rule = ['-t', 'nat', 'OUTPUT', '-d', '192.0.2.1/32', '-j', chain];
    await execOk(node, ['iptables-nft', '-t', 'nat', '-I', ...rule.slice(2)]);
    return async () => void (await execOk(node, ['iptables-nft', '-t', 'nat', '-D', ...rule.slice(2)]));
  }
  await execOk(node, ['nft', `delete element ip kube-proxy service-ips { ${EXTRA_IP} . tcp . 80 }`]);
  return async () => {};
}

async function endpointChain(mode: 'iptables' | 'nftables', node: string, pod: Host): Promise<string> {
  if (mode === 'iptables') {
    const save = (await execOk(node, ['iptables-nft-save', '-t', 'nat'])).stdout;
    const m = new RegExp(`^-A (KUBE-SEP-\\S+) .*${pod.ipv4.replace(/\./g, '\\.')}:80`, 'm').exec(save);
    assert.ok(m, `no KUBE-SEP chain for ${pod.ipv4} in\n${save}`);
    return m[1]!;
  }
  const list = (await execOk(node, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
  const m = new RegExp(`chain (endpoint-\\S+__${pod.ipv4.replace(/\./g, '\\.')}/80) \\{`).exec(list);
  assert.ok(m, `no endpoint chain for ${pod.ipv4} in\n${list}`);
  return m[1]!;
}

for (const [i, mode] of (['iptables', 'nftables'] as const).entries()) {
  test(`sync (built CLI), ${mode} mode, in the node's namespace: --once, the loop, a refused apply, the servers, --cleanup`, { skip, timeout: 240_000 }, async (t) => {
    await withTopology(t, { pods: 3 }, async (topo) => {
      const [p1, p2, p3] = topo.pods;
      assert.ok(p1 && p2 && p3);
      await topo.serve([p1, p2, p3], { tcp: [80] });
      const node = topo.node.ns;
      const dir = mkdtempSync(join(tmpdir(), 'pm-sync-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'cluster.yaml');
      const p = ports(i);
      writeObjects(file, objects(topo, [p1, p2], p.hc));
      const base = ['sync', '-f', file, '--mode', mode, '--node', 'node', '--cluster-cidr', '10.244.0.0/16', '--netns', node];

      // --dry-run changes nothing and prints the full script
      const dry = cli([...base, '--dry-run']);
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, mode === 'iptables' ? /^\*nat$/m : /table ip kube-proxy/);
      assert.equal((await exec(node, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).code === 0, false, 'dry run made no nft table');

      // --once
      const once = cli([...base, '--once']);
      assert.equal(once.status, 0, once.stderr);
      assert.match(once.stdout, new RegExp(`synced node node on network namespace ${node}.*mode ${mode}, full`));
      const first = await landsOn(topo, WEB_IP);
      assert.deepEqual(Object.keys(first).sort(), ['pod-1', 'pod-2'], JSON.stringify(first));

      // the loop
      let child: ChildProcess | undefined = spawn(BIN, [...base, '--healthz-bind-address', `127.0.0.1:${p.healthz}`, '--metrics-bind-address', `127.0.0.1:${p.metrics}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
      t.after(() => {
        if (child && child.exitCode === null) child.kill('SIGKILL');
      });
      const metricsText = async () => (await get(node, `http://127.0.0.1:${p.metrics}/metrics`)).body;
      await until(async () => metric(await metricsText(), 'kubeproxy_sync_full_proxy_rules_duration_seconds_count') >= 1, 20_000, () => `the loop's first sync (stderr: ${stderr})`);

      await t.test('the servers: /healthz, /livez, /proxyMode, /metrics and the health-check node port', async () => {
        const hz = await get(node, `http://127.0.0.1:${p.healthz}/healthz`);
        assert.equal(hz.status, 200);
        assert.match(hz.body, /^\{"lastUpdated": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC","currentTime": "[^"]+", "nodeEligible": true\}$/);
        const lz = await get(node, `http://127.0.0.1:${p.healthz}/livez`);
        assert.equal(lz.status, 200);
        assert.doesNotMatch(lz.body, /nodeEligible/);
        assert.equal((await get(node, `http://127.0.0.1:${p.metrics}/proxyMode`)).body, mode);
        const text = await metricsText();
        for (const name of ['kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'kubeproxy_sync_proxy_rules_endpoint_changes_total', 'kubeproxy_sync_proxy_rules_service_changes_pending']) {
          assert.ok(Number.isFinite(metric(text, name)), `${name} in\n${text}`);
        }
        assert.ok(metric(text, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds') > Date.now() / 1000 - 60);
        if (mode === 'iptables') assert.match(text, /^kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} [1-9]\d*$/m);
        const hc = await get(node, `http://127.0.0.1:${p.hc}/`);
        assert.equal(hc.status, 200, hc.body);
        assert.deepEqual(JSON.parse(hc.body), { service: { namespace: NS, name: 'lb' }, localEndpoints: 1, serviceProxyHealthy: true });
        // they listen in the node's namespace only: the host side's loopback has nothing on those ports
        for (const port of [p.healthz, p.metrics, p.hc]) await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }), `port ${port} answered on the host side`);
        assert.match(stderr, new RegExp(`serving 127\\.0\\.0\\.1:${p.healthz} and 127\\.0\\.0\\.1:${p.metrics} in network namespace ${node}`));
      });

      await t.test('an endpoint removed from the files moves traffic within one sync', async () => {
        const before = metric(await metricsText(), 'kubeproxy_sync_proxy_rules_duration_seconds_count');
        writeObjects(file, objects(topo, [p1], p.hc));
        await until(async () => metric(await metricsText(), 'kubeproxy_sync_proxy_rules_duration_seconds_count') > before, 15_000, () => `that (stderr: ${stderr})`);
        const after = await landsOn(topo, WEB_IP);
        assert.deepEqual(Object.keys(after), ['pod-1'], JSON.stringify(after));
      });

      await t.test('a refused apply leaves the old rules and traffic, is counted, and the retry succeeds', async () => {
        // p3 joins, then the test holds p3's endpoint chain with a rule of its own and removes p3 again: the
        // kernel refuses to delete a chain still jumped to, so the whole transaction is refused
        const count = metric(await metricsText(), 'kubeproxy_sync_proxy_rules_duration_seconds_count');
        writeObjects(file, objects(topo, [p1, p3], p.hc));
        await until(async () => metric(await metricsText(), 'kubeproxy_sync_proxy_rules_duration_seconds_count') > count, 15_000, () => `that (stderr: ${stderr})`);
        const heal = await breakNextSync(mode, node, p3);
        const failuresName = mode === 'iptables' ? 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total' : 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total';
        const failures = metric(await metricsText(), failuresName);
        writeObjects(file, objects(topo, [p1], p.hc, false));
        await until(async () => metric(await metricsText(), failuresName) > failures, 15_000, () => `that (stderr: ${stderr})`);
        assert.match(stderr, /sync failed \(partial\), the previous rules stay in place: .*Retrying in/);
        const during = await landsOn(topo, WEB_IP);
        assert.deepEqual(Object.keys(during).sort(), ['pod-1', 'pod-3'], `old rules still serve: ${JSON.stringify(during)}`);
        await heal();
        await until(async () => /sync succeeded after \d+ failed/.test(stderr), 20_000, () => `that (stderr: ${stderr})`);
        const healed = await landsOn(topo, WEB_IP);
        assert.deepEqual(Object.keys(healed), ['pod-1'], JSON.stringify(healed));
        assert.equal((await get(node, `http://127.0.0.1:${p.healthz}/healthz`)).status, 200);
      });

      await t.test('SIGTERM stops the loop with exit 0 and leaves the rules', async () => {
        child!.kill('SIGTERM');
        assert.equal(await exited, 0, stderr);
        child = undefined;
        assert.deepEqual(Object.keys(await landsOn(topo, WEB_IP, 4)), ['pod-1']);
      });

      await t.test('--cleanup leaves no kube-proxy chain, jump, table or set behind', async () => {
        const r = cli(['sync', '--cleanup', '--netns', node]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /removed from network namespace/);
        for (const tool of ['iptables-nft-save', 'iptables-legacy-save']) {
          const save = (await exec(node, [tool])).stdout;
          const chains = [...save.matchAll(/^:(\S+)/gm)].map((m) => m[1]!).filter(isKubeProxyChain);
          assert.deepEqual(chains, [], `${tool}: ${chains.join(', ')}`);
          const jumps = save.split('\n').filter((l) => /-j (\S+)/.test(l) && isKubeProxyChain(/-j (\S+)/.exec(l)![1]!));
          assert.deepEqual(jumps, [], `${tool}: ${jumps.join('\n')}`);
        }
        assert.notEqual((await exec(node, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).code, 0, 'the nft table is gone');
        const sets = (await exec(node, ['ipset', 'list', '-n'])).stdout.split('\n').filter((l) => l.startsWith('KUBE-'));
        assert.deepEqual(sets, []);
        const again = cli(['sync', '--cleanup', '--netns', node]);
        assert.match(again.stdout, /holds nothing of kube-proxy's/);
      });
    });
  });
}

test('sync: bad input is one sentence and exit 2', { skip }, () => {
  const r = cli(['sync', '--cleanup', '--netns', 'pm-no-such-namespace']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'error: network namespace "pm-no-such-namespace" does not exist (see `ip netns list`).');
});
