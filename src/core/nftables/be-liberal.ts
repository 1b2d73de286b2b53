// What a 1.29 kube-proxy table tells of its node's net.netfilter.nf_conntrack_tcp_be_liberal: that
// release wrote `ct state invalid drop` in its `forward` chain only when the sysctl was 0 (#120412), so
// a live table with that chain answers the question the node's sysctl would.
import { CHAIN } from './names.js';
import type { NftTable } from './types.js';

/** true/false when the table has 1.29's `forward` chain (without / with the drop rule); undefined otherwise. */
export function beLiberalOfTable(t: NftTable | undefined): boolean | undefined {
  const chain = t?.chains.find((c) => c.name === CHAIN.forward);
  if (!chain) return undefined;
  return !chain.rules.some((r) => r.rule.trim() === 'ct state invalid drop');
}
