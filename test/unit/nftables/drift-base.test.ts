// nftables node-wide drift on a real listing: fixtures/overall.nft.txt is what nft 1.0.6 listed after the
// full-sync transaction of upstream's TestOverallNFTablesRules ran in a network namespace (1.34 layout).
// In sync with its rendering; each fixed chain's rule, base chain hook/priority, set and map member taken
// out or changed is drift naming the traffic it affects and the family; the 1.33/1.34 layout boundary
// (filter chains' priorities, kubernetes#132456) shows as hook/priority drift against the other layout.
import { describe, it } from 'node:test';
import { only } from '../modes/drift-helpers.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeProxyTable, NFT_TEXT } from '../../../src/core/nftables/dumps.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import type { Dump, Drift } from '../../../src/core/modes/types.js';
import { loadCase, renderCase } from './upstream/harness.js';

const LISTING = readFileSync(join(import.meta.dirname, 'fixtures', 'overall.nft.txt'), 'utf8');
const RENDERED = renderCase(loadCase('TestOverallNFTablesRules.yaml'));

function listed(text: string) {
  const lines = text.split('\n');
  const sections: Dump['sections'] = [];
  lines.forEach((l, i) => {
    if (NFT_TEXT.startsSection(l, lines[i + 1]) === 'header') sections.push({ kind: 'nft', text: '', line: i + 1 });
    if (sections.length) sections[sections.length - 1]!.text += l + '\n';
  });
  return kubeProxyTable({ source: 'fixture', sections }, 'IPv4');
}

function driftOf(text: string, expected = RENDERED): Drift[] {
  return nftablesMode.drift(expected, listed(text));
}

function changed(from: string | RegExp, to: string): string {
  assert.ok(typeof from === 'string' ? LISTING.includes(from) : from.test(LISTING), `the listing has ${from}`);
  return LISTING.replace(from, to);
}

/** The set-member drift (a service's own summary may also say it lost an entry). */
function members(drift: Drift[]): Drift[] {
  return drift.filter((d) => d.kind === 'missing set member' || d.kind === 'extra set member');
}

