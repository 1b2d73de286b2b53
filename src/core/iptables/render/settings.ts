// What one family's iptables proxier is built with, derived from the KubeProxyConfiguration and the node
// the way cmd/kube-proxy (server.go, server_linux.go getLocalDetectors) and the proxier's constructor do:
// the masquerade mark, the local-traffic detector, the NodePort addresses, whether localhost NodePorts
// are on, and the host facts kube-proxy probes at start (nfacct counters, --random-fully support,
// nf_conntrack_tcp_be_liberal).

import type { KubeProxyConfiguration } from '../../config/index.js';
import { formatMasqueradeMark, localDetectorFor, nodeIPOfFamily, nodePortAddressesFor, type IPFamily, type LocalDetector, type NodePortAddresses } from '../../proxy/index.js';
import { iptablesVersion, type IptablesFeature } from '../versions.js';

export { formatMasqueradeMark, localDetectorFor, nodePortAddressesFor, type NodePortAddresses };

/** The local-traffic detector as iptables words matching traffic from / not from local pods. */
export interface LocalDetectorWords {
  ifLocal: string[];
  ifNotLocal: string[];
}

export interface ProxierSettings {
  family: IPFamily;
  masqueradeAll: boolean;
  /** The mark value as kube-proxy prints it ("%#08x" of 1<<masqueradeBit: "0x00004000"). */
  masqueradeMark: string;
  /** null when the detector is a no-op (IsImplemented() false). */
  localDetector: LocalDetectorWords | null;
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
  /** kube-proxy writes its own filter KUBE-FIREWALL localnet DROP (1.27 and newer, IPv4, localhost NodePorts). */
  kubeFirewall: boolean;
}

export interface SettingsInput {
  config: KubeProxyConfiguration;
  family: IPFamily;
  node: { ips: string[]; podCIDRs: string[]; localAddresses?: string[] };
  masqueradeMark?: string;
  nfacct?: boolean;
  randomFully?: boolean;
  conntrackTCPBeLiberal?: boolean;
  /** The release features of the kube-proxy version rendered (versions.ts); default: the newest. */
  features?: ReadonlySet<IptablesFeature>;
}

/** The detector in iptables words: what matches traffic from local pods, and what matches the rest. */
export function localDetectorWords(d: LocalDetector | null): LocalDetectorWords | null {
  if (d === null) return null;
  switch (d.kind) {
    case 'cidr':
      return { ifLocal: ['-s', d.cidr], ifNotLocal: ['!', '-s', d.cidr] };
    case 'interface':
      return { ifLocal: ['-i', d.name], ifNotLocal: ['!', '-i', d.name] };
    case 'interfacePrefix':
      return { ifLocal: ['-i', `${d.prefix}+`], ifNotLocal: ['!', '-i', `${d.prefix}+`] };
  }
}

export function resolveSettings(input: SettingsInput): ProxierSettings {
  const { config, family, node } = input;
  const nodeIP = nodeIPOfFamily(node.ips, family);
  const npa = nodePortAddressesFor(config.nodePortAddresses, family, nodeIP);
  const loopback = family === 'IPv4' ? '127.0.0.1' : '::1';
  const localAddresses = node.localAddresses ?? [loopback, ...node.ips];
  const nfacct = input.nfacct ?? true;
  const features = input.features ?? iptablesVersion(undefined).features;
  const localhostNodePorts = family === 'IPv4' && config.iptables.localhostNodePorts && npa.containsIPv4Loopback;
  // before 1.29 kube-proxy wrote the INVALID drop whatever nf_conntrack_tcp_be_liberal said
  const liberal = features.has('invalidDropUnlessLiberal') && (input.conntrackTCPBeLiberal ?? config.conntrack.tcpBeLiberal);
  return {
    family,
    masqueradeAll: config.iptables.masqueradeAll,
    masqueradeMark: input.masqueradeMark ?? formatMasqueradeMark(config.iptables.masqueradeBit),
    localDetector: localDetectorWords(localDetectorFor(config, family, node.podCIDRs)),
    localhostNodePorts,
    nodePortAddresses: npa,
    nodeIP,
    localAddresses,
    nfacctCTStateInvalid: nfacct && features.has('nfacctInvalidDropped'),
    nfacctLocalhostNodePorts: nfacct && features.has('nfacctLocalhostNodePorts'),
    dropInvalid: !liberal,
    randomFully: input.randomFully ?? true,
    kubeFirewall: localhostNodePorts && features.has('kubeFirewall'),
  };
}
