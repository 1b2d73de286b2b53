// Services as kube-proxy sees them: one ServicePort per (service, port) for one IP family.
// Mirrors pkg/proxy/serviceport.go (newBaseServiceInfo), servicechangetracker.go (serviceToServiceMap),
// pkg/proxy/util (ShouldSkipService, GetClusterIPByFamily, MapIPsByIPFamily, MapCIDRsByIPFamily, IsVIPMode)
// and pkg/api/v1/service/util.go (ExternallyAccessible, ExternalPolicyLocal, InternalPolicyLocal,
// NeedsHealthCheck).

import type { IPFamily, Protocol, Service, ServicePortSpec } from '../objects/types.js';
import { isIPv6String, normalizeIP, parseCIDRSloppy } from '../net/ip.js';
import {
  AnnotationTopologyMode,
  DeprecatedAnnotationTopologyAwareHints,
  passesInformerSelector,
} from './labels.js';

/** kube-proxy's ServicePortName: namespace + name + port name (+ protocol, which String() leaves out). */
export interface ServicePortName {
  namespace: string;
  name: string;
  port: string;
  protocol: Protocol;
}

/** ServicePortName.String(): "ns/name:port", or "ns/name" when the port has no name. */
export function servicePortNameString(n: ServicePortName): string {
  return n.port === '' ? `${n.namespace}/${n.name}` : `${n.namespace}/${n.name}:${n.port}`;
}

export type SessionAffinity = { type: 'None' } | { type: 'ClientIP'; maxAgeSeconds: number };

/** The API server's default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DefaultClientIPServiceAffinitySeconds = 10800;

/** kube-proxy's BaseServicePortInfo for one IP family. Addresses are normalised as kube-proxy prints them. */
export interface ServicePort {
  name: ServicePortName;
  /** servicePortNameString(name); the key of ProxyState.serviceMap and endpointsMap. */
  key: string;
  clusterIP: string;
  port: number;
  protocol: Protocol;
  /** 0 when the port has none. */
  nodePort: number;
  /** status.loadBalancer.ingress[].ip of this family whose ipMode is VIP or unset. */
  loadBalancerVIPs: string[];
  /** spec.externalIPs of this family, invalid ones dropped. */
  externalIPs: string[];
  /** spec.loadBalancerSourceRanges of this family, trimmed and printed as networks ("10.1.2.0/24"). */
  loadBalancerSourceRanges: string[];
  sessionAffinity: SessionAffinity;
  /** Non-zero only for a LoadBalancer service with externalTrafficPolicy Local (NeedsHealthCheck). */
  healthCheckNodePort: number;
  /** externalTrafficPolicy Local on a service that is externally accessible by type. */
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  /** spec.trafficDistribution, for display: the newest kube-proxy acts on endpoint hints only. */
  trafficDistribution?: string;
  /** The topology-mode (or deprecated topology-aware-hints) annotation, for display, as trafficDistribution. */
  hintsAnnotation?: string;
}

/** ExternallyAccessible(): reachable by something other than the cluster IP. */
export function externallyAccessible(sp: ServicePort): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerVIPs.length !== 0 || sp.externalIPs.length !== 0;
}

/**
 * UsesClusterEndpoints(): internal traffic policy Cluster, or any external traffic at all (even with
 * externalTrafficPolicy Local, cluster endpoints are needed for traffic short-circuited from inside).
 */
export function usesClusterEndpoints(sp: ServicePort): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

/** UsesLocalEndpoints(). */
export function usesLocalEndpoints(sp: ServicePort): boolean {
  return sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp));
}

/** ServicePort.String(): "clusterIP:port/protocol" (Go prints an IPv6 cluster IP without brackets). */
export function servicePortString(sp: ServicePort): string {
  return `${sp.clusterIP}:${sp.port}/${sp.protocol}`;
}

function serviceType(svc: Service): string {
  // The API server defaults an absent type to ClusterIP.
  return svc.spec?.type ?? 'ClusterIP';
}

