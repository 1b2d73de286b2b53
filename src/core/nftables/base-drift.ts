// What the node-wide objects of kube-proxy's nftables table do, said of a difference: its base chains (hook
// and priority by layout: layout.ts), the fixed chains' rules (masquerading, mark-for-masquerade, the
// dispatch in services, the endpoint, cluster-IP and firewall checks), and the members of its sets and
// maps (cluster-ips, nodeport-ips, service-ips, service-nodeports, no-endpoint-*, firewall-ips). drift.ts
// finds the differences; this file says which traffic each one affects.
import { joinHostPort } from '../net/ip.js';
import type { NftBaseChain, NftElement } from './types.js';
import { CHAIN, PREFIX, SET } from './names.js';

/** The DNAT priority of the nat hooks: a filter chain below it sees packets before DNAT, above it after. */
const DNAT_PRIORITY = -100;

function baseText(b: NftBaseChain | undefined): string {
  return b ? `${b.type} hook ${b.hook} priority ${b.priority}${b.policy && b.policy !== 'accept' ? ` policy ${b.policy}` : ''}` : 'no hook (a regular chain)';
}

/** A base chain hooked elsewhere than kube-proxy hooks it, in words. */
export function baseChainChange(chain: string, expected: NftBaseChain | undefined, actual: NftBaseChain | undefined): string {
  const what = `chain ${chain} is ${baseText(actual)}, kube-proxy makes it ${baseText(expected)}`;
  if (!expected || !actual) return `${what}: ${expected ? `nothing jumps to its rules from a hook: ${BASE_CHAIN_EFFECT(chain)}` : 'its rules run on every packet of that hook'}`;
  if (actual.policy === 'drop' && expected.policy !== 'drop') return `${what}: every packet of hook ${actual.hook} that no rule accepts is dropped`;
  if (actual.hook !== expected.hook) return `${what}: ${BASE_CHAIN_EFFECT(chain)} on hook ${expected.hook}`;
  const side = (p: number) => (p < DNAT_PRIORITY ? 'before' : 'after');
  if (expected.type === 'filter' && side(actual.priority) !== side(expected.priority)) {
    return `${what}: its checks see packets ${side(actual.priority)} DNAT instead of ${side(expected.priority)}, so they match other addresses than they are written for`;
  }
  return `${what}: its checks run in another order with other tables' chains of hook ${expected.hook}`;
}

function BASE_CHAIN_EFFECT(chain: string): string {
  if (chain === 'nat-prerouting') return 'no service is reachable from pods or from outside the node';
  if (chain === 'nat-output') return 'no service is reachable from the node itself';
  if (chain === 'nat-postrouting') return 'no traffic is SNATed';
  return 'the checks it jumps to do not run (services without endpoints are not rejected, loadBalancerSourceRanges and ClusterIP checks are not enforced)';
}

/** What a jump from a base chain does, said of its absence. */
function jumpEffect(from: string, to: string): string {
  if (to === CHAIN.services) return from === 'nat-output' ? 'no service is reachable from the node itself' : 'no service is reachable from pods or from outside the node';
  if (to === CHAIN.masquerading) return 'no traffic is SNATed';
  if (to === CHAIN.serviceEndpointsCheck) return `traffic to services without endpoints is not rejected on ${from.replace(/^filter-/, '')} (it hangs or reaches a host service)`;
  if (to === CHAIN.nodePortEndpointsCheck) return 'NodePorts without endpoints are not rejected (connections hang)';
  if (to === CHAIN.firewallCheck) return `loadBalancerSourceRanges are not enforced on ${from.replace(/^filter-/, '')}`;
  if (to === CHAIN.clusterIPsCheck) return `traffic to ClusterIP ports no service uses is not rejected, nor to unallocated ClusterIPs dropped, on ${from.replace(/^filter-/, '')}`;
  // 1.29's own chains
  if (to === CHAIN.endpointsCheck) return `traffic to services and NodePorts without endpoints is not rejected on ${from.replace(/^filter-/, '')} (it hangs or reaches a host service)`;
  if (to === CHAIN.forward) return INVALID_NOT_DROPPED;
  return `${to} is never reached from ${from}`;
}

/** 1.29's `forward` chain: what its one rule is for (kubernetes#74840, #120412). */
const INVALID_NOT_DROPPED =
  'forwarded packets conntrack holds INVALID are not dropped: they leave un-NATed and can reset the connection they belong to (unless the node sets nf_conntrack_tcp_be_liberal)';

