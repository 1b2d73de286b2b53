// `kubectl proxymode sync` (the BUILT CLI) in the harness's node namespace, for what a host adds to the loop:
//   ipvs on this kernel (no IP_VS): --kube-proxy-version 1.24 falls back to iptables with upstream's two log
//     lines and traffic lands; 1.25 refuses with upstream's sentence, exit 3, nothing written;
//   the canary monitor: the test flushes every iptables table in the namespace; within a syncPeriod the
//     proxier notices KUBE-PROXY-CANARY gone, syncs in full and traffic lands again;
//   stale UDP conntrack: entries DNATed to an endpoint removed from the files are deleted after the sync,
//     those to the endpoint that stays are kept.
// Every namespace and process is removed even when an assertion fails.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { before } from 'node:test';
import { stringify } from 'yaml';
import { announceSkip, connectBatch, exec, execOk, kernelSkipReason, withTopology, type Host, type Topology, BIN, cli, ensureBuiltCli } from './harness/index.js';

const skip = announceSkip(kernelSkipReason(['iptables-nft', 'iptables-nft-save', 'nft', 'nfacct', 'conntrack', 'ipset']), 'sync on a host (built CLI)');
const WEB_IP = '10.96.0.10';
const DNS_IP = '10.96.0.53';

before(() => ensureBuiltCli(skip));

function objects(topo: Topology, web: readonly Host[], dns: readonly Host[] = []): string {
  const svc = (name: string, ip: string, protocol: 'TCP' | 'UDP') => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'app' },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'p', port: 80, targetPort: 80, protocol }] },
  });
  const slice = (name: string, hosts: readonly Host[], protocol: 'TCP' | 'UDP') => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-x1`, namespace: 'app', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: hosts.map((h) => ({ addresses: [h.ipv4], conditions: { ready: true }, nodeName: 'node' })),
    ports: [{ name: 'p', port: 80, protocol }],
  });
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node' }, spec: { podCIDR: topo.node.podCIDR, podCIDRs: [topo.node.podCIDR] }, status: { addresses: [{ type: 'InternalIP', address: topo.node.ipv4 }] } };
  return [node, svc('web', WEB_IP, 'TCP'), slice('web', web, 'TCP'), svc('dns', DNS_IP, 'UDP'), slice('dns', dns, 'UDP')].map((o) => stringify(o)).join('---\n');
}

async function landsOn(topo: Topology, ip: string, proto: 'tcp' | 'udp' = 'tcp', count = 8): Promise<Record<string, number>> {
  return (await connectBatch(topo.client.ns, ip, 80, { proto, count, timeoutMs: 1_500, concurrency: 4 })).counts;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() >= end) assert.fail(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The loop, its stderr, and a kill on the way out. */
function loop(t: { after(fn: () => void): void }, args: string[]) {
  const child: ChildProcess = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stderr: '' };
  child.stderr!.on('data', (b: Buffer) => (out.stderr += b.toString()));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const stop = async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    return exited;
  };
  return { child, out, stop };
}

function setup(t: { after(fn: () => void): void }, topo: Topology, yaml: string, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'pm-synchost-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, yaml);
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\niptables:\n  syncPeriod: 3s\n  minSyncPeriod: 0s\n${extra}`);
  return { file, config, write: (y: string) => writeFileSync(file, y) };
}

test('ipvs on a kernel without IP_VS: 1.24 falls back to iptables, 1.25 refuses', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 2 }, async (topo) => {
    const [p1, p2] = topo.pods;
    assert.ok(p1 && p2);
    await topo.serve([p1, p2], { tcp: [80] });
    const node = topo.node.ns;
    const { file } = setup(t, topo, objects(topo, [p1, p2]));
    const base = ['sync', '-f', file, '--mode', 'ipvs', '--node', 'node', '--cluster-cidr', '10.244.0.0/16', '--netns', node, '--once'];
    const refused = cli([...base, '--kube-proxy-version', '1.25.0']);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, /^error: can't use the IPVS proxier: the kernel has no IPVS \(ipvsadm: Protocol not available[^\n]*; kube-proxy 1\.25\.0 exits here/m);
    assert.equal((await exec(node, ['iptables-nft-save', '-t', 'nat'])).stdout.includes('KUBE-SERVICES'), false, 'nothing written');
    // 1.24 falls back; its iptables rules are not modelled (the renderer knows 1.26 on), so that sync stops
    // there, saying so: the fallback itself is what this shows
    const old = cli([...base, '--kube-proxy-version', '1.24.17']);
    assert.match(old.stderr, /sync: Can't use the IPVS proxier: the kernel has no IPVS .*\nsync: Can't use ipvs proxier, trying iptables proxier\n/);
    assert.match(old.stderr, /on network namespace \S+ \(iptables-nft\) failed .*kube-proxy 1\.24\.17's iptables rules are not modelled/);
    assert.equal(old.status, 1);
  });
});

