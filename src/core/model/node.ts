// Node facts kube-proxy derives from the Node object.

import type { IPFamily, Node } from '../objects/types.js';
import { normalizeIP } from '../net/ip.js';

export { serviceIPFamilies } from './service.js';

/**
 * The node's addresses of one family in the order kube-proxy's node-IP detection considers them
 * (pkg/util/node GetNodeHostIPs): every InternalIP first, then every ExternalIP, each in status order.
 * The first entry is the node IP kube-proxy uses for that family. Addresses are printed as kube-proxy
 * prints them; ones that do not parse are dropped.
 */
export function nodeIPs(node: Node, family: IPFamily): string[] {
  const out: string[] = [];
  const addresses = node.status?.addresses ?? [];
  for (const type of ['InternalIP', 'ExternalIP'] as const) {
    for (const a of addresses) {
      if (a.type !== type) continue;
      const p = normalizeIP(a.address);
      if (p !== null && p.family === family) out.push(p.ip);
    }
  }
  return out;
}

/** The node's pod CIDRs: spec.podCIDRs, or the single legacy spec.podCIDR when that list is absent. */
export function podCIDRs(node: Node): string[] {
  const list = node.spec?.podCIDRs;
  if (list && list.length > 0) return [...list];
  const one = node.spec?.podCIDR;
  return one ? [one] : [];
}

/** The node's labels (kube-proxy reads the topology zone from them). */
export function nodeLabels(node: Node): Record<string, string> {
  return { ...(node.metadata?.labels ?? {}) };
}
