// The nftables proxier takes masqueradeAll and masqueradeBit from the config's `nftables` section, never the
// `iptables` one (cmd/kube-proxy: nftables.NewDualStackProxier(…, config.NFTables.MasqueradeAll,
// config.NFTables.MasqueradeBit, …)).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadCase } from './upstream/harness.js';

const c = loadCase('TestNodePorts.yaml');
const rulesOf = (section: Record<string, unknown>) => {
  const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.0.0.0/8', ...section } as never));
  const view = buildProxyView({ services: c.services, endpointSlices: c.endpointSlices, nodes: c.nodes }, config, 'test');
  const [v4] = nftablesMode.render(view, config, { kubeProxyVersion: '1.34' });
  return v4!.chains.flatMap((ch) => ch.rules.map((r) => `${ch.name}: ${r.rule}`));
};

describe('nftables mode reads its own config section', () => {
  it('nftables.masqueradeAll changes the rules (masquerade all ClusterIP traffic); iptables.masqueradeAll changes nothing', () => {
    const plain = rulesOf({});
    const nft = rulesOf({ nftables: { masqueradeAll: true } });
    assert.notDeepEqual(nft, plain);
    // every ClusterIP's masquerade rule loses its "not from the cluster CIDR" condition
    const unconditional = (rules: string[]) => rules.filter((r) => r.endsWith('jump mark-for-masquerade') && !r.includes('saddr')).length;
    assert.ok(unconditional(nft) > unconditional(plain), nft.join('\n'));
    assert.deepEqual(rulesOf({ iptables: { masqueradeAll: true } }), plain);
  });
  it('nftables.masqueradeBit sets the mark; iptables.masqueradeBit does not', () => {
    const marks = (rules: string[]) => rules.filter((r) => r.startsWith('mark-for-masquerade: ')).join('\n');
    assert.match(marks(rulesOf({ nftables: { masqueradeBit: 12 } })), /0x00001000/);
    assert.match(marks(rulesOf({ iptables: { masqueradeBit: 12 } })), /0x00004000/);
  });
});
