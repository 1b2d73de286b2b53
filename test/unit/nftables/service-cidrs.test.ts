// The "drop unallocated ClusterIPs" rule: written when kube-proxy knows the Service CIDRs, which it learns
// from ServiceCIDR objects it watches by default from 1.33 (MultiCIDRServiceAllocator GA), or as a node's
// own table shows them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serviceCIDRsFor, serviceCIDRsOfTable } from '../../../src/core/nftables/service-cidrs.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadCase, renderCase } from './upstream/harness.js';

const c = loadCase('TestNodePorts.yaml');
const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.0.0.0/8,fd00:10::/64' } as never));
const view = buildProxyView({ services: c.services, endpointSlices: c.endpointSlices, nodes: c.nodes }, config, 'test');

const dropRule = (t: { chains: Array<{ name: string; rules: Array<{ rule: string }> }> }) =>
  t.chains.find((c) => c.name === 'cluster-ips-check')!.rules.map((r) => r.rule).filter((r) => r.endsWith(' drop'));

describe('Service CIDRs by kube-proxy version', () => {
  it('1.33 and later use the CIDRs given; 1.31–1.32 (gate off by default) do not', () => {
    assert.deepEqual(serviceCIDRsFor('1.33.0', ['10.96.0.0/16'], undefined), ['10.96.0.0/16']);
    assert.deepEqual(serviceCIDRsFor(undefined, ['10.96.0.0/16'], undefined), ['10.96.0.0/16']);
    assert.deepEqual(serviceCIDRsFor('v1.32.4', ['10.96.0.0/16'], undefined), []);
    assert.deepEqual(serviceCIDRsFor('1.36', undefined, undefined), []);
  });
  it('a node’s own table settles it: its drop rule names what that kube-proxy knew', () => {
    const live = renderCase(loadCase('TestOverallNFTablesRules.yaml'));
    assert.deepEqual(serviceCIDRsOfTable(live), ['172.30.0.0/16']);
    assert.deepEqual(serviceCIDRsFor('1.32', undefined, live), ['172.30.0.0/16']);
    const without = { ...live, chains: live.chains.map((c) => (c.name === 'cluster-ips-check' ? { ...c, rules: c.rules.filter((r) => !r.rule.endsWith('drop')) } : c)) };
    assert.equal(serviceCIDRsOfTable(without), undefined);
  });
});

describe('rendering with Service CIDRs', () => {
  it('writes the drop rule per family, only that family’s CIDRs', () => {
    const [v4, v6] = nftablesMode.render(view, config, { serviceCIDRs: ['10.96.0.0/16', 'fd00:96::/112'] });
    assert.deepEqual(dropRule(v4!), ['ip daddr { 10.96.0.0/16 } drop']);
    assert.deepEqual(dropRule(v6!), ['ip6 daddr { fd00:96::/112 } drop']);
    assert.deepEqual(dropRule(nftablesMode.render(view, config, { serviceCIDRs: ['10.96.0.0/16', '10.100.0.0/16'] })[0]!), ['ip daddr { 10.96.0.0/16,10.100.0.0/16 } drop']);
  });
  it('writes none without CIDRs, or for 1.32 without the node’s table showing them', () => {
    assert.deepEqual(dropRule(nftablesMode.render(view, config)[0]!), []);
    assert.deepEqual(dropRule(nftablesMode.render(view, config, { kubeProxyVersion: '1.32', serviceCIDRs: ['10.96.0.0/16'] })[0]!), []);
  });
  it('compared with a node’s table, takes that table’s CIDRs (so --diff is not fooled by a missing flag)', () => {
    const live = nftablesMode.render(view, config, { serviceCIDRs: ['10.96.0.0/16'] });
    assert.deepEqual(dropRule(nftablesMode.render(view, config, { live })[0]!), ['ip daddr { 10.96.0.0/16 } drop']);
  });
});
