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

/** The first 8 characters of base32.StdEncoding of the SHA-256: the first 40 bits of the hash. */
function hash8(name: string): string {
  // 40 bits as two 20-bit halves (five hex digits each), four base32 digits each. The one-shot hash as hex
  // (Node >= 20.12) allocates no Hash object and no Buffer: a 10,000-service table hashes 110,000 names.
  const hex = typeof hash === 'function' ? hash('sha256', name, 'hex') : createHash('sha256').update(name).digest('hex');
  const hi = parseInt(hex.slice(0, 5), 16);
  const lo = parseInt(hex.slice(5, 10), 16);
  const d = (v: number, i: number) => BASE32_CODES[(v >> (i * 5)) & 31]!;
  return String.fromCharCode(d(hi, 3), d(hi, 2), d(hi, 1), d(hi, 0), d(lo, 3), d(lo, 2), d(lo, 1), d(lo, 0));
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

/** servicePortChainNameBase: "ULMVA6XW-ns1/svc1/tcp/p80". */
export function serviceChainBase(n: PortName, protocol: string): string {
  return hashAndTruncate(`${n.namespace}/${n.name}/${protocol}/${n.port}`);
}

/** servicePortEndpointChainNameBase: IPv6 colons become dots (colons are not allowed in chain names). */
export function endpointChainBase(n: PortName, protocol: string, endpoint: string): string {
  const { ip, port } = splitHostPort(endpoint);
  return hashAndTruncate(`${n.namespace}/${n.name}/${protocol}/${n.port}__${ip.includes(':') ? ip.replaceAll(':', '.') : ip}/${port}`);
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
