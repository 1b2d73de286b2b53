// pkg/proxy/util's LocalTrafficDetector, as data: how kube-proxy tells traffic from this cluster's pods
// (server_linux.go getLocalDetectors). iptables writes it as `-s CIDR` / `-i NAME`, nftables as
// `ip saddr CIDR` / `iifname NAME`, each in its own folder.
import type { KubeProxyConfiguration } from '../config/index.js';
import { cidrsOfFamily } from '../model/index.js';
import type { IPFamily } from '../objects/types.js';

export type LocalDetector =
  /** ClusterCIDR, NodeCIDR: traffic from this CIDR is local. */
  | { kind: 'cidr'; cidr: string }
  /** BridgeInterface: traffic arriving on this bridge is local. */
  | { kind: 'interface'; name: string }
  /** InterfaceNamePrefix: traffic arriving on interfaces with this prefix is local. */
  | { kind: 'interfacePrefix'; prefix: string };

/** The detector for one family; null when it is a no-op (no CIDR of that family, or an unknown mode). */
export function localDetectorFor(config: KubeProxyConfiguration, family: IPFamily, podCIDRs: readonly string[]): LocalDetector | null {
  const mode = config.detectLocalMode === '' ? 'ClusterCIDR' : config.detectLocalMode;
  switch (mode) {
    case 'ClusterCIDR': {
      const cidrs = cidrsOfFamily(config.clusterCIDR === '' ? [] : config.clusterCIDR.split(','), family);
      return cidrs.length > 0 ? { kind: 'cidr', cidr: cidrs[0]! } : null;
    }
    case 'NodeCIDR': {
      const cidrs = cidrsOfFamily(podCIDRs, family);
      return cidrs.length > 0 ? { kind: 'cidr', cidr: cidrs[0]! } : null;
    }
    case 'BridgeInterface':
      return { kind: 'interface', name: config.detectLocal.bridgeInterface };
    case 'InterfaceNamePrefix':
      return { kind: 'interfacePrefix', prefix: config.detectLocal.interfaceNamePrefix };
    default:
      return null;
  }
}
