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

import * as crypto from 'node:crypto';
import type { TableName } from './types.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE32_CODES: number[] = Array.from(BASE32_ALPHABET, (c) => c.charCodeAt(0));

/**
 * SHA-256 of the UTF-8 bytes of `text` as a string of one character per byte (latin1). crypto.hash (Node
 * 20.12+) is a one-shot call without a Hash object or a Buffer, several times faster than createHash for
 * the ~110,000 short inputs of a large cluster.
 */
const sha256Latin1: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'binary')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('binary');

/**
 * Character codes: `prefix`, then the first 16 characters of the standard base32 encoding of the SHA-256
 * of `text` (the first 80 bits, ten bytes). Filled into `out` from index `at`.
 */
function fillHash16(text: string, out: number[], at: number): void {
  const d = sha256Latin1(text);
  const b0 = d.charCodeAt(0), b1 = d.charCodeAt(1), b2 = d.charCodeAt(2), b3 = d.charCodeAt(3), b4 = d.charCodeAt(4);
  const b5 = d.charCodeAt(5), b6 = d.charCodeAt(6), b7 = d.charCodeAt(7), b8 = d.charCodeAt(8), b9 = d.charCodeAt(9);
  const A = BASE32_CODES;
  out[at] = A[b0 >> 3]!;
  out[at + 1] = A[((b0 & 7) << 2) | (b1 >> 6)]!;
  out[at + 2] = A[(b1 >> 1) & 31]!;
  out[at + 3] = A[((b1 & 1) << 4) | (b2 >> 4)]!;
  out[at + 4] = A[((b2 & 15) << 1) | (b3 >> 7)]!;
  out[at + 5] = A[(b3 >> 2) & 31]!;
  out[at + 6] = A[((b3 & 3) << 3) | (b4 >> 5)]!;
  out[at + 7] = A[b4 & 31]!;
  out[at + 8] = A[b5 >> 3]!;
  out[at + 9] = A[((b5 & 7) << 2) | (b6 >> 6)]!;
  out[at + 10] = A[(b6 >> 1) & 31]!;
  out[at + 11] = A[((b6 & 1) << 4) | (b7 >> 4)]!;
  out[at + 12] = A[((b7 & 15) << 1) | (b8 >> 7)]!;
  out[at + 13] = A[(b8 >> 2) & 31]!;
  out[at + 14] = A[((b8 & 3) << 3) | (b9 >> 5)]!;
  out[at + 15] = A[b9 & 31]!;
}

// Scratch buffers: a prefix's codes followed by the 16 hash characters, turned into one flat string (a
// concatenation would leave a two-part string that V8 flattens into a third copy on first use).
const HASH_ONLY: number[] = new Array<number>(16).fill(0);
const SEP_CODES: number[] = [...Array.from('KUBE-SEP-', (c) => c.charCodeAt(0)), ...HASH_ONLY];

function hash16(text: string): string {
  fillHash16(text, HASH_ONLY, 0);
  return String.fromCharCode.apply(null, HASH_ONLY);
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

const PREFIXED: Array<[key: 'svc' | 'svl' | 'ext' | 'fw', codes: number[]]> = (
  [
    ['svc', SERVICE_CHAIN_PREFIX.clusterPolicy],
    ['svl', SERVICE_CHAIN_PREFIX.localPolicy],
    ['ext', SERVICE_CHAIN_PREFIX.external],
    ['fw', SERVICE_CHAIN_PREFIX.firewall],
  ] as const
).map(([k, p]) => [k, [...Array.from(p, (c) => c.charCodeAt(0)), ...HASH_ONLY]]);

/** The per-service-port chains of one service port (protocol in any case; kube-proxy lower-cases it). */
export function chainNames(svcPortName: string, protocol: string): { svc: string; svl: string; ext: string; fw: string } {
  fillHash16(svcPortName + protocol.toLowerCase(), HASH_ONLY, 0);
  const out = { svc: '', svl: '', ext: '', fw: '' };
  for (const [key, codes] of PREFIXED) {
    const at = codes.length - 16;
    for (let i = 0; i < 16; i++) codes[at + i] = HASH_ONLY[i]!;
    out[key] = String.fromCharCode.apply(null, codes);
  }
  return out;
}

/**
 * servicePortEndpointChainName with the protocol already lower-cased: the KUBE-SEP- chain of `endpoint`
 * ("ip:port") of a service port.
 */
export function endpointChainNameLower(svcPortName: string, protocolLower: string, endpoint: string): string {
  fillHash16(svcPortName + protocolLower + endpoint, SEP_CODES, 9);
  return String.fromCharCode.apply(null, SEP_CODES);
}

/** servicePortEndpointChainName: the KUBE-SEP- chain of one endpoint ("ip:port") of a service port. */
export function endpointChainName(svcPortName: string, protocol: string, endpoint: string): string {
  return endpointChainNameLower(svcPortName, protocol.toLowerCase(), endpoint);
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
const SERVICE_CHAIN_PREFIXES: readonly string[] = Object.values(SERVICE_CHAIN_PREFIX);

export function serviceChainHash(chain: string): string | null {
  for (const p of SERVICE_CHAIN_PREFIXES) {
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
