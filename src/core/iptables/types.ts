// An iptables ruleset as data: what iptables-restore takes and iptables-save prints, before it is text.
// Render produces it, serialize turns it into restore text, parse reads iptables-save text back into it;
// trace, diff and apply all work on this form.

import type { IPFamily } from '../objects/types.js';

export type { IPFamily };

/** Tables kube-proxy writes (filter, nat); real dumps also carry mangle, raw, security. */
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';

export interface Rule {
  /**
   * The rule's words after `-A CHAIN`, in order, as argv: values are unquoted, so a comment with spaces
   * is one word (`["-m", "comment", "--comment", "ns1/svc1:p80 cluster IP", "-j", "KUBE-SVC-…"]`).
   * Serialize quotes them; parse unquotes them.
   */
  words: string[];
  /** Packet and byte counters from `iptables-save -c` (`[pkts:bytes]` before -A); absent otherwise. */
  counters?: { packets: bigint; bytes: bigint };
}

export interface Chain {
  name: string;
  /** Built-in chains (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING) have a policy; user chains have "-". */
  policy: string;
  /** The chain's `[pkts:bytes]` on its `:NAME POLICY [p:b]` line. */
  counters?: { packets: bigint; bytes: bigint };
  rules: Rule[];
}

export interface Table {
  name: TableName;
  /** Chains in the order their `:NAME` lines appear. */
  chains: Chain[];
  /**
   * The order kube-proxy writes the `-A` lines in, when it is not chain by chain: it interleaves the lines
   * of different chains (a service's KUBE-SERVICES rule, its KUBE-NODEPORTS rules, then its own chains …).
   * Render sets it; a dump cannot know it. Each run takes the next `rules` rules of its chain; the runs
   * account for every rule of every chain, or the table is written chain by chain (render/order.ts).
   */
  writeOrder?: WriteRun[];
}

/** `rules` consecutive `-A` lines of one chain in kube-proxy's write order. */
export interface WriteRun {
  chain: string;
  rules: number;
  /** The service port ("ns/name:port") kube-proxy was writing; its runs are consecutive. */
  servicePort?: string;
}

export interface Ruleset {
  family: IPFamily;
  /** Tables in the order they appear (kube-proxy writes filter, then nat). */
  tables: Table[];
}
