// Node helpers: node IPs in kube-proxy's detection order, pod CIDRs.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Node } from '../../../src/core/objects/types.js';
import { nodeIPs, podCIDRs } from '../../../src/core/model/node.js';

const node = parse(`
kind: Node
metadata: {name: worker-1, labels: {topology.kubernetes.io/zone: zone-a}}
spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
status:
  addresses:
  - {type: ExternalIP, address: 203.0.113.7}
  - {type: Hostname, address: worker-1}
  - {type: InternalIP, address: 192.168.0.11}
  - {type: InternalIP, address: "fd00:0:0:0:0:0:0:11"}
  - {type: ExternalIP, address: "2001:db8::7"}
  - {type: InternalDNS, address: worker-1.internal}
  - {type: InternalIP, address: 192.168.0.12}
`) as Node;

describe('nodeIPs', () => {
  it('lists InternalIPs before ExternalIPs, whatever the status order, one family at a time', () => {
    assert.deepEqual(nodeIPs(node, 'IPv4'), ['192.168.0.11', '192.168.0.12', '203.0.113.7']);
    assert.deepEqual(nodeIPs(node, 'IPv6'), ['fd00::11', '2001:db8::7']);
  });
  it('is empty when the node has no address of the family', () => {
    const v4only = { ...node, status: { addresses: [{ type: 'InternalIP' as const, address: '10.0.0.1' }] } };
    assert.deepEqual(nodeIPs(v4only, 'IPv6'), []);
    assert.deepEqual(nodeIPs({ kind: 'Node' }, 'IPv4'), []);
  });
});

describe('podCIDRs', () => {
  it('prefers spec.podCIDRs and falls back to spec.podCIDR', () => {
    assert.deepEqual(podCIDRs(node), ['10.244.1.0/24', 'fd00:10:244:1::/64']);
    assert.deepEqual(podCIDRs({ kind: 'Node', spec: { podCIDR: '10.244.2.0/24' } }), ['10.244.2.0/24']);
    assert.deepEqual(podCIDRs({ kind: 'Node' }), []);
  });
});
