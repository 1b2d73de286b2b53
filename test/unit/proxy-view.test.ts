// A node's view: which node, which families, which node IPs and pod CIDRs, as kube-proxy picks them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setDefaults } from '../../src/core/config/index.js';
import { InputError } from '../../src/core/errors.js';
import type { Node } from '../../src/core/objects/types.js';
import { buildProxyView } from '../../src/core/proxy-view.js';

const node = (name: string, addresses: string[], podCIDRs: string[] = []): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: { podCIDR: podCIDRs[0], podCIDRs },
  status: { addresses: addresses.map((address) => ({ type: 'InternalIP' as const, address })) },
});
const empty = { services: [], endpointSlices: [] };

describe('buildProxyView', () => {
  it('takes the named node (hostnameOverride) and proxies each family it has an IP of', () => {
    const nodes = [node('a', ['10.0.0.1']), node('b', ['10.0.0.2', 'fd00::2'], ['10.244.1.0/24', 'fd00:10:244:1::/64'])];
    const v = buildProxyView({ ...empty, nodes }, setDefaults({ hostnameOverride: 'b' }), 'files x');
    assert.equal(v.nodeName, 'b');
    assert.equal(v.nodeDefaulted, false);
    assert.deepEqual(v.families.map((f) => [f.family, f.nodeIPs, f.podCIDRs]), [
      ['IPv4', ['10.0.0.2'], ['10.244.1.0/24']],
      ['IPv6', ['fd00::2'], ['fd00:10:244:1::/64']],
    ]);
  });

  it('without a name takes the first node by name, and says so', () => {
    const v = buildProxyView({ ...empty, nodes: [node('z', ['10.0.0.9']), node('m', ['10.0.0.5'])] }, setDefaults({}), 'files x');
    assert.equal(v.nodeName, 'm');
    assert.equal(v.nodeDefaulted, true);
  });

  it('bindAddress (--node-ip) names the node IP instead of the Node object', () => {
    const v = buildProxyView({ ...empty, nodes: [node('a', ['10.0.0.1'])] }, setDefaults({ hostnameOverride: 'a', bindAddress: '192.168.5.5' }), 'files x');
    assert.deepEqual(v.families.map((f) => f.nodeIPs), [['192.168.5.5']]);
  });

  it('with no nodes at all, the cluster CIDRs decide the families', () => {
    const v = buildProxyView({ ...empty, nodes: [] }, setDefaults({ clusterCIDR: 'fd00:10:244::/56' }), 'files x');
    assert.deepEqual(v.families.map((f) => f.family), ['IPv6']);
    assert.equal(v.nodeName, '');
  });

  it('an unknown node is an error naming the nodes there are', () => {
    assert.throws(() => buildProxyView({ ...empty, nodes: [node('a', ['10.0.0.1'])] }, setDefaults({ hostnameOverride: 'q' }), 'files x'), (e: Error) => e instanceof InputError && e.message === 'node "q" not found in files x (nodes: a); pick one with --node.');
  });
});
