// NodePort addresses: proxyutil.NewNodePortAddresses and GetNodeIPs, for one family. Every mode answers
// NodePorts on the addresses these give (iptables and ipvs default to all, nftables to the node IP).
import { NODE_PORT_ADDRESSES_PRIMARY } from '../config/index.js';
import { cidrContains, formatIP, isLoopback, parseCIDRSloppy, parseIPSloppy } from '../net/ip.js';
import type { IPFamily } from '../objects/types.js';

export interface NodePortAddresses {
  /** The CIDRs of this family (in the order given), or the zero CIDR when none is of this family. */
  cidrs: string[];
  /** A zero CIDR (0.0.0.0/0, ::/0) is among them: NodePorts on every local address. */
  matchAll: boolean;
  containsIPv4Loopback: boolean;
}

const ZERO_CIDR: Record<IPFamily, string> = { IPv4: '0.0.0.0/0', IPv6: '::/0' };

/**
 * proxyutil.NewNodePortAddresses for one family, after server.go has replaced ["primary"] with the node
 * IPs (nodeIPv4/32, nodeIPv6/128; none when that family has no non-loopback node IP, which leaves the
 * zero CIDR below).
 */
export function nodePortAddressesFor(configured: readonly string[], family: IPFamily, nodeIP: string | null): NodePortAddresses {
  let strings = [...configured];
  if (strings.length === 1 && strings[0] === NODE_PORT_ADDRESSES_PRIMARY) {
    strings = nodeIP !== null && !isLoopback(nodeIP) ? [`${nodeIP}/${family === 'IPv4' ? 32 : 128}`] : [];
  }
  const ofFamily = strings.filter((s) => parseCIDRSloppy(s)?.family === family);
  if (ofFamily.length === 0) ofFamily.push(ZERO_CIDR[family]);
  const out: NodePortAddresses = { cidrs: [], matchAll: false, containsIPv4Loopback: false };
  for (const s of ofFamily) {
    const parsed = parseCIDRSloppy(s)!;
    if (parsed.family === 'IPv4') {
      const network = parsed.cidr.slice(0, parsed.cidr.indexOf('/'));
      if (isLoopback(network) || cidrContains(parsed.cidr, '127.0.0.0')) out.containsIPv4Loopback = true;
    }
    if (s === ZERO_CIDR.IPv4 || s === ZERO_CIDR.IPv6) {
      // IsZeroCIDR compares the string: a zero CIDR makes every other entry irrelevant
      out.cidrs = [parsed.cidr];
      out.matchAll = true;
      break;
    }
    out.cidrs.push(parsed.cidr);
  }
  return out;
}

/**
 * NodePortAddresses.GetNodeIPs: the local addresses inside the CIDRs. Upstream dedups through a Go map
 * (random order); we keep the first occurrence, CIDR by CIDR, address by address.
 */
export function nodePortIPs(npa: NodePortAddresses, localAddresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const cidr of npa.cidrs) {
    for (const a of localAddresses) {
      const parsed = parseIPSloppy(a);
      if (parsed === null) continue;
      if (!cidrContains(cidr, a)) continue;
      const printed = normalize(a);
      if (!out.includes(printed)) out.push(printed);
    }
  }
  return out;
}

function normalize(ip: string): string {
  // ip.String(), as the rule prints it
  return formatIP(parseIPSloppy(ip)!);
}

