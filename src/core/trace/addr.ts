// Address arithmetic for the tracer: IPs as 16 bytes (IPv4 mapped), CIDRs as bytes plus prefix bits.
import { formatIP, isIPv4Bytes, parseIPSloppy, type IPBytes } from '../net/ip.js';

export interface Net {
  bytes: IPBytes;
  /** Prefix length over the 16-byte form (an IPv4 /24 is 120). */
  bits: number;
  v4: boolean;
}

/** "10.0.0.0/8", "10.0.0.0/255.0.0.0", "fd00::/64", "10.1.2.3" (a host) → Net; null when not an address. */
export function parseNet(s: string): Net | null {
  const slash = s.indexOf('/');
  const ip = parseIPSloppy(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const v4 = isIPv4Bytes(ip);
  let bits = v4 ? 32 : 128;
  if (slash >= 0) {
    const m = s.slice(slash + 1);
    if (/^\d+$/.test(m)) bits = Number(m);
    else {
      const mb = parseIPSloppy(m);
      if (!mb) return null;
      bits = 0;
      for (let i = v4 ? 12 : 0; i < 16; i++) bits += popcount(mb[i]!);
    }
    if (bits > (v4 ? 32 : 128)) return null;
  }
  return { bytes: ip, bits: v4 ? bits + 96 : bits, v4 };
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}

export function netContains(net: Net, ip: IPBytes): boolean {
  if (net.v4 !== isIPv4Bytes(ip)) return false;
  const full = net.bits >> 3;
  for (let i = 0; i < full; i++) if (net.bytes[i] !== ip[i]) return false;
  const rest = net.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (net.bytes[full]! & mask) === (ip[full]! & mask);
}

/** The canonical text of an IP (as kube-proxy prints it), or null. */
export function canonicalIP(s: string): string | null {
  const b = parseIPSloppy(s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);
  return b ? formatIP(b) : null;
}

export function isLoopback(ip: IPBytes): boolean {
  if (isIPv4Bytes(ip)) return ip[12] === 127;
  for (let i = 0; i < 15; i++) if (ip[i] !== 0) return false;
  return ip[15] === 1;
}

/** An address near the top of a network, unlikely to be a pod's (x.x.x.254 in a /24). */
export function addressNearTop(cidr: string): string | null {
  const n = parseNet(cidr);
  if (!n) return null;
  const b = new Uint8Array(n.bytes);
  for (let i = 0; i < 16; i++) {
    const hostBits = Math.max(0, Math.min(8, (i + 1) * 8 - n.bits));
    if (hostBits > 0) b[i] = b[i]! | ((1 << hostBits) - 1);
  }
  // all ones is the broadcast (IPv4): step back one.
  b[15] = b[15]! - 1;
  return formatIP(b);
}

export { formatIP, parseIPSloppy, type IPBytes };