/** What a rule of a fixed chain does, said of its absence (canonical rule text). */
export function ruleMissingEffect(chain: string, rule: string): string {
  const jump = /^(?:ct state new )?jump (\S+)$/.exec(rule);
  if (jump) return jumpEffect(chain, jump[1]!);
  if (chain === CHAIN.masquerading) {
    if (/\bmasquerade\b/.test(rule)) return 'no traffic is SNATed';
    if (/\breturn$/.test(rule)) return 'all traffic leaving the node is SNATed, not only service traffic';
    if (/\bxor\b/.test(rule)) return 'the masquerade mark is not cleared: a packet that crosses the stack again is SNATed again';
  }
  if (chain === CHAIN.markMasq) return 'no traffic is marked for SNAT, so none is SNATed';
  if (chain === CHAIN.services) {
    if (rule.includes(`@${SET.serviceNodePorts}`)) return 'every NodePort is unreachable';
    if (rule.includes(`@${SET.serviceIPs}`)) return 'no ClusterIP, external IP or LoadBalancer IP is reachable';
  }
  if (chain === CHAIN.serviceEndpointsCheck) return 'traffic to services without endpoints is not rejected (it hangs or reaches a host service)';
  if (chain === CHAIN.nodePortEndpointsCheck) return 'NodePorts without endpoints are not rejected (connections hang)';
  if (chain === CHAIN.firewallCheck) return 'loadBalancerSourceRanges are not enforced';
  if (chain === CHAIN.endpointsCheck) {
    if (rule.includes(`@${SET.noEndpointNodePorts}`)) return 'NodePorts without endpoints are not rejected (connections hang)';
    return 'traffic to services without endpoints is not rejected (it hangs or reaches a host service)';
  }
  if (chain === CHAIN.forward) return INVALID_NOT_DROPPED;
  if (chain === CHAIN.firewallAllowCheck) {
    if (/\breturn$/.test(rule)) return 'clients inside loadBalancerSourceRanges are dropped too';
    return 'loadBalancerSourceRanges are not enforced';
  }
  if (chain === CHAIN.reject) return 'traffic meant to be rejected is let through';
  if (chain === CHAIN.clusterIPsCheck) {
    if (/\breject\b/.test(rule)) return 'connections to ClusterIP ports no service uses are not rejected';
    if (/\bdrop\b/.test(rule)) return 'traffic to unallocated ClusterIPs is not dropped';
  }
  return 'kube-proxy writes it';
}

/** What a rule kube-proxy does not write in one of its fixed chains does. */
export function ruleExtraEffect(_chain: string, rule: string): string {
  if (/\b(drop|reject)\b/.test(rule)) return `traffic it matches is ${/\bdrop\b/.test(rule) ? 'dropped' : 'rejected'}`;
  if (/\b(masquerade|snat)\b/.test(rule)) return 'traffic it matches is SNATed';
  if (/\bmark set\b/.test(rule)) return 'it marks traffic kube-proxy does not mark';
  return 'kube-proxy does not write it';
}

/** A fixed chain of kube-proxy's table missing altogether. */
export function chainMissingEffect(chain: string): string {
  if (chain === CHAIN.masquerading) return 'no traffic is SNATed';
  if (chain === CHAIN.markMasq) return 'no traffic is marked for SNAT, so none is SNATed (and the table does not load)';
  if (chain === CHAIN.services) return 'no service is reachable';
  if (/^(nat|filter)-/.test(chain)) return BASE_CHAIN_EFFECT(chain);
  return `${ruleMissingEffect(chain, '')} (and the rules that jump to it do not load)`;
}

// ---- set and map members ----

function proto(p: string): string {
  return p.toUpperCase();
}

/** "1.2.3.4 . tcp . 80" -> "1.2.3.4:80/TCP"; "tcp . 3001" -> "3001/TCP". */
function destination(key: readonly string[]): string {
  if (key.length === 3) return `${joinHostPort(key[0]!, Number(key[2]))}/${proto(key[1]!)}`;
  if (key.length === 2) return `${key[1]}/${proto(key[0]!)}`;
  return key.join(' . ');
}

