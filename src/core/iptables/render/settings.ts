// What one family's iptables proxier is built with, derived from the KubeProxyConfiguration and the node
// the way cmd/kube-proxy (server.go, server_linux.go getLocalDetectors) and the proxier's constructor do:
// the masquerade mark, the local-traffic detector, the NodePort addresses, whether localhost NodePorts
// are on, and the host facts kube-proxy probes at start (nfacct counters, --random-fully support,
// nf_conntrack_tcp_be_liberal).

import type { KubeProxyConfiguration } from '../../config/index.js';
import { NODE_PORT_ADDRESSES_PRIMARY } from '../../config/index.js';
import { cidrsOfFamily } from '../../model/index.js';
import { formatIP, isIPv4Bytes, parseCIDRSloppy, parseIPSloppy, type IPBytes } from '../../net/ip.js';
import type { IPFamily } from '../types.js';

/** pkg/proxy/util LocalTrafficDetector: iptables words matching traffic from / not from local pods. */
export interface LocalDetector {
  ifLocal: string[];
  ifNotLocal: string[];
}

export interface NodePortAddresses {
  /** The CIDRs of this family (in the order given), or the zero CIDR when none is of this family. */
  cidrs: string[];
  /** A zero CIDR (0.0.0.0/0, ::/0) is among them: NodePorts on every local address. */
  matchAll: boolean;
  containsIPv4Loopback: boolean;
}

export interface ProxierSettings {
  family: IPFamily;
  masqueradeAll: boolean;
  /** The mark value as kube-proxy prints it ("%#08x" of 1<<masqueradeBit: "0x00004000"). */
  masqueradeMark: string;
  /** null when the detector is a no-op (IsImplemented() false). */
  localDetector: LocalDetector | null;
  /** iptables.localhostNodePorts, in effect only for IPv4 and when nodePortAddresses covers 127.0.0.0/8. */
  localhostNodePorts: boolean;
  nodePortAddresses: NodePortAddresses;
  /** The node's IP of this family (primary), or null. */
  nodeIP: string | null;
  /** Host addresses NodePort CIDRs are matched against, in order. */
  localAddresses: string[];
  nfacctCTStateInvalid: boolean;
  nfacctLocalhostNodePorts: boolean;
  /** Write the ctstate INVALID drop rule (not when nf_conntrack_tcp_be_liberal is set). */
  dropInvalid: boolean;
  /** iptables supports MASQUERADE --random-fully (1.6.2 and newer). */
  randomFully: boolean;
}

export interface SettingsInput {
  config: KubeProxyConfiguration;
  family: IPFamily;
  node: { ips: string[]; podCIDRs: string[]; localAddresses?: string[] };
  masqueradeMark?: string;
  nfacct?: boolean;
  randomFully?: boolean;
  conntrackTCPBeLiberal?: boolean;
}

/** fmt.Sprintf("%#08x", 1<<bit): zero-padded to eight digits, then the 0x prefix. */
export function formatMasqueradeMark(bit: number): string {
  return '0x' + (2 ** bit).toString(16).padStart(8, '0');
}

/** net.IPNet.Contains, with an IPv4 network matching only IPv4 addresses and IPv6 only IPv6. */
export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCIDRSloppy(cidr);
  const addr = parseIPSloppy(ip);
  if (net === null || addr === null) return false;
  const netAddr = parseIPSloppy(net.cidr.slice(0, net.cidr.indexOf('/')))!;
  const v4 = net.family === 'IPv4';
  if (v4 !== isIPv4Bytes(addr)) return false;
  return prefixEqual(netAddr, addr, v4 ? 12 : 0, net.prefix);
}

function prefixEqual(a: IPBytes, b: IPBytes, offset: number, bits: number): boolean {
  let i = offset;
  let left = bits;
  while (left >= 8) {
    if (a[i] !== b[i]) return false;
    i++;
    left -= 8;
  }
  if (left === 0) return true;
  const mask = (0xff << (8 - left)) & 0xff;
  return (a[i]! & mask) === (b[i]! & mask);
}

/** net.IP.IsLoopback. */
export function isLoopback(ip: string): boolean {
  const b = parseIPSloppy(ip);
  if (b === null) return false;
  if (isIPv4Bytes(b)) return b[12] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
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

/** server_linux.go getLocalDetectors, for one family. */
export function localDetectorFor(config: KubeProxyConfiguration, family: IPFamily, podCIDRs: readonly string[]): LocalDetector | null {
  const mode = config.detectLocalMode === '' ? 'ClusterCIDR' : config.detectLocalMode;
  switch (mode) {
    case 'ClusterCIDR': {
      const cidrs = cidrsOfFamily(config.clusterCIDR === '' ? [] : config.clusterCIDR.split(','), family);
      return cidrs.length > 0 ? byCIDR(cidrs[0]!) : null;
    }
    case 'NodeCIDR': {
      const cidrs = cidrsOfFamily(podCIDRs, family);
      return cidrs.length > 0 ? byCIDR(cidrs[0]!) : null;
    }
    case 'BridgeInterface': {
      const name = config.detectLocal.bridgeInterface;
      return { ifLocal: ['-i', name], ifNotLocal: ['!', '-i', name] };
    }
    case 'InterfaceNamePrefix': {
      const prefix = config.detectLocal.interfaceNamePrefix + '+';
      return { ifLocal: ['-i', prefix], ifNotLocal: ['!', '-i', prefix] };
    }
    default:
      return null;
  }
}

function byCIDR(cidr: string): LocalDetector {
  return { ifLocal: ['-s', cidr], ifNotLocal: ['!', '-s', cidr] };
}

export function resolveSettings(input: SettingsInput): ProxierSettings {
  const { config, family, node } = input;
  const nodeIP = firstOfFamily(node.ips, family);
  const npa = nodePortAddressesFor(config.nodePortAddresses, family, nodeIP);
  const loopback = family === 'IPv4' ? '127.0.0.1' : '::1';
  const localAddresses = node.localAddresses ?? [loopback, ...node.ips];
  const nfacct = input.nfacct ?? true;
  return {
    family,
    masqueradeAll: config.iptables.masqueradeAll,
    masqueradeMark: input.masqueradeMark ?? formatMasqueradeMark(config.iptables.masqueradeBit),
    localDetector: localDetectorFor(config, family, node.podCIDRs),
    localhostNodePorts: family === 'IPv4' && config.iptables.localhostNodePorts && npa.containsIPv4Loopback,
    nodePortAddresses: npa,
    nodeIP,
    localAddresses,
    nfacctCTStateInvalid: nfacct,
    nfacctLocalhostNodePorts: nfacct,
    dropInvalid: !(input.conntrackTCPBeLiberal ?? config.conntrack.tcpBeLiberal),
    randomFully: input.randomFully ?? true,
  };
}

function firstOfFamily(ips: readonly string[], family: IPFamily): string | null {
  for (const ip of ips) {
    const b = parseIPSloppy(ip);
    if (b !== null && isIPv4Bytes(b) === (family === 'IPv4')) return formatIP(b);
  }
  return null;
}
