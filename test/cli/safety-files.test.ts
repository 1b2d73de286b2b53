// Issue 11 items 4-6 through the built executable, on files (-f): every bad input ends in one sentence on
// stderr naming the file, object or field, a documented exit code, and the files are left as they were.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { proxymode, ROOT } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-safety-files-'));
const ex = (f: string) => join('examples', f);
const OBJECTS = ['services.yaml', 'endpointslices.yaml', 'nodes.yaml'].map(ex);
const CONFIG = readFileSync(join(ROOT, 'examples', 'kube-proxy-configmap.yaml'), 'utf8');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
// Nothing the user had is changed: every file these tests give the command hashes the same at the end.
const given = new Map<string, string>(readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => [join(ROOT, 'examples', f), sha(join(ROOT, 'examples', f))]));
const write = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  given.set(p, sha(p));
  return p;
};
after(() => {
  for (const [p, h] of given) assert.equal(sha(p), h, `${p} changed`);
  assert.ok(given.size > 10);
});
const withFiles = (...extra: string[]) => [...OBJECTS.flatMap((f) => ['-f', f]), ...extra.flatMap((f) => ['-f', f])];

/** stderr's lines that are warnings or errors (progress aside). */
const said = (stderr: string) => stderr.split('\n').filter((l) => /^(Warning|error):/.test(l));

