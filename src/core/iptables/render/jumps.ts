// The rules kube-proxy keeps in the built-in chains, outside its iptables-restore input (which only
// replaces its own chains): iptablesJumpChains and iptablesKubeletJumpChains of
// pkg/proxy/iptables/proxier.go. On every full sync it runs, for each entry in this order,
//   iptables -t TABLE -N DST            (EnsureChain; "already exists" is fine)
//   iptables -t TABLE -C SRC WORDS… || iptables -t TABLE -I SRC WORDS…   (EnsureRule(Prepend, …))
// where WORDS = extra match words, then `-m comment --comment COMMENT` when there is a comment, then
// `-j DST`. Because each missing rule is inserted at the head of its chain, on a fresh host the entries
// of one chain end up in the reverse of this order. The same list (with iptablesCleanupOnlyChains, empty
// today) is what CleanupLeftovers deletes.
//
// The iptables monitor also creates an empty KUBE-PROXY-CANARY chain in mangle, nat and filter and
// treats its disappearance as "someone flushed the tables" (forcing a full sync).

import type { KubeProxyConfiguration } from '../../config/index.js';
import { KUBE_CHAINS } from '../names.js';
import type { IPFamily, TableName } from '../types.js';

export interface JumpRule {
  table: TableName;
  /** The built-in chain the rule lives in. */
  chain: string;
  /** The chain it jumps to (kube-proxy creates it first). */
  target: string;
  /** The rule's words after `-A/-I/-C CHAIN`, unquoted. */
  words: string[];
  /** EnsureRule position: kube-proxy inserts every missing jump at the head of the chain. */
  position: 'prepend' | 'append';
  /** False for the kubelet-duplicate KUBE-FIREWALL jumps, which CleanupLeftovers leaves in place. */
  removedOnCleanup: boolean;
}

interface JumpSpec {
  table: TableName;
  target: string;
  chain: string;
  comment: string;
  extra: string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

const JUMP_CHAINS: JumpSpec[] = [
  { table: 'filter', target: KUBE_CHAINS.externalServices.name, chain: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', target: KUBE_CHAINS.externalServices.name, chain: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', target: KUBE_CHAINS.nodePorts.name, chain: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', target: KUBE_CHAINS.services.name, chain: 'FORWARD', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', target: KUBE_CHAINS.services.name, chain: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', target: KUBE_CHAINS.forward.name, chain: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', target: KUBE_CHAINS.proxyFirewall.name, chain: 'INPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', target: KUBE_CHAINS.proxyFirewall.name, chain: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', target: KUBE_CHAINS.proxyFirewall.name, chain: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'nat', target: KUBE_CHAINS.services.name, chain: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', target: KUBE_CHAINS.services.name, chain: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', target: KUBE_CHAINS.postrouting.name, chain: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
];

/** Duplicates of kubelet's own jumps; created on start, never removed by kube-proxy. */
const KUBELET_JUMP_CHAINS: JumpSpec[] = [
  { table: 'filter', target: KUBE_CHAINS.firewall.name, chain: 'INPUT', comment: '', extra: [] },
  { table: 'filter', target: KUBE_CHAINS.firewall.name, chain: 'OUTPUT', comment: '', extra: [] },
];

/**
 * The jump rules kube-proxy ensures in built-in chains, in the order it ensures them. They are the same
 * for both families and every configuration of the current iptables proxier; the parameters are there so
 * callers need not know that.
 */
export function jumpRules(_config?: KubeProxyConfiguration, _family?: IPFamily): JumpRule[] {
  const out: JumpRule[] = [];
  for (const [list, removedOnCleanup] of [[JUMP_CHAINS, true], [KUBELET_JUMP_CHAINS, false]] as const) {
    for (const j of list) {
      const words = [...j.extra];
      if (j.comment !== '') words.push('-m', 'comment', '--comment', j.comment);
      words.push('-j', j.target);
      out.push({ table: j.table, chain: j.chain, target: j.target, words, position: 'prepend', removedOnCleanup });
    }
  }
  return out;
}

/** The chains the iptables monitor creates to notice a flush of the tables. */
export function canaryChains(): Array<{ table: TableName; chain: string }> {
  return KUBE_CHAINS.canary.tables.map((table) => ({ table, chain: KUBE_CHAINS.canary.name }));
}
