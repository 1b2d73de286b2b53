// EndpointSlices as kube-proxy sees them: the endpoints of each service port, merged across slices.
// Mirrors pkg/proxy/endpointschangetracker.go (EndpointSliceUpdate: only slices of the tracker's address
// type), endpointslicecache.go (endpointSliceCacheKeys, endpointInfoByServicePort, addEndpoints,
// endpointsMapFromEndpointInfo) and endpoint.go (BaseEndpointInfo).
//
// Endpoint order. endpointsMapFromEndpointInfo sorts each service port's endpoints with byEndpoint, i.e. a
// plain byte-wise comparison of the "ip:port" strings ("10.0.1.10:80" sorts before "10.0.1.1:80", as the
// upstream endpointslicecache_test expectations show). The proxiers consume that list unchanged:
// CategorizeEndpoints filters it preserving order, and the iptables proxier writes the KUBE-SVC-* probability
// rules (and the nftables proxier its numgen vmap) in that order, which is why proxier_test expectations
// list KUBE-SEP chains by ascending endpoint string. We reproduce the same sort.

import type { EndpointSlice, IPFamily, Protocol } from '../objects/types.js';
import { joinHostPort, normalizeIP } from '../net/ip.js';
import { LabelServiceName, passesInformerSelector } from './labels.js';

export interface Endpoint {
  ip: string;
  port: number;
  /** net.JoinHostPort(ip, port): "10.0.0.1:80", "[fd00::1]:80"; the endpoint's identity. */
  endpoint: string;
  /** The endpoint's nodeName is this node's name (and this node has a name). */
  isLocal: boolean;
  /** conditions.ready, absent means true. */
  ready: boolean;
  /** conditions.serving, absent means true. */
  serving: boolean;
  /** conditions.terminating, absent means false. */
  terminating: boolean;
  /** hints.forZones names, null when there are none. */
  zoneHints: string[] | null;
  /** hints.forNodes names, null when there are none (or PreferSameTrafficDistribution is off). */
  nodeHints: string[] | null;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string };
}

export interface EndpointsOptions {
  ipFamily: IPFamily;
  nodeName: string;
  /** The PreferSameTrafficDistribution feature gate (on by default in current releases). */
  preferSameTrafficDistribution?: boolean;
}

/** Byte-wise comparison of endpoint strings, as Go's `<` on strings (byEndpoint). */
export function compareEndpointStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortEndpoints(eps: Endpoint[]): Endpoint[] {
  return eps.sort((x, y) => compareEndpointStrings(x.endpoint, y.endpoint));
}

/** endpointSliceCacheKeys: "namespace/service" and the slice name, or null when the slice is unusable. */
export function endpointSliceServiceKey(slice: EndpointSlice): { service: string; namespace: string; serviceName: string; slice: string } | null {
  const serviceName = slice.metadata?.labels?.[LabelServiceName];
  const namespace = slice.metadata?.namespace ?? '';
  const name = slice.metadata?.name ?? '';
  if (!serviceName || namespace === '' || name === '') return null;
  return { service: `${namespace}/${serviceName}`, namespace, serviceName, slice: name };
}

/** Whether kube-proxy's tracker for this family accepts the slice at all. */
export function sliceIsTracked(slice: EndpointSlice, family: IPFamily): boolean {
  return slice.addressType === family && passesInformerSelector(slice.metadata?.labels);
}

/** Per-endpoint data shared by every port of a slice. */
type EndpointBase = Omit<Endpoint, 'port' | 'endpoint'>;

function hintNames(list: Array<{ name: string }> | undefined): string[] | null {
  if (!list || list.length === 0) return null;
  const out: string[] = [];
  for (const h of list) if (!out.includes(h.name)) out.push(h.name);
  return out;
}

function endpointBases(slice: EndpointSlice, opts: EndpointsOptions): EndpointBase[] {
  const out: EndpointBase[] = [];
  const preferSameNode = opts.preferSameTrafficDistribution ?? true;
  for (const ep of slice.endpoints ?? []) {
    if (!ep || !ep.addresses || ep.addresses.length === 0) continue;
    // upstream prints ParseIPSloppy(addresses[0]).String(); an address that does not parse is dropped here
    const parsed = normalizeIP(ep.addresses[0]!);
    if (parsed === null) continue;
    const c = ep.conditions ?? {};
    const base: EndpointBase = {
      ip: parsed.ip,
      isLocal: ep.nodeName !== undefined && ep.nodeName !== null && opts.nodeName !== '' && ep.nodeName === opts.nodeName,
      ready: c.ready === undefined || c.ready === null || c.ready === true,
      serving: c.serving === undefined || c.serving === null || c.serving === true,
      terminating: c.terminating === true,
      zoneHints: hintNames(ep.hints?.forZones),
      nodeHints: preferSameNode ? hintNames(ep.hints?.forNodes) : null,
    };
    if (ep.nodeName) base.nodeName = ep.nodeName;
    if (ep.zone) base.zone = ep.zone;
    if (ep.targetRef) {
      const t: { kind?: string; namespace?: string; name?: string } = {};
      if (ep.targetRef.kind !== undefined) t.kind = ep.targetRef.kind;
      if (ep.targetRef.namespace !== undefined) t.namespace = ep.targetRef.namespace;
      if (ep.targetRef.name !== undefined) t.name = ep.targetRef.name;
      base.targetRef = t;
    }
    out.push(base);
  }
  return out;
}

/** Endpoints of one service port name, keyed by "ip:port", per protocol (ServicePortName includes it). */
export type PortEndpointSets = Map<string /* port name */, Map<Protocol, Map<string, Endpoint>>>;

/**
 * endpointInfoByServicePort + addEndpoints for one service's slices (all of the tracked family).
 * Slices are visited in name order (upstream iterates a Go map); within a service port an endpoint string
 * seen twice keeps the later copy unless that copy is terminating (prefer the running pod when an IP is
 * reused, as upstream's addEndpoints does).
 */
export function endpointsByServicePort(slices: EndpointSlice[], opts: EndpointsOptions): PortEndpointSets {
  const result: PortEndpointSets = new Map();
  for (const slice of slices) {
    const ports = slice.ports;
    if (!ports || ports.length === 0) continue;
    let bases: EndpointBase[] | null = null;
    for (const port of ports) {
      if (!port || port.name === undefined || port.name === null) continue; // nil name: ignored upstream
      if (port.port === undefined || port.port === null || port.port === 0) continue; // nil or 0 port
      const protocol: Protocol = port.protocol ?? 'TCP';
      bases ??= endpointBases(slice, opts);
      let byProto = result.get(port.name);
      if (!byProto) result.set(port.name, (byProto = new Map()));
      let set = byProto.get(protocol);
      if (!set) byProto.set(protocol, (set = new Map()));
      const portNum = port.port;
      for (const b of bases) {
        const endpoint = joinHostPort(b.ip, portNum);
        if (b.terminating && set.has(endpoint)) continue;
        const e: Endpoint = {
          ip: b.ip,
          port: portNum,
          endpoint,
          isLocal: b.isLocal,
          ready: b.ready,
          serving: b.serving,
          terminating: b.terminating,
          zoneHints: b.zoneHints,
          nodeHints: b.nodeHints,
        };
        if (b.nodeName !== undefined) e.nodeName = b.nodeName;
        if (b.zone !== undefined) e.zone = b.zone;
        if (b.targetRef !== undefined) e.targetRef = b.targetRef;
        set.set(endpoint, e);
      }
    }
  }
  return result;
}
