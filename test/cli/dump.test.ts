// `dump` against an in-process API server (kind fixtures, exec over WebSocket): the bundle holds what the
// offline commands need, never a Secret, and get, rules, trace and --diff give the same answers on it as live.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveExec } from './fake-exec.js';
import { proxymodeAsync, ROOT } from './run.js';

const FIX = join(ROOT, 'test', 'kube', 'fixtures');
const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');
const EMPTY = (kind: string) => `{"kind":"${kind}","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}`;
const seen: string[] = [];
let execForbidden = false;
let liveDump = '';

function answer(path: string): [number, string] {
  if (path.startsWith('/api/v1/nodes?')) return [200, fixture('kind/nodes.json')];
  if (path.startsWith('/api/v1/services?')) return [200, fixture('kind/services.json')];
  if (path.startsWith('/apis/discovery.k8s.io/v1/endpointslices?')) return [200, fixture('kind/endpointslices.json')];
  if (path.startsWith('/api/v1/namespaces/kube-system/pods?') && path.includes('spec.nodeName%3Dkind-worker')) return [200, fixture('kubeadm/kube-proxy-pods.json')];
  if (path.startsWith('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy&')) return [200, fixture('kind/kube-proxy-pods-all.json')];
  if (path.startsWith('/api/v1/namespaces/kube-system/pods?labelSelector=component%3Dkube-proxy&')) return [200, EMPTY('PodList')];
  if (path.startsWith('/apis/apps/v1/namespaces/kube-system/daemonsets?')) return [200, EMPTY('DaemonSetList')];
  if (/^\/api\/v1\/namespaces\/kube-system\/pods\/[^/]+\/log\?/.test(path)) return [200, fixture(path.includes('kube-proxy-t4wzr') ? 'logs/v1.31-nftables.txt' : 'logs/v1.31-iptables.txt')];
  const cm = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^?]+)$/.exec(path);
  if (cm) {
    const item = JSON.parse(fixture('kind/kube-system-configmaps.json')).items.find((i: { metadata: { name: string } }) => i.metadata.name === cm[1]);
    return item ? [200, JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', ...item })] : [404, fixture('errors/404-configmap-kube-proxy-config-not-found.json')];
  }
  return [404, fixture('errors/404-page-not-found.txt')];
}

let server: Server;
let kubeconfig: string;
const tmp = mkdtempSync(join(tmpdir(), 'proxymode-dump-'));

