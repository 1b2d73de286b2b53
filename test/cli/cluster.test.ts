// The executable against an API server on a real socket: a small HTTP server in this process serves the
// kind fixtures (shapes in test/kube/fixtures/kind/PROVENANCE.md), or refuses as RBAC would.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, hasKubectl, proxymodeAsync, ROOT } from './run.js';

const FIX = join(ROOT, 'test', 'kube', 'fixtures');
const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');

type Mode = 'ok' | 'forbidden';
let mode: Mode = 'ok';
const seen: string[] = [];

function answer(path: string): [number, string] {
  if (mode === 'forbidden' && path.startsWith('/api/v1/nodes')) return [403, fixture('errors/403-forbidden-list-nodes.json')];
  if (path.startsWith('/api/v1/nodes?')) return [200, fixture('kind/nodes.json')];
  const cm = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^?]+)$/.exec(path);
  if (cm) {
    const item = JSON.parse(fixture('kind/kube-system-configmaps.json')).items.find((i: { metadata: { name: string } }) => i.metadata.name === cm[1]);
    return item ? [200, JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', ...item })] : [404, fixture('errors/404-configmap-kube-proxy-config-not-found.json')];
  }
  return [404, fixture('errors/404-page-not-found.txt')];
}

let server: Server;
let kubeconfig: string;

before(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const [code, body] = answer(req.url ?? '');
    res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
    res.end(body);
  });
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
    assert.match(r.stdout, /^kind-worker\s+iptables\s+<unknown>\s+-\s+<unknown>\s+Ready$/m);
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
