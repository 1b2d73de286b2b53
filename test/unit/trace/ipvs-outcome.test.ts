// The ipvs tracer's outcome (the equivalence report's hop-less answer) is its trace without the hops, also
// for a packet to no virtual server that a KUBE-* filter chain accepts: a health check node port.
import assert from 'node:assert/strict';
import test from 'node:test';
import { setDefaults } from '../../../src/core/config/index.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import type { NodeContext, Packet, TraceResult } from '../../../src/core/trace/types.js';
import { examples } from '../why/world.js';

type Tracer = { trace(p: Packet, n: NodeContext): TraceResult; outcome(p: Packet, n: NodeContext): TraceResult };

test('ipvs: outcome equals trace without hops, for every service port and a health check node port', async () => {
  const { objects } = await examples();
  const config = { ...setDefaults({ mode: 'ipvs', clusterCIDR: '10.244.0.0/16' }), mode: 'ipvs' as const, hostnameOverride: 'worker-1' };
  const view = buildProxyView(objects, config, 'examples/');
  const def = modeFor('ipvs', 'test');
  const tracer = def.tracer(def.render(view, config), { rendered: true }) as unknown as Tracer;
  const fam = view.families[0]!;
  const ctx: NodeContext = { nodeName: view.nodeName, localAddresses: fam.nodeIPs, podCIDRs: fam.podCIDRs };
  const node = fam.nodeIPs[0]!;
  const packets: Packet[] = [];
  for (const sp of fam.state.serviceMap.values()) {
    packets.push({ src: '203.0.113.9', dst: sp.clusterIP, dport: sp.port, protocol: sp.protocol, entry: 'external' });
    if (sp.nodePort) packets.push({ src: '203.0.113.9', dst: node, dport: sp.nodePort, protocol: sp.protocol, entry: 'external' });
    if (sp.healthCheckNodePort) packets.push({ src: '203.0.113.9', dst: node, dport: sp.healthCheckNodePort, protocol: 'TCP', entry: 'external' });
  }
  const health = packets.filter((p) => p.dport === 32145);
  assert.ok(health.length > 0, 'examples/ has a health check node port (32145)');
  assert.equal(tracer.trace(health[0]!, ctx).verdict, 'accepted');
  for (const p of packets) assert.deepStrictEqual(tracer.outcome(p, ctx), { ...tracer.trace(p, ctx), hops: [] }, JSON.stringify(p));
});
