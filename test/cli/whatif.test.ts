// What if, through the built CLI on examples/: one stderr line per applied edit, `edits` in -o json,
// trace --compare (human blocks and {edits, before, after, changes}), rules and rules --diff on edited
// objects, and bad edits as one sentence with exit 2.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { proxymode, proxymodeAsync, ROOT } from './run.js';

const BASE = ['-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1'];
const errorLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('error:'));

describe('what if (CLI)', () => {
  it('trace --compare: the deciding facts side by side, what changed, then the trace before and after; exit as the edited trace ends', () => {
    const r = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE, '--scale-endpoints', 'svc/web=0', '--compare']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stderr.trim().split('\n'), ['What if: Service shop/web endpoints scaled: IPv4: 3 → 0 ready (removed 10.244.0.5, 10.244.1.7, 10.244.2.4) (--scale-endpoints svc/web=0; in memory only, nothing is written).']);
    const changed = r.stdout.indexOf('What changed:');
    const before = r.stdout.indexOf('Before (objects as read):');
    const after = r.stdout.indexOf('After (with the what-if edits):');
    assert.ok(changed > 0 && before > changed && after > before, r.stdout);
    const table = r.stdout.slice(0, changed);
    assert.match(table, /^\s+BEFORE\s+AFTER$/m);
    assert.match(table, /^verdict\s+forwarded\s+rejected$/m);
    assert.match(table, /^endpoints\s+10\.244\.0\.5:8080 33\.3%\s+-$/m);
    assert.match(table, /EndpointSlice shop\/web-fn8j6 endpoints\[\]\.conditions\.ready=none ready$/m);
    assert.match(r.stdout.slice(before, after), /^ {2}Verdict: forwarded to 3 endpoints$/m);
    assert.match(r.stdout.slice(after), /^ {2}Node: worker-1 · mode iptables · rules rendered from files examples\/ with 1 what-if edit$/m);
    assert.match(r.stdout.slice(after), /^ {2}Verdict: rejected$/m);
    assert.match(r.stdout.slice(changed, before), /^ {2}verdict: forwarded → rejected$/m);
    assert.match(r.stdout.slice(changed, before), /^ {2}endpoints 3 → 0: -10\.244\.0\.5:8080 \(was 33\.3%\), -10\.244\.1\.7:8080 \(was 33\.3%\), -10\.244\.2\.4:8080 \(was 33\.3%\)$/m);
  });

  it('trace --compare -o json: {edits, before, after, changes}; draining worker-2 moves its share to the others', () => {
    const r = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE, '--drain', 'node/worker-2', '--compare', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(d), ['edits', 'before', 'after', 'changes']);
    assert.equal(d.edits[0].flag, '--drain node/worker-2');
    assert.equal(d.edits[0].object, 'Node worker-2');
    assert.deepEqual(d.before.endpoints.map((e: { ip: string }) => e.ip), ['10.244.0.5', '10.244.1.7', '10.244.2.4']);
    assert.deepEqual(d.after.endpoints.map((e: { ip: string; probability: number }) => [e.ip, e.probability]), [['10.244.0.5', 0.5], ['10.244.1.7', 0.5]]);
    const endpoints = d.changes.find((c: { what: string }) => c.what === 'endpoints');
    assert.equal(endpoints.text, 'endpoints 3 → 2: 10.244.0.5:8080 33.3% → 50%, 10.244.1.7:8080 33.3% → 50%, -10.244.2.4:8080 (was 33.3%)');
    assert.ok(!d.changes.some((c: { what: string }) => c.what === 'verdict'));
  });

  it('trace --compare names a masquerade change: ETP Cluster on a NodePort from outside', () => {
    const r = proxymode(['trace', '192.168.10.22:30080', ...BASE.slice(0, 4), '--node', 'worker-2', '--from', 'external', '--set', 'svc/admin:spec.externalTrafficPolicy=Cluster', '--compare', '-o', 'json'], {});
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(d.changes.find((c: { what: string }) => c.what === 'masquerade')?.before, false);
    assert.deepEqual(d.changes.find((c: { what: string }) => c.what === 'masquerade')?.after, true);
  });

  it('trace -o json carries the edits; ETP Local on cp-1 (no api-public pod there) drops external traffic, exit 1', () => {
    const args = ['trace', '192.168.10.11:30443', '-f', 'examples/', '--mode', 'iptables', '--node', 'cp-1', '--from', 'external'];
    assert.equal(JSON.parse(proxymode([...args, '-o', 'json']).stdout).verdict, 'forwarded');
    const r = proxymode([...args, '--set', 'svc/api-public:spec.externalTrafficPolicy=Local', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.verdict, 'dropped');
    assert.deepEqual(d.endpoints, []);
    assert.deepEqual(d.edits, [{ flag: '--set svc/api-public:spec.externalTrafficPolicy=Local', object: 'Service shop/api-public', change: 'spec.externalTrafficPolicy: Cluster → Local' }]);
  });

  it('rules renders the edited objects: an affinity rule with the timeout set', () => {
    const r = proxymode(['rules', 'shop/web', ...BASE, '--set', 'svc/web:spec.sessionAffinity=ClientIP', '--set', 'svc/web:spec.sessionAffinityConfig.clientIP.timeoutSeconds=600', '-o', 'restore']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"shop\/web:http -> 10\.244\.1\.7:8080" -m recent --name KUBE-SEP-\S+ --rcheck --seconds 600 --reap/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('What if: Service shop/web spec.sessionAffinity:')).length, 1);
    const plain = proxymode(['rules', 'shop/web', ...BASE, '-o', 'restore']);
    assert.doesNotMatch(plain.stdout, /--rcheck/);
    const json = JSON.parse(proxymode(['rules', 'shop/web', ...BASE, '--set', 'cm/kube-proxy:ipvs.scheduler=lc', '-o', 'json']).stdout);
    assert.equal(json.edits[0].change, 'config.conf ipvs.scheduler: rr → lc');
  });

  it('rules --diff compares the live rules with the edited rendering: what the node would have to change', () => {
    const r = proxymode(['rules', '--diff', '--rules', 'examples/node1.iptables-save', ...BASE, '--scale-endpoints', 'svc/web=0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^shop\/web:http\s+verdict\s+missing: REJECT 80\/TCP: has no endpoints\s/m);
    // the chains the edit removes are only on the node: nothing given makes kube-proxy write them
    assert.match(r.stdout, /stale object\s+the node still has chain nat\/KUBE-SVC-\S+\s+nothing in the given objects makes kube-proxy write it$/m);
    const same = proxymode(['rules', '--diff', '--rules', 'examples/node1.iptables-save', ...BASE]);
    assert.equal(same.code, 0, same.stderr);
  });

  it('a bad path, value or object is one sentence naming it, exit 2', () => {
    const cases: Array<[string[], string]> = [
      [['--set', 'svc/web:spec.externalTrafficPolicy=Sometimes'], 'error: --set svc/web:spec.externalTrafficPolicy=Sometimes: externalTrafficPolicy must be Cluster or Local.'],
      [['--set', 'svc/nope:spec.type=NodePort'], 'error: --set svc/nope:spec.type=NodePort: there is no Service nope in namespace shop in files examples/.'],
      [['--set', 'cm/kube-proxy:mode=nftable'], 'error: --set cm/kube-proxy:mode=nftable: mode "nftable" is not one of "", "iptables", "ipvs", "nftables", "kernelspace", "userspace"; set it to one of those.'],
      [['--scale-endpoints', 'svc/web=lots'], 'error: --scale-endpoints svc/web=lots: "lots" is not a number of endpoints (0 to 9999).'],
      [['--drain', 'node/worker-7'], 'error: --drain node/worker-7: there is no Node worker-7 in files examples/; did you mean worker-1, worker-2?'],
      [['--compare'], 'error: --compare shows what edits change: add --set, --scale-endpoints or --drain.'],
    ];
    for (const [extra, sentence] of cases) {
      const r = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE, ...extra]);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.deepEqual(errorLine(r.stderr), [sentence]);
      assert.equal(r.stdout, '');
    }
    const path = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE, '--set', 'svc/web:spec.trafficPolicy=Local']);
    assert.equal(path.code, 2);
    assert.match(errorLine(path.stderr)[0]!, /^error: --set svc\/web:spec\.trafficPolicy=Local: spec\.trafficPolicy is not a field this tool can set on a Service: spec has no field "trafficPolicy" \(it has type, .*\)\.$/);
  });

  it('edits need rendered rules: with a dump to trace through they are refused', () => {
    const r = proxymode(['trace', '10.96.0.10:53', '--protocol', 'UDP', '--rules', 'examples/node1.iptables-save', '-f', 'examples/', '--set', 'svc/kube-dns:spec.sessionAffinity=ClientIP']);
    assert.equal(r.code, 2);
    assert.match(errorLine(r.stderr)[0]!, /^error: --set svc\/kube-dns:spec\.sessionAffinity=ClientIP: what-if edits change the objects rules are rendered from, and --rules examples\/node1\.iptables-save traces rules already written; leave out --rules\.$/);
  });
});

