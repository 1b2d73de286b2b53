// core/model: kube-proxy's view of a cluster, for one node and one IP family.
//
// Reference: kubernetes/kubernetes pkg/proxy, read at these stored commits (the newest forms available,
// Kubernetes v1.33-v1.35 era: node hints / PreferSameNode, non-terminating endpoint wins on duplicates,
// slices filtered by addressType, no hints-annotation check in kube-proxy):
//   topology.go, servicechangetracker.go       008b3652959ca58af8be3fb5b6ecfe9ae7638282
//   serviceport.go                             5ce22905a86fca8fa196524c760bb403c57dca17
//   endpointslicecache.go                      c2c7d507620b919d8c6cd5d43e689e7656186df5
//   endpointschangetracker.go (+ _test)        f2963eff6352cb5e4fc986d54e642f3fead7ff2b
//   servicechangetracker_test.go               f2963eff6352cb5e4fc986d54e642f3fead7ff2b
//   endpoint.go                                5e9da151e039df328030fc043cd7f9ea42c21e91
//   endpointslicecache_test.go                 05e14799db8e4835d686d5b604ea4c9f5708120d
//   topology_test.go                           02756999a07f133c152b3078ed93c4b870f800d4 (older; its cases
//                                              were re-derived for the newest rules above)
//   pkg/proxy/util/utils.go (ShouldSkipService, GetClusterIPByFamily, MapIPsByIPFamily, MapCIDRsByIPFamily,
//   IsVIPMode), pkg/api/v1/service/util.go, pkg/util/node GetNodeHostIPs, cmd/kube-proxy/app/server.go
//   (informer label selector), pkg/proxy/types.go (ServicePortName.String) as stored in the index.
//
// The model is the state kube-proxy's ServicePortMap and EndpointsMap reach once every Service and
// EndpointSlice has been applied; there is no change tracking because we start from a full list.

import type { EndpointSlice, IPFamily, Protocol, Service } from '../objects/types.js';
import {
  type Endpoint,
  compareEndpointStrings,
  endpointSliceServiceKey,
  endpointsByServicePort,
  sliceIsTracked,
  sortEndpoints,
} from './endpoints.js';
import { type ServicePort, serviceToServicePorts, servicePortNameString } from './service.js';

