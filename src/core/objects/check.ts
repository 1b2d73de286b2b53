// What kube-proxy does with objects it cannot use, applied to objects read from files (the API server
// validates what it stores, so only files can hold these). kube-proxy skips such a Service, endpoint or
// port with a log line (endpointslicecache.go: "Ignoring invalid endpoint port", "…with empty address",
// the IP-version event; servicechangetracker: a cluster IP that does not parse); here each object that
// loses something gets ONE warning naming it, where it was read, and the fields. Nothing is dropped
// silently. An object given twice (same kind, namespace and name) is kept once, the later one, as
// `kubectl apply -f` would leave it, and said. Pure: objects in, objects and warnings out.
import { normalizeIP } from '../net/ip.js';
import type { LocatedObject } from './decode.js';
import type { EndpointSlice, KubeObject, Node, Service } from './types.js';

export interface CheckedObjects {
  objects: KubeObject[];
  warnings: string[];
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
const CLUSTER_SCOPED = new Set(['Node', 'Namespace', 'FelixConfiguration', 'Network', 'ClusterRole', 'ClusterRoleBinding']);

export function checkObjects(located: readonly LocatedObject[]): CheckedObjects {
  const warnings: string[] = [];
  // Duplicates first: the later one stands in the earlier one's place.
  const byKey = new Map<string, number>();
  const kept: Array<LocatedObject | undefined> = [];
  for (const lo of located) {
    const key = identity(lo.object);
    const prev = key === undefined ? undefined : byKey.get(key);
    if (prev !== undefined) {
      const earlier = kept[prev]!;
      const same = JSON.stringify(earlier.object) === JSON.stringify(lo.object);
      warnings.push(`${describe(lo)} is given twice (also at ${earlier.where})${same ? ', identically; it is read once' : '; the later one is used, as kubectl apply would leave it'}.`);
      kept[prev] = undefined;
    }
    if (key !== undefined) byKey.set(key, kept.length);
    kept.push(lo);
  }
  const objects: KubeObject[] = [];
  for (const lo of kept) {
    if (!lo) continue;
    const { object, dropped } = checkOne(lo.object);
    if (dropped.length) {
      const one = dropped.length === 1;
      warnings.push(`${describe(lo)}: ${dropped.join(', ')}; kube-proxy skips ${one ? 'it' : 'these'}, so ${one ? 'it is' : 'they are'} left out.`);
    }
    if (object) objects.push(object);
  }
  return { objects, warnings };
}

function identity(o: KubeObject): string | undefined {
  const name = o.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const group = o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : '';
  const ns = CLUSTER_SCOPED.has(o.kind ?? '') ? '' : (o.metadata?.namespace ?? 'default');
  return `${o.kind}.${group}/${ns}/${name}`;
}

function describe(lo: LocatedObject): string {
  const o = lo.object;
  const name = o.metadata?.name ?? '<no name>';
  const ns = CLUSTER_SCOPED.has(o.kind ?? '') ? '' : `${o.metadata?.namespace ?? 'default'}/`;
  return `${o.kind} ${ns}${name} (${lo.where})`;
}

function checkOne(o: KubeObject): { object: KubeObject | undefined; dropped: string[] } {
  if (o.kind === 'Service' && !o.apiVersion?.includes('/')) return checkService(o as Service);
  if (o.kind === 'EndpointSlice' && o.apiVersion?.startsWith('discovery.k8s.io/')) return checkSlice(o as EndpointSlice);
  if (o.kind === 'Node' && !o.apiVersion?.includes('/')) return checkNode(o as Node);
  return { object: o, dropped: [] };
}

const q = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));

/** A port number as the API defines it (int32 1-65535); `allowZero` for optional ports where 0 means none. */
function badPort(v: unknown, allowZero: boolean): boolean {
  return typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535;
}

