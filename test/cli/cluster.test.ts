// The executable against an API server on a real socket: a small HTTP server in this process serves the
// kind fixtures (shapes in test/kube/fixtures/kind/PROVENANCE.md), or refuses as RBAC would.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveExec } from './fake-exec.js';
import { cleanEnv, hasKubectl, proxymodeAsync, ROOT } from './run.js';

const FIX = join(ROOT, 'test', 'kube', 'fixtures');
const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');

type Mode = 'ok' | 'forbidden' | 'exec-forbidden' | 'logs-forbidden';
let mode: Mode = 'ok';
const seen: string[] = [];

function answer(path: string): [number, string] {
  if (mode === 'forbidden' && path.startsWith('/api/v1/nodes')) return [403, fixture('errors/403-forbidden-list-nodes.json')];
  if (path.startsWith('/api/v1/nodes?')) return [200, fixture('kind/nodes.json')];
  if (path.startsWith('/api/v1/services?')) return [200, fixture('kind/services.json')];
  if (path.startsWith('/apis/discovery.k8s.io/v1/endpointslices?')) return [200, fixture('kind/endpointslices.json')];
  // kind's kube-proxy DaemonSet pod on kind-worker (the kubeadm pod's shape: kind deploys kube-proxy with kubeadm).
  if (path.startsWith('/api/v1/namespaces/kube-system/pods?') && path.includes('spec.nodeName%3Dkind-worker')) return [200, fixture('kubeadm/kube-proxy-pods.json')];
  // get: kube-proxy pods by label (kind's DaemonSet pods), kube-system DaemonSets, and each pod's log.
  if (path.startsWith('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy&')) return [200, fixture('kind/kube-proxy-pods-all.json')];
  if (path.startsWith('/api/v1/namespaces/kube-system/pods?labelSelector=component%3Dkube-proxy&')) return [200, '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"6021"},"items":[]}'];
  if (path.startsWith('/apis/apps/v1/namespaces/kube-system/daemonsets?')) return [200, '{"kind":"DaemonSetList","apiVersion":"apps/v1","metadata":{"resourceVersion":"6021"},"items":[]}'];
  if (/^\/api\/v1\/namespaces\/kube-system\/pods\/[^/]+\/log\?/.test(path)) {
    if (mode === 'logs-forbidden') return [403, fixture('errors/403-forbidden-get-pods-log.json')];
    return [200, fixture(path.includes('kube-proxy-t4wzr') ? 'logs/v1.31-nftables.txt' : 'logs/v1.31-iptables.txt')];
  }
  const cm = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^?]+)$/.exec(path);
  if (cm) {
    const item = JSON.parse(fixture('kind/kube-system-configmaps.json')).items.find((i: { metadata: { name: string } }) => i.metadata.name === cm[1]);
    return item ? [200, JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', ...item })] : [404, fixture('errors/404-configmap-kube-proxy-config-not-found.json')];
  }
  return [404, fixture('errors/404-page-not-found.txt')];
}

let server: Server;
let kubeconfig: string;
/** What `iptables-save` prints in the kube-proxy pod. */
let liveDump = '';

