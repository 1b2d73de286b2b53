// `kubectl proxymode trace` on examples/ and on saved dumps: the human path, -o json exactly as
// shared/spec/cli.md documents it, --from, --port, --rules, and the exit codes (0 forwarded/accepted,
// 1 rejected/dropped/not-matched, 2 bad input, 3 cluster unreachable).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { proxymode } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-trace-'));
const BASE = ['-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1'];
const FLANNEL = 'test/unit/iptables/dumps/flannel-kubeadm-1.29.txt';

function json(args: string[]) {
  const r = proxymode(['trace', ...args, '-o', 'json']);
  return { ...r, data: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe('trace on examples/', () => {
  it('human: the hops as an indented path, endpoints with pod names and shares, masquerade, verdict', () => {
    const r = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Trace: TCP from 10\.244\.1\.254 \(a pod on worker-1\) to shop\/web:http \(10\.103\.81\.20:80\/TCP\)$/m);
    assert.match(r.stdout, /^Node: worker-1 · mode iptables · rules rendered from files examples\/$/m);
    assert.match(r.stdout, /^  nat PREROUTING: "kubernetes service portals" → jump KUBE-SERVICES$/m);
    assert.match(r.stdout, /^    nat KUBE-SERVICES: .*-d 10\.103\.81\.20 --dport 80 "shop\/web:http cluster IP" → jump KUBE-SVC-\S+$/m);
    assert.match(r.stdout, /^        nat KUBE-SEP-\S+: .* → DNAT to 10\.244\.1\.7:8080 \(33\.3%\)$/m);
    assert.match(r.stdout, /^POD\s+ENDPOINT\s+PROBABILITY$/m);
    assert.match(r.stdout, /^shop\/web-\S+\s+10\.244\.1\.7:8080\s+33\.3%$/m);
    assert.match(r.stdout, /^Masquerade: no \(/m);
    assert.match(r.stdout, /^Verdict: forwarded to 3 endpoints$/m);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when piped');
  });

  it('-o json: exactly the documented object', () => {
    const r = json(['shop/web', ...BASE]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(r.data), ['target', 'mode', 'from', 'verdict', 'endpoints', 'masquerade', 'hops']);
    assert.equal(r.data.target, 'shop/web:http (10.103.81.20:80/TCP)');
    assert.equal(r.data.mode, 'iptables');
    assert.equal(r.data.verdict, 'forwarded');
    assert.equal(r.data.masquerade, false);
    assert.deepEqual(r.data.endpoints.map((e: { ip: string; port: number }) => `${e.ip}:${e.port}`).sort(), ['10.244.0.5:8080', '10.244.1.7:8080', '10.244.2.4:8080']);
    const total = r.data.endpoints.reduce((a: number, e: { probability: number }) => a + e.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
    for (const e of r.data.endpoints) assert.deepEqual(Object.keys(e), ['ip', 'port', 'probability']);
    for (const h of r.data.hops) assert.deepEqual(Object.keys(h), ['table', 'chain', 'rule', 'action', 'because']);
    const { because, ...first } = r.data.hops[0];
    assert.deepEqual(first, { table: 'nat', chain: 'PREROUTING', rule: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES', action: 'jump KUBE-SERVICES' });
    // --mode overrides the ConfigMap's ipvs: the flag is the reason
    assert.deepEqual(because.map((b: { field: string; value: string }) => `${b.field}=${b.value}`), ['--mode=iptables']);
    assert.equal(r.stderr, '');
  });

  it('--from external: masqueraded; --from pod/NAME resolves through EndpointSlices', () => {
    const ext = json(['shop/web', ...BASE, '--from', 'external']);
    assert.equal(ext.data.masquerade, true);
    assert.match(ext.data.from, /^203\.0\.113\.10 \(outside the cluster\)$/);
    const pod = json(['shop/web', ...BASE, '--from', 'pod/web-5d9c8b7f4-vq6zt']);
    assert.equal(pod.code, 0, pod.stderr);
    assert.equal(pod.data.from, '10.244.2.4 (pod shop/web-5d9c8b7f4-vq6zt on worker-2)');
    const bad = proxymode(['trace', 'shop/web', ...BASE, '--from', 'pod/web-5d9c8b7f4-vq6zx']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /pod "web-5d9c8b7f4-vq6zx" is not an endpoint of any Service .*did you mean web-5d9c8b7f4-vq6zt/);
  });

  it('a service without endpoints: rejected, exit 1', () => {
    const r = json(['shop/recommendations', ...BASE]);
    assert.equal(r.code, 1);
    assert.equal(r.data.verdict, 'rejected');
    assert.deepEqual(r.data.endpoints, []);
    assert.deepEqual([r.data.hops.at(-1).table, r.data.hops.at(-1).chain, r.data.hops.at(-1).action], ['filter', 'KUBE-SERVICES', 'REJECT']);
  });

  it('ETP Local node port from outside: dropped where no local endpoint (exit 1), forwarded where one is', () => {
    const w1 = json(['192.168.10.21:30080', ...BASE, '--from', 'external']);
    assert.equal(w1.code, 1);
    assert.equal(w1.data.verdict, 'dropped');
    assert.match(w1.data.target, /^shop\/admin:http|^192\.168\.10\.21:30080\/TCP$/);
    const w2 = json(['192.168.10.22:30080', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-2', '--from', 'external']);
    assert.equal(w2.code, 0, w2.stderr);
    assert.deepEqual(w2.data.endpoints, [{ ip: '10.244.2.27', port: 8080, probability: 1 }]);
    assert.equal(w2.data.masquerade, false);
  });

  it('affinity is said in the human view', () => {
    const r = proxymode(['trace', 'shop/cart', ...BASE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Affinity: sticky: .* for 3600s/m);
  });

  it('a port nobody serves: not-matched, exit 1', () => {
    const r = json(['10.103.81.20:81', ...BASE]);
    assert.equal(r.code, 1);
    assert.equal(r.data.verdict, 'not-matched');
  });

  it('several ports: --port is required and the ports are listed; a name or a number picks one', () => {
    const r = proxymode(['trace', 'kube-system/kube-dns', ...BASE]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: service kube-system\/kube-dns has several ports \(dns 53\/UDP, dns-tcp 53\/TCP, metrics 9153\/TCP\); pick one with --port/);
    const byName = json(['kube-system/kube-dns', ...BASE, '--port', 'dns']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.data.target, 'kube-system/kube-dns:dns (10.96.0.10:53/UDP)');
    const byNumber = json(['kube-system/kube-dns', ...BASE, '--port', '9153']);
    assert.equal(byNumber.data.target, 'kube-system/kube-dns:metrics (10.96.0.10:9153/TCP)');
    const none = proxymode(['trace', 'kube-system/kube-dns', ...BASE, '--port', 'http']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no port "http"; its ports are dns 53\/UDP, dns-tcp 53\/TCP, metrics 9153\/TCP\./);
  });

  it('an unknown service names the namespace searched and close names (exit 2)', () => {
    const r = proxymode(['trace', 'svc/webb', '-n', 'shop', ...BASE]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: service "webb" not found in namespace shop (searched files examples/); did you mean web?\n');
    const d = proxymode(['trace', 'svc/web', ...BASE]);
    assert.match(d.stderr, /service "web" not found in namespace default .*it exists as shop\/web/);
  });

  it('mode ipvs (the examples\' configured mode) is traced (test/cli/trace-ipvs.test.ts); nftables too; kernelspace (Windows) is not (exit 2)', () => {
    const r = proxymode(['trace', 'shop/web', '-f', 'examples/', '--node', 'worker-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /· mode ipvs ·/);
    const nft = proxymode(['trace', 'shop/web', '-f', 'examples/', '--node', 'worker-1', '--mode', 'nftables']);
    assert.equal(nft.code, 0, nft.stderr);
    assert.match(nft.stdout, /· mode nftables ·/);
    assert.match(nft.stdout, /numgen random mod 3 map \{/);
    const n = proxymode(['trace', 'shop/web', '-f', 'examples/', '--mode', 'kernelspace']);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /tracing for mode kernelspace is not implemented yet/);
  });
});

describe('trace --rules DUMP (no cluster)', () => {
  it('traces a ClusterIP from a genuine flannel kubeadm dump by address and by service name', () => {
    const r = json(['10.108.64.11:8080', '--rules', FLANNEL, '--from', '10.244.0.9']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.data.target, 'default/service1:fileserver (10.108.64.11:8080/TCP)');
    assert.deepEqual(r.data.endpoints.map((e: { ip: string }) => e.ip).sort(), ['10.244.1.4', '10.244.1.5', '10.244.1.6']);
    const byName = json(['default/service1', '--rules', FLANNEL, '--port', 'downloader']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.data.target, 'default/service1:downloader (10.108.64.11:3000/TCP)');
    // no pod CIDR known: the default source is a pod address taken from the rules' cluster CIDR
    assert.match(byName.data.from, /^10\.244\.255\.254 \(a pod on .*cluster CIDR 10\.244\.0\.0\/16\)$/);
  });

  it('ipvsadm and nft dumps are traced; text no mode reads is refused (exit 2)', () => {
    const ipvs = join(tmp, 'ipvs.txt');
    writeFileSync(ipvs, '-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 192.168.0.2:6443 -m -w 1\n');
    const nft = join(tmp, 'nft.txt');
    writeFileSync(nft, 'table ip kube-proxy {\n}\n');
    const junk = join(tmp, 'junk.txt');
    writeFileSync(junk, 'hello\n');
    const a = proxymode(['trace', '10.96.0.1:443', '--rules', ipvs]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /ipvs 10\.96\.0\.1:443\/TCP: scheduler rr → to 192\.168\.0\.2:6443 \(100%\)/);
    const b = proxymode(['trace', '10.96.0.1:443', '--rules', nft]);
    assert.equal(b.code, 1, b.stderr);
    assert.match(b.stdout, /· mode nftables ·/);
    const c = proxymode(['trace', '10.96.0.1:443', '--rules', junk]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /holds no rules dump this tool reads; save the node's rules with one of: nft list ruleset, nft -j list ruleset, ipvsadm -Sn, ipvsadm -Ln, ipset save, ipset list, iptables-save/);
  });
});

describe('trace against a cluster', () => {
  it('an unreachable cluster exits 3', () => {
    const kc = join(tmp, 'kubeconfig-closed');
    writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:9\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t0ken\ncontexts:\n- name: test\n  context:\n    cluster: c\n    user: u\ncurrent-context: test\n',
    );
    const r = proxymode(['trace', 'shop/web', '--kubeconfig', kc, '--mode', 'iptables']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: cannot reach the cluster/);
  });
});
