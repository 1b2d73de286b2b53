// `kubectl proxymode rules` against a node's real rules: render with the CLI, program a node namespace
// with that text, then run `rules --actual` and `rules --diff` inside the namespace (this host's rules,
// read with the iptables backend kube-proxy would pick). In sync → exit 0; after tampering → exit 1 with
// the drift named per service. Both iptables backends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { IptablesCommandBackend, ensureNfacct, netnsRunner, nfacctNamesIn, type IptablesKind } from '../../src/core/host/index.js';
import { parseIptablesSave } from '../../src/core/iptables/parse.js';
import { BIN, ROOT } from '../cli/run.js';
import { announceSkip, kernelSkipReason, resetNetfilter, withTopology, type Topology } from './harness/index.js';

const skip = announceSkip(kernelSkipReason(['iptables-nft', 'iptables-legacy', 'iptables-nft-restore', 'iptables-legacy-restore', 'nfacct']), 'rules against live rules');

const dir = mkdtempSync(join(tmpdir(), 'proxymode-rules-diff-'));
const OBJECTS = join(dir, 'cluster.yaml');
writeFileSync(
  OBJECTS,
  `apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a}}
spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24]}
status: {addresses: [{type: InternalIP, address: 192.168.77.10}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-proxy, namespace: kube-system}
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: iptables
    clusterCIDR: 10.244.0.0/16
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: NodePort, clusterIP: 10.96.0.10, clusterIPs: [10.96.0.10], ipFamilies: [IPv4], ports: [{name: http, protocol: TCP, port: 80, targetPort: 80, nodePort: 30080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abcde, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- {addresses: [10.244.1.11], conditions: {ready: true}, nodeName: node-a}
- {addresses: [10.244.1.12], conditions: {ready: true}, nodeName: node-a}
- {addresses: [10.244.1.13], conditions: {ready: true}, nodeName: node-a}
ports: [{name: http, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: shop}
spec: {clusterIP: 10.96.0.12, clusterIPs: [10.96.0.12], ipFamilies: [IPv4], ports: [{name: http, protocol: TCP, port: 80}]}
`,
);
const FLAGS = ['-f', OBJECTS, '--node', 'node-a'];

/** Runs the built executable inside the namespace, without blocking this process's event loop. */
function cliInNs(ns: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function program(topo: Topology, kind: IptablesKind): Promise<IptablesCommandBackend> {
  const run = netnsRunner(topo.node.ns);
  const backend = new IptablesCommandBackend(kind, run);
  // the IPv4 half: on this IPv4-only node the IPv6 proxier's base chains follow, for ip6tables-restore
  const rendered = await cliInNs(topo.node.ns, ['rules', ...FLAGS, '--ip-family', 'IPv4', '-o', 'restore']);
  assert.equal(rendered.code, 0, rendered.stderr);
  await ensureNfacct(run, nfacctNamesIn(rendered.stdout));
  await backend.restore('IPv4', rendered.stdout, { noflush: true });
  return backend;
}

for (const kind of ['nft', 'legacy'] as const) {
  test(`rules --actual and --diff on live ${kind} rules`, { skip, timeout: 60_000 }, async (t) => {
    await withTopology(t, { pods: 1 }, async (topo) => {
      await resetNetfilter(topo.node.ns);
      const backend = await program(topo, kind);

      const actual = await cliInNs(topo.node.ns, ['rules', ...FLAGS, '--actual', '-o', 'json']);
      assert.equal(actual.code, 0, actual.stderr);
      const live = JSON.parse(actual.stdout);
      assert.match(live.source, new RegExp(`^this host \\(iptables-${kind}:`));
      const human = await cliInNs(topo.node.ns, ['rules', 'shop/web', ...FLAGS, '--actual']);
      assert.match(human.stdout, /^shop\/web\s+http 80\/TCP\s+KUBE-SVC-\S+\s+10\.244\.1\.11:80 33\.3%, 10\.244\.1\.12:80 33\.3%, 10\.244\.1\.13:80 33\.3%\s+unless from 10\.244\.0\.0\/16\s+nodePort 127\.0\.0\.0\/8:30080; nodePort 30080$/m);

      const inSync = await cliInNs(topo.node.ns, ['rules', ...FLAGS, '--diff']);
      assert.equal(inSync.code, 0, inSync.stdout + inSync.stderr);
      assert.match(inSync.stdout, /In sync: the node has exactly the rules kube-proxy would write\./);

      // Tamper as a stale sync would: drop the last endpoint's jump from the service chain.
      const nat = parseIptablesSave(await backend.save('IPv4', 'nat'), { family: 'IPv4' }).tables.find((tb) => tb.name === 'nat')!;
      const svc = nat.chains.find((c) => c.name.startsWith('KUBE-SVC-') && c.rules.some((r) => r.words.some((w) => w.includes('10.244.1.13:80'))));
      assert.ok(svc, 'the service chain of shop/web');
      const jump = svc!.rules.find((r) => r.words.some((w) => w.includes('10.244.1.13:80')))!;
      assert.equal(await backend.deleteRule('IPv4', 'nat', svc!.name, jump.words), true);

      const drifted = await cliInNs(topo.node.ns, ['rules', ...FLAGS, '--diff', '-o', 'json']);
      assert.equal(drifted.code, 1, drifted.stderr);
      const report = JSON.parse(drifted.stdout);
      assert.equal(report.inSync, false);
      assert.ok(report.drift.some((d: { servicePort: string; kind: string; detail: string }) => d.servicePort === 'shop/web:http' && d.kind === 'missing endpoint' && d.detail.startsWith('10.244.1.13:80')), drifted.stdout);
      assert.match(report.diff, /^-.*10\.244\.1\.13:80/m);
      await resetNetfilter(topo.node.ns);
    });
  });
}
