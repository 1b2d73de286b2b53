// Every node's view for the equivalence report, with the cluster-wide model built once. kube-proxy's model
// differs between nodes only in the node-local facts: the node itself (name, addresses, pod CIDRs, labels)
// and which endpoints are local (an endpoint's nodeName is this node's). So the services and endpoints of
// each family are read once, as for a node with no name (nothing local), and each node's view takes those
// with its own endpoints marked local. The views equal buildProxyView's, node by node
// (test/unit/equivalence/views.test.ts); at 10,000 services reading the objects three times was seconds.
import type { KubeProxyConfiguration } from '../config/index.js';
import { buildProxyState, type Endpoint, type ProxyState } from '../model/index.js';
import type { EndpointSlice, IPFamily, Node, Service } from '../objects/types.js';
import { buildProxyView, type FamilyView, type ProxyView } from '../proxy-view.js';

export interface ClusterObjectsForViews {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

/** buildProxyView for each node of `objects` (in their order), sharing the model between them. */
export function nodeViews(objects: ClusterObjectsForViews, config: KubeProxyConfiguration, source: string): ProxyView[] {
  const shared = new Map<IPFamily, ProxyState>();
  const sharedState = (family: IPFamily): ProxyState => {
    let s = shared.get(family);
    if (!s) shared.set(family, (s = buildProxyState(objects, { ipFamily: family, nodeName: '' })));
    return s;
  };
  // The node-local half of a view: buildProxyView itself, over no services (its families, IPs, pod CIDRs,
  // and its errors for a node that is not there).
  const bare = { services: [], endpointSlices: [], nodes: objects.nodes };
  return objects.nodes.map((n) => {
    const v = buildProxyView(bare, { ...config, hostnameOverride: n.metadata?.name ?? '' }, source);
    const labels = v.node?.metadata?.labels;
    const local = (f: FamilyView): FamilyView => ({ ...f, state: forNode(sharedState(f.family), v.nodeName, labels) });
    return { ...v, families: v.families.map(local), ...(v.otherFamilies ? { otherFamilies: v.otherFamilies.map(local) } : {}) };
  });
}

/**
 * A state read for no node, as `nodeName` sees it: the same service ports (shared, never changed), each
 * endpoint local when its nodeName is this node's (as the model marks it). Lists with no local endpoint
 * are shared too.
 */
export function forNode(shared: ProxyState, nodeName: string, nodeLabels: Record<string, string> | undefined): ProxyState {
  const endpointsMap = new Map<string, Endpoint[]>();
  for (const [key, list] of shared.endpointsMap) {
    let out = list;
    if (nodeName !== '') {
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.nodeName !== nodeName) continue;
        if (out === list) out = list.slice();
        out[i] = { ...list[i]!, isLocal: true };
      }
    }
    endpointsMap.set(key, out);
  }
  const state: ProxyState = { ipFamily: shared.ipFamily, nodeName, serviceMap: shared.serviceMap, endpointsMap };
  if (nodeLabels) state.nodeLabels = nodeLabels;
  return state;
}
