// Cluster access as kubectl does it: no or empty kubeconfig, KUBECONFIG with a missing entry, the context's
// namespace as -n's default, and a server that accepts the connection but never answers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, proxymode, proxymodeAsync, ROOT } from './run.js';

const FIX = join(ROOT, 'test', 'kube', 'fixtures');
const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'proxymode-kubeconfig-'));

function config(server: string, namespace?: string): string {
  return `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u${namespace ? `, namespace: ${namespace}` : ''}}\ncurrent-context: ctx\n`;
}

function oneSentence(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /^error: /);
  assert.doesNotMatch(stderr, /TypeError|loaded-context|HTTP protocol is not allowed|\n\s+at /);
}

let api: Server;
let apiURL = '';
let silent: TcpServer;
let silentPort = 0;
const sockets: Socket[] = [];

before(async () => {
  api = createServer((req, res) => {
    const url = req.url ?? '';
    let body = '';
    if (url.startsWith('/api/v1/nodes?')) body = fixture('kind/nodes.json');
    else if (url.startsWith('/api/v1/services?')) body = fixture('kind/services.json');
    else if (url.startsWith('/apis/discovery.k8s.io/v1/endpointslices?')) body = fixture('kind/endpointslices.json');
    const cm = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^?]+)$/.exec(url);
    if (cm) {
      const item = JSON.parse(fixture('kind/kube-system-configmaps.json')).items.find((i: { metadata: { name: string } }) => i.metadata.name === cm[1]);
      if (item) body = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', ...item });
    }
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(fixture('errors/404-configmap-kube-proxy-config-not-found.json'));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiURL = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  // Accepts every connection and never says a word.
  silent = createTcpServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as AddressInfo).port;
});

after(() => {
  api.close();
  for (const s of sockets) s.destroy();
  silent.close();
});

describe('no cluster configured', () => {
  it('no kubeconfig anywhere: one sentence, exit 3', () => {
    const r = proxymode(['get'], { env: cleanEnv({ KUBECONFIG: undefined, HOME: tmp }) });
    assert.equal(r.code, 3);
    oneSentence(r.stderr);
    assert.match(r.stderr, /no cluster is configured: set KUBECONFIG or use -f/);
  });

  it('KUBECONFIG naming only missing files is no cluster, as kubectl', () => {
    const r = proxymode(['rules', '--mode', 'iptables'], { env: cleanEnv({ KUBECONFIG: `${join(tmp, 'a')}:${join(tmp, 'b')}` }) });
    assert.equal(r.code, 3);
    oneSentence(r.stderr);
    assert.match(r.stderr, /no cluster is configured/);
  });

  it('an empty kubeconfig file is no cluster', () => {
    const empty = join(tmp, 'empty');
    writeFileSync(empty, '');
    for (const env of [cleanEnv({ KUBECONFIG: empty }), cleanEnv({ KUBECONFIG: undefined, HOME: tmp })]) {
      const r = proxymode(['trace', 'svc/web', '--mode', 'iptables'], { env });
      assert.equal(r.code, 3);
      oneSentence(r.stderr);
      assert.match(r.stderr, /no cluster is configured/);
    }
  });

  it('a kubeconfig that is not one says so (exit 2)', () => {
    const bad = join(tmp, 'notyaml');
    writeFileSync(bad, 'just a string\n');
    const r = proxymode(['get', '--kubeconfig', bad]);
    assert.equal(r.code, 2);
    oneSentence(r.stderr);
    assert.match(r.stderr, /is not a kubeconfig/);
  });
});

describe('KUBECONFIG with several paths', () => {
  it('skips a missing entry and uses the next file', async () => {
    const kc = join(tmp, 'exists');
    writeFileSync(kc, config(apiURL));
    const r = await proxymodeAsync(['rules', '--mode', 'iptables', '--node', 'kind-worker', 'kube-system/kube-dns'], { env: cleanEnv({ KUBECONFIG: `${join(tmp, 'missing')}:${kc}` }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kube-system\/kube-dns/);
  });

  it('the first file to set current-context wins', async () => {
    const first = join(tmp, 'first');
    const second = join(tmp, 'second');
    writeFileSync(first, config('http://127.0.0.1:9').replace(/name: ctx/, 'name: other').replace('current-context: ctx', 'current-context: other').replace(/name: c\n/, 'name: c2\n').replace('cluster: c,', 'cluster: c2,').replace('name: u\n', 'name: u2\n').replace('user: u}', 'user: u2}'));
    writeFileSync(second, config(apiURL));
    const r = proxymode(['get', '--request-timeout', '5s'], { env: cleanEnv({ KUBECONFIG: `${first}:${second}` }) });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /127\.0\.0\.1:9/);
  });
});

describe('the context namespace is the default for -n', () => {
  it('trace svc/kube-dns in a kube-system context finds it; in a default one it does not', async () => {
    const sys = join(tmp, 'sys');
    writeFileSync(sys, config(apiURL, 'kube-system'));
    const ok = await proxymodeAsync(['trace', 'svc/kube-dns', '--port', 'dns-tcp', '--mode', 'iptables', '--node', 'kind-worker'], { env: cleanEnv({ KUBECONFIG: sys }) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /kube-system\/kube-dns:dns-tcp/);
    const plain = join(tmp, 'plain');
    writeFileSync(plain, config(apiURL));
    const no = await proxymodeAsync(['trace', 'svc/kube-dns', '--port', 'dns-tcp', '--mode', 'iptables', '--node', 'kind-worker'], { env: cleanEnv({ KUBECONFIG: plain }) });
    assert.equal(no.code, 2);
    assert.match(no.stderr, /not found in namespace default/);
    // -n still wins over the context.
    const n = await proxymodeAsync(['trace', 'kube-dns', '-n', 'default', '--port', 'dns-tcp', '--mode', 'iptables', '--node', 'kind-worker'], { env: cleanEnv({ KUBECONFIG: sys }) });
    assert.equal(n.code, 2);
  });
});

describe('a server that never answers', () => {
  it('fails within a bounded time with one sentence', async () => {
    const kc = join(tmp, 'silent');
    writeFileSync(kc, config(`http://127.0.0.1:${silentPort}`));
    const t0 = Date.now();
    const r = await proxymodeAsync(['get', '--kubeconfig', kc]);
    const took = Date.now() - t0;
    assert.equal(r.code, 3);
    oneSentence(r.stderr);
    assert.match(r.stderr, /accepted the connection but did not answer within 10s/);
    assert.ok(took < 20_000, `took ${took} ms`);
  });

  it('--request-timeout still wins', async () => {
    const kc = join(tmp, 'silent2');
    writeFileSync(kc, config(`http://127.0.0.1:${silentPort}`));
    const t0 = Date.now();
    const r = await proxymodeAsync(['get', '--kubeconfig', kc, '--request-timeout', '1s']);
    assert.equal(r.code, 3);
    oneSentence(r.stderr);
    assert.match(r.stderr, /did not answer within 1s \(--request-timeout\)/);
    assert.ok(Date.now() - t0 < 8_000);
  });
});