function checkService(svc: Service): { object: Service | undefined; dropped: string[] } {
  const spec = svc.spec ?? {};
  const dropped: string[] = [];
  const cip = spec.clusterIP;
  if (cip !== undefined && cip !== '' && cip !== 'None' && (typeof cip !== 'string' || normalizeIP(cip) === null)) {
    return { object: undefined, dropped: [`spec.clusterIP ${q(cip)} (not an IP address, so the whole Service: trace and rules will not find it)`] };
  }
  const badIPs = (spec.clusterIPs ?? []).map((ip, i) => [ip, i] as const).filter(([ip]) => typeof ip !== 'string' || (ip !== 'None' && normalizeIP(ip) === null));
  if (badIPs.length) {
    return { object: undefined, dropped: [`spec.clusterIPs[${badIPs[0][1]}] ${q(badIPs[0][0])} (not an IP address, so the whole Service: trace and rules will not find it)`] };
  }
  const out: Service = { ...svc, spec: { ...spec } };
  if (Array.isArray(spec.ports)) {
    out.spec!.ports = spec.ports.filter((p, i) => {
      const at = `spec.ports[${i}]`;
      const why = !p || typeof p !== 'object' ? `${at} is not a port`
        : badPort(p.port, false) ? `${at}.port ${q(p.port)} (not 1-65535)`
        : p.nodePort !== undefined && p.nodePort !== null && badPort(p.nodePort, true) ? `${at}.nodePort ${q(p.nodePort)} (not 0-65535)`
        : p.protocol !== undefined && !PROTOCOLS.has(p.protocol as string) ? `${at}.protocol ${q(p.protocol)} (not TCP, UDP or SCTP)`
        : undefined;
      if (why) dropped.push(why);
      return !why;
    });
  }
  if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort !== null && badPort(spec.healthCheckNodePort, true)) {
    dropped.push(`spec.healthCheckNodePort ${q(spec.healthCheckNodePort)} (not 0-65535)`);
    delete out.spec!.healthCheckNodePort;
  }
  if (Array.isArray(spec.externalIPs)) {
    out.spec!.externalIPs = spec.externalIPs.filter((ip, i) => {
      const ok = typeof ip === 'string' && normalizeIP(ip) !== null;
      if (!ok) dropped.push(`spec.externalIPs[${i}] ${q(ip)} (not an IP address)`);
      return ok;
    });
  }
  const ingress = svc.status?.loadBalancer?.ingress;
  if (Array.isArray(ingress)) {
    const kept = ingress.filter((ing, i) => {
      const ok = !ing || ing.ip === undefined || ing.ip === '' || (typeof ing.ip === 'string' && normalizeIP(ing.ip) !== null);
      if (!ok) dropped.push(`status.loadBalancer.ingress[${i}].ip ${q(ing.ip)} (not an IP address)`);
      return ok;
    });
    if (kept.length !== ingress.length) out.status = { ...svc.status, loadBalancer: { ...svc.status!.loadBalancer, ingress: kept } };
  }
  return { object: dropped.length ? out : svc, dropped };
}

function checkSlice(slice: EndpointSlice): { object: EndpointSlice; dropped: string[] } {
  const dropped: string[] = [];
  const out: EndpointSlice = { ...slice };
  if (Array.isArray(slice.ports)) {
    out.ports = slice.ports.filter((p, i) => {
      const at = `ports[${i}]`;
      const why = !p || typeof p !== 'object' ? `${at} is not a port`
        : p.name === undefined || p.name === null ? `${at}.name missing (a port with no name)`
        : badPort(p.port, false) ? `${at}.port ${q(p.port)} (not 1-65535)`
        : p.protocol !== undefined && !PROTOCOLS.has(p.protocol as string) ? `${at}.protocol ${q(p.protocol)} (not TCP, UDP or SCTP)`
        : undefined;
      if (why) dropped.push(why);
      return !why;
    });
  }
  const family = slice.addressType;
  if ((family === 'IPv4' || family === 'IPv6') && Array.isArray(slice.endpoints)) {
    out.endpoints = slice.endpoints.filter((ep, i) => {
      const addr = Array.isArray(ep?.addresses) ? ep.addresses[0] : undefined;
      const parsed = typeof addr === 'string' ? normalizeIP(addr) : null;
      const at = `endpoints[${i}].addresses[0]`;
      const why = addr === undefined ? `endpoints[${i}].addresses empty`
        : parsed === null ? `${at} ${q(addr)} (not an IP address)`
        : parsed.family !== family ? `${at} ${q(addr)} (${parsed.family} in an ${family} slice)`
        : undefined;
      if (why) dropped.push(why);
      return !why;
    });
  }
  return { object: dropped.length ? out : slice, dropped };
}

function checkNode(node: Node): { object: Node; dropped: string[] } {
  const dropped: string[] = [];
  const addresses = node.status?.addresses;
  if (!Array.isArray(addresses)) return { object: node, dropped };
  const kept = addresses.filter((a, i) => {
    const ok = !a || (a.type !== 'InternalIP' && a.type !== 'ExternalIP') || (typeof a.address === 'string' && normalizeIP(a.address) !== null);
    if (!ok) dropped.push(`status.addresses[${i}].address ${q(a.address)} (${a.type}, not an IP address)`);
    return ok;
  });
  return { object: dropped.length ? { ...node, status: { ...node.status, addresses: kept } } : node, dropped };
}
