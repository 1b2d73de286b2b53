// The nftables trace's path: the hops that the branches a DNAT forked share are shown once (their shares
// summed), a branch's own hops stay with their share, and no hop of any branch is lost.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeHops, traceTable } from '../../../src/core/nftables/tracer.js';
import type { Hop } from '../../../src/core/trace/types.js';
import type { NftTable } from '../../../src/core/nftables/types.js';
import { FAKE_INTERFACE_ADDRESSES, loadCase, renderCase } from './upstream/harness.js';

const overall = renderCase(loadCase('TestOverallNFTablesRules.yaml'));
const node = { localAddresses: FAKE_INTERFACE_ADDRESSES };
const key = (h: Hop) => `${h.chain} | ${h.rule} | ${h.action}`;

/** Two endpoints, one of them an address of the node itself: that branch is routed to input, the other forwarded. */
function splitTable(local: string): NftTable {
  return {
    family: 'IPv4',
    name: 'kube-proxy',
    sets: [],
    chains: [
      { name: 'nat-prerouting', base: { type: 'nat', hook: 'prerouting', priority: -100 }, rules: [{ rule: 'ip daddr 10.96.0.1 tcp dport 80 dnat ip addr . port to numgen random mod 2 map { 0 : 10.1.0.5 . 8080 , 1 : ' + local + ' . 8080 }' }] },
      { name: 'filter-forward', base: { type: 'filter', hook: 'forward', priority: 0 }, rules: [{ rule: 'ct state new jump cluster-ips-check' }] },
      { name: 'filter-input', base: { type: 'filter', hook: 'input', priority: 0 }, rules: [{ rule: 'ct state new jump cluster-ips-check' }] },
      { name: 'nat-postrouting', base: { type: 'nat', hook: 'postrouting', priority: 100 }, rules: [{ rule: 'jump masquerading' }] },
      { name: 'cluster-ips-check', rules: [] },
      { name: 'masquerading', rules: [] },
    ],
  };
}

describe('nftables trace path', () => {
  it('shows the hops after the DNAT once for every branch, without a share', () => {
    const r = traceTable(overall, { src: '10.0.0.2', dst: '172.30.0.44', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node);
    assert.equal(r.endpoints.length, 2);
    const keys = r.hops.map(key);
    assert.deepEqual(keys, [...new Set(keys)], `a hop repeats:\n${keys.join('\n')}`);
    const lastDnat = r.hops.map((h) => h.action.startsWith('DNAT to')).lastIndexOf(true);
    const after = r.hops.slice(lastDnat + 1);
    assert.ok(after.some((h) => h.chain === 'filter-forward') && after.some((h) => h.chain === 'nat-postrouting'), keys.join('\n'));
    assert.deepEqual(after.filter((h) => h.share !== undefined), []);
    assert.deepEqual(r.hops.filter((h) => h.action.startsWith('DNAT to')).map((h) => h.share), [0.5, 0.5]);
  });
  it('keeps a branch’s own hops, each with its share, where the branches part', () => {
    const r = traceTable(splitTable('192.168.0.2'), { src: '10.0.0.2', dst: '10.96.0.1', dport: 80, protocol: 'TCP', entry: 'pod-local' }, { localAddresses: ['192.168.0.2'] });
    assert.deepEqual(
      r.hops.map((h) => [h.chain, h.action, h.share]),
      [
        ['nat-prerouting', 'DNAT to 10.1.0.5:8080', 0.5],
        ['nat-prerouting', 'DNAT to 192.168.0.2:8080', 0.5],
        ['filter-forward', 'jump cluster-ips-check', 0.5],
        ['nat-postrouting', 'jump masquerading', 0.5],
        ['filter-input', 'jump cluster-ips-check', 0.5],
      ],
    );
  });
  it('shows a path both branches take once when the endpoints are routed alike', () => {
    const r = traceTable(splitTable('10.1.0.6'), { src: '10.0.0.2', dst: '10.96.0.1', dport: 80, protocol: 'TCP', entry: 'pod-local' }, { localAddresses: ['192.168.0.2'] });
    assert.deepEqual(
      r.hops.map((h) => [h.chain, h.action, h.share]),
      [
        ['nat-prerouting', 'DNAT to 10.1.0.5:8080', 0.5],
        ['nat-prerouting', 'DNAT to 10.1.0.6:8080', 0.5],
        ['filter-forward', 'jump cluster-ips-check', undefined],
        ['nat-postrouting', 'jump masquerading', undefined],
      ],
    );
  });
  it('merges lists in order: shared hops once with shares summed, a branch’s own hops before the next shared one', () => {
    const h = (chain: string, share?: number): Hop => ({ table: 'ip kube-proxy', chain, rule: `rule of ${chain}`, action: 'jump x', depth: 0, ...(share === undefined ? {} : { share }) });
    const third = 1 / 3;
    const merged = mergeHops([
      [h('a', third), h('b', third), h('c', third)],
      [h('a', third), h('d', third), h('c', third)],
      [h('a', third), h('c', third), h('e', third)],
    ]);
    assert.deepEqual(
      merged.map((x) => [x.chain, x.share === undefined ? undefined : Math.round(x.share * 3)]),
      [['a', undefined], ['b', 1], ['d', 1], ['c', undefined], ['e', 1]],
    );
    // every branch's hops are in the path, in its order
    const input = [h('a', 0.5), h('x', 0.5)];
    assert.deepEqual(mergeHops([input, [h('a', 0.5), h('y', 0.5)]]).map((x) => x.chain), ['a', 'x', 'y']);
    assert.equal(input[0]!.share, 0.5, 'the lists given are not changed');
  });
});
