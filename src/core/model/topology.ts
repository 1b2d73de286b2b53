// Which endpoints serve which traffic on this node: pkg/proxy/topology.go (CategorizeEndpoints,
// topologyModeFromHints, availableForTopology), newest form.
//
// "Usable" means Ready; when a policy has no Ready endpoint it falls back to endpoints that are Serving and
// Terminating (separately for Cluster and Local). Topology comes only from the hints the EndpointSlice
// controller wrote: PreferSameNode when every ready endpoint has a node hint and one names this node,
// otherwise PreferSameZone when every ready endpoint has a zone hint and one names this node's zone.
// The Service's trafficDistribution field and topology-mode annotation are read by that controller, not
// by kube-proxy, so they do not enter here. Local endpoints ignore topology.

import type { Endpoint } from './endpoints.js';
import { LabelTopologyZone } from './labels.js';
import { type ServicePort, usesClusterEndpoints, usesLocalEndpoints } from './service.js';

export interface CategorizedEndpoints {
  /** Endpoints for Cluster traffic policy (topology applied); null when the port never uses Cluster policy. */
  clusterEndpoints: Endpoint[] | null;
  /** Endpoints for Local traffic policy; null when the port never uses Local policy. */
  localEndpoints: Endpoint[] | null;
  /** Union of the two, in the input order: every endpoint this node may send the port's traffic to. */
  allReachableEndpoints: Endpoint[];
  /** Some usable endpoint exists anywhere in the cluster (may be true while allReachableEndpoints is empty). */
  hasAnyEndpoints: boolean;
}

export type TopologyMode = '' | 'PreferSameZone' | 'PreferSameNode';

function has(list: string[] | null, v: string): boolean {
  return list !== null && list.includes(v);
}

/** topologyModeFromHints. */
export function topologyModeFromHints(endpoints: readonly Endpoint[], nodeName: string, zone: string): TopologyMode {
  let hasReadyEndpoints = false;
  let hasEndpointForNode = false;
  let allEndpointsHaveNodeHints = true;
  let hasEndpointForZone = false;
  let allEndpointsHaveZoneHints = true;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    hasReadyEndpoints = true;
    if (ep.nodeHints === null || ep.nodeHints.length === 0) allEndpointsHaveNodeHints = false;
    else if (ep.nodeHints.includes(nodeName)) hasEndpointForNode = true;
    if (ep.zoneHints === null || ep.zoneHints.length === 0) allEndpointsHaveZoneHints = false;
    else if (ep.zoneHints.includes(zone)) hasEndpointForZone = true;
  }
  if (!hasReadyEndpoints) return '';
  // node hints only exist when PreferSameTrafficDistribution is on (the model drops them otherwise)
  if (allEndpointsHaveNodeHints && hasEndpointForNode) return 'PreferSameNode';
  if (allEndpointsHaveZoneHints && hasEndpointForZone) return 'PreferSameZone';
  return '';
}

/** availableForTopology: no fallback here, the fallback is in choosing the mode. */
export function availableForTopology(ep: Endpoint, mode: TopologyMode, nodeName: string, zone: string): boolean {
  switch (mode) {
    case '':
      return true;
    case 'PreferSameNode':
      return has(ep.nodeHints, nodeName);
    case 'PreferSameZone':
      return has(ep.zoneHints, zone);
    default:
      return false;
  }
}

/** CategorizeEndpoints. */
export function categorizeEndpoints(
  endpoints: readonly Endpoint[],
  sp: ServicePort,
  nodeName: string,
  nodeLabels: Record<string, string> | undefined,
): CategorizedEndpoints {
  if (endpoints.length === 0) {
    // Upstream returns nil lists here; Go's len() cannot tell nil from empty, so we keep our own meaning
    // of null ("this policy is never used") and give [] for a policy that is used.
    return {
      clusterEndpoints: usesClusterEndpoints(sp) ? [] : null,
      localEndpoints: usesLocalEndpoints(sp) ? [] : null,
      allReachableEndpoints: [],
      hasAnyEndpoints: false,
    };
  }

  let clusterEndpoints: Endpoint[] | null = null;
  let localEndpoints: Endpoint[] | null = null;
  let hasAnyEndpoints = false;
  let topologyMode: TopologyMode = '';
  let useServingTerminatingEndpoints = false;

  const useCluster = usesClusterEndpoints(sp);
  if (useCluster) {
    const zone = nodeLabels?.[LabelTopologyZone] ?? '';
    topologyMode = topologyModeFromHints(endpoints, nodeName, zone);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && availableForTopology(ep, topologyMode, nodeName, zone));
    // No ready endpoint anywhere (topology would already have been dropped if the zone/node had none):
    // fall back to terminating endpoints that still serve.
    if (clusterEndpoints.length === 0) {
      clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    }
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }

  if (!usesLocalEndpoints(sp)) {
    return { clusterEndpoints, localEndpoints: null, allReachableEndpoints: clusterEndpoints ?? [], hasAnyEndpoints };
  }

  let hasLocalReadyEndpoints = false;
  let hasLocalServingTerminatingEndpoints = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalReadyEndpoints = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminatingEndpoints = true;
    }
  }

  if (hasLocalReadyEndpoints) {
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  } else if (hasLocalServingTerminatingEndpoints) {
    useServingTerminatingEndpoints = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  } else {
    // upstream leaves this nil (a nil slice); it means "uses Local policy, has no local endpoints"
    localEndpoints = [];
  }

  if (!useCluster) {
    return { clusterEndpoints: null, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }

  if (topologyMode === '' && !useServingTerminatingEndpoints) {
    // clusterEndpoints holds every ready endpoint and localEndpoints only ready ones: a superset
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints ?? [], hasAnyEndpoints };
  }

  // Union. Upstream builds it through a Go map (random order); we keep the input (sorted) order.
  const chosen = new Set<Endpoint>(clusterEndpoints);
  for (const ep of localEndpoints) chosen.add(ep);
  const seen = new Set<string>();
  const allReachableEndpoints: Endpoint[] = [];
  for (const ep of endpoints) {
    if (!chosen.has(ep) || seen.has(ep.endpoint)) continue;
    seen.add(ep.endpoint);
    allReachableEndpoints.push(ep);
  }
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}
