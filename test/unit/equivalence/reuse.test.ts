// The tracers reuse work between packets for the equivalence report: the path after the first hook per
// node and packet class (source, source port, protocol, entry) and destination, the outcome after IPVS per
// node, client and real server, compiled rules per chain list, addresses read once per text. None of it may
// carry one node's or one packet class's answer into another's: every outcome from tracers shared by all
// nodes, asked in an interleaved order, must be what a tracer of its own gives for that packet alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setDefaults } from '../../../src/core/config/index.js';
import { shareWith } from '../../../src/core/equivalence/same.js';
import { nodeViews } from '../../../src/core/equivalence/views.js';
import type { FamilyState } from '../../../src/core/modes/types.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import type { Service } from '../../../src/core/objects/types.js';
import type { NodeContext, Packet, TraceResult } from '../../../src/core/trace/types.js';
import { syntheticCluster } from '../../../bench/synthetic.js';

type Outcomes = { outcome(p: Packet, n: NodeContext): TraceResult };

/** Nodes that differ in their local endpoints, with Local policies, node ports, external IPs and UDP. */
function cluster(local: boolean) {
  const c = syntheticCluster({ services: 24, endpointsPerService: 3, nodes: 3, seed: 11, nodePortShare: 0.5 });
  c.services.forEach((s: Service, i) => {
    const spec = s.spec as unknown as Record<string, unknown> & { ports: Array<Record<string, unknown>> };
    if (local && i % 3 === 0) spec.externalTrafficPolicy = 'Local';
    if (local && i % 4 === 0) spec.internalTrafficPolicy = 'Local';
    if (i % 5 === 0) spec.externalIPs = [`198.51.100.${i + 1}`];
    if (i % 6 === 0) spec.ports[0]!.protocol = 'UDP';
  });
  c.endpointSlices.forEach((e, i) => {
    const svc = c.services[i]!.spec as { ports: Array<{ protocol: string }> };
    e.ports![0]!.protocol = svc.ports[0]!.protocol as 'TCP' | 'UDP';
  });
  // a host-network service: its endpoints are the nodes' own addresses (what follows the DNAT is then
  // delivered locally on one node and forwarded on the others)
  const host = c.services[1]!.spec!;
  host.type = 'NodePort';
  host.ports![0]!.nodePort = 31001;
  c.endpointSlices[1]!.endpoints = c.nodes.map((n) => ({ addresses: [n.status!.addresses![0]!.address], conditions: { ready: true }, nodeName: n.metadata!.name }));
  // an endpoint at the address this test's pods on node-0 send from (a hairpin there, not elsewhere)
  c.endpointSlices[2]!.endpoints![0]!.addresses = ['10.128.0.254'];
  c.endpointSlices[2]!.endpoints![0]!.nodeName = 'node-0';
  return c;
}

describe('reuse inside the tracers', () => {
  const config = setDefaults({ mode: 'iptables', clusterCIDR: '10.128.0.0/9' });
  for (const [mode, local] of [['iptables', false], ['iptables', true], ['ipvs', false], ['ipvs', true], ['nftables', false], ['nftables', true]] as const) {
    it(`${mode}${local ? ', Local policies' : ''}: outcomes from tracers shared as the report shares them, asked interleaved, equal each packet's own tracer's`, () => {
      const views = nodeViews(cluster(local), config, 'test');
      const def = modeFor(mode, 'test');
      const cfg = { ...config, mode };
      const work: Array<{ node: number; packet: Packet; ctx: NodeContext }> = [];
      views.forEach((v, node) => {
        const fam = v.families[0]!;
        const ctx: NodeContext = { nodeName: v.nodeName, localAddresses: fam.nodeIPs, podCIDRs: fam.podCIDRs };
        // two pods on the node (one of them also an endpoint on node-0: a hairpin for it alone), the node, outside
        const pod = (last: number) => fam.podCIDRs[0]!.replace('.0/24', `.${last}`);
        const sources: Array<[string, Packet['entry']]> = [[pod(254), 'pod-local'], [pod(253), 'pod-local'], [fam.nodeIPs[0]!, 'node'], ['203.0.113.9', 'external']];
        for (const sp of fam.state.serviceMap.values()) {
          const dests: Array<[string, number]> = [[sp.clusterIP, sp.port], ...sp.externalIPs.map((ip): [string, number] => [ip, sp.port])];
          if (sp.nodePort) dests.push([fam.nodeIPs[0]!, sp.nodePort]);
          for (const [dst, dport] of dests) for (const [src, entry] of sources) work.push({ node, ctx, packet: { src, dst, dport, protocol: sp.protocol, entry } });
        }
      });
      // interleave nodes and classes: every third packet from the end
      const order = work.map((_, i) => i).sort((a, b) => (a % 3) - (b % 3) || b - a);
      // as compareModes shares them: a node whose rules render alike to the last node's takes its tracer
      let last: { states: FamilyState[]; tracer: Outcomes } | undefined;
      const shared = views.map((v) => {
        const rendered = def.render(v, cfg);
        const states = last ? shareWith(last.states, rendered) : rendered;
        if (states !== last?.states) last = { states, tracer: def.tracer(states, { rendered: true }) as unknown as Outcomes };
        return last.tracer;
      });
      if (mode === 'iptables' && !local) assert.ok(shared.every((t) => t === shared[0]), 'one tracer for all nodes');
      const got = new Map<number, TraceResult>();
      for (const i of order) got.set(i, shared[work[i]!.node]!.outcome(work[i]!.packet, work[i]!.ctx));
      let differing = 0;
      work.forEach((w, i) => {
        const own = def.tracer(def.render(views[w.node]!, cfg), { rendered: true }) as unknown as Outcomes;
        assert.deepStrictEqual(got.get(i), own.outcome(w.packet, w.ctx), `${views[w.node]!.nodeName} ${JSON.stringify(w.packet)}`);
        if (w.node > 0 && JSON.stringify(got.get(i)) !== JSON.stringify(shared[0]!.outcome(w.packet, work.find((x) => x.node === 0)!.ctx))) differing++;
      });
      assert.ok(work.length > 200);
      // the nodes' answers do differ (Local policies, node addresses): a leak would have had something to show
      assert.ok(differing > 0, 'some packet is answered differently on another node');
    });
  }
});