before(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const [code, body] = answer(req.url ?? '');
    res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
    res.end(body);
  });
  serveExec(server, { stdout: () => liveDump, forbidden: () => execForbidden, seen });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  kubeconfig = join(tmp, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kind\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: kind-token}\ncontexts:\n- name: kind-kind\n  context: {cluster: kind, user: admin}\ncurrent-context: kind-kind\n`);
});

after(() => server.close());

const live = (args: string[]) => proxymodeAsync([...args, '--kubeconfig', kubeconfig]);
const json = (s: string) => JSON.parse(s) as Record<string, unknown>;

describe('dump: a support bundle', () => {
  const bundle = join(tmp, 'bundle');

  it('saves objects, logs and each node\'s live rules, with progress on stderr and a README; never a Secret', async () => {
    // The node's live rules: the rendered ones with one service's rule missing (drift to find offline too).
    const rendered = await live(['rules', '--node', 'kind-worker', '-o', 'restore']);
    assert.equal(rendered.code, 0, rendered.stderr);
    liveDump = rendered.stdout.split('\n').filter((l) => !l.includes('kube-system/kube-dns:dns cluster IP"')).join('\n');
    seen.length = 0;
    const r = await live(['dump', '--output-dir', bundle, '--archive']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${bundle}.tar.gz\n`);
    assert.match(r.stderr, /^dump: reading cluster kind-kind/);
    assert.match(r.stderr, /node rules 3\/3: kind-worker2 \(iptables\)/);
    for (const f of ['nodes.json', 'services.json', 'endpointslices.json', 'configmaps.json', 'daemonsets.json', 'kube-proxy-pods.json', 'README.md']) assert.ok(existsSync(join(bundle, f)), f);
    assert.ok(readdirSync(join(bundle, 'kube-proxy-logs')).length >= 3);
    assert.deepEqual(readdirSync(join(bundle, 'node-rules')).sort(), ['kind-control-plane.rules', 'kind-worker.rules', 'kind-worker2.rules']);
    assert.equal(readFileSync(join(bundle, 'node-rules', 'kind-worker.rules'), 'utf8').trim(), liveDump.trim());
    const readme = readFileSync(join(bundle, 'README.md'), 'utf8');
    assert.match(readme, /from cluster kind-kind \(http:\/\/127\.0\.0\.1:\d+\) by kubectl-proxymode v/);
    assert.match(readme, /No Secrets were read/);
    assert.ok(!seen.some((u) => /secrets/i.test(u)), seen.join('\n'));
    if (spawnSync('tar', ['--version']).status === 0) {
      const t = spawnSync('tar', ['tzf', `${bundle}.tar.gz`], { encoding: 'utf8' });
      assert.equal(t.status, 0, t.stderr);
      assert.ok(t.stdout.includes('bundle/node-rules/kind-worker.rules'), t.stdout);
      assert.ok(t.stdout.includes('bundle/services.json'));
    }
  });

  it('get -f on the bundle says what get says live', async () => {
    const off = await proxymodeAsync(['get', '-f', bundle, '-o', 'json']);
    const on = await live(['get', '-o', 'json']);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(json(off.stdout).nodes, json(on.stdout).nodes);
    assert.deepEqual(json(off.stdout).configuration, json(on.stdout).configuration);
  });

  it('rules and trace on the bundle give the live answers', async () => {
    const offRules = await proxymodeAsync(['rules', '-f', bundle, '--node', 'kind-worker', '-o', 'restore']);
    assert.equal(offRules.code, 0, offRules.stderr);
    assert.equal(offRules.stdout, (await live(['rules', '--node', 'kind-worker', '-o', 'restore'])).stdout);
    const args = ['trace', 'svc/kube-dns', '-n', 'kube-system', '--port', 'dns-tcp', '--node', 'kind-worker', '-o', 'json'];
    const offTrace = await proxymodeAsync([...args, '-f', bundle]);
    assert.equal(offTrace.code, 0, offTrace.stderr);
    assert.deepEqual(json(offTrace.stdout).endpoints, json((await live(args)).stdout).endpoints);
    const viaRules = await proxymodeAsync([...args, '-f', bundle, '--rules', join(bundle, 'node-rules', 'kind-worker.rules')]);
    assert.equal(viaRules.code, 0, viaRules.stderr);
    assert.deepEqual(json(viaRules.stdout).endpoints, json(offTrace.stdout).endpoints);
  });

  it('--diff on the bundle finds the drift live --diff finds', async () => {
    const off = await proxymodeAsync(['rules', '-f', bundle, '--node', 'kind-worker', '--diff', '--rules', join(bundle, 'node-rules', 'kind-worker.rules'), '-o', 'json']);
    const on = await live(['rules', '--node', 'kind-worker', '--diff', '-o', 'json']);
    assert.equal(off.code, 1, off.stderr);
    assert.equal(on.code, 1, on.stderr);
    assert.deepEqual(json(off.stdout).drift, json(on.stdout).drift);
    assert.ok((json(off.stdout).drift as unknown[]).length > 0);
  });

  it('never writes into a folder that holds something (exit 2, nothing touched)', async () => {
    const before = readFileSync(join(bundle, 'README.md'), 'utf8');
    const r = await live(['dump', '--output-dir', bundle]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already exists and is not empty/);
    assert.equal(readFileSync(join(bundle, 'README.md'), 'utf8'), before);
  });

  it('exec refused: objects and logs are saved, the README says why the rules are not', async () => {
    execForbidden = true;
    try {
      const dir = join(tmp, 'noexec');
      const r = await live(['dump', '--output-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(join(dir, 'services.json')));
      assert.deepEqual(readdirSync(join(dir, 'node-rules')), []);
      assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /node kind-control-plane's rules not saved: .*pods\/exec/);
      assert.match(r.stderr, /1 parts could not be saved/);
    } finally {
      execForbidden = false;
    }
  });
});