function targetNoun(value: readonly string[] | undefined): string {
  const chain = /(?:goto|jump) (\S+)/.exec((value ?? []).join(' '))?.[1] ?? '';
  if (chain.startsWith(PREFIX.cluster)) return 'ClusterIP';
  if (chain.startsWith(PREFIX.external) || chain.startsWith(PREFIX.local)) return 'external or LoadBalancer IP';
  return 'service address';
}

/** What a member of `set` does, said of its absence ('missing') or presence where kube-proxy has none ('extra'). */
export function memberEffect(set: string, e: NftElement, how: 'missing' | 'extra'): string {
  const verdict = (e.value ?? []).join(' ');
  switch (set) {
    case SET.clusterIPs:
      return how === 'missing'
        ? `ClusterIP ${e.key[0]}: connections to its ports no service uses are dropped as unallocated, not rejected`
        : `${e.key[0]} is taken for an allocated ClusterIP: connections to it are rejected rather than dropped`;
    case SET.nodePortIPs:
      return how === 'missing' ? `NodePorts are unreachable on ${e.key[0]}` : `NodePorts are reachable on ${e.key[0]}, which nodePortAddresses do not name`;
    case SET.serviceIPs:
      return how === 'missing' ? `${targetNoun(e.value)} ${destination(e.key)} is unreachable (nothing DNATs it)` : `traffic to ${destination(e.key)} still goes to ${verdict}`;
    case SET.serviceNodePorts:
      return how === 'missing' ? `NodePort ${destination(e.key)} is unreachable` : `NodePort ${destination(e.key)} still goes to ${verdict}`;
    case SET.noEndpointServices:
      return how === 'missing'
        ? `${destination(e.key)} has no endpoints, yet its traffic is not ${verdict.includes('drop') ? 'dropped' : 'rejected'} (it hangs or reaches a host service)`
        : `traffic to ${destination(e.key)} is ${verdict.includes('drop') ? 'dropped' : 'rejected'} though it has endpoints`;
    case SET.noEndpointNodePorts:
      return how === 'missing'
        ? `NodePort ${destination(e.key)} has no endpoints, yet its traffic is not ${verdict.includes('drop') ? 'dropped' : 'rejected'}`
        : `NodePort ${destination(e.key)} is ${verdict.includes('drop') ? 'dropped' : 'rejected'} though it has endpoints`;
    case SET.firewallIPs:
    case SET.firewall:
      return how === 'missing' ? `loadBalancerSourceRanges of ${destination(e.key)} are not enforced (every client gets in)` : `${destination(e.key)} is checked against source ranges it does not have`;
    case SET.firewallAllow: {
      // (LB IP, proto, port, source range)
      const dst = destination(e.key.slice(0, 3));
      return how === 'missing'
        ? `clients in ${e.key[3]} are dropped at ${dst} though its loadBalancerSourceRanges let them in`
        : `clients in ${e.key[3]} get into ${dst} though its loadBalancerSourceRanges do not name them`;
    }
    default:
      return how === 'missing' ? 'kube-proxy has it there' : 'kube-proxy does not have it there';
  }
}

/** Whether `chain` is one of kube-proxy's fixed (not per-service) chains. */
export function isFixedChain(chain: string): boolean {
  return (Object.values(CHAIN) as string[]).includes(chain) || /^(nat|filter)-/.test(chain);
}

const SET_EFFECT: Record<string, string> = {
  [SET.clusterIPs]: 'connections to ClusterIP ports no service uses are not rejected',
  [SET.nodePortIPs]: 'every NodePort is unreachable',
  [SET.serviceIPs]: 'no ClusterIP, external IP or LoadBalancer IP is reachable',
  [SET.serviceNodePorts]: 'every NodePort is unreachable',
  [SET.noEndpointServices]: 'traffic to services without endpoints is not rejected (it hangs or reaches a host service)',
  [SET.noEndpointNodePorts]: 'NodePorts without endpoints are not rejected (connections hang)',
  [SET.firewallIPs]: 'loadBalancerSourceRanges are not enforced',
  [SET.firewall]: 'loadBalancerSourceRanges are not enforced',
  [SET.firewallAllow]: 'every client of a LoadBalancer IP with loadBalancerSourceRanges is dropped',
};

/** A fixed set or map missing altogether: the rules that use it cannot exist without it. */
export function setMissingEffect(set: string): string | undefined {
  return SET_EFFECT[set];
}
