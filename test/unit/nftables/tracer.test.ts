// The tracer beyond upstream's flow tables: odds of `numgen random mod N`, affinity, the hops it walks,
// the node's own traffic through the output hook, verdicts, and saying what it could not know.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { traceTable } from '../../../src/core/nftables/tracer.js';
import { FAKE_INTERFACE_ADDRESSES, loadCase, renderCase } from './upstream/harness.js';

const overall = renderCase(loadCase('TestOverallNFTablesRules.yaml'));
const node = { localAddresses: FAKE_INTERFACE_ADDRESSES };

describe('nftables tracer', () => {
  it('splits numgen random mod 2 into two halves, each its own hop share', () => {
    const r = traceTable(overall, { src: '10.0.0.2', dst: '172.30.0.44', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node);
    assert.equal(r.verdict, 'forwarded');
    assert.deepEqual(r.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability, e.masquerade]), [['10.180.0.4:80', 0.5, false], ['10.180.0.5:80', 0.5, false]]);
    assert.ok(r.hops.some((h) => h.share === 0.5 && h.action === 'DNAT to 10.180.0.5:80'));
    assert.equal(r.masqueradeReason, 'no rule on its path set the masquerade mark, so the source is kept');
    assert.deepEqual(r.qualifications, []);
  });
  it('reports ClientIP affinity from the endpoint chain’s update of its set', () => {
    const r = traceTable(overall, { src: '203.0.113.2', dst: '5.6.7.8', dport: 80, protocol: 'TCP', entry: 'external' }, node);
    assert.deepEqual(r.affinity, { seconds: 10800, name: 'affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80' });
    assert.equal(r.masquerade, true);
  });
  it('drops sources outside loadBalancerSourceRanges before DNAT', () => {
    const r = traceTable(overall, { src: '203.0.113.200', dst: '5.6.7.8', dport: 80, protocol: 'TCP', entry: 'external' }, node);
    assert.equal(r.verdict, 'dropped');
    assert.equal(r.hops[r.hops.length - 1]!.chain, 'firewall-HVFWP5L3-ns5/svc5/tcp/p80');
  });
  it('traces the node’s own traffic through the output hook: masqueraded, cluster-IP check after DNAT', () => {
    const r = traceTable(overall, { src: '192.168.0.2', dst: '172.30.0.41', dport: 80, protocol: 'TCP', entry: 'node' }, node);
    assert.deepEqual([r.verdict, r.masquerade], ['forwarded', true]);
    assert.ok(r.hops.some((h) => h.chain === 'nat-output'));
    assert.ok(!r.hops.some((h) => h.chain === 'nat-prerouting'));
    const miss = traceTable(overall, { src: '192.168.0.2', dst: '172.30.0.41', dport: 81, protocol: 'TCP', entry: 'node' }, node);
    assert.equal(miss.verdict, 'rejected');
  });
  it('eTP Local without local endpoints: external traffic dropped, pod traffic short-circuited', () => {
    const ext = traceTable(overall, { src: '203.0.113.2', dst: '1.2.3.4', dport: 80, protocol: 'TCP', entry: 'external' }, node);
    assert.equal(ext.verdict, 'dropped');
    const pod = traceTable(overall, { src: '10.0.0.2', dst: '1.2.3.4', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node);
    assert.deepEqual(pod.endpoints.map((e) => e.ip), ['10.180.0.2']);
  });
  it('says when the node’s addresses are unknown', () => {
    const r = traceTable(overall, { src: '203.0.113.2', dst: '1.2.3.4', dport: 80, protocol: 'TCP', entry: 'external' }, {});
    assert.ok(r.qualifications.some((q) => /addresses are not known/.test(q)), r.qualifications.join('\n'));
  });
  it('is what the mode hands out, choosing the table by the destination’s family', () => {
    const ev = nftablesMode.tracer([overall], { rendered: true });
    assert.equal(ev.mode, 'nftables');
    assert.equal(ev.trace({ src: '10.0.0.2', dst: '172.30.0.46', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node).verdict, 'rejected');
    const v6 = ev.trace({ src: 'fd00::2', dst: 'fd00:172:30::1', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node);
    assert.deepEqual([v6.verdict, v6.qualifications], ['not-matched', ['there is no ip6 kube-proxy table to trace through']]);
  });
});
