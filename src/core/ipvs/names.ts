// kube-proxy's ipvs names: ipsets (pkg/proxy/ipvs/ipset.go), chains and the jump rules
// (pkg/proxy/ipvs/proxier.go iptablesJumpChain, iptablesChains, ipsetInfo, ipsetWithIptablesChain).
import type { TableName } from '../iptables/types.js';

export const DUMMY_DEVICE = 'kube-ipvs0';
export const DEFAULT_SCHEDULER = 'rr';

export const SET = {
  loopBack: 'KUBE-LOOP-BACK',
  clusterIP: 'KUBE-CLUSTER-IP',
  externalIP: 'KUBE-EXTERNAL-IP',
  externalIPLocal: 'KUBE-EXTERNAL-IP-LOCAL',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  loadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  loadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  loadBalancerSourceIP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  loadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  nodePortTCP: 'KUBE-NODE-PORT-TCP',
  nodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  nodePortUDP: 'KUBE-NODE-PORT-UDP',
  nodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  nodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  nodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  healthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  ipvsIPs: 'KUBE-IPVS-IPS',
} as const;

export type SetKey = keyof typeof SET;

/** ipsetInfo, in upstream's order: name, type, comment. */
export const IPSET_INFO: ReadonlyArray<{ key: SetKey; type: string; comment: string }> = [
  { key: 'loopBack', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { key: 'clusterIP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { key: 'externalIP', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { key: 'externalIPLocal', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { key: 'loadBalancer', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { key: 'loadBalancerFW', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { key: 'loadBalancerLocal', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { key: 'loadBalancerSourceIP', type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { key: 'loadBalancerSourceCIDR', type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { key: 'nodePortTCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { key: 'nodePortLocalTCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { key: 'nodePortUDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { key: 'nodePortLocalUDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { key: 'nodePortSCTP', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { key: 'nodePortLocalSCTP', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { key: 'healthCheckNodePort', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { key: 'ipvsIPs', type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

/**
 * NewIPSet: IPv6 sets are named KUBE-6-… (the KUBE- prefix replaced once), cut to ipset's 31 characters.
 */
export function ipsetName(base: string, ipv6: boolean): string {
  if (!ipv6 || !base.startsWith('KUBE-')) return base;
  return ('KUBE-6-' + base.slice(5)).slice(0, 31);
}

export const CHAIN = {
  services: 'KUBE-SERVICES',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  sourceRangesFirewall: 'KUBE-SOURCE-RANGES-FIREWALL',
  postrouting: 'KUBE-POSTROUTING',
  markMasq: 'KUBE-MARK-MASQ',
  nodePort: 'KUBE-NODE-PORT',
  forward: 'KUBE-FORWARD',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  ipvsFilter: 'KUBE-IPVS-FILTER',
  ipvsOutFilter: 'KUBE-IPVS-OUT-FILTER',
} as const;

/** iptablesChains: the chains kube-proxy declares in its restore input, by table, in order. */
export const IPTABLES_CHAINS: ReadonlyArray<{ table: TableName; chain: string }> = [
  { table: 'nat', chain: CHAIN.services },
  { table: 'nat', chain: CHAIN.postrouting },
  { table: 'nat', chain: CHAIN.nodePort },
  { table: 'nat', chain: CHAIN.loadBalancer },
  { table: 'nat', chain: CHAIN.markMasq },
  { table: 'filter', chain: CHAIN.forward },
  { table: 'filter', chain: CHAIN.nodePort },
  { table: 'filter', chain: CHAIN.proxyFirewall },
  { table: 'filter', chain: CHAIN.sourceRangesFirewall },
  { table: 'filter', chain: CHAIN.ipvsFilter },
  { table: 'filter', chain: CHAIN.ipvsOutFilter },
];

/** iptablesJumpChain: ensured with EnsureRule(Prepend, …) as `-m comment --comment C -j TO`. */
export const IPTABLES_JUMP_CHAINS: ReadonlyArray<{ table: TableName; from: string; to: string; comment: string }> = [
  { table: 'nat', from: 'OUTPUT', to: CHAIN.services, comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: CHAIN.services, comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: CHAIN.postrouting, comment: 'kubernetes postrouting rules' },
  { table: 'filter', from: 'FORWARD', to: CHAIN.forward, comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: CHAIN.nodePort, comment: 'kubernetes health check rules' },
  { table: 'filter', from: 'INPUT', to: CHAIN.proxyFirewall, comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'FORWARD', to: CHAIN.proxyFirewall, comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'INPUT', to: CHAIN.ipvsFilter, comment: 'kubernetes ipvs access filter' },
  { table: 'filter', from: 'OUTPUT', to: CHAIN.ipvsOutFilter, comment: 'kubernetes ipvs access filter' },
];

/**
 * ipsetWithIptablesChain: for each non-empty set, `-A FROM [-p PROTO] -m comment --comment C -m set
 * --match-set NAME MATCH -j TO` in this order (the -LOCAL node-port sets before the others).
 */
export const IPSET_WITH_IPTABLES_CHAIN: ReadonlyArray<{ key: SetKey; table: TableName; from: string; to: string; match: string; proto: string }> = [
  { key: 'loopBack', table: 'nat', from: CHAIN.postrouting, to: 'MASQUERADE', match: 'dst,dst,src', proto: '' },
  { key: 'loadBalancer', table: 'nat', from: CHAIN.services, to: CHAIN.loadBalancer, match: 'dst,dst', proto: '' },
  { key: 'loadBalancerLocal', table: 'nat', from: CHAIN.loadBalancer, to: 'RETURN', match: 'dst,dst', proto: '' },
  { key: 'nodePortLocalTCP', table: 'nat', from: CHAIN.nodePort, to: 'RETURN', match: 'dst', proto: 'tcp' },
  { key: 'nodePortTCP', table: 'nat', from: CHAIN.nodePort, to: CHAIN.markMasq, match: 'dst', proto: 'tcp' },
  { key: 'nodePortLocalUDP', table: 'nat', from: CHAIN.nodePort, to: 'RETURN', match: 'dst', proto: 'udp' },
  { key: 'nodePortUDP', table: 'nat', from: CHAIN.nodePort, to: CHAIN.markMasq, match: 'dst', proto: 'udp' },
  { key: 'nodePortLocalSCTP', table: 'nat', from: CHAIN.nodePort, to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { key: 'nodePortSCTP', table: 'nat', from: CHAIN.nodePort, to: CHAIN.markMasq, match: 'dst,dst', proto: 'sctp' },
  { key: 'loadBalancerFW', table: 'filter', from: CHAIN.proxyFirewall, to: CHAIN.sourceRangesFirewall, match: 'dst,dst', proto: '' },
  { key: 'loadBalancerSourceCIDR', table: 'filter', from: CHAIN.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src', proto: '' },
  { key: 'loadBalancerSourceIP', table: 'filter', from: CHAIN.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src', proto: '' },
];

/** Kernel modules kube-proxy's ipvs mode needs (besides the scheduler's ip_vs_<name>). */
export const IPVS_BASE_MODULES = ['ip_vs', 'nf_conntrack'] as const;
