// The iptables tracer's chain index (rules keyed by exact destination or destination port) must give the
// trace an ordered rule-by-rule walk gives, hop for hop, for every packet: rendered rules of a seeded
// synthetic cluster, with rules mixed in that the index must leave in the ordered fallback list (no -d,
// negated -d, a network, a port range, a match that cannot be evaluated before the -d, affinity) or key by
// port only. Also: an outcome is the trace without its hops, in every mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticCluster, prng } from '../../../bench/synthetic.js';
import { setDefaults } from '../../../src/core/config/index.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import { IptablesEvaluator } from '../../../src/core/trace/iptables.js';
import type { Ruleset } from '../../../src/core/iptables/types.js';
import type { NodeContext, Packet, PacketEntry, TraceResult } from '../../../src/core/trace/types.js';

const objects = syntheticCluster({ services: 300, endpointsPerService: 3, nodes: 3, seed: 7, nodePortShare: 0.3 });
const config = setDefaults({ mode: 'iptables', clusterCIDR: '10.128.0.0/9' });
const view = buildProxyView(objects, { ...config, hostnameOverride: 'node-1' }, 'test');
const fam = view.families[0]!;
const ctx: NodeContext = { nodeName: 'node-1', localAddresses: fam.nodeIPs, podCIDRs: fam.podCIDRs };
const services = [...fam.state.serviceMap.values()];

/** The rendered rules with rules the index must handle mixed into the long chains at seeded positions. */
function mixedRulesets(seed: number): Ruleset[] {
  const rand = prng(seed);
  const rulesets = modeFor('iptables', 'test').render(view, config) as Ruleset[];
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  return rulesets.map((rs) => ({
    ...rs,
    tables: rs.tables.map((t) => ({
      ...t,
      chains: t.chains.map((c) => {
        if (c.name !== 'KUBE-SERVICES' && c.name !== 'KUBE-NODEPORTS') return c;
        const rules = [...c.rules];
        for (let k = 0; k < 40; k++) {
          const sp = pick(services);
          const words = pick<() => string[]>([
            // no -d: fallback list
            () => ['-p', 'tcp', '-m', 'tcp', '--dport', `${sp.port}:${sp.port + 1}`, '-j', 'KUBE-MARK-MASQ'],
            // negated -d: fallback list
            () => ['!', '-d', `${sp.clusterIP}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(sp.port), '-j', 'KUBE-MARK-MASQ'],
            // a network: fallback list
            () => ['-d', '10.96.0.0/12', '-p', 'udp', '-j', 'KUBE-MARK-MASQ'],
            // an input interface the tracer cannot class, before the -d: must show as not evaluated
            () => ['-i', 'odd0', '-d', `${sp.clusterIP}/32`, '-j', 'KUBE-MARK-MASQ'],
            // affinity named even when it does not match: fallback list
            () => ['-d', `${sp.clusterIP}/32`, '-m', 'recent', '--name', 'X', '--rcheck', '--seconds', '60', '-j', 'KUBE-MARK-MASQ'],
            // keyed by destination port only
            () => ['-p', 'tcp', '-m', 'tcp', '--dport', String(sp.nodePort ?? sp.port), '-j', 'KUBE-MARK-MASQ'],
            // keyed by destination, a rule that returns early
            () => ['-d', sp.clusterIP, '-p', 'tcp', '-m', 'tcp', '--dport', String(sp.port + 1), '-j', 'RETURN'],
            // negated port: fallback list
            () => ['-p', 'tcp', '-m', 'tcp', '!', '--dport', String(sp.port), '-m', 'mark', '--mark', '0x1/0x1', '-j', 'RETURN'],
          ])();
          rules.splice(Math.floor(rand() * (rules.length + 1)), 0, { words });
        }
        return { ...c, rules };
      }),
    })),
  }));
}

function packets(seed: number): Packet[] {
  const rand = prng(seed);
  const out: Packet[] = [];
  const entries: PacketEntry[] = ['pod-local', 'node', 'external', 'pod-remote'];
  for (let i = 0; i < 600; i++) {
    const sp = services[Math.floor(rand() * services.length)]!;
    const entry = entries[Math.floor(rand() * entries.length)]!;
    const src = entry === 'pod-local' ? '10.128.1.200' : entry === 'node' ? fam.nodeIPs[0]! : entry === 'external' ? '203.0.113.9' : '10.128.2.200';
    const kind = rand();
    if (kind < 0.6) out.push({ src, dst: sp.clusterIP, dport: rand() < 0.9 ? sp.port : sp.port + 1, protocol: rand() < 0.9 ? 'TCP' : 'UDP', entry });
    else if (kind < 0.85 && sp.nodePort) out.push({ src, dst: fam.nodeIPs[0]!, dport: sp.nodePort, protocol: 'TCP', entry });
    else out.push({ src, dst: `10.96.${Math.floor(rand() * 8)}.${1 + Math.floor(rand() * 250)}`, dport: [80, 443, 8080, 9090][Math.floor(rand() * 4)]!, protocol: 'TCP', entry });
  }
  return out;
}

for (const seed of [1, 2, 3]) {
  test(`indexed and ordered iptables walks give identical traces (seed ${seed})`, () => {
    const rulesets = mixedRulesets(seed);
    const indexed = new IptablesEvaluator(rulesets, { rendered: true });
    const ordered = new IptablesEvaluator(rulesets, { rendered: true, ordered: true });
    let forwarded = 0;
    let unevaluated = 0;
    for (const p of packets(seed * 101)) {
      const a = indexed.trace(p, ctx);
      assert.deepEqual(a, ordered.trace(p, ctx), JSON.stringify(p));
      assert.deepEqual(indexed.outcome(p, ctx), { ...a, hops: [] });
      if (a.verdict === 'forwarded') forwarded++;
      if (a.hops.some((h) => h.unevaluated)) unevaluated++;
    }
    // The packets exercise both kinds of path, and the rules the index must not skip.
    assert.ok(forwarded > 100, `${forwarded} forwarded`);
    assert.ok(unevaluated > 0, 'some packet met a rule that cannot be evaluated');
  });
}

test('every mode gives as outcome its trace without the hops', () => {
  const sample = packets(9).slice(0, 400);
  for (const name of ['iptables', 'ipvs', 'nftables']) {
    const mode = modeFor(name, 'test');
    const ev = mode.tracer(mode.render(view, { ...config, mode: name as typeof config.mode }), { rendered: true }) as ReturnType<typeof mode.tracer> & { outcome(p: Packet, c: NodeContext): TraceResult };
    assert.equal(typeof ev.outcome, 'function', name);
    for (const p of sample) assert.deepEqual(ev.outcome(p, ctx), { ...ev.trace(p, ctx), hops: [] }, `${name} ${JSON.stringify(p)}`);
  }
});
