// ipvs node-wide drift: a node's dump (dumps/worker-1-1.29.txt: ipvsadm -Sn, ipset save, iptables-save and
// ip addr of kube-ipvs0, see its .md) against examples/ is in sync at 1.29; each ipset member, set, address,
// companion rule and built-in jump taken out or changed is drift naming the traffic it affects and the
// family; iptables-save's spelling, comments and rule order never count; the 1.28/1.29 boundary
// (KUBE-IPVS-OUT-FILTER) and the host's --random-fully support are honoured.
import { describe, it } from 'node:test';
import { dumpEdits, only } from '../modes/drift-helpers.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ipvsMode } from '../../../src/core/ipvs/mode.js';
import type { IpvsState } from '../../../src/core/ipvs/types.js';
import type { Drift } from '../../../src/core/modes/types.js';
import { dumpStates, readDump } from '../../../src/core/modes/registry.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXAMPLES = join(HERE, '..', '..', '..', 'examples');
const DUMP = readFileSync(join(HERE, 'dumps', 'worker-1-1.29.txt'), 'utf8');

async function driftOf(text: string, opts: { version?: string; iptablesVersion?: string } = {}): Promise<Drift[]> {
  const source = new FileSource([EXAMPLES]);
  const { config } = await loadProxyConfig(source, undefined, { mode: 'ipvs', hostnameOverride: 'worker-1' }, { warn: () => {} });
  const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
  const view = buildProxyView({ services, endpointSlices, nodes }, config, 'examples');
  const live = dumpStates(ipvsMode, readDump(text, 'dump')) as IpvsState[];
  const expected = ipvsMode.render(view, config, { kubeProxyVersion: opts.version ?? '1.29', live, ...(opts.iptablesVersion ? { iptablesVersion: opts.iptablesVersion } : {}) });
  return expected.flatMap((e) => {
    const a = live.find((l) => l.family === e.family);
    return a ? ipvsMode.drift(e, ipvsMode.annotate!(a, e)) : [];
  });
}

const { without, replaced } = dumpEdits(DUMP);