before(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const [code, body] = answer(req.url ?? '');
    res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
    res.end(body);
  });
  serveExec(server, { stdout: () => liveDump, forbidden: () => mode === 'exec-forbidden', seen });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'proxymode-cluster-')), 'config');
  // client-node 1.4 needs insecure-skip-tls-verify for a plain http:// server (toolchain.md).
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kind\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: kind-token}\ncontexts:\n- name: kind-kind\n  context: {cluster: kind, user: admin}\ncurrent-context: kind-kind\n`);
});

after(() => server.close());

describe('get against a live API server', () => {
  it('reads nodes in pages and kube-proxy\'s ConfigMap, with the kubeconfig\'s token', async () => {
    mode = 'ok';
    seen.length = 0;
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.configuration.mode, 'iptables');
    assert.equal(report.configuration.defaulted, false);
    assert.deepEqual(report.nodes.map((n: { node: string }) => n.node), ['kind-control-plane', 'kind-worker', 'kind-worker2']);
    assert.ok(seen.some((s) => s === 'GET /api/v1/nodes?limit=500 Bearer kind-token'), seen.join('\n'));
    assert.ok(seen.some((s) => s.startsWith('GET /api/v1/namespaces/kube-system/configmaps/kube-proxy ')));
  });

  it('KUBECONFIG works as kubectl\'s does, and the header names the context', async () => {
    mode = 'ok';
    const r = await proxymodeAsync(['get'], { env: cleanEnv({ KUBECONFIG: kubeconfig }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Source: cluster kind-kind \(http:\/\/127\.0\.0\.1:\d+\)$/m);
    assert.match(r.stdout, /^kind-worker\s+iptables\s+iptables\s+-\s+v1\.31\.0\s+Running$/m);
    // kind-worker2's kube-proxy still runs nftables: a mismatch, with its note.
    assert.match(r.stdout, /^kind-worker2\s+iptables\s+nftables\s+-\s+v1\.31\.0\s+Mismatch$/m);
    assert.match(r.stdout, /^Note: kind-worker2: configured iptables, running nftables: kube-proxy pod kube-proxy-t4wzr started before the configuration changed/m);
  });

  it('reads kube-proxy pods by label in two lists and each log from its start; --check exits 1 on the mismatch', async () => {
    mode = 'ok';
    seen.length = 0;
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--check', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.nodes.map((n: { running: string }) => n.running), ['iptables', 'iptables', 'nftables']);
    assert.equal(seen.filter((s) => s.startsWith('GET /api/v1/namespaces/kube-system/pods?')).length, 2);
    const logs = seen.filter((s) => s.includes('/log?'));
    assert.equal(logs.length, 3);
    assert.ok(logs.every((s) => /container=kube-proxy&limitBytes=\d+ Bearer kind-token$/.test(s)), logs.join('\n'));
    const one = await proxymodeAsync(['get', 'kind-worker', '--kubeconfig', kubeconfig, '--check']);
    assert.equal(one.code, 0, one.stderr);
  });

  it('--probe: the rules read by exec in each kube-proxy pod are the final evidence', async () => {
    mode = 'ok';
    seen.length = 0;
    liveDump = '### nft\n### iptables\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n### ipvsadm\n';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--probe', '--check', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.nodes.map((n: { running: string }) => n.running), ['iptables', 'iptables', 'iptables']);
    assert.deepEqual(report.nodes.map((n: { runningFrom: string }) => n.runningFrom), ['rules', 'rules', 'rules']);
    assert.match(report.nodes[2].notes.join(' '), /the log says nftables but the rules show iptables/);
    assert.match(report.notes.join(' '), /\/proxyMode only on 127\.0\.0\.1:10249/);
    assert.equal(seen.filter((s) => s.startsWith('UPGRADE ')).length, 3);
  });

  it('pods/log refused by RBAC: the configured view, the note once on stderr, and --check fails on the unknown (exit 1)', async () => {
    mode = 'logs-forbidden';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--check']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^kind-worker\s+iptables\s+<unknown>\s+-\s+v1\.31\.0\s+Running$/m);
    assert.doesNotMatch(r.stdout, /pods\/log/);
    assert.equal(r.stderr.match(/may not get pods\/log/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /^Note: running mode not read: user "system:serviceaccount:default:viewer" may not get pods\/log in namespace "kube-system" \(RBAC\)/m);
    assert.match(r.stderr, /^check FAILED: 3 nodes checked, 0 as configured, 0 mismatched, 3 unknown \(kind-control-plane, kind-worker, kind-worker2\)\.$/m);
    mode = 'ok';
  });

  it('RBAC refusal: one sentence naming verb and resource, exit 3', async () => {
    mode = 'forbidden';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'error: forbidden: user "system:serviceaccount:default:viewer" may not list nodes at the cluster scope (RBAC); ask a cluster admin to grant "list" on "nodes".\n');
    assert.equal(r.stdout, '');
  });

  it('the same through kubectl', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async () => {
    mode = 'forbidden';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig], { viaKubectl: true });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^error: forbidden: .* may not list nodes/);
    mode = 'ok';
    const ok = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '-o', 'yaml'], { viaKubectl: true });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^  mode: iptables$/m);
  });
});

describe('rules against a live API server', () => {
  it('renders the node\'s rules, reads its live rules in its kube-proxy pod over pods/exec, and finds them in sync', async () => {
    mode = 'ok';
    const rendered = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '-o', 'restore']);
    assert.equal(rendered.code, 0, rendered.stderr);
    liveDump = rendered.stdout;
    seen.length = 0;
    const diff = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--diff']);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /^Live: node kind-worker \(pod kube-system\/kube-proxy-9mz2k\)$/m);
    assert.match(diff.stdout, /In sync/);
    assert.ok(seen.some((s) => s.startsWith('UPGRADE /api/v1/namespaces/kube-system/pods/kube-proxy-9mz2k/exec?') && s.includes('command=iptables-save')), seen.join('\n'));
  });

  it('a live dump missing a service is drift: exit 1', async () => {
    mode = 'ok';
    const rendered = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '-o', 'restore']);
    liveDump = rendered.stdout.split('\n').filter((l) => !l.includes('kube-system/kube-dns:dns cluster IP"')).join('\n');
    const diff = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--diff']);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /^kube-system\/kube-dns:dns\s+missing service/m);
  });

  it('RBAC refusal of pods/exec names the verb and resource: exit 3', async () => {
    mode = 'exec-forbidden';
    const r = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--actual']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'error: forbidden: you may not exec into pod kube-system/kube-proxy-9mz2k (RBAC); ask a cluster admin to grant "create" on "pods/exec" in namespace "kube-system".\n');
  });
});
