// The node a proxier runs on, as every mode's renderer takes it.
import { formatIP, isIPv4Bytes, parseIPSloppy } from '../net/ip.js';
import type { IPFamily } from '../objects/types.js';

export interface ProxyNode {
  /** "" when no node is known (a bare dump). */
  name: string;
  /** Node IPs of this family, primary first. */
  ips: string[];
  podCIDRs: string[];
  labels?: Record<string, string>;
  /**
   * Every address on the host that NodePorts may answer on (ipvs: all but kube-ipvs0's). Loopback and
   * other-family addresses are ignored where upstream ignores them. Default: loopback and `ips`.
   */
  localAddresses?: string[];
}

/** The first of the node's IPs of this family, as Go's ip.String() prints it; null when it has none. */
export function nodeIPOfFamily(ips: readonly string[], family: IPFamily): string | null {
  for (const ip of ips) {
    const b = parseIPSloppy(ip);
    if (b !== null && isIPv4Bytes(b) === (family === 'IPv4')) return formatIP(b);
  }
  return null;
}
