// The chains the userspace proxier owns and the rules that jump to them from the built-in chains
// (proxier.go iptablesInit). Order matters: portal rules are matched before node-port rules, because a
// node-port rule matches any local destination with that port (GCE even marks load-balancer IPs LOCAL).
import type { TableName } from '../iptables/index.js';

export const CONTAINER_PORTAL_CHAIN = 'KUBE-PORTALS-CONTAINER';
export const HOST_PORTAL_CHAIN = 'KUBE-PORTALS-HOST';
export const CONTAINER_NODEPORT_CHAIN = 'KUBE-NODEPORT-CONTAINER';
export const HOST_NODEPORT_CHAIN = 'KUBE-NODEPORT-HOST';
export const NON_LOCAL_NODEPORT_CHAIN = 'KUBE-NODEPORT-NON-LOCAL';

export const USERSPACE_CHAINS: ReadonlyArray<{ table: TableName; chain: string }> = [
  { table: 'nat', chain: CONTAINER_PORTAL_CHAIN },
  { table: 'nat', chain: HOST_PORTAL_CHAIN },
  { table: 'nat', chain: CONTAINER_NODEPORT_CHAIN },
  { table: 'nat', chain: HOST_NODEPORT_CHAIN },
  { table: 'filter', chain: NON_LOCAL_NODEPORT_CHAIN },
];

export const PORTALS_COMMENT = 'handle ClusterIPs; NOTE: this must be before the NodePort rules';
export const NODEPORTS_COMMENT = 'handle service NodePorts; NOTE: this must be the last rule in the chain';
export const NON_LOCAL_COMMENT = 'Ensure that non-local NodePort traffic can flow';

export interface PortalJumpRule {
  table: TableName;
  chain: 'PREROUTING' | 'OUTPUT' | 'INPUT';
  target: string;
  /** Upstream prepends the portal jumps and appends the node-port jumps (EnsureRule Prepend/Append). */
  position: 'prepend' | 'append';
  words: string[];
}

/** iptablesInit's five jump rules, in the order it ensures them. */
export function portalJumpRules(): PortalJumpRule[] {
  const portals = ['-m', 'comment', '--comment', PORTALS_COMMENT];
  const nodePorts = ['-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', NODEPORTS_COMMENT];
  return [
    { table: 'nat', chain: 'PREROUTING', target: CONTAINER_PORTAL_CHAIN, position: 'prepend', words: [...portals, '-j', CONTAINER_PORTAL_CHAIN] },
    { table: 'nat', chain: 'OUTPUT', target: HOST_PORTAL_CHAIN, position: 'prepend', words: [...portals, '-j', HOST_PORTAL_CHAIN] },
    { table: 'nat', chain: 'PREROUTING', target: CONTAINER_NODEPORT_CHAIN, position: 'append', words: [...nodePorts, '-j', CONTAINER_NODEPORT_CHAIN] },
    { table: 'nat', chain: 'OUTPUT', target: HOST_NODEPORT_CHAIN, position: 'append', words: [...nodePorts, '-j', HOST_NODEPORT_CHAIN] },
    { table: 'filter', chain: 'INPUT', target: NON_LOCAL_NODEPORT_CHAIN, position: 'prepend', words: ['-m', 'comment', '--comment', NON_LOCAL_COMMENT, '-j', NON_LOCAL_NODEPORT_CHAIN] },
  ];
}

/** `iptables -t T -I|-A CHAIN words…` argv (without the iptables binary) for one jump rule. */
export function jumpRuleArgv(j: PortalJumpRule): string[] {
  return ['-t', j.table, j.position === 'prepend' ? '-I' : '-A', j.chain, ...j.words];
}
