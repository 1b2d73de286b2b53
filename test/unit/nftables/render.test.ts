// Render details beyond upstream's expected texts: the layouts by version, IPv6, the 1.31–1.33 layout's
// own base chains and ClusterIP rule, the transaction text, nodePortAddresses matching everything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { layoutForVersion } from '../../../src/core/nftables/layout.js';
import { plan } from '../../../src/core/nftables/plan.js';
import { dumpLines, transactionText } from '../../../src/core/nftables/serialize.js';
import { loadCase, renderCase, withVariant } from './upstream/harness.js';

describe('layouts by kube-proxy version', () => {
  it('picks 1.36 for 1.36+ and offline, 1.34 for 1.34/1.35, 1.31 for 1.31–1.33', () => {
    assert.equal(layoutForVersion(undefined).id, '1.36');
    assert.equal(layoutForVersion('1.36.1').id, '1.36');
    assert.equal(layoutForVersion('v1.35.0').id, '1.34');
    assert.equal(layoutForVersion('1.34').id, '1.34');
    assert.equal(layoutForVersion('1.33.2').id, '1.31');
    assert.equal(layoutForVersion('1.31').id, '1.31');
    assert.equal(layoutForVersion('v1.29.4').id, '1.29');
  });
  it('says in one sentence when there is no nftables mode, or a layout is not modelled', () => {
    assert.throws(() => layoutForVersion('1.28.4'), /^InputError: kube-proxy 1\.28\.4 has no nftables mode: it arrived \(alpha\) in 1\.29\.$/);
    assert.throws(() => layoutForVersion('1.30'), /not modelled/);
    assert.throws(() => layoutForVersion('1.30.2'), /^InputError: kube-proxy 1\.30\.2's nftables tables \(1\.30\) are not modelled \(which of the 1\.31 changes it already has is not pinned\); the layouts known are 1\.29 and 1\.31 onwards\.$/);
    assert.throws(() => layoutForVersion('latest'), /not a version/);
  });
});

describe('the 1.31–1.33 layout', () => {
  const t = renderCase({ ...loadCase('TestOverallNFTablesRules.yaml'), layout: '1.31' });
  const lines = dumpLines(t);
  it('has filter chains at -110 and the post-DNAT output chain at -90 for the cluster-IP check', () => {
    assert.ok(lines.includes('add chain ip kube-proxy filter-prerouting { type filter hook prerouting priority -110 ; }'));
    assert.ok(lines.includes('add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }'));
    assert.ok(lines.includes('add chain ip kube-proxy filter-output-post-dnat { type filter hook output priority -90 ; }'));
    assert.ok(lines.includes('add rule ip kube-proxy filter-output-post-dnat ct state new jump cluster-ips-check'));
    assert.ok(lines.includes('add rule ip kube-proxy filter-output ct state new jump firewall-check'));
    assert.ok(!lines.some((l) => l.includes('pre-dnat')));
  });
  it('matches the port in the ClusterIP masquerade rule', () => {
    assert.ok(lines.includes('add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade'));
  });
});

describe('IPv6', () => {
  const c = loadCase('TestNodePorts.yaml');
  const t = renderCase(withVariant(c, c.variants!.find((v) => v.name === 'ipv6')));
  const lines = dumpLines(t);
  it('writes an ip6 table with ipv6_addr sets, ip6 matches, bracketed DNAT and dotted endpoint chain names', () => {
    assert.equal(lines[0], 'add table ip6 kube-proxy { comment "rules for kube-proxy" ; }');
    assert.ok(lines.includes('add set ip6 kube-proxy cluster-ips { type ipv6_addr ; comment "Active ClusterIPs" ; }'));
    assert.ok(lines.includes('add element ip6 kube-proxy nodeport-ips { 2001:db8::1 }'));
    assert.ok(lines.includes('add rule ip6 kube-proxy services ip6 daddr . meta l4proto . th dport vmap @service-ips'));
    assert.ok(lines.some((l) => /^add rule ip6 kube-proxy service-\S+ ip6 daddr fd00:172:30::41 ip6 saddr != fd00:10::\/64 jump mark-for-masquerade$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^add rule ip6 kube-proxy endpoint-\S+__fd00\.10\.180\.\.1\/80 meta l4proto tcp dnat to \[fd00:10:180::1\]:80$/.test(l)));
  });
});

describe('transaction text', () => {
  it('transactionText is the full plan’s text', () => {
    for (const file of ['TestOverallNFTablesRules.yaml', 'TestOverallNFTablesRules.1.36.yaml', 'TestBadIPs.yaml']) {
      const t = renderCase(loadCase(file));
      assert.equal(transactionText(t), plan(undefined, t).text());
    }
  });
  it('a full sync adds and flushes every chain and fixed set before filling them; affinity sets are never flushed', () => {
    const text = transactionText(renderCase(loadCase('TestOverallNFTablesRules.yaml')));
    const lines = text.split('\n');
    const firstRule = lines.findIndex((l) => l.startsWith('add rule'));
    assert.ok(lines.slice(0, firstRule).includes('flush map ip kube-proxy service-ips'));
    assert.ok(!lines.some((l) => /^flush set .*affinity-/.test(l)));
    assert.ok(lines.slice(firstRule).every((l) => l === '' || l.startsWith('add rule') || l.startsWith('add element')));
  });
  it('nodePortAddresses matching every address: no nodeport-ips set (added then deleted), fib daddr type local', () => {
    const c = loadCase('TestNodePorts.yaml');
    const t = renderCase({ ...withVariant(c, c.variants![0]), config: { nodePortAddresses: ['0.0.0.0/0'] } });
    assert.ok(!t.sets.some((s) => s.name === 'nodeport-ips'));
    const text = transactionText(t);
    assert.match(text, /add set ip kube-proxy nodeport-ips \{[^\n]*\}\ndelete set ip kube-proxy nodeport-ips\n/);
    assert.match(text, /add rule ip kube-proxy services fib daddr type local ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @service-nodeports\n/);
    assert.match(text, /add rule ip kube-proxy nodeport-endpoints-check ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @no-endpoint-nodeports\n/);
  });
});

describe('set elements', () => {
  it('a ClusterIP serving several ports is one cluster-ips element (nftElementStorage keeps one per key)', () => {
    const t = renderCase(loadCase('TestClusterIPGeneral.yaml'));
    const ips = t.sets.find((s) => s.name === 'cluster-ips')!.elements.map((e) => e.key[0]);
    assert.deepEqual(ips, ['172.30.0.41', '172.30.0.42']);
  });
});
