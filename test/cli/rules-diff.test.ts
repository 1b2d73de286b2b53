// `rules --diff` on a real node's dump (test/unit/iptables/dumps/flannel-kubeadm-1.29.txt) with the objects
// reconstructed for it: in sync at the node's version, the version and the host's iptables on the header
// line, the assumed version said once on stderr, and a base rule taken out named with its traffic.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveExec } from './fake-exec.js';
import { proxymode, proxymodeAsync, ROOT } from './run.js';

const DUMPS = 'test/unit/iptables/dumps';
const DUMP = join(DUMPS, 'flannel-kubeadm-1.29.txt');
const BASE = ['rules', '-f', join(DUMPS, 'flannel-kubeadm-1.29.objects'), '--mode', 'iptables', '--node', 'master'];
const tmp = mkdtempSync(join(tmpdir(), 'proxymode-rules-diff-'));

describe('rules --diff on a real node', () => {
  it('in sync at its version; the header names the version and the host iptables', () => {
    const r = proxymode([...BASE, '--rules', DUMP, '--diff', '--kube-proxy-version', '1.29']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Source: .* · kube-proxy 1\.29 · iptables 1\.8\.4 \(legacy\): --random-fully, no nfacct$/m);
    assert.match(r.stdout, /^In sync/m);
    assert.doesNotMatch(r.stdout, /^@@ /m);
    assert.equal(r.stderr, '');
  });

  it('without --kube-proxy-version: the newest is assumed, on the header; on stderr once when there is drift', () => {
    const r = proxymode([...BASE, '--rules', DUMP, '--diff']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /· kube-proxy 1\.35 \(newest known, assumed\) ·/);
    assert.equal(r.stderr, '');
    const dump = join(tmp, 'no-invalid-drop.txt');
    writeFileSync(dump, readFileSync(DUMP, 'utf8').replace(/^-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n/m, ''));
    const drifted = proxymode([...BASE, '--rules', dump, '--diff']);
    assert.equal(drifted.code, 1, drifted.stdout + drifted.stderr);
    assert.match(drifted.stdout, /\(IPv4\): invalid packets are not dropped/);
    assert.equal(drifted.stderr.trim().split('\n').length, 1, drifted.stderr);
    assert.match(drifted.stderr, /^Warning: no --kube-proxy-version: compared dump .*no-invalid-drop\.txt with the rules of kube-proxy 1\.35, the newest known; pass the node's version if it is older\.$/m);
  });

  it('a base rule taken out: exit 1, the drift line names the traffic and the family', () => {
    const text = readFileSync(DUMP, 'utf8').replace(/^-A KUBE-POSTROUTING .*-j MASQUERADE --random-fully\n/m, '');
    const dump = join(tmp, 'no-masquerade.txt');
    writeFileSync(dump, text);
    const r = proxymode([...BASE, '--rules', dump, '--diff', '--kube-proxy-version', '1.29']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^-\s+missing object\s+no `.*-j MASQUERADE --random-fully` in nat\/KUBE-POSTROUTING \(IPv4\): no traffic is SNATed\s+\S.*mode=iptables\b.*$/m);
    const json = proxymode([...BASE, '--rules', dump, '--diff', '--kube-proxy-version', '1.29', '-o', 'json']);
    const out = JSON.parse(json.stdout) as { inSync: boolean; drift: Array<{ family: string; servicePort: string; object?: string }> };
    assert.equal(out.inSync, false);
    assert.deepEqual(out.drift.map((d) => [d.family, d.servicePort, d.object]), [['IPv4', '', 'rule nat/KUBE-POSTROUTING']]);
  });

  it('an IPv4-only node shows its IPv6 proxier with no service rules', () => {
    const r = proxymode(BASE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^IPv6\n\nNo service rules\.$/m);
    const restore = proxymode([...BASE, '-o', 'restore', '--kube-proxy-version', '1.29']).stdout;
    assert.match(restore, /^# ip6tables-restore input\n\*filter\n/m);
    assert.match(restore.split('# ip6tables-restore input')[1]!, /^-A KUBE-SERVICES .* ! -d ::1\/128 -j KUBE-NODEPORTS$/m);
  });
});

describe('--iptables-version: the host capability override', () => {
  it('an iptables older than 1.6.2: no --random-fully expected, on the header; the dump\'s MASQUERADE --random-fully is drift', () => {
    const r = proxymode([...BASE, '--rules', DUMP, '--diff', '--kube-proxy-version', '1.29', '--iptables-version', 'iptables v1.4.21']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^Source: .* · kube-proxy 1\.29 · iptables 1\.4\.21: no --random-fully$/m);
    assert.match(r.stdout, /has `-j MASQUERADE --random-fully`, expected `-j MASQUERADE` \(IPv4\)/);
    const same = proxymode([...BASE, '--rules', DUMP, '--diff', '--kube-proxy-version', '1.29', '--iptables-version', '1.8.4-legacy,no-nfacct']);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /· iptables 1\.8\.4 \(legacy\): --random-fully, no nfacct$/m);
  });

  it('not a version: one sentence, exit 2', () => {
    const r = proxymode([...BASE, '--rules', DUMP, '--diff', '--iptables-version', 'latest']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: --iptables-version "latest" is not an iptables version: .*\.\n$/);
  });

  it('a dump without an iptables-save header takes its `iptables --version` line', () => {
    const text = `iptables v1.6.1\n${readFileSync(DUMP, 'utf8').replace(/^# Generated by .*\n/gm, '').replaceAll(' -j MASQUERADE --random-fully', ' -j MASQUERADE')}`;
    const dump = join(tmp, 'version-line.txt');
    writeFileSync(dump, text);
    const r = proxymode([...BASE, '--rules', dump, '--diff', '--kube-proxy-version', '1.29']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /· iptables 1\.6\.1: no --random-fully/);
  });
});

// A node's kube-proxy version and iptables, read live: the kind fixtures' API server (test/cli/cluster.test.ts's
// shapes), whose kube-proxy pod on kind-worker runs registry.k8s.io/kube-proxy:v1.31.4; pods/exec answers
// `iptables --version` with a version line and anything else with the node's rules.
describe('rules --diff on a live node: the running versions', () => {
  const FIX = join(ROOT, 'test', 'kube', 'fixtures');
  const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');
  const seen: string[] = [];
  let liveDump = '';
  let image = 'v1.31.4';
  let server: Server;
  let kubeconfig: string;
  const answer = (path: string): [number, string] => {
    if (path.startsWith('/api/v1/nodes?')) return [200, fixture('kind/nodes.json')];
    if (path.startsWith('/api/v1/services?')) return [200, fixture('kind/services.json')];
    if (path.startsWith('/apis/discovery.k8s.io/v1/endpointslices?')) return [200, fixture('kind/endpointslices.json')];
    if (path.startsWith('/api/v1/namespaces/kube-system/pods?') && path.includes('spec.nodeName%3Dkind-worker')) return [200, fixture('kubeadm/kube-proxy-pods.json').replaceAll('kube-proxy:v1.31.4', `kube-proxy:${image}`)];
    const cm = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^?]+)$/.exec(path);
    if (cm) {
      const item = JSON.parse(fixture('kind/kube-system-configmaps.json')).items.find((i: { metadata: { name: string } }) => i.metadata.name === cm[1]);
      if (item) return [200, JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', ...item })];
    }
    return [404, fixture('errors/404-page-not-found.txt')];
  };
  /** The command of the exec being answered (the last upgrade seen: the reads run one at a time). */
  const command = () => new URL(seen[seen.length - 1]!.replace(/^UPGRADE /, ''), 'http://x').searchParams.getAll('command').join(' ');

  before(async () => {
    server = createServer((req, res) => {
      const [code, body] = answer(req.url ?? '');
      res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' }).end(body);
    });
    serveExec(server, { stdout: () => (command() === 'iptables --version' ? 'iptables v1.8.7 (legacy)\n' : liveDump), forbidden: () => false, seen });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(tmp, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kind\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: t}\ncontexts:\n- name: kind-kind\n  context: {cluster: kind, user: admin}\ncurrent-context: kind-kind\n`);
    const rendered = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '-o', 'restore', '--ip-family', 'IPv4']);
    assert.equal(rendered.code, 0, rendered.stderr);
    liveDump = rendered.stdout; // restore input: no iptables-save header, so the host is what `iptables --version` says
  });
  after(() => server.close());

  it('renders for the pod\'s kube-proxy (its image tag) and the pod\'s iptables, both on the header', async () => {
    seen.length = 0;
    const r = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--diff']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /· kube-proxy 1\.31 \(node's, from its image tag\) · iptables 1\.8\.7 \(legacy\): --random-fully$/m);
    assert.ok(seen.some((u) => u.includes('/pods/kube-proxy-9mz2k/exec?') && u.includes('command=iptables&command=--version')), seen.join('\n'));
    assert.doesNotMatch(r.stderr, /newest known/);
  });

  it('--kube-proxy-version and --iptables-version win over what the node says', async () => {
    const r = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--diff', '--kube-proxy-version', '1.30', '--iptables-version', '1.6.0']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /· kube-proxy 1\.30 · iptables 1\.6\.0: no --random-fully$/m);
    assert.match(r.stdout, /SNAT|MASQUERADE/);
  });

  it('a running kube-proxy older than the modelled releases: said once on stderr, the newest compared instead', async () => {
    image = 'v1.24.17';
    try {
      const r = await proxymodeAsync(['rules', '--kubeconfig', kubeconfig, '--node', 'kind-worker', '--diff']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stderr, /^Warning: node kind-worker \(pod kube-system\/kube-proxy-9mz2k\) runs kube-proxy v1\.24\.17: .*not modelled.*; comparing with the newest known instead\.$/m);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stdout, /· kube-proxy 1\.35 \(newest known, assumed\) ·/);
    } finally {
      image = 'v1.31.4';
    }
  });
});

describe('rules --diff, ipvs: node-wide drift through the command', () => {
  const IPVS = ['rules', '-f', 'examples', '--mode', 'ipvs', '--node', 'worker-1', '--ip-family', 'IPv4', '--kube-proxy-version', '1.29'];
  const IPVS_DUMP = join('test', 'unit', 'ipvs', 'dumps', 'worker-1-1.29.txt');

  it('an ipvs node dump in sync; a KUBE-CLUSTER-IP member taken out names the ClusterIP and the family', () => {
    const r = proxymode([...IPVS, '--rules', IPVS_DUMP, '--diff']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /· kube-proxy 1\.29 · iptables 1\.8\.9 \(nft\): --random-fully$/m);
    assert.match(r.stdout, /^In sync/m);
    const dump = join(tmp, 'ipvs-no-member.txt');
    writeFileSync(dump, readFileSync(IPVS_DUMP, 'utf8').replace('add KUBE-CLUSTER-IP 10.96.0.10,udp:53\n', ''));
    const d = proxymode([...IPVS, '--rules', dump, '--diff']);
    assert.equal(d.code, 1, d.stdout + d.stderr);
    assert.match(d.stdout, /missing set member\s+ipset KUBE-CLUSTER-IP lacks 10\.96\.0\.10,udp:53 \(IPv4\): ClusterIP 10\.96\.0\.10:53\/UDP is not masqueraded from outside the cluster/);
    // the expected side comes from that very port and protocol of the Service, not the first port of its address
    assert.match(d.stdout, /lacks 10\.96\.0\.10,udp:53 .* Service kube-system\/kube-dns spec\.clusterIP=10\.96\.0\.10:53\/UDP$/m);
  });
});
