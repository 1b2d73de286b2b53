// `kubectl proxymode trace` in ipvs mode: examples/ (whose kube-proxy config is mode ipvs, scheduler rr) with
// no --mode, a --config file switching the scheduler to sh, and a saved dump (`rules -o ipvsadm` then the
// companion `rules -o restore`, as `ipvsadm -Sn; ipset save; iptables-save` on a node) with no cluster.
// Human and -o json output, exit codes (0 forwarded, 1 rejected/not-matched, 2 bad input).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { proxymode } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-trace-ipvs-'));
const BASE = ['-f', 'examples/', '--node', 'worker-1'];
const SH = join(tmp, 'sh.yaml');
writeFileSync(SH, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: sh\n');

function json(args: string[]) {
  const r = proxymode(['trace', ...args, '-o', 'json']);
  return { ...r, data: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe('trace in ipvs mode on examples/ (the configured mode)', () => {
  it('human: iptables hops, then the IPVS hop, endpoints with pod names and shares, verdict (exit 0)', () => {
    const r = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Node: worker-1 · mode ipvs · rules rendered from files examples\/$/m);
    assert.match(r.stdout, /^  nat PREROUTING: "kubernetes service portals" → jump KUBE-SERVICES$/m);
    assert.match(r.stdout, /^    nat KUBE-SERVICES: -m set --match-set KUBE-CLUSTER-IP dst,dst → ACCEPT$/m);
    assert.match(r.stdout, /^  routing: 10\.103\.81\.20 is bound to kube-ipvs0 \(a local address\) → local delivery: filter INPUT$/m);
    assert.match(r.stdout, /^  ipvs 10\.103\.81\.20:80\/TCP: scheduler rr → to 10\.244\.0\.5:8080 \(33\.3%\), 10\.244\.1\.7:8080 \(33\.3%\), 10\.244\.2\.4:8080 \(33\.3%\) — round robin/m);
    assert.match(r.stdout, /^shop\/web-\S+\s+10\.244\.1\.7:8080\s+33\.3%$/m);
    assert.match(r.stdout, /^Masquerade: no \(/m);
    assert.match(r.stdout, /^Verdict: forwarded to 3 endpoints$/m);
    assert.doesNotMatch(r.stdout, /Not exact/);
  });

  it('-o json: the documented object, the ipvs hop as {table: ipvs, chain: VIP:PORT/PROTO}', () => {
    const r = json(['shop/web', ...BASE, '--mode', 'ipvs']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(r.data), ['target', 'mode', 'from', 'verdict', 'endpoints', 'masquerade', 'hops']);
    assert.equal(r.data.mode, 'ipvs');
    assert.equal(r.data.verdict, 'forwarded');
    const total = r.data.endpoints.reduce((a: number, e: { probability: number }) => a + e.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
    const hop = r.data.hops.find((h: { table: string }) => h.table === 'ipvs');
    assert.deepEqual(Object.keys(hop), ['table', 'chain', 'rule', 'action', 'because']);
    assert.equal(hop.chain, '10.103.81.20:80/TCP');
    assert.equal(hop.rule, 'scheduler rr');
  });

  it('--config with scheduler sh: one exact endpoint per --from address', () => {
    const a = json(['svc/web', '-n', 'shop', ...BASE, '--config', SH, '--from', '10.244.2.9']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.data.endpoints, [{ ip: '10.244.2.4', port: 8080, probability: 1 }]);
    const hop = a.data.hops.find((h: { table: string }) => h.table === 'ipvs');
    assert.equal(hop.rule, 'scheduler sh');
    assert.match(hop.action, /^to 10\.244\.2\.4:8080 \(100%\) — deterministic: source hashing hashes the source 10\.244\.2\.9 to bucket 194 of 256/);
    const b = json(['svc/web', '-n', 'shop', ...BASE, '--config', SH, '--from', '10.244.2.10']);
    assert.deepEqual(b.data.endpoints, [{ ip: '10.244.0.5', port: 8080, probability: 1 }]);
    const h = proxymode(['trace', 'svc/web', '-n', 'shop', ...BASE, '--config', SH, '--from', '10.244.2.9']);
    assert.match(h.stdout, /^Not exact: ipvs 10\.103\.81\.20:80\/TCP: source hashing is exact for the order of the real servers/m);
  });

  it('ClientIP affinity: persistent, sticky for the timeout', () => {
    const r = proxymode(['trace', 'svc/cart', '-n', 'shop', ...BASE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ipvs 10\.105\.63\.211:80\/TCP: scheduler rr, persistent 3600 → /);
    assert.match(r.stdout, /^Affinity: sticky: .* for 3600s \(list ipvs persistence of 10\.105\.63\.211:80\/TCP\)$/m);
  });

  it('no endpoints: IPVS refuses with ICMP port unreachable (rejected, exit 1); an unknown address is not matched (exit 1)', () => {
    const r = json(['svc/recommendations', '-n', 'shop', ...BASE]);
    assert.equal(r.code, 1);
    assert.equal(r.data.verdict, 'rejected');
    assert.deepEqual(r.data.endpoints, []);
    assert.match(r.data.hops.at(-1).action, /^REJECT: no real servers; IPVS answers ICMP port unreachable/);
    const n = json(['10.1.2.3:80', ...BASE]);
    assert.equal(n.code, 1);
    assert.equal(n.data.verdict, 'not-matched');
  });

  it('NodePort from outside: KUBE-NODE-PORT-TCP marks it, KUBE-POSTROUTING masquerades', () => {
    const r = json(['192.168.10.21:30443', ...BASE, '--from', 'external']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.data.masquerade, true);
    assert.ok(r.data.hops.some((h: { rule: string; action: string }) => /KUBE-NODE-PORT-TCP dst/.test(h.rule) && h.action === 'jump KUBE-MARK-MASQ'));
    assert.equal(r.data.hops.find((h: { table: string }) => h.table === 'ipvs').chain, '192.168.10.21:30443/TCP');
  });
});

describe('trace --rules: an ipvs dump (ipvsadm -Sn + ipset save + iptables rules), no cluster', () => {
  const dump = join(tmp, 'worker-1.ipvs');
  const ipvsadm = proxymode(['rules', ...BASE, '-o', 'ipvsadm']);
  const restore = proxymode(['rules', ...BASE, '-o', 'restore']);
  writeFileSync(dump, `${ipvsadm.stdout}\n${restore.stdout}`);

  it('traces a virtual server by address; the kind is detected (no --mode)', () => {
    assert.equal(ipvsadm.code, 0, ipvsadm.stderr);
    const r = json(['10.103.81.20:80', '--rules', dump, '--from', '192.168.10.99']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.data.mode, 'ipvs');
    assert.deepEqual(r.data.endpoints.map((e: { ip: string }) => e.ip).sort(), ['10.244.0.5', '10.244.1.7', '10.244.2.4']);
    assert.equal(r.data.masquerade, true, 'from outside the cluster CIDR: KUBE-CLUSTER-IP masquerade rule');
    const h = proxymode(['trace', '10.103.81.20:80', '--rules', dump]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^Node: <unnamed> · mode ipvs · rules dump .*worker-1\.ipvs$/m);
    // the companion restore text has no built-in chains: kube-proxy's jumps are assumed, and said so
    assert.match(h.stdout, /^Not exact: the iptables part has no built-in chains/m);
  });

  it('exit codes: no endpoints 1; --mode that does not match the dump 2; a service name with no objects 2', () => {
    const r = proxymode(['trace', '10.110.4.133:80', '--rules', dump]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Verdict: rejected/m);
    const m = proxymode(['trace', '10.110.4.133:80', '--rules', dump, '--mode', 'iptables']);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--mode iptables does not match .*, which holds ipvs mode's rules; leave --mode out\./);
    const n = proxymode(['trace', 'shop/web', '--rules', dump]);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /names no Services \(ipvs mode's dumps carry no Service names\); trace the address as IP:PORT/);
  });

  it('lc from a live `ipvsadm -Ln` listing: the counts decide', () => {
    const ln = join(tmp, 'ln.txt');
    writeFileSync(ln, ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn', 'TCP  10.96.0.50:80 lc', '  -> 10.244.1.5:8080               Masq    1      7          0', '  -> 10.244.2.6:8080               Masq    1      2          3', ''].join('\n'));
    const r = json(['10.96.0.50:80', '--rules', ln]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.data.endpoints, [{ ip: '10.244.2.6', port: 8080, probability: 1 }]);
  });
});