describe('nftables: fixed chains, base chains, sets and maps', () => {
  it('the listing is in sync with its rendering', () => {
    assert.deepEqual(driftOf(LISTING), []);
  });

  it('masquerading without its masquerade: no traffic is SNATed', () => {
    const d = only(driftOf(changed('\t\tmasquerade fully-random\n', '')));
    assert.equal(d.kind, 'missing object');
    assert.equal(d.object, 'rule masquerading');
    assert.match(d.detail, /^no `masquerade fully-random` in masquerading \(IPv4\): no traffic is SNATed$/);
  });

  it('nat-prerouting without its jump to services: no service is reachable from pods or outside', () => {
    const text = changed(/(chain nat-prerouting \{\n[^\n]*\n)\t\tjump services\n/, '$1');
    const d = only(driftOf(text));
    assert.match(d.detail, /in nat-prerouting \(IPv4\): no service is reachable from pods or from outside the node$/);
  });

  it('filter-input without its nodeport-endpoints-check jump: NodePorts without endpoints are not rejected', () => {
    const d = only(driftOf(changed('\t\tct state new jump nodeport-endpoints-check\n', '')));
    assert.match(d.detail, /in filter-input \(IPv4\): NodePorts without endpoints are not rejected/);
  });

  it('mark-for-masquerade setting another bit: the missing rule and the stray one, each named', () => {
    const d = driftOf(changed('meta mark set meta mark | 0x00004000', 'meta mark set meta mark | 0x00008000'));
    assert.deepEqual(d.map((x) => x.kind), ['missing object', 'stale object']);
    assert.match(d[0]!.detail, /\(IPv4\): no traffic is marked for SNAT, so none is SNATed$/);
    assert.match(d[1]!.detail, /\(IPv4\): it marks traffic kube-proxy does not mark$/);
  });

  it('a base chain at another priority: its checks see packets on the other side of DNAT', () => {
    const d = only(driftOf(changed('type filter hook forward priority filter; policy accept;', 'type filter hook forward priority -110; policy accept;')));
    assert.equal(d.object, 'chain filter-forward');
    assert.match(d.detail, /^chain filter-forward is filter hook forward priority -110, kube-proxy makes it filter hook forward priority 0: its checks see packets before DNAT instead of after, .* \(IPv4\)$/);
  });

  it('a cluster-ips member missing: its unused ports are dropped, not rejected', () => {
    const d = only(members(driftOf(changed('172.30.0.41, 172.30.0.42,', '172.30.0.42,'))));
    assert.equal(d.kind, 'missing set member');
    assert.match(d.detail, /^cluster-ips 172\.30\.0\.41 \(IPv4\): ClusterIP 172\.30\.0\.41: connections to its ports no service uses are dropped as unallocated, not rejected$/);
  });

  it('a service-nodeports element missing: that NodePort is unreachable', () => {
    const all = driftOf(changed('elements = { tcp . 3001 : goto external-42NFTM6N-ns2/svc2/tcp/p80,\n\t\t\t     ', 'elements = { '));
    assert.ok(all.some((x) => x.servicePort === 'ns2/svc2:p80' && x.kind === 'missing entry'));
    const d = only(members(all));
    assert.equal(d.servicePort, 'ns2/svc2:p80');
    assert.match(d.detail, /\(IPv4\): NodePort 3001\/TCP is unreachable$/);
  });

  it('a service-ips element missing: that ClusterIP is unreachable', () => {
    const d = only(members(driftOf(changed('\t\t\t     172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80,\n', ''))));
    assert.match(d.detail, /\(IPv4\): ClusterIP 172\.30\.0\.41:80\/TCP is unreachable \(nothing DNATs it\)$/);
  });

  it('nodeport-ips without the node IP: NodePorts are unreachable on it', () => {
    const d = only(members(driftOf(changed('comment "IPs that accept NodePort traffic"\n\t\telements = { 192.168.0.2 }\n', 'comment "IPs that accept NodePort traffic"\n'))));
    assert.match(d.detail, /^nodeport-ips 192\.168\.0\.2 \(IPv4\): NodePorts are unreachable on 192\.168\.0\.2$/);
  });

  it('no-endpoint-services and firewall-ips members missing', () => {
    const ne = only(members(driftOf(changed('\t\t\t     172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }', ' }').replace('192.168.99.22 . tcp . 80 comment "ns2/svc2:p80" : drop,', '192.168.99.22 . tcp . 80 comment "ns2/svc2:p80" : drop'))));
    assert.equal(ne.servicePort, 'ns6/svc6:p80');
    assert.match(ne.detail, /\(IPv4\): 172\.30\.0\.46:80\/TCP has no endpoints, yet its traffic is not rejected/);
    const fw = only(members(driftOf(changed('elements = { 5.6.7.8 . tcp . 80 : goto firewall-HVFWP5L3-ns5/svc5/tcp/p80 }\n', ''))));
    assert.match(fw.detail, /\(IPv4\): loadBalancerSourceRanges of 5\.6\.7\.8:80\/TCP are not enforced/);
  });

  it('the 1.34 listing against the 1.31–1.33 layout: the filter base chains differ in hook and priority', () => {
    const older = renderCase(loadCase('TestOverallNFTablesRules.1.31.yaml'));
    const d = driftOf(LISTING, older);
    const hooks = d.filter((x) => /kube-proxy makes it/.test(x.detail)).map((x) => x.object);
    assert.deepEqual(hooks.sort(), ['chain filter-forward', 'chain filter-input', 'chain filter-output']);
    assert.ok(d.some((x) => x.object === 'chain filter-prerouting' && x.kind === 'missing object' && /\(IPv4\): the checks it jumps to do not run/.test(x.detail)), d.map((x) => x.detail).join('\n'));
  });
});
