// One node's view of the cluster, as that node's kube-proxy builds it: its name, its IPs and pod CIDRs
// per IP family, and the service and endpoint maps for each family it proxies. Every mode renders from this.
import type { KubeProxyConfiguration } from './config/index.js';
import { InputError } from './errors.js';
import { buildProxyState, nodeIPs, podCIDRs, type ProxyState } from './model/index.js';
import { normalizeIP, parseCIDRSloppy } from './net/ip.js';
import type { EndpointSlice, IPFamily, Node, Service } from './objects/types.js';

export interface FamilyView {
  family: IPFamily;
  state: ProxyState;
  /** The node's IPs of this family, primary first (bindAddress when it names one, as kube-proxy does). */
  nodeIPs: string[];
  podCIDRs: string[];
}

export interface ProxyView {
  nodeName: string;
  /** True when no node was named and the first node (by name) was taken. */
  nodeDefaulted: boolean;
  node?: Node;
  families: FamilyView[];
  /**
   * The other family, which kube-proxy runs a proxier for too although the node has no address of it:
   * upstream starts its dual-stack proxier whenever both iptables and ip6tables work (server_linux.go
   * platformCheckSupported: dualStackSupported = ipv4Supported && ipv6Supported), and that half writes its
   * base chains (and the family's services, if any) like the other. Modes programming through iptables
   * render it; a node whose ip6tables does not work simply has no such rules.
   */
  otherFamilies?: FamilyView[];
}

export function buildProxyView(
  objects: { services: Service[]; endpointSlices: EndpointSlice[]; nodes: Node[] },
  config: KubeProxyConfiguration,
  source: string,
): ProxyView {
  const names = objects.nodes.map((n) => n.metadata?.name ?? '').sort();
  let nodeName = config.hostnameOverride ?? '';
  const nodeDefaulted = nodeName === '' && names.length > 0;
  if (nodeDefaulted) nodeName = names[0];
  const node = objects.nodes.find((n) => n.metadata?.name === nodeName);
  if (nodeName && !node && names.length > 0) {
    throw new InputError(`node "${nodeName}" not found in ${source} (nodes: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}); pick one with --node.`);
  }
  const bound = boundIPs(config.bindAddress);
  const families = proxiedFamilies(node, bound, config.clusterCIDR ?? '');
  const labels = node?.metadata?.labels;
  const familyView = (family: IPFamily): FamilyView => ({
    family,
    state: buildProxyState(objects, { ipFamily: family, nodeName, nodeLabels: labels }),
    nodeIPs: bound.filter((b) => b.family === family).map((b) => b.ip).concat(node && !bound.some((b) => b.family === family) ? nodeIPs(node, family) : []),
    podCIDRs: node ? podCIDRs(node).filter((c) => parseCIDRSloppy(c)?.family === family) : [],
  });
  const others = (['IPv4', 'IPv6'] as const).filter((f) => !families.includes(f));
  return {
    nodeName,
    nodeDefaulted,
    node,
    families: families.map(familyView),
    ...(others.length ? { otherFamilies: others.map(familyView) } : {}),
  };
}

/** bindAddress (or --node-ip) names the node's IPs unless it is the unspecified address. */
function boundIPs(bindAddress: string | undefined): Array<{ ip: string; family: IPFamily }> {
  const out: Array<{ ip: string; family: IPFamily }> = [];
  for (const part of (bindAddress ?? '').split(',')) {
    const p = normalizeIP(part.trim());
    if (p && p.ip !== '0.0.0.0' && p.ip !== '::') out.push(p);
  }
  return out;
}

/** kube-proxy runs a proxier for each family the node has an IP of (dual stack when both), else its cluster CIDRs' families, else IPv4. */
function proxiedFamilies(node: Node | undefined, bound: Array<{ family: IPFamily }>, clusterCIDR: string): IPFamily[] {
  const has = (f: IPFamily) => bound.some((b) => b.family === f) || (node ? nodeIPs(node, f).length > 0 : false);
  let families = (['IPv4', 'IPv6'] as const).filter(has);
  if (families.length === 0) {
    families = (['IPv4', 'IPv6'] as const).filter((f) => clusterCIDR.split(',').some((c) => parseCIDRSloppy(c.trim())?.family === f));
  }
  return families.length ? [...families] : ['IPv4'];
}