describe('what if against a live API server', () => {
  it('edits what was read and writes nothing: only GETs reach the server', async () => {
    const fixture = (p: string) => readFileSync(join(ROOT, 'test', 'kube', 'fixtures', p), 'utf8');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const url = req.url ?? '';
      const cm = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^?]+)$/.exec(url);
      const item = cm && JSON.parse(fixture('kind/kube-system-configmaps.json')).items.find((i: { metadata: { name: string } }) => i.metadata.name === cm[1]);
      const body = url.startsWith('/api/v1/nodes?') ? fixture('kind/nodes.json')
        : url.startsWith('/api/v1/services?') ? fixture('kind/services.json')
        : url.startsWith('/apis/discovery.k8s.io/v1/endpointslices?') ? fixture('kind/endpointslices.json')
        : item ? JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', ...item }) : undefined;
      res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(body ?? fixture('errors/404-configmap-kube-proxy-config-not-found.json'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const kubeconfig = join(mkdtempSync(join(tmpdir(), 'proxymode-whatif-')), 'config');
      writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kind\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: t}\ncontexts:\n- name: kind-kind\n  context: {cluster: kind, user: admin}\ncurrent-context: kind-kind\n`);
      const r = await proxymodeAsync(['trace', 'svc/echo', '-n', 'default', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--set', 'cm/kube-proxy:mode=nftables', '--drain', 'node/kind-worker2', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout);
      assert.equal(d.mode, 'nftables');
      assert.deepEqual(d.endpoints.map((e: { ip: string }) => e.ip), ['10.244.1.3']);
      assert.deepEqual(d.edits.map((e: { object: string }) => e.object), ['ConfigMap kube-system/kube-proxy', 'Node kind-worker2']);
      assert.ok(seen.length > 0 && seen.every((s) => s.startsWith('GET ')), seen.join('\n'));
    } finally {
      server.close();
    }
  });
});
