// core/trace: one packet through a node's proxy rules, hop by hop. Each proxy mode supplies one
// ModeEvaluator (iptables now; ipvs, nftables and userspace later) so neither the command nor the views
// ever switch on the mode: they build a Packet and a NodeContext, call trace(), and print the TraceResult.
import type { Reason } from '../why/types.js';

/** Where the packet enters the node. */
export type PacketEntry =
  /** From a pod on this node: arrives on the pod bridge/veth (cni0, veth+, cali+ …), PREROUTING. */
  | 'pod-local'
  /** From a pod on another node: arrives on the uplink or the overlay device, PREROUTING. */
  | 'pod-remote'
  /** From outside the cluster: arrives on the node's uplink (eth0), PREROUTING. */
  | 'external'
  /** From a process on the node itself: nat OUTPUT, filter OUTPUT, POSTROUTING. */
  | 'node';

export interface Packet {
  src: string;
  dst: string;
  dport: number;
  /** Source port; rules rarely look at it. Default 40000. */
  sport?: number;
  /** TCP, UDP or SCTP (any case). */
  protocol: string;
  entry: PacketEntry;
}

/** What the evaluator needs to know about the node the packet is traced on. */
export interface NodeContext {
  nodeName?: string;
  /**
   * The node's own addresses (`addrtype LOCAL`, and the routing decision after DNAT). Loopback is always
   * local. When undefined (a bare dump), a LOCAL test of any other address cannot be evaluated.
   */
  localAddresses?: string[];
  /** The node's pod CIDRs: a DNAT to one of them leaves on the pod bridge, anything else on the uplink. */
  podCIDRs?: string[];
  /** ipset contents by set name (`-m set --match-set`), as `ipset save` lists members. */
  ipsets?: Map<string, string[]>;
}

export type Verdict = 'forwarded' | 'accepted' | 'rejected' | 'dropped' | 'not-matched';

export interface Hop {
  /** nat, filter, … ; "routing" for the routing decision between hooks. */
  table: string;
  chain: string;
  /** The rule as iptables-save prints it (after `-A CHAIN`), or "policy ACCEPT", or the routing decision. */
  rule: string;
  /** What the rule did to the packet: "jump KUBE-SVC-…", "DNAT to 10.244.1.5:8080 (33.3%)", "ACCEPT" … */
  action: string;
  /** Share of new connections that took this hop, when below 1. */
  share?: number;
  /** How deep in jumps from the hook's built-in chain (0 = the built-in chain itself), for indentation. */
  depth?: number;
  /** The rule could not be evaluated (its words name why in `action`). */
  unevaluated?: boolean;
  /** Why the rule is there: the objects' fields it comes from (core/why), set after the trace. */
  because?: Reason[];
}

export interface TraceEndpoint {
  ip: string;
  port: number;
  /** Share of new connections sent to this endpoint. */
  probability: number;
  /** The chain that DNATs to it (KUBE-SEP-…), when there is one. */
  via?: string;
  /** Whether this endpoint's branch masquerades the source. */
  masquerade: boolean;
}

export interface Affinity {
  /** How long a client stays on the endpoint it first reached. */
  seconds: number;
  /** The recent list (iptables) or persistence (ipvs) holding it. */
  name: string;
}

export interface TraceResult {
  mode: string;
  verdict: Verdict;
  endpoints: TraceEndpoint[];
  /** Whether the source is rewritten; null when the rules at hand cannot tell (a dump without that part). */
  masquerade: boolean | null;
  /** One sentence: why the source is (or is not) rewritten. */
  masqueradeReason: string;
  hops: Hop[];
  affinity?: Affinity;
  /**
   * Reasons the verdict is qualified: rules the evaluator could not evaluate (treated as not matching),
   * assumptions it had to make. Empty when the verdict is exact.
   */
  qualifications: string[];
  /** Shares of the other verdicts when branches end differently (e.g. 0.1 dropped), by verdict. */
  otherVerdicts?: Partial<Record<Verdict, number>>;
}

/** One proxy mode's packet evaluator over rules already parsed and indexed. */
export interface ModeEvaluator {
  readonly mode: string;
  trace(packet: Packet, node: NodeContext): TraceResult;
}
