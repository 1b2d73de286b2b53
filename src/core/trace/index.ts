// core/trace: one packet through a node's rules, hop by hop. Each mode's definition (core/modes) carries its
// tracer; the command asks the mode and never switches on it.
export type { Affinity, Hop, ModeEvaluator, NodeContext, Packet, PacketEntry, TraceEndpoint, TraceResult, Verdict } from './types.js';
export { IptablesEvaluator, iptablesEvaluator } from './iptables.js';
export { IpvsEvaluator, ipvsEvaluator, type IpvsTraceOptions } from './ipvs.js';
export { targetsFromState, targetsFromSummaries, type ServicePortTarget } from './targets.js';
export { addressNearTop } from './addr.js';

/** JSON of a result: the documented shape of `trace -o json`. */
export function traceJson(target: string, from: string, r: { mode: string; verdict: string; endpoints: Array<{ ip: string; port: number; probability: number }>; masquerade: boolean | null; hops: Array<{ table: string; chain: string; rule: string; action: string; because?: unknown }> }) {
  return {
    target,
    mode: r.mode,
    from,
    verdict: r.verdict,
    endpoints: r.endpoints.map((e) => ({ ip: e.ip, port: e.port, probability: e.probability })),
    masquerade: r.masquerade,
    hops: r.hops.map((h) => ({ table: h.table, chain: h.chain, rule: h.rule, action: h.action, ...(h.because ? { because: h.because } : {}) })),
  };
}