test('the canary: every table flushed in the namespace, the rules come back within a syncPeriod', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 2 }, async (topo) => {
    const [p1, p2] = topo.pods;
    assert.ok(p1 && p2);
    await topo.serve([p1, p2], { tcp: [80] });
    const node = topo.node.ns;
    const { file, config } = setup(t, topo, objects(topo, [p1, p2]));
    const run = loop(t, ['sync', '-f', file, '--config', config, '--mode', 'iptables', '--node', 'node', '--netns', node, '--healthz-bind-address', 'off', '--metrics-bind-address', 'off']);
    await until(async () => (await execOk(node, ['iptables-nft', '-t', 'mangle', '-n', '-L', 'KUBE-PROXY-CANARY'])).code === 0, 20_000, () => `the canary (stderr: ${run.out.stderr})`);
    await until(async () => Object.keys(await landsOn(topo, WEB_IP, 'tcp', 4)).sort().join() === 'pod-1,pod-2', 15_000, () => `the first sync (stderr: ${run.out.stderr})`);
    // what a firewall reload does: every table emptied at once (restore without --noflush drops every chain)
    await execOk(node, ['iptables-nft-restore'], '*mangle\nCOMMIT\n*nat\nCOMMIT\n*filter\nCOMMIT\n');
    assert.equal((await exec(node, ['iptables-nft', '-t', 'nat', '-n', '-L', 'KUBE-SERVICES'])).code, 1, 'flushed');
    await until(async () => /forcing a full sync/.test(run.out.stderr), 15_000, () => `the flush to be noticed (stderr: ${run.out.stderr})`);
    await until(async () => Object.keys(await landsOn(topo, WEB_IP, 'tcp', 4)).sort().join() === 'pod-1,pod-2', 15_000, () => 'traffic to land again');
    assert.equal((await exec(node, ['iptables-nft', '-t', 'mangle', '-n', '-L', 'KUBE-PROXY-CANARY'])).code, 0, 'the canary is back');
    assert.equal(await run.stop(), 0, run.out.stderr);
    assert.notEqual((await exec(node, ['iptables-nft', '-t', 'mangle', '-n', '-L', 'KUBE-PROXY-CANARY'])).code, 0, 'stopping removed the canary');
  });
});

test('stale UDP conntrack entries of a removed endpoint are deleted after the sync; the others stay', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 2 }, async (topo) => {
    const [p1, p2] = topo.pods;
    assert.ok(p1 && p2);
    await topo.serve([p1, p2], { udp: [80] });
    const node = topo.node.ns;
    const { file, write } = setup(t, topo, objects(topo, [], [p1, p2]));
    const run = loop(t, ['sync', '-f', file, '--mode', 'iptables', '--node', 'node', '--cluster-cidr', '10.244.0.0/16', '--netns', node, '--healthz-bind-address', 'off', '--metrics-bind-address', 'off']);
    const entriesTo = async (ip: string) => (await exec(node, ['conntrack', '-L', '-p', 'udp', '--orig-dst', DNS_IP, '--dst-nat', ip])).stdout.split('\n').filter((l) => l.startsWith('udp')).length;
    await until(async () => Object.keys(await landsOn(topo, DNS_IP, 'udp', 12)).length === 2, 20_000, () => `UDP to land on both pods (stderr: ${run.out.stderr})`);
    assert.ok((await entriesTo(p1.ipv4)) > 0 && (await entriesTo(p2.ipv4)) > 0, 'conntrack holds entries to both endpoints');
    write(objects(topo, [], [p1]));
    await until(async () => (await entriesTo(p2.ipv4)) === 0, 15_000, () => `the entries to ${p2.ipv4} to go (stderr: ${run.out.stderr})`);
    assert.ok((await entriesTo(p1.ipv4)) > 0, 'the entries to the endpoint that stays are kept');
    assert.equal(await run.stop(), 0, run.out.stderr);
  });
});
