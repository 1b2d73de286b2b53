// Chain names kube-proxy's iptables proxier uses: the fixed top-level chains and their tables, and the
// per-service chains whose names are hashed from the service port name.
//
// Hashing, as pkg/proxy/iptables/proxier.go (portProtoHash, servicePortPolicyClusterChain,
// servicePortPolicyLocalChainName, serviceFirewallChainName, serviceExternalChainName,
// servicePortEndpointChainName) computes it: SHA-256 of the concatenation
//   svcPortName + protocol            (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-: the same 16 characters)
//   svcPortName + protocol + endpoint (KUBE-SEP-)
// with svcPortName = ServicePortName.String() ("ns/name:port", or "ns/name" for an unnamed port), protocol
// lower-cased ("tcp", "udp", "sctp") and endpoint = "ip:port" as net.JoinHostPort prints it. The digest is
// encoded with standard base32 (RFC 4648 alphabet A-Z 2-7, as Go's base32.StdEncoding) and cut to its first
// 16 characters. Checked against the names in upstream's proxier_test.go (ns1/svc1:p80 tcp ->
// XPGD46QRK7WJZT7O; ns1/svc1:p80 tcp 10.180.0.1:80 -> KUBE-SEP-SXIVWICOYRO3J4NJ).

import { createHash } from 'node:crypto';
import type { TableName } from './types.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first `chars` characters of the standard base32 encoding of `bytes`. */
function base32Prefix(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length && out.length < chars; i++) {
    buffer = (buffer << 8) | bytes[i]!;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

function hash16(text: string): string {
  return base32Prefix(createHash('sha256').update(text, 'utf8').digest(), 16);
}

/** portProtoHash: the 16 characters shared by a service port's SVC, SVL, EXT and FW chains. */
export function portProtoHash(svcPortName: string, protocol: string): string {
  return hash16(svcPortName + protocol.toLowerCase());
}

export const SERVICE_CHAIN_PREFIX = {
  /** Cluster traffic policy: dispatch to all usable endpoints. */
  clusterPolicy: 'KUBE-SVC-',
  /** Local traffic policy: dispatch to this node's endpoints. */
  localPolicy: 'KUBE-SVL-',
  /** loadBalancerSourceRanges filtering. */
  firewall: 'KUBE-FW-',
  /** External destinations (NodePort, external IPs, load balancer IPs). */
  external: 'KUBE-EXT-',
  /** One endpoint. */
  endpoint: 'KUBE-SEP-',
} as const;

/** The per-service-port chains of one service port (protocol in any case; kube-proxy lower-cases it). */
export function chainNames(svcPortName: string, protocol: string): { svc: string; svl: string; ext: string; fw: string } {
  const h = portProtoHash(svcPortName, protocol);
  return {
    svc: SERVICE_CHAIN_PREFIX.clusterPolicy + h,
    svl: SERVICE_CHAIN_PREFIX.localPolicy + h,
    ext: SERVICE_CHAIN_PREFIX.external + h,
    fw: SERVICE_CHAIN_PREFIX.firewall + h,
  };
}

/** servicePortEndpointChainName: the KUBE-SEP- chain of one endpoint ("ip:port") of a service port. */
export function endpointChainName(svcPortName: string, protocol: string, endpoint: string): string {
  return SERVICE_CHAIN_PREFIX.endpoint + hash16(svcPortName + protocol.toLowerCase() + endpoint);
}

/** isServiceChainName: a chain kube-proxy owns per service (and deletes when it becomes stale). */
export function isServiceChainName(chain: string): boolean {
  return (
    chain.startsWith(SERVICE_CHAIN_PREFIX.clusterPolicy) ||
    chain.startsWith(SERVICE_CHAIN_PREFIX.localPolicy) ||
    chain.startsWith(SERVICE_CHAIN_PREFIX.endpoint) ||
    chain.startsWith(SERVICE_CHAIN_PREFIX.firewall) ||
    chain.startsWith(SERVICE_CHAIN_PREFIX.external)
  );
}

/** The part of a service chain's name after its prefix (the hash), or null for other chains. */
export function serviceChainHash(chain: string): string | null {
  for (const p of Object.values(SERVICE_CHAIN_PREFIX)) {
    if (chain.startsWith(p)) return chain.slice(p.length);
  }
  return null;
}

export interface KubeChain {
  readonly name: string;
  readonly tables: readonly TableName[];
}

/**
 * The top-level chains of the iptables proxier and the tables it creates them in. kube-proxy writes the
 * filter and nat ones in every restore (KUBE-FIREWALL only for IPv4 with localhost NodePorts); the canary
 * is created by its iptables monitor, outside the restore.
 */
export const KUBE_CHAINS = {
  services: { name: 'KUBE-SERVICES', tables: ['filter', 'nat'] },
  externalServices: { name: 'KUBE-EXTERNAL-SERVICES', tables: ['filter'] },
  nodePorts: { name: 'KUBE-NODEPORTS', tables: ['filter', 'nat'] },
  postrouting: { name: 'KUBE-POSTROUTING', tables: ['nat'] },
  markMasq: { name: 'KUBE-MARK-MASQ', tables: ['nat'] },
  forward: { name: 'KUBE-FORWARD', tables: ['filter'] },
  proxyFirewall: { name: 'KUBE-PROXY-FIREWALL', tables: ['filter'] },
  /** A copy of kubelet's chain holding the anti-martian rule for localhost NodePorts. */
  firewall: { name: 'KUBE-FIREWALL', tables: ['filter'] },
  /** Created (empty) by the iptables monitor to notice when something flushes the tables. */
  canary: { name: 'KUBE-PROXY-CANARY', tables: ['mangle', 'nat', 'filter'] },
} as const satisfies Record<string, KubeChain>;

/** Filter-table chain lines kube-proxy writes first in every restore, in its order. */
export const FILTER_TOP_CHAINS: readonly string[] = [
  KUBE_CHAINS.services.name,
  KUBE_CHAINS.externalServices.name,
  KUBE_CHAINS.forward.name,
  KUBE_CHAINS.nodePorts.name,
  KUBE_CHAINS.proxyFirewall.name,
];

/** Nat-table chain lines kube-proxy writes first in every restore, in its order. */
export const NAT_TOP_CHAINS: readonly string[] = [
  KUBE_CHAINS.services.name,
  KUBE_CHAINS.nodePorts.name,
  KUBE_CHAINS.postrouting.name,
  KUBE_CHAINS.markMasq.name,
];

/** largeClusterEndpointsThreshold: above this many endpoints, SEP and SVC->SEP rules lose their comments. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/** nfacct counter names (pkg/proxy/metrics). */
export const NFACCT_COUNTERS = {
  ctStateInvalidDropped: 'ct_state_invalid_dropped_pkts',
  localhostNodePortsAccepted: 'localhost_nps_accepted_pkts',
} as const;
