// The address parsing kube-proxy's validation uses, ported in behaviour (not code) from Go:
//   k8s.io/utils/net ParseIPSloppy / ParseCIDRSloppy (IPv4 octets may carry leading zeros),
//   net.SplitHostPort, strconv.Atoi, k8s.io/apimachinery/pkg/util/net ParsePortRange.
import { normalizeIP, parseCIDRSloppy } from '../net/ip.js';

export type IPVersion = 4 | 6;

/** The family of an IP address as ParseIPSloppy reads it, or undefined when it is not one. */
export function ipFamily(text: string): IPVersion | undefined {
  return familyNumber(normalizeIP(text)?.family);
}

export function isIP(text: string): boolean {
  return ipFamily(text) !== undefined;
}

/** The family of a CIDR ("10.0.0.0/8", "fd00::/64") as ParseCIDRSloppy reads it, or undefined. */
export function cidrFamily(text: string): IPVersion | undefined {
  return familyNumber(parseCIDRSloppy(text)?.family);
}

function familyNumber(family: 'IPv4' | 'IPv6' | undefined): IPVersion | undefined {
  return family === undefined ? undefined : family === 'IPv4' ? 4 : 6;
}

export function isCIDR(text: string): boolean {
  return cidrFamily(text) !== undefined;
}

/** Go's net.SplitHostPort: "host:port" or "[v6host]:port". Throws with Go's reason. */
export function splitHostPort(hostport: string): { host: string; port: string } {
  const i = hostport.lastIndexOf(':');
  if (i < 0) throw new Error('missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) throw new Error("missing ']' in address");
    if (end + 1 === hostport.length) throw new Error('missing port in address');
    if (end + 1 !== i) {
      if (hostport[end + 1] === ':') throw new Error('too many colons in address');
      throw new Error('missing port in address');
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) throw new Error('too many colons in address');
  }
  if (hostport.slice(j).includes('[')) throw new Error("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) throw new Error("unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}

/** Go's strconv.Atoi for the values these fields hold: optional sign, decimal digits. */
export function atoi(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Go's utilnet.ParsePortRange: "", "300", "300-2000" or "300+1700"; returns undefined when invalid. */
export function parsePortRange(value: string): { base: number; size: number } | undefined {
  const v = value.trim();
  if (v === '') return { base: 0, size: 0 };
  const hyphen = v.indexOf('-');
  const plus = v.indexOf('+');
  let low: number | undefined;
  let high: number | undefined;
  if (hyphen === -1 && plus === -1) {
    low = high = atoi(v);
  } else if (hyphen !== -1 && plus === -1) {
    low = atoi(v.slice(0, hyphen));
    high = atoi(v.slice(hyphen + 1));
  } else if (plus !== -1 && hyphen === -1) {
    low = atoi(v.slice(0, plus));
    const offset = atoi(v.slice(plus + 1));
    high = low === undefined || offset === undefined ? undefined : low + offset;
  } else {
    return undefined; // both '-' and '+': Go's "unable to parse port range"
  }
  if (low === undefined || high === undefined) return undefined;
  if (low > 65535 || high > 65535 || high < low) return undefined;
  return { base: low, size: 1 + high - low };
}

/** proxyutil.AppendPortIfNeeded: adds ":port" (or "[v6]:port") to a bare IP; leaves others alone. */
export function appendPortIfNeeded(addr: string, port: number): string {
  try {
    splitHostPort(addr);
    return addr;
  } catch {
    // not host:port yet
  }
  const family = ipFamily(addr);
  if (family === undefined) return addr;
  return family === 4 ? `${addr}:${port}` : `[${addr}]:${port}`;
}