/** apiservice.ExternallyAccessible: by service type (and externalIPs on a ClusterIP service). */
export function serviceExternallyAccessible(svc: Service): boolean {
  const t = serviceType(svc);
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/** apiservice.ExternalPolicyLocal. */
export function serviceExternalPolicyLocal(svc: Service): boolean {
  return serviceExternallyAccessible(svc) && svc.spec?.externalTrafficPolicy === 'Local';
}

/** apiservice.InternalPolicyLocal. */
export function serviceInternalPolicyLocal(svc: Service): boolean {
  return svc.spec?.internalTrafficPolicy === 'Local';
}

/** apiservice.NeedsHealthCheck. */
export function serviceNeedsHealthCheck(svc: Service): boolean {
  return serviceType(svc) === 'LoadBalancer' && serviceExternalPolicyLocal(svc);
}

/**
 * Whether kube-proxy ignores this Service entirely: filtered out by its informer's label selector,
 * headless (clusterIP None or empty), or ExternalName (proxyutil.ShouldSkipService).
 */
export function shouldSkipService(svc: Service): boolean {
  if (!passesInformerSelector(svc.metadata?.labels)) return true;
  const clusterIP = svc.spec?.clusterIP ?? '';
  if (clusterIP === 'None' || clusterIP === '') return true;
  if (serviceType(svc) === 'ExternalName') return true;
  return false;
}

/** proxyutil.GetClusterIPByFamily: "" when the service has no cluster IP of this family. */
export function getClusterIPByFamily(family: IPFamily, svc: Service): string {
  const spec = svc.spec ?? {};
  const families = spec.ipFamilies ?? [];
  if (families.length === 0) {
    // a service written before dual-stack: decide by the address itself
    const clusterIP = spec.clusterIP ?? '';
    if (clusterIP === '' || clusterIP === 'None') return '';
    return (family === 'IPv6') === isIPv6String(clusterIP) ? clusterIP : '';
  }
  const clusterIPs = spec.clusterIPs ?? [];
  for (let i = 0; i < families.length; i++) {
    if (families[i] === family && i < clusterIPs.length) return clusterIPs[i]!;
  }
  return '';
}

/** The IP families kube-proxy programs this service for (one ProxyState per family). */
export function serviceIPFamilies(svc: Service): IPFamily[] {
  if (shouldSkipService(svc)) return [];
  const declared = svc.spec?.ipFamilies ?? [];
  // primary family first: spec.ipFamilies order, or the family of the lone clusterIP
  const candidates: IPFamily[] =
    declared.length > 0 ? declared : [isIPv6String(svc.spec?.clusterIP ?? '') ? 'IPv6' : 'IPv4'];
  const out: IPFamily[] = [];
  for (const f of candidates) {
    if (out.includes(f)) continue;
    if (normalizeIP(getClusterIPByFamily(f, svc)) !== null) out.push(f);
  }
  return out;
}

/** proxyutil.MapIPsByIPFamily restricted to one family; addresses printed as kube-proxy prints them. */
export function ipsOfFamily(ips: readonly string[] | undefined, family: IPFamily): string[] {
  const out: string[] = [];
  if (!ips) return out;
  for (const s of ips) {
    const p = normalizeIP(s);
    if (p !== null && p.family === family) out.push(p.ip);
  }
  return out;
}

/** proxyutil.MapCIDRsByIPFamily restricted to one family, after trimming surrounding whitespace. */
export function cidrsOfFamily(cidrs: readonly string[] | undefined, family: IPFamily): string[] {
  const out: string[] = [];
  if (!cidrs) return out;
  for (const s of cidrs) {
    const p = parseCIDRSloppy(s.trim());
    if (p !== null && p.family === family) out.push(p.cidr);
  }
  return out;
}

function hintsAnnotationOf(svc: Service): string | undefined {
  const ann = svc.metadata?.annotations;
  if (!ann) return undefined;
  const mode = ann[AnnotationTopologyMode];
  if (mode !== undefined && mode !== '') return mode;
  const legacy = ann[DeprecatedAnnotationTopologyAwareHints];
  return legacy !== undefined && legacy !== '' ? legacy : undefined;
}

/** newBaseServiceInfo for one port; null when the cluster IP of this family does not parse. */
export function newServicePort(svc: Service, family: IPFamily, port: ServicePortSpec): ServicePort | null {
  const spec = svc.spec ?? {};
  const clusterIP = normalizeIP(getClusterIPByFamily(family, svc));
  if (clusterIP === null) return null;

  let sessionAffinity: SessionAffinity = { type: 'None' };
  if (spec.sessionAffinity === 'ClientIP') {
    sessionAffinity = {
      type: 'ClientIP',
      maxAgeSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DefaultClientIPServiceAffinitySeconds,
    };
  }

  const loadBalancerVIPs: string[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (!ing.ip) continue;
    // IsVIPMode: unset counts as VIP; a Proxy-mode load balancer gets no rules of its own
    if (ing.ipMode !== undefined && ing.ipMode !== null && ing.ipMode !== 'VIP') continue;
    const p = normalizeIP(ing.ip);
    if (p !== null && p.family === family) loadBalancerVIPs.push(p.ip);
  }

  const name: ServicePortName = {
    namespace: svc.metadata?.namespace ?? '',
    name: svc.metadata?.name ?? '',
    port: port.name ?? '',
    protocol: port.protocol ?? 'TCP',
  };
  const sp: ServicePort = {
    name,
    key: servicePortNameString(name),
    clusterIP: clusterIP.ip,
    port: port.port,
    protocol: name.protocol,
    nodePort: port.nodePort ?? 0,
    loadBalancerVIPs,
    externalIPs: ipsOfFamily(spec.externalIPs, family),
    loadBalancerSourceRanges: cidrsOfFamily(spec.loadBalancerSourceRanges, family),
    sessionAffinity,
    healthCheckNodePort: serviceNeedsHealthCheck(svc) ? (spec.healthCheckNodePort ?? 0) : 0,
    externalPolicyLocal: serviceExternalPolicyLocal(svc),
    internalPolicyLocal: serviceInternalPolicyLocal(svc),
  };
  if (spec.trafficDistribution !== undefined) sp.trafficDistribution = spec.trafficDistribution;
  const hints = hintsAnnotationOf(svc);
  if (hints !== undefined) sp.hintsAnnotation = hints;
  return sp;
}

/**
 * serviceToServiceMap: every port of a proxied service for one family, in spec order. Empty when the
 * service is skipped or has no cluster IP of this family.
 */
export function serviceToServicePorts(svc: Service, family: IPFamily): ServicePort[] {
  if (shouldSkipService(svc)) return [];
  if (getClusterIPByFamily(family, svc) === '') return [];
  const out: ServicePort[] = [];
  for (const port of svc.spec?.ports ?? []) {
    const sp = newServicePort(svc, family, port);
    if (sp !== null) out.push(sp);
  }
  return out;
}