describe('item 4: offline input that cannot give a true answer says so', () => {
  it('-f without the kube-proxy ConfigMap: one warning naming what is missing and what is assumed', () => {
    const r = proxymode(['rules', ...withFiles(), '--node', 'worker-1', '-o', 'restore']);
    assert.equal(r.code, 0, r.stderr);
    const lines = said(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^Warning: files .* hold no kube-proxy ConfigMap \(kube-system\/kube-proxy, or kube-proxy-config on EKS\), so kube-proxy's built-in defaults stand in for its configuration \(mode iptables, clusterCIDR unset\); save it beside the other files \(`kubectl -n kube-system get configmap kube-proxy -o yaml`/);
    // With the ConfigMap the examples' cluster is ipvs, and nothing is said.
    const full = proxymode(['rules', ...withFiles(ex('kube-proxy-configmap.yaml')), '--node', 'worker-1', '-o', 'ipvsadm']);
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual(said(full.stderr), []);
  });

  it('names every missing kind in the same one warning', () => {
    const r = proxymode(['rules', '-f', ex('services.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = said(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /hold no kube-proxy ConfigMap .*, Nodes or EndpointSlices, so .*; no node addresses or node-local endpoints are known; every Service has no endpoints;/);
  });

  it('the recipe in the krew caveats and the README collects what -f needs, each output in its own file', () => {
    const manifest = readFileSync(join(ROOT, 'krew-manifest.yaml'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const text of [manifest, readme]) {
      const recipe = text.slice(text.indexOf('mkdir cluster'));
      assert.ok(recipe.length > 0 && text.includes('mkdir cluster'), 'the recipe starts with mkdir cluster');
      assert.match(recipe, /kubectl get (svc|services),endpointslices,nodes -A -o yaml > cluster\/\w+\.yaml/);
      assert.match(recipe, /kubectl -n kube-system get configmap kube-proxy -o yaml > cluster\/\S+\.yaml/);
      assert.match(recipe, /kubectl -n kube-system get (pods,daemonsets|daemonsets,pods) -l k8s-app=kube-proxy -o yaml > cluster\/\S+\.yaml/);
      assert.match(recipe, /kubectl proxymode get -f cluster\//);
      assert.doesNotMatch(recipe.split('\n').slice(0, 8).join('\n'), />>/, 'appending a second -o yaml to one file collides keys');
    }
  });
});

describe('item 5: kube-proxy\'s own validation', () => {
  const cases: Array<[string, (t: string) => string, RegExp, string]> = [
    ['masqueradeBit 99', (t) => t.replace(/masqueradeBit: .*/g, 'masqueradeBit: 99'), /iptables\.masqueradeBit is 99, but it must be a bit number from 0 to 31/, 'masqueradeBit: 99'],
    ['masqueradeBit -3', (t) => t.replace(/masqueradeBit: .*/g, 'masqueradeBit: -3'), /iptables\.masqueradeBit is -3/, 'masqueradeBit: -3'],
    ['an unknown ipvs scheduler', (t) => t.replace(/scheduler: .*/, 'scheduler: fastest'), /ipvs\.scheduler "fastest" is not an IPVS scheduler/, 'scheduler: fastest'],
    ['a bad clusterCIDR', (t) => t.replace(/clusterCIDR: .*/, 'clusterCIDR: 10.244.0.0/33'), /clusterCIDR "10\.244\.0\.0\/33" contains "10\.244\.0\.0\/33", which is not a valid CIDR/, 'clusterCIDR: 10.244.0.0/33'],
  ];
  for (const [what, edit, reason, edited] of cases) {
    it(`${what}: refused with kube-proxy's reason, file and line, exit 2`, () => {
      const text = edit(CONFIG);
      const file = write(`cm-${what.replace(/\W+/g, '-')}.yaml`, text);
      const r = proxymode(['rules', ...withFiles(file), '--node', 'worker-1', '-o', 'restore']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const err = said(r.stderr).filter((l) => l.startsWith('error:'));
      assert.equal(err.length, 1, r.stderr);
      const m = new RegExp(`^error: kube-proxy would refuse to start with this configuration: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:(\\d+): ConfigMap kube-system/kube-proxy: config\\.conf: `).exec(err[0]);
      assert.ok(m, err[0]);
      // The line named is the line that was edited.
      assert.ok(text.split('\n')[Number(m[1]) - 1].includes(edited), `line ${m[1]}: ${text.split('\n')[Number(m[1]) - 1]}`);
      assert.match(err[0], reason);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    });
  }

  it('get reports a refused configuration instead of refusing, and --check fails on it', () => {
    const file = write('cm-get-99.yaml', CONFIG.replace(/masqueradeBit: .*/g, 'masqueradeBit: 99'));
    const r = proxymode(['get', '-f', ex('nodes.yaml'), '-f', ex('kube-proxy-pods.yaml'), '-f', file, '--check']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Warning: kube-proxy refuses to start with this configuration: .*cm-get-99\.yaml:\d+: ConfigMap kube-system\/kube-proxy: config\.conf: iptables\.masqueradeBit is 99/m);
    assert.match(r.stderr, /^check FAILED: .*; kube-proxy refuses its configuration\.$/m);
  });

  it('what kube-proxy only warns about (an unknown field, lenient decoding) is a warning, and the command goes on', () => {
    const file = write('cm-unknown-field.yaml', CONFIG.replace('    mode: ipvs', '    mode: ipvs\n    Mode: iptables'));
    const r = proxymode(['rules', ...withFiles(file), '--node', 'worker-1', '-o', 'ipvsadm']);
    assert.equal(r.code, 0, r.stderr);
    const lines = said(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    const m = /^Warning: .*cm-unknown-field\.yaml:(\d+): ConfigMap kube-system\/kube-proxy: config\.conf: unknown field "Mode" is ignored by kube-proxy .*did you mean "mode"/.exec(lines[0]);
    assert.ok(m, lines[0]);
    assert.equal(readFileSync(join(tmp, 'cm-unknown-field.yaml'), 'utf8').split('\n')[Number(m[1]) - 1], '    Mode: iptables');
  });
});

describe('item 6: nothing in the input is dropped silently', () => {
  it('two -o yaml outputs appended without ---: an error naming file, line and key, exit 2', () => {
    const nodes = readFileSync(join(ROOT, 'examples', 'nodes.yaml'), 'utf8');
    const file = write('appended.yaml', nodes + readFileSync(join(ROOT, 'examples', 'services.yaml'), 'utf8'));
    const r = proxymode(['get', '-f', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `error: ${file}:${nodes.split('\n').length}: the key "apiVersion" appears twice in one mapping, so one of its values would be lost (two outputs appended without a --- line between them?); separate the documents with --- or remove the duplicate.\n`);
  });

  it('JSON with a trailing comma is an error (not read as YAML); a key twice in JSON too', () => {
    const comma = write('comma.json', '{\n  "apiVersion": "v1",\n  "kind": "Node",\n  "metadata": {"name": "a"},\n}\n');
    const r = proxymode(['get', '-f', comma]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^error: ${comma.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: malformed JSON \\(.*\\); fix the file and try again\\.\\n$`));
    const twice = write('twice.json', '{"apiVersion": "v1", "kind": "List", "items": [\n {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a", "name": "b"}}]}\n');
    const t = proxymode(['get', '-f', twice]);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /twice\.json:2: the key "name" appears twice in one object/);
    // A JSON stream of two objects (two `-o json` outputs one after the other) is read whole.
    const stream = write('stream.json', readFileSync(join(ROOT, 'test', 'kube', 'fixtures', 'kubeadm', 'nodes.json'), 'utf8') + readFileSync(join(ROOT, 'test', 'kube', 'fixtures', 'kubeadm', 'kube-proxy-configmap.json'), 'utf8'));
    const s = proxymode(['get', '-f', stream, '-o', 'json']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).nodes.length, 3);
  });

  const bad = `apiVersion: v1
kind: Service
metadata: {name: bad, namespace: shop}
spec:
  clusterIP: 999.1.1.1
  ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: ports, namespace: shop}
spec:
  clusterIP: 10.96.0.20
  ports:
  - {name: zero, port: 0}
  - {name: big, port: 70000}
  - {name: negative, port: -1}
  - {name: word, port: "eighty"}
  - {name: none}
  - {name: http, port: 80}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ports-1, namespace: shop, labels: {kubernetes.io/service-name: ports}}
addressType: IPv4
endpoints:
- addresses: [not-an-ip]
- addresses: [fd00::1]
- addresses: [10.244.1.50]
ports: [{name: http, port: 8080, protocol: TCP}]
`;

  it('invalid cluster IPs, ports and endpoint addresses: left out as kube-proxy skips them, one warning per object naming the fields', () => {
    const file = write('bad.yaml', bad);
    const r = proxymode(['rules', ...withFiles(ex('kube-proxy-configmap.yaml'), file), '--node', 'worker-1', '-o', 'ipvsadm']);
    assert.equal(r.code, 0, r.stderr);
    const lines = said(r.stderr);
    assert.equal(lines.length, 3, r.stderr);
    assert.equal(lines[0], `Warning: Service shop/bad (${file}:1): spec.clusterIP "999.1.1.1" (not an IP address, so the whole Service: trace and rules will not find it); kube-proxy skips it, so it is left out.`);
    assert.equal(lines[1], `Warning: Service shop/ports (${file}:8): spec.ports[0].port 0 (not 1-65535), spec.ports[1].port 70000 (not 1-65535), spec.ports[2].port -1 (not 1-65535), spec.ports[3].port "eighty" (not 1-65535), spec.ports[4].port missing (not 1-65535); kube-proxy skips these, so they are left out.`);
    assert.equal(lines[2], `Warning: EndpointSlice shop/ports-1 (${file}:21): endpoints[0].addresses[0] "not-an-ip" (not an IP address), endpoints[1].addresses[0] "fd00::1" (IPv6 in an IPv4 slice); kube-proxy skips these, so they are left out.`);
    assert.doesNotMatch(r.stdout, /undefined|not-an-ip|fd00::1|70000|999\.1\.1\.1/);
    assert.match(r.stdout, /^-A -t 10\.96\.0\.20:80 -s rr$/m);
    assert.match(r.stdout, /^-a -t 10\.96\.0\.20:80 -r 10\.244\.1\.50:8080 /m);
  });

  it('trace of the dropped Service: the warning says why before "not found"', () => {
    const file = write('bad-trace.yaml', bad);
    const r = proxymode(['trace', 'svc/bad', '-n', 'shop', ...withFiles(ex('kube-proxy-configmap.yaml'), file), '--node', 'worker-1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^Warning: Service shop\/bad \(.*bad-trace\.yaml:1\): spec\.clusterIP "999\.1\.1\.1"/m);
  });

  it('the same Service twice: said, and the later one is used', () => {
    const web = readFileSync(join(ROOT, 'examples', 'services.yaml'), 'utf8');
    const again = write('again.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  clusterIP: 10.96.99.99\n  ports: [{name: http, port: 80, protocol: TCP}]\n');
    assert.ok(web.includes('name: web'));
    const r = proxymode(['rules', 'shop/web', ...withFiles(ex('kube-proxy-configmap.yaml'), again), '--node', 'worker-1', '-o', 'ipvsadm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^Warning: Service shop/web \\(${again.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1\\) is given twice \\(also at examples/services\\.yaml:\\d+\\); the later one is used, as kubectl apply would leave it\\.$`, 'm'));
    assert.match(r.stdout, /^-A -t 10\.96\.99\.99:80 /m);
  });

  it('an empty file or folder says no objects were found in it', () => {
    const empty = write('empty.yaml', '');
    const r = proxymode(['get', '-f', empty]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `error: ${empty}: no objects were found in it (it is empty); give files holding the objects \`kubectl get -o yaml\` prints.\n`);
    const dir = join(tmp, 'empty-folder');
    mkdirSync(dir);
    const d = proxymode(['get', '-f', dir]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /no objects were found in it \(the folder holds no \.yaml, \.yml or \.json files\)/);
    const mixed = proxymode(['get', '-f', dir, '-f', 'examples/']);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.match(mixed.stderr, /^Warning: .*empty-folder: no objects were found in it/m);
  });
});
