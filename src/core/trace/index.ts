// core/trace: one packet through a node's rules, hop by hop. Each mode registers one ModeEvaluator
// factory here; the command asks for a mode's tracer and never switches on the mode itself.
import type { ProxyMode } from '../config/index.js';
import { NotImplementedError } from '../errors.js';
import type { Ruleset } from '../iptables/types.js';
import type { IpvsState } from '../ipvs/types.js';
import { iptablesEvaluator } from './iptables.js';
import { ipvsEvaluator } from './ipvs.js';
import type { ModeEvaluator } from './types.js';

export type { Affinity, Hop, ModeEvaluator, NodeContext, Packet, PacketEntry, TraceEndpoint, TraceResult, Verdict } from './types.js';
export { IptablesEvaluator, iptablesEvaluator } from './iptables.js';
export { IpvsEvaluator, ipvsEvaluator, type IpvsTraceOptions } from './ipvs.js';
export { detectDumpKind, DUMP_MODE, type DumpKind } from './dump.js';
export { clusterCIDRFromRules, targetsFromRules, targetsFromState, type ServicePortTarget } from './targets.js';
export { addressNearTop } from './addr.js';

/** The rules a mode's tracer reads. iptables: its rulesets; ipvs: its states (virtual servers, ipsets, companion rules). */
export interface TraceRules {
  iptables?: Ruleset[];
  /** ipvs: each family's virtual servers, ipsets and companion iptables rules. */
  ipvs?: IpvsState[];
  /** Rendered by our engine (no built-in chains: kube-proxy's jumps are implied), not read from a node. */
  rendered?: boolean;
}

const TRACERS: Partial<Record<ProxyMode, (rules: TraceRules) => ModeEvaluator>> = {
  iptables: (rules) => iptablesEvaluator(rules.iptables ?? [], { rendered: rules.rendered }),
  ipvs: (rules) => ipvsEvaluator(rules.ipvs ?? [], { rendered: rules.rendered }),
};

export function tracerFor(mode: ProxyMode, rules: TraceRules): ModeEvaluator {
  const make = TRACERS[mode];
  if (!make) throw new NotImplementedError(`tracing mode ${mode}`);
  return make(rules);
}

/** JSON of a result exactly as shared/spec/cli.md documents `trace -o json`. */
export function traceJson(target: string, from: string, r: { mode: string; verdict: string; endpoints: Array<{ ip: string; port: number; probability: number }>; masquerade: boolean; hops: Array<{ table: string; chain: string; rule: string; action: string }> }) {
  return {
    target,
    mode: r.mode,
    from,
    verdict: r.verdict,
    endpoints: r.endpoints.map((e) => ({ ip: e.ip, port: e.port, probability: e.probability })),
    masquerade: r.masquerade,
    hops: r.hops.map((h) => ({ table: h.table, chain: h.chain, rule: h.rule, action: h.action })),
  };
}