describe('ipvs worker-1 at 1.29: node-wide drift', () => {
  it('the dump is in sync with the rendering of its objects at 1.29', async () => {
    assert.deepEqual(await driftOf(DUMP), []);
  });

  it('a KUBE-CLUSTER-IP member missing: that ClusterIP is not masqueraded from outside the cluster, and rejected', async () => {
    const d = only(await driftOf(without('add KUBE-CLUSTER-IP 10.96.0.10,udp:53')));
    assert.equal(d.kind, 'missing set member');
    assert.equal(d.object, 'ipset KUBE-CLUSTER-IP');
    assert.match(d.detail, /^ipset KUBE-CLUSTER-IP lacks 10\.96\.0\.10,udp:53 \(IPv4\): ClusterIP 10\.96\.0\.10:53\/UDP is not masqueraded from outside the cluster and is rejected by KUBE-IPVS-FILTER \(new connections\)$/);
  });

  it('a KUBE-NODE-PORT-TCP member missing: that NodePort is not masqueraded', async () => {
    const d = only(await driftOf(without('add KUBE-NODE-PORT-TCP 30080')));
    assert.equal(d.kind, 'missing set member');
    assert.match(d.detail, /\(IPv4\): NodePort 30080\/TCP is not masqueraded: replies from endpoints on other nodes bypass this node$/);
  });

  it('a member kube-proxy would not have: what it lets through, named', async () => {
    const d = only(await driftOf(replaced('add KUBE-CLUSTER-IP 10.96.0.10,udp:53\n', 'add KUBE-CLUSTER-IP 10.96.0.10,udp:53\nadd KUBE-CLUSTER-IP 10.96.0.10,tcp:22\n')));
    assert.equal(d.kind, 'extra set member');
    assert.match(d.detail, /ClusterIP 10\.96\.0\.10:22\/TCP is masqueraded from outside the cluster though no service has it and gets through KUBE-IPVS-FILTER/);
  });

  it('a set of another type, and a set missing altogether', async () => {
    const typed = only(await driftOf(DUMP.replace(/^create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port/m, 'create KUBE-HEALTH-CHECK-NODE-PORT hash:ip')));
    assert.match(typed.detail, /^ipset KUBE-HEALTH-CHECK-NODE-PORT is hash:ip, kube-proxy makes it bitmap:port \(IPv4\)/);
    const gone = (await driftOf(DUMP.replace(/^(create|add) KUBE-LOOP-BACK .*\n/gm, ''))).filter((d) => d.object === 'ipset KUBE-LOOP-BACK');
    assert.equal(gone.length, 1);
    assert.match(gone[0]!.detail, /^no ipset KUBE-LOOP-BACK on the node \(IPv4\): the iptables rules matching it cannot load/);
  });

  it('kube-ipvs0 addresses count where the dump lists them', async () => {
    const unbound = only(await driftOf(without('    inet 10.96.0.10/32 scope global kube-ipvs0')));
    assert.equal(unbound.kind, 'missing object');
    assert.equal(unbound.object, 'address 10.96.0.10');
    assert.match(unbound.detail, /^10\.96\.0\.10 is not bound to kube-ipvs0 \(IPv4\): .*its services are unreachable$/);
    const extra = only(await driftOf(replaced('    inet 10.96.0.10/32 scope global kube-ipvs0\n', '    inet 10.96.0.10/32 scope global kube-ipvs0\n    inet 10.96.99.99/32 scope global kube-ipvs0\n')));
    assert.equal(extra.kind, 'stale object');
    assert.match(extra.detail, /^10\.96\.99\.99 is still bound to kube-ipvs0 \(IPv4\)/);
    // without the listing the addresses are KUBE-IPVS-IPS's members: one drift, the set's, not two
    const noListing = DUMP.slice(0, DUMP.indexOf('9: kube-ipvs0:'));
    assert.deepEqual(await driftOf(noListing), []);
    const d = only(await driftOf(without('add KUBE-IPVS-IPS 10.96.0.10', noListing)));
    assert.match(d.detail, /^ipset KUBE-IPVS-IPS lacks 10\.96\.0\.10 \(IPv4\): service address 10\.96\.0\.10 is not guarded/);
  });

  it('KUBE-POSTROUTING without its MASQUERADE: no traffic is SNATed', async () => {
    const d = only(await driftOf(without('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully')));
    assert.equal(d.object, 'rule nat/KUBE-POSTROUTING');
    assert.match(d.detail, /^no `-j MASQUERADE --random-fully` in nat\/KUBE-POSTROUTING \(IPv4\): no traffic is SNATed$/);
  });

  it('the hairpin MASQUERADE missing: a pod reaching itself through its service fails', async () => {
    const d = only(await driftOf(without('-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE')));
    assert.match(d.detail, /\(IPv4\): a pod reaching itself through its service is not masqueraded \(hairpin traffic fails\)$/);
  });

  it('KUBE-SERVICES without its KUBE-NODE-PORT jump, KUBE-IPVS-FILTER without its REJECT', async () => {
    const np = only(await driftOf(without('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT')));
    assert.match(np.detail, /in nat\/KUBE-SERVICES \(IPv4\): no NodePort traffic is masqueraded/);
    const rej = only(await driftOf(without('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable')));
    assert.match(rej.detail, /in filter\/KUBE-IPVS-FILTER \(IPv4\): host services are reachable on every service address/);
  });

  it('the cluster CIDR of the ClusterIP masquerade rule changed: one changed rule', async () => {
    const d = only(await driftOf(replaced('KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ', 'KUBE-CLUSTER-IP dst,dst ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ')));
    assert.equal(d.object, 'rule nat/KUBE-SERVICES');
    assert.match(d.detail, /has `.*! -s 10\.0\.0\.0\/8.*`, expected `.*! -s 10\.244\.0\.0\/16.*` \(IPv4\): ClusterIP traffic is masqueraded on another condition than kube-proxy's \(from outside the cluster\)$/);
  });

  it('KUBE-MARK-MASQ setting another bit: named', async () => {
    const d = only(await driftOf(replaced('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x8000/0x8000')));
    assert.match(d.detail, /\(IPv4\): the masquerade mark differs between the rules that set and test it/);
  });

  it('a built-in jump missing: PREROUTING -> KUBE-SERVICES', async () => {
    const d = only(await driftOf(without('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')));
    assert.equal(d.object, 'rule nat/PREROUTING');
    assert.match(d.detail, /\(IPv4\): no service traffic from pods or from outside is masqueraded/);
  });

  it('a virtual server missing names the address that is unreachable', async () => {
    const text = DUMP.replace(/^-[Aa] -u 10\.96\.0\.10:53 .*\n/gm, '');
    const d = (await driftOf(text)).filter((x) => x.kind === 'missing entry');
    assert.equal(d.length, 1);
    assert.match(d[0]!.detail, /^no virtual server 10\.96\.0\.10:53\/UDP on the node \(IPv4\): ClusterIP 10\.96\.0\.10:53\/UDP is unreachable$/);
  });

  it('spelling, comments and order never count', async () => {
    const lines = DUMP.split('\n');
    const at = lines.findIndex((l) => l.startsWith('-A KUBE-IPVS-FILTER'));
    const block = lines.slice(at, at + 6).reverse();
    const shuffled = [...lines.slice(0, at), ...block, ...lines.slice(at + 6)].join('\n').replace(/ -m comment --comment "[^"]*"/g, '');
    assert.deepEqual(await driftOf(shuffled), []);
  });
});

describe('ipvs by kube-proxy version and host', () => {
  const noOutFilter = DUMP.replace(/^(:KUBE-IPVS-OUT-FILTER|-A KUBE-IPVS-OUT-FILTER|-A OUTPUT .*-j KUBE-IPVS-OUT-FILTER).*\n/gm, '');

  it('1.28 writes no KUBE-IPVS-OUT-FILTER (kubernetes#119791 is 1.29): the chain is drift at 1.28, its absence at 1.29', async () => {
    assert.deepEqual(await driftOf(noOutFilter, { version: '1.28' }), []);
    const stale = only(await driftOf(DUMP, { version: '1.28' }));
    assert.equal(stale.kind, 'stale object');
    assert.equal(stale.object, 'chain filter/KUBE-IPVS-OUT-FILTER');
    const missing = await driftOf(noOutFilter, { version: '1.29' });
    assert.deepEqual(missing.map((d) => d.object), ['chain filter/KUBE-IPVS-OUT-FILTER', 'rule filter/OUTPUT']);
    assert.match(missing[1]!.detail, /the node itself reaches LoadBalancers whose source ranges exclude it/);
  });

  it('MASQUERADE --random-fully only where the iptables of the header (or --iptables-version) supports it', async () => {
    const old = DUMP.replaceAll('iptables-save v1.8.9 (nf_tables)', 'iptables-save v1.6.1').replaceAll(' -j MASQUERADE --random-fully', ' -j MASQUERADE');
    assert.deepEqual(await driftOf(old), []);
    const d = only(await driftOf(DUMP.replaceAll(' -j MASQUERADE --random-fully', ' -j MASQUERADE')));
    assert.match(d.detail, /SNAT source ports are not fully randomised/);
    // the flag overrides the header
    assert.deepEqual(await driftOf(DUMP.replaceAll(' -j MASQUERADE --random-fully', ' -j MASQUERADE'), { iptablesVersion: '1.6.1-legacy' }), []);
  });
});
