// The node's view after a change to some services, as kube-proxy's change trackers reach it
// (pkg/proxy/servicechangetracker.go and endpointschangetracker.go: Update() applies only the changed
// services' ServicePorts to svcPortMap and their endpoints to endpointsMap). Only the changed services'
// entries are rebuilt, from their own Service and EndpointSlices; every other entry is the previous
// view's. A node or configuration change is the caller's full rebuild (buildProxyView): here the node's
// name, addresses, pod CIDRs, labels and the configuration are taken to be the previous view's.
import type { KubeProxyConfiguration } from './config/index.js';
import { type Endpoint, type ProxyState, buildProxyState, compareEndpointStrings, endpointSliceServiceKey, type ServicePort } from './model/index.js';
import type { EndpointSlice, Node, Service } from './objects/types.js';
import { buildProxyView, type FamilyView, type ProxyView } from './proxy-view.js';

export interface ViewUpdate {
  view: ProxyView;
  /** The service ports ("ns/name:port") of the changed services, as they were and as they are, in key order. */
  servicePorts: string[];
  /** False when the update had to rebuild the whole view (the node it was built for is no longer the same). */
  incremental: boolean;
}

/** "ns/name" of a service port key ("ns/name:port" or "ns/name"). */
export function serviceOfKey(key: string): string {
  const colon = key.indexOf(':', key.indexOf('/'));
  return colon < 0 ? key : key.slice(0, colon);
}

/**
 * `objects` holds at least every Service and EndpointSlice of the `changed` services ("ns/name"), and the
 * nodes; others in it are ignored. `previous` was built from the same configuration.
 */
export function updateProxyView(
  previous: ProxyView,
  objects: { services: Service[]; endpointSlices: EndpointSlice[]; nodes: Node[] },
  changed: ReadonlySet<string>,
  config: KubeProxyConfiguration,
  source: string,
): ViewUpdate {
  const node = previous.nodeDefaulted ? undefined : objects.nodes.find((n) => n.metadata?.name === previous.nodeName);
  if (previous.nodeDefaulted || !sameNodeInputs(previous.node, node) || (!node && objects.nodes.length > 0)) {
    // which node, or what the view reads of it, changed (or the named node is missing, which the full
    // build says): nothing of the previous view can be trusted
    const view = buildProxyView(objects, config, source);
    return { view, servicePorts: servicePortsOf([previous, view], changed), incremental: false };
  }
  const services = objects.services.filter((s) => changed.has(`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`));
  const endpointSlices = objects.endpointSlices.filter((s) => {
    const k = endpointSliceServiceKey(s);
    return k !== null && changed.has(k.service);
  });
  const ports = new Set<string>();
  const family = (f: FamilyView): FamilyView => {
    const part = buildProxyState({ services, endpointSlices }, { ipFamily: f.family, nodeName: f.state.nodeName, nodeLabels: node?.metadata?.labels });
    const state: ProxyState = {
      ipFamily: f.family,
      nodeName: f.state.nodeName,
      serviceMap: splice<ServicePort>(f.state.serviceMap, part.serviceMap, changed, ports),
      endpointsMap: splice<Endpoint[]>(f.state.endpointsMap, part.endpointsMap, changed, ports),
    };
    if (part.nodeLabels) state.nodeLabels = part.nodeLabels;
    return { ...f, state };
  };
  const view: ProxyView = { ...previous, node, families: previous.families.map(family) };
  if (previous.otherFamilies) view.otherFamilies = previous.otherFamilies.map(family);
  return { view, servicePorts: [...ports].sort(compareEndpointStrings), incremental: true };
}

/**
 * Each map's keys in order, kept beside it and carried over to the map spliced from it: a service's keys
 * ("ns/name" and "ns/name:port") are found by binary search instead of a walk of the map. Shared, never
 * changed: a splice that adds and drops no key hands the same array on.
 */
const sortedKeys = new WeakMap<Map<string, unknown>, readonly string[]>();

