// kube-proxy's nftables names: the fixed chains, sets and maps of its table, and the per-service chain
// names (prefix + 8 base32 characters of a SHA-256 of the readable part + the readable part).
import { createHash, hash } from 'node:crypto';

export const CHAIN = {
  services: 'services',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  reject: 'reject-chain',
  clusterIPsCheck: 'cluster-ips-check',
  firewallCheck: 'firewall-check',
  markMasq: 'mark-for-masquerade',
  masquerading: 'masquerading',
  /** 1.29: one chain for both no-endpoint maps (split into service-/nodeport-endpoints-check by #122692). */
  endpointsCheck: 'endpoints-check',
  /** 1.29: `ct state invalid drop`, jumped to from filter-forward. */
  forward: 'forward',
  /** 1.29: drops what @firewall names unless @firewall-allow lets its source in. */
  firewallAllowCheck: 'firewall-allow-check',
} as const;

export const SET = {
  clusterIPs: 'cluster-ips',
  nodePortIPs: 'nodeport-ips',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  firewallIPs: 'firewall-ips',
  /** 1.36+: (endpoint, endpoint, proto, port) of local endpoints, for hairpin masquerading. */
  hairpinConnections: 'hairpin-connections',
  /** 1.29: (LB IP, proto, port) subject to LoadBalancerSourceRanges; replaced by firewall-ips (#122296). */
  firewall: 'firewall',
  /** 1.29: (LB IP, proto, port, source range), a concatenated interval set (kernel >= 5.6). */
  firewallAllow: 'firewall-allow',
} as const;

export const PREFIX = {
  cluster: 'service-',
  local: 'local-',
  external: 'external-',
  endpoint: 'endpoint-',
  affinity: 'affinity-',
  firewall: 'firewall-',
} as const;

/** knftables.NameLengthMax minus the longest prefix kube-proxy reserves (16). */
const BASE_LENGTH_MAX = 256 - 16;
const BASE32_CODES = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'].map((c) => c.charCodeAt(0));
// The one-shot hash as hex (Node >= 20.12) allocates no Hash object and no Buffer: a 10,000-service table
// hashes 110,000 names.
const sha256Hex: (s: string) => string = typeof hash === 'function' ? (s) => hash('sha256', s, 'hex') : (s) => createHash('sha256').update(s).digest('hex');

/** The value of five hex digits of `hex` from `at` (20 bits), read without slicing. */
function hex20(hex: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 5; i++) {
    const c = hex.charCodeAt(i);
    v = (v << 4) | (c <= 57 ? c - 48 : c - 87); // '0'-'9', 'a'-'f'
  }
  return v;
}

/** The first 8 characters of base32.StdEncoding of the SHA-256: the first 40 bits of the hash. */
function hash8(name: string): string {
  // 40 bits as two 20-bit halves, four base32 digits each
  const hex = sha256Hex(name);
  const hi = hex20(hex, 0);
  const lo = hex20(hex, 5);
  const b = BASE32_CODES;
  return String.fromCharCode(b[(hi >> 15) & 31]!, b[(hi >> 10) & 31]!, b[(hi >> 5) & 31]!, b[hi & 31]!, b[(lo >> 15) & 31]!, b[(lo >> 10) & 31]!, b[(lo >> 5) & 31]!, b[lo & 31]!);
}

/** hashAndTruncate: the hash keeps truncated names unique and similar names visually apart. */
function hashAndTruncate(name: string): string {
  let out = `${hash8(name)}-${name}`;
  if (out.length > BASE_LENGTH_MAX) out = out.slice(0, BASE_LENGTH_MAX - 3) + '...';
  return out;
}

export interface PortName {
  namespace: string;
  name: string;
  port: string;
}

/** The readable part of a service port's chain names: "ns1/svc1/tcp/p80". */
export function servicePortReadable(n: PortName, protocol: string): string {
  return `${n.namespace}/${n.name}/${protocol}/${n.port}`;
}

/** servicePortChainNameBase: "ULMVA6XW-ns1/svc1/tcp/p80". */
export function serviceChainBase(n: PortName, protocol: string): string {
  return hashAndTruncate(servicePortReadable(n, protocol));
}

/** servicePortEndpointChainNameBase: IPv6 colons become dots (colons are not allowed in chain names). */
export function endpointChainBase(n: PortName, protocol: string, endpoint: string): string {
  return endpointChainBaseOf(servicePortReadable(n, protocol), endpoint);
}

/** endpointChainBase from the service port's readable part, computed once per service port. */
export function endpointChainBaseOf(servicePort: string, endpoint: string): string {
  let ip: string;
  let port: string;
  if (endpoint.charCodeAt(0) === 91 /* [ */) {
    const end = endpoint.indexOf(']');
    ip = endpoint.slice(1, end);
    port = endpoint.slice(end + 2);
  } else {
    const i = endpoint.lastIndexOf(':');
    ip = endpoint.slice(0, i);
    port = endpoint.slice(i + 1);
  }
  if (ip.includes(':')) ip = ip.replaceAll(':', '.');
  return hashAndTruncate(`${servicePort}__${ip}/${port}`);
}

export function splitHostPort(hp: string): { ip: string; port: string } {
  if (hp.startsWith('[')) {
    const end = hp.indexOf(']');
    return { ip: hp.slice(1, end), port: hp.slice(end + 2) };
  }
  const i = hp.lastIndexOf(':');
  return { ip: hp.slice(0, i), port: hp.slice(i + 1) };
}

/** Service and endpoint chains carry a "/"; kube-proxy's fixed chains never do. */
export function isServiceChainName(name: string): boolean {
  return name.includes('/');
}

export function isAffinitySetName(name: string): boolean {
  return name.startsWith(PREFIX.affinity);
}

/**
 * The service port a per-service chain or set name belongs to ("ns1/svc1:p80"), read back from its
 * readable part; null for kube-proxy's fixed objects. A truncated name still yields its service port
 * unless the truncation reached into it.
 */
export function servicePortOfName(name: string): string | null {
  if (!name.includes('/')) return null;
  const dash = name.indexOf('-');
  const afterHash = name.slice(dash + 1 + 9);
  const readable = afterHash.split('__')[0]!;
  const parts = readable.split('/');
  if (parts.length < 4) return null;
  const [ns, svc, , port] = parts;
  return port ? `${ns}/${svc}:${port}` : `${ns}/${svc}`;
}

/** The kind of a per-service chain from its prefix. */
export function chainKind(name: string): keyof typeof PREFIX | null {
  for (const [k, p] of Object.entries(PREFIX)) if (name.startsWith(p) && name.includes('/')) return k as keyof typeof PREFIX;
  return null;
}
