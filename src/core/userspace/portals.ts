// The words of each portal rule, as proxier.go's iptables*Args functions build them. Upstream writes
// them with EnsureRule one at a time; the words are those it passes (iptables-save prints them in the
// kernel's own order, which canonical comparisons absorb).
import { joinHostPort } from '../net/ip.js';
import type { IPFamily } from '../objects/types.js';

/** Where the proxy listens: `listenIP` is bindAddress; `hostIP` the node IP host rules DNAT to when it is unspecified. */
export interface ProxyAddress {
  listenIP: string;
  hostIP: string;
}

export function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

function toCIDR(ip: string, family: IPFamily): string {
  return `${ip}/${family === 'IPv4' ? 32 : 128}`;
}

/** iptablesCommonPortalArgs: comment, protocol, destination port, then the optional matches. */
export function commonPortalWords(
  servicePort: string,
  protocol: string,
  destIP: string | null,
  destPort: number,
  family: IPFamily,
  opts: { physdevNotIn?: boolean; dstLocal?: boolean } = {},
): string[] {
  const p = protocol.toLowerCase();
  const words = ['-m', 'comment', '--comment', servicePort, '-p', p, '-m', p, '--dport', String(destPort)];
  if (destIP !== null) words.push('-d', toCIDR(destIP, family));
  // an external IP from outside: not bridged in (physdev), so pods' own bridged traffic takes the LOCAL rule
  if (opts.physdevNotIn) words.push('-m', 'physdev', '!', '--physdev-is-in');
  if (opts.dstLocal) words.push('-m', 'addrtype', '--dst-type', 'LOCAL');
  return words;
}

/**
 * From-container rules: REDIRECT when the proxy listens on every address (replies then leave from the
 * address the packet came in on, which UDP clients such as DNS need), DNAT to the bound address otherwise.
 */
export function containerTargetWords(addr: ProxyAddress, proxyPort: number): string[] {
  return isUnspecified(addr.listenIP) ? ['-j', 'REDIRECT', '--to-ports', String(proxyPort)] : ['-j', 'DNAT', '--to-destination', joinHostPort(addr.listenIP, proxyPort)];
}

/**
 * From-host rules always DNAT: REDIRECT of local packets goes to localhost and replies come from another
 * address. With an unspecified listen address, the node IP stands in.
 */
export function hostTargetWords(addr: ProxyAddress, proxyPort: number): string[] {
  const ip = isUnspecified(addr.listenIP) ? addr.hostIP : addr.listenIP;
  return ['-j', 'DNAT', '--to-destination', joinHostPort(ip, proxyPort)];
}

/** iptablesNonLocalNodePortArgs: accept new connections to the proxy port itself (default-deny hosts). */
export function nonLocalNodePortWords(servicePort: string, protocol: string, proxyPort: number, family: IPFamily): string[] {
  return [...commonPortalWords(servicePort, protocol, null, proxyPort, family), '-m', 'state', '--state', 'NEW', '-j', 'ACCEPT'];
}
