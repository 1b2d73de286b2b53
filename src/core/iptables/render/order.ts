// The order in which kube-proxy writes its `-A` lines.
//
// A Ruleset keeps each chain's rules together, which is all iptables-restore cares about: every `-A`
// appends to its own chain, so only the order within a chain matters. kube-proxy's text, though, writes
// the lines of different chains interleaved (a service's KUBE-SERVICES rule, then its KUBE-NODEPORTS
// rules, then its own chains …). To reproduce that text exactly, the renderer numbers every rule it
// writes, per table, in kube-proxy's write order, and keeps the numbers here, beside the data rather than
// in it: the Ruleset stays plain (deep-equal to a parsed one), and a Ruleset that did not come from the
// renderer (parsed, copied, edited) is written chain by chain instead, which iptables-restore loads
// identically.

import type { Chain, Rule, Table } from '../types.js';

const sequence = new WeakMap<Rule, number>();

export function setWriteSequence(rule: Rule, seq: number): void {
  sequence.set(rule, seq);
}

export interface OrderedRule {
  chain: Chain;
  rule: Rule;
}

/**
 * A table's rules in the order kube-proxy writes them when every rule carries the renderer's sequence
 * number; otherwise chain by chain, in chain order.
 */
export function rulesInWriteOrder(table: Table): OrderedRule[] {
  const out: OrderedRule[] = [];
  let numbered = true;
  for (const chain of table.chains) {
    for (const rule of chain.rules) {
      out.push({ chain, rule });
      if (numbered && !sequence.has(rule)) numbered = false;
    }
  }
  if (numbered) out.sort((a, b) => sequence.get(a.rule)! - sequence.get(b.rule)!);
  return out;
}
