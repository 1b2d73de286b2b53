// nftablesMode from a node's view: the families it proxies, nodePortAddresses defaulting to the node's
// primary IP in nftables mode, the version switch, the dump kinds and the live command.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadCase } from './upstream/harness.js';

describe('nftablesMode', () => {
  const c = loadCase('TestNodePorts.yaml');
  const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.0.0.0/8,fd00:10::/64' } as never));
  const view = buildProxyView({ services: c.services, endpointSlices: c.endpointSlices, nodes: c.nodes }, config, 'test');
  it('renders one table per family the node has IPs of, NodePorts on the primary IP only', () => {
    const states = nftablesMode.render(view, config);
    assert.deepEqual(states.map((s) => [s.family, s.layout]), [['IPv4', '1.36'], ['IPv6', '1.36']]);
    assert.deepEqual(states.map((s) => s.sets.find((x) => x.name === 'nodeport-ips')!.elements.map((e) => e.key[0])), [['192.168.0.2'], ['2001:db8::1']]);
    assert.equal(nftablesMode.render(view, config, { kubeProxyVersion: '1.32.3' })[0]!.layout, '1.31');
    // a configuration written for iptables mode (no nodePortAddresses): still the primary IP, as kube-proxy in nftables mode
    const iptablesConfig = applyPlatformDefaults(setDefaults({ clusterCIDR: '10.0.0.0/8' } as never));
    assert.deepEqual(iptablesConfig.nodePortAddresses, []);
    assert.deepEqual(nftablesMode.render(view, iptablesConfig)[0]!.sets.find((x) => x.name === 'nodeport-ips')!.elements.map((e) => e.key[0]), ['192.168.0.2']);
  });
  it('writes -o nft as the full-sync transaction of every family', () => {
    const text = nftablesMode.formats.nft!.write(nftablesMode.render(view, config));
    assert.match(text, /^add table ip kube-proxy \{ comment "rules for kube-proxy" ; \}\n/);
    assert.match(text, /\nadd table ip6 kube-proxy \{ comment "rules for kube-proxy" ; \}\n/);
  });
  it('reads nft list ruleset and nft -j list ruleset dumps, live through `nft list ruleset`', () => {
    assert.deepEqual(nftablesMode.dumps.primary.map((k) => [k.name, k.command]), [['nft', 'nft list ruleset'], ['nft-json', 'nft -j list ruleset']]);
    assert.ok(nftablesMode.dumps.primary[0]!.startsSection('table ip6 kube-proxy {', undefined));
    assert.ok(!nftablesMode.dumps.primary[0]!.startsSection('\tchain services {', undefined));
    assert.equal(nftablesMode.dumps.primary[0]!.familyOf!('table ip6 kube-proxy {\n}'), 'IPv6');
    assert.deepEqual(nftablesMode.liveCommands('IPv4'), [{ kind: 'nft', argv: ['nft', 'list', 'ruleset'] }]);
  });
  it('plans a partial sync of only what changed', () => {
    const [before] = nftablesMode.render(view, config);
    const after = { ...before!, sets: before!.sets.map((s) => (s.name === 'nodeport-ips' ? s : { ...s, elements: s.elements.filter((e) => e.key[0] !== '172.30.0.41') })) };
    const p = nftablesMode.plan(before, after);
    assert.equal(p.full, false);
    const lines = p.text().split('\n').filter(Boolean);
    // the changed service port's elements go, and (as kube-proxy does for a changed service) its chains are rewritten
    assert.ok(lines.includes('delete element ip kube-proxy cluster-ips { 172.30.0.41 }'));
    assert.ok(lines.includes('delete element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 }'));
    assert.deepEqual(lines.filter((l) => !l.includes('ns1/svc1/tcp/p80') && !l.startsWith('delete element')), []);
  });
});
