// summarize, narrow and drift over upstream's overall table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { loadCase, renderCase } from './upstream/harness.js';

const overall = renderCase(loadCase('TestOverallNFTablesRules.yaml'));

describe('summarize', () => {
  const s = new Map(nftablesMode.summarize(overall).map((x) => [x.servicePort, x]));
  it('names every service port', () => {
    assert.deepEqual([...s.keys()], ['ns1/svc1:p80', 'ns2/svc2:p80', 'ns3/svc3:p80', 'ns4/svc4:p80', 'ns5/svc5:p80', 'ns6/svc6:p80']);
  });
  it('entries say where traffic goes and when it is masqueraded', () => {
    const svc5 = s.get('ns5/svc5:p80')!;
    assert.deepEqual(
      svc5.entries.map((e) => `${e.kind} ${e.address}:${e.port}/${e.protocol} -> ${e.target} [${e.masquerade.join('; ')}]`),
      [
        'cluster IP 172.30.0.45:80/TCP -> service-HVFWP5L3-ns5/svc5/tcp/p80 [ip saddr != 10.0.0.0/8]',
        'loadbalancer IP 5.6.7.8:80/TCP -> external-HVFWP5L3-ns5/svc5/tcp/p80 [always]',
        'nodePort *:3002/TCP -> external-HVFWP5L3-ns5/svc5/tcp/p80 [always]',
      ],
    );
    assert.deepEqual(svc5.balancers.map((b) => [b.scheduler, b.affinitySeconds, b.endpoints.map((e) => `${e.endpoint} ${e.probability}`)]), [['random', 10800, ['10.180.0.3:80 1']]]);
    assert.deepEqual(svc5.verdicts, ['5.6.7.8:80/tcp drops sources outside 203.0.113.0/25']);
  });
  it('verdicts for no endpoints: reject, or drop when only local endpoints would do', () => {
    assert.deepEqual(s.get('ns6/svc6:p80')!.verdicts, ['172.30.0.46:80/tcp has no endpoints: rejected']);
    assert.deepEqual(s.get('ns2/svc2:p80')!.verdicts.sort(), [
      '1.2.3.4:80/tcp has no usable local endpoints: dropped',
      '192.168.99.22:80/tcp has no usable local endpoints: dropped',
      'nodePort 3001/tcp has no usable local endpoints: dropped',
    ]);
  });
});

describe('local traffic', () => {
  it('names the pod CIDR the rules treat as local, and marks Local-policy balancers', () => {
    assert.equal(nftablesMode.localTrafficCIDR!(overall), '10.0.0.0/8');
    const c = loadCase('TestExternalTrafficPolicyLocal.yaml');
    const s = nftablesMode.summarize(renderCase(c))[0]!;
    assert.deepEqual(s.balancers.map((b) => [b.name.split('-')[0], b.local ?? false]), [['service', false], ['local', true]]);
  });
});

describe('narrow', () => {
  it('keeps one service’s chains and elements, nothing of the others', () => {
    const n = nftablesMode.narrow(overall, 'ns2/svc2');
    assert.deepEqual(n.chains.map((c) => c.name).sort(), ['endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80', 'external-42NFTM6N-ns2/svc2/tcp/p80', 'service-42NFTM6N-ns2/svc2/tcp/p80']);
    assert.deepEqual(n.sets.map((s) => `${s.name}:${s.elements.length}`).sort(), ['cluster-ips:1', 'no-endpoint-nodeports:1', 'no-endpoint-services:2', 'service-ips:3', 'service-nodeports:1']);
    assert.deepEqual(nftablesMode.summarize(n).map((x) => x.servicePort), ['ns2/svc2:p80']);
  });
});

describe('drift', () => {
  it('none against itself; a missing service and its stale objects otherwise', () => {
    assert.deepEqual(nftablesMode.drift(overall, overall), []);
    const without = nftablesMode.narrow(overall, 'ns1/');
    const d = nftablesMode.drift(overall, { ...overall, chains: overall.chains.filter((c) => !c.name.includes('ns3/svc3')), sets: overall.sets.map((s) => ({ ...s, elements: s.elements.filter((e) => !JSON.stringify(e).includes('svc3') && e.key[0] !== '172.30.0.43') })) });
    assert.ok(d.some((x) => x.kind === 'missing service' && x.servicePort === 'ns3/svc3:p80'));
    assert.ok(d.some((x) => x.kind === 'missing object' && x.object === 'chain service-4AT6LBPK-ns3/svc3/tcp/p80'));
    assert.ok(d.some((x) => x.kind === 'missing set member' && x.detail === 'cluster-ips 172.30.0.43 (IPv4): ClusterIP 172.30.0.43: connections to its ports no service uses are dropped as unallocated, not rejected'), JSON.stringify(d, null, 1));
    assert.ok(nftablesMode.drift(overall, without).some((x) => x.kind === 'missing object' && x.object === 'chain services'));
  });
  it('canonicalLines are sorted by object and settle spelling', () => {
    const lines = nftablesMode.canonicalLines(overall);
    assert.equal(lines[0], 'add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    assert.ok(lines.includes('add rule ip kube-proxy cluster-ips-check ip daddr 172.30.0.0/16 drop comment "Drop traffic to unallocated ClusterIPs"'));
  });
});