export type { Endpoint, EndpointsOptions, PortEndpointSets } from './endpoints.js';
export { compareEndpointStrings, endpointSliceServiceKey, endpointsByServicePort, sliceIsTracked, sortEndpoints };
export type { ServicePort, ServicePortName, SessionAffinity } from './service.js';
export {
  DefaultClientIPServiceAffinitySeconds,
  cidrsOfFamily,
  externallyAccessible,
  getClusterIPByFamily,
  ipsOfFamily,
  newServicePort,
  serviceExternalPolicyLocal,
  serviceExternallyAccessible,
  serviceIPFamilies,
  serviceInternalPolicyLocal,
  serviceNeedsHealthCheck,
  servicePortNameString,
  servicePortString,
  serviceToServicePorts,
  shouldSkipService,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from './service.js';
export type { CategorizedEndpoints, TopologyMode } from './topology.js';
export { availableForTopology, categorizeEndpoints, topologyModeFromHints } from './topology.js';
export { nodeIPs, nodeLabels, podCIDRs } from './node.js';
export {
  AnnotationTopologyMode,
  DeprecatedAnnotationTopologyAwareHints,
  LabelHeadlessService,
  LabelServiceName,
  LabelServiceProxyName,
  LabelTopologyZone,
  passesInformerSelector,
} from './labels.js';
export { isIPv6String, joinHostPort, normalizeIP, parseCIDRSloppy } from '../net/ip.js';

export interface ProxyState {
  ipFamily: IPFamily;
  nodeName: string;
  /** Service ports by key ("ns/name:port"), in key order. */
  serviceMap: Map<string, ServicePort>;
  /**
   * Endpoints by service port key, each list sorted as upstream sorts it (byte order of "ip:port").
   * Only non-empty lists appear. Upstream keys this map by ServicePortName including the protocol; when a
   * key names a service port, its list holds only endpoints whose slice port has that port's protocol.
   * Keys without a service port (slices of unproxied services) hold the first of TCP, UDP, SCTP present.
   */
  endpointsMap: Map<string, Endpoint[]>;
  /** The node labels given in the options (the zone in them drives topology). */
  nodeLabels?: Record<string, string>;
}

export interface ModelOptions {
  ipFamily: IPFamily;
  nodeName: string;
  nodeLabels?: Record<string, string>;
  /** The PreferSameTrafficDistribution feature gate; default true (on in current releases). */
  preferSameTrafficDistribution?: boolean;
}

const PROTOCOL_ORDER: Protocol[] = ['TCP', 'UDP', 'SCTP'];

function byKey<T>(a: [string, T], b: [string, T]): number {
  return compareEndpointStrings(a[0], b[0]);
}

/** Everything kube-proxy on `opts.nodeName` would program for `opts.ipFamily`. */
export function buildProxyState(
  objects: { services: Service[]; endpointSlices: EndpointSlice[] },
  opts: ModelOptions,
): ProxyState {
  const family = opts.ipFamily;

  // Services: the informer store holds one object per namespace/name; the last one given wins.
  const services = new Map<string, Service>();
  for (const svc of objects.services) {
    services.set(`${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`, svc);
  }
  const ports: Array<[string, ServicePort]> = [];
  for (const svc of services.values()) {
    for (const sp of serviceToServicePorts(svc, family)) ports.push([sp.key, sp]);
  }
  ports.sort(byKey);
  const serviceMap = new Map<string, ServicePort>(ports);

  // EndpointSlices of this family, grouped by service, one per slice name (the last one given wins).
  const slicesByService = new Map<string, { namespace: string; name: string; slices: Map<string, EndpointSlice> }>();
  for (const slice of objects.endpointSlices) {
    if (!sliceIsTracked(slice, family)) continue;
    const key = endpointSliceServiceKey(slice);
    if (key === null) continue;
    let group = slicesByService.get(key.service);
    if (!group) {
      group = { namespace: key.namespace, name: key.serviceName, slices: new Map() };
      slicesByService.set(key.service, group);
    }
    group.slices.set(key.slice, slice);
  }

  const endpointEntries: Array<[string, Endpoint[]]> = [];
  const epOpts = {
    ipFamily: family,
    nodeName: opts.nodeName,
    preferSameTrafficDistribution: opts.preferSameTrafficDistribution ?? true,
  };
  for (const group of slicesByService.values()) {
    const names = [...group.slices.keys()].sort(compareEndpointStrings);
    const ordered = names.map((n) => group.slices.get(n)!);
    const byPort = endpointsByServicePort(ordered, epOpts);
    for (const [portName, byProtocol] of byPort) {
      const key = servicePortNameString({ namespace: group.namespace, name: group.name, port: portName, protocol: 'TCP' });
      const sp = serviceMap.get(key);
      let chosen: Map<string, Endpoint> | undefined;
      if (sp) {
        chosen = byProtocol.get(sp.protocol);
      } else {
        for (const p of PROTOCOL_ORDER) {
          const set = byProtocol.get(p);
          if (set && set.size > 0) {
            chosen = set;
            break;
          }
        }
      }
      if (!chosen || chosen.size === 0) continue;
      endpointEntries.push([key, sortEndpoints([...chosen.values()])]);
    }
  }
  endpointEntries.sort(byKey);

  const state: ProxyState = {
    ipFamily: family,
    nodeName: opts.nodeName,
    serviceMap,
    endpointsMap: new Map(endpointEntries),
  };
  if (opts.nodeLabels) state.nodeLabels = opts.nodeLabels;
  return state;
}

/** One ProxyState per family, as a dual-stack kube-proxy runs one proxier per family. */
export function buildProxyStates(
  objects: { services: Service[]; endpointSlices: EndpointSlice[] },
  opts: Omit<ModelOptions, 'ipFamily'> & { ipFamilies: IPFamily[] },
): ProxyState[] {
  const { ipFamilies, ...rest } = opts;
  return ipFamilies.map((ipFamily) => buildProxyState(objects, { ...rest, ipFamily }));
}