function keysOf(m: Map<string, unknown>): readonly string[] {
  let keys = sortedKeys.get(m);
  if (!keys) sortedKeys.set(m, (keys = [...m.keys()]));
  return keys;
}

/** The first index whose key is not below `x`. */
function lowerBound(keys: readonly string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareEndpointStrings(keys[mid]!, x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The keys of service `svc` in `m`: "svc" itself (a port without a name) and "svc:…" (';' follows ':'). */
function keysOfService(m: Map<string, unknown>, keys: readonly string[], svc: string): string[] {
  const out = m.has(svc) ? [svc] : [];
  for (let i = lowerBound(keys, `${svc}:`); i < keys.length && keys[i]!.startsWith(`${svc}:`); i++) out.push(keys[i]!);
  return out;
}

/**
 * `previous` without the changed services' keys, with `fresh`'s entries in their place, in key order (as
 * buildProxyView leaves it). When no key is new, a copy of `previous` with those keys set or deleted keeps
 * that order (Map.set on a present key leaves it where it is); a new key is merged in one ordered pass.
 * Every key dropped or added is recorded in `touched`.
 */
function splice<T>(previous: Map<string, T>, fresh: Map<string, T>, changed: ReadonlySet<string>, touched: Set<string>): Map<string, T> {
  const keys = keysOf(previous as Map<string, unknown>);
  const dropped = new Set<string>();
  for (const svc of changed) for (const key of keysOfService(previous as Map<string, unknown>, keys, svc)) dropped.add(key);
  for (const key of dropped) touched.add(key);
  for (const key of fresh.keys()) touched.add(key);
  const gone = [...dropped].filter((k) => !fresh.has(k));
  // nothing of these services changed here (their service ports on an endpoint change): the same map
  if (gone.length === 0 && fresh.size === dropped.size && [...fresh].every(([k, v]) => JSON.stringify(v) === JSON.stringify(previous.get(k)))) return previous;
  if ([...fresh.keys()].every((k) => previous.has(k))) {
    const out = new Map(previous);
    for (const key of gone) out.delete(key);
    for (const [key, value] of fresh) out.set(key, value);
    const goneSet = new Set(gone);
    sortedKeys.set(out as Map<string, unknown>, gone.length === 0 ? keys : keys.filter((k) => !goneSet.has(k)));
    return out;
  }
  const out = new Map<string, T>();
  const adds = [...fresh];
  let i = 0;
  for (const [key, value] of previous) {
    while (i < adds.length && compareEndpointStrings(adds[i]![0], key) < 0) {
      out.set(adds[i]![0], adds[i]![1]);
      i++;
    }
    if (!dropped.has(key)) out.set(key, value);
  }
  for (; i < adds.length; i++) out.set(adds[i]![0], adds[i]![1]);
  return out;
}

/** What buildProxyView reads of the node: labels (topology), addresses (node IPs) and pod CIDRs. */
function sameNodeInputs(a: Node | undefined, b: Node | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const inputs = (n: Node) => {
    const x = n as { metadata?: { labels?: unknown }; spec?: { podCIDR?: unknown; podCIDRs?: unknown }; status?: { addresses?: unknown } };
    return JSON.stringify([x.metadata?.labels, x.spec?.podCIDR, x.spec?.podCIDRs, x.status?.addresses]);
  };
  return inputs(a) === inputs(b);
}

/** Every service port key of the `changed` services in any of `views` (the slow path's list). */
function servicePortsOf(views: ProxyView[], changed: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const v of views) {
    for (const f of [...v.families, ...(v.otherFamilies ?? [])]) {
      for (const key of f.state.serviceMap.keys()) if (changed.has(serviceOfKey(key))) out.add(key);
      for (const key of f.state.endpointsMap.keys()) if (changed.has(serviceOfKey(key))) out.add(key);
    }
  }
  return [...out].sort(compareEndpointStrings);
}
