// Random clusters and random changes to them, for the property tests of incremental syncs (the view's
// update, the scoped nftables render, the proxier's partial sync). Seeded, so a failure names its seed.
// The clusters are ones an API server accepts: one cluster IP (per family) per service, node ports
// unique; pods (endpoint IPs) are shared between services on purpose, as two services selecting the same
// pod share its hairpin entry.
import type { EndpointSlice, IPFamily, Node, Service } from '../../../src/core/objects/types.js';

export interface Cluster {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

/** The bench's seeded generator (mulberry32), so a failing seed here reproduces there too. */
export { prng as rng } from '../../../bench/synthetic.js';

export const NODE = 'node-0';

export function nodes(): Node[] {
  const node = (n: number): Node => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${n}`, labels: { 'kubernetes.io/hostname': `node-${n}`, 'topology.kubernetes.io/zone': `zone-${n % 2}` } },
    spec: { podCIDR: `10.244.${n}.0/24`, podCIDRs: [`10.244.${n}.0/24`, `fd00:10:244:${n}::/64`] },
    status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${10 + n}` }, { type: 'InternalIP', address: `fd00::${10 + n}` }] },
  });
  return [node(0), node(1), node(2)];
}

/** A generator of services and slices; `serial` keeps cluster IPs and node ports unique across changes. */
export class ClusterGen {
  private serial = 0;
  constructor(readonly r: () => number) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.r() < p;
  }

  service(ns: string, name: string): Service {
    const n = ++this.serial;
    const families: IPFamily[] = this.pick([['IPv4'], ['IPv4'], ['IPv6'], ['IPv4', 'IPv6'], ['IPv6', 'IPv4']] as IPFamily[][]);
    const ip = (f: IPFamily) => (f === 'IPv4' ? `172.30.${n >> 8}.${n & 255}` : `fd00:30::${n.toString(16)}`);
    const type = this.pick(['ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer'] as const);
    const ports = this.ports(type !== 'ClusterIP', n);
    const spec: NonNullable<Service['spec']> = {
      type,
      clusterIP: ip(families[0]!),
      clusterIPs: families.map(ip),
      ipFamilies: families,
      ports,
    };
    if (this.chance(0.2)) spec.externalIPs = families.map((f) => (f === 'IPv4' ? `203.0.${n >> 8}.${n & 255}` : `2001:db8:e::${n.toString(16)}`));
    if (type !== 'ClusterIP' || spec.externalIPs) spec.externalTrafficPolicy = this.chance(0.4) ? 'Local' : 'Cluster';
    if (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') spec.healthCheckNodePort = 32000 + n;
    if (this.chance(0.15)) spec.internalTrafficPolicy = 'Local';
    if (this.chance(0.2)) {
      spec.sessionAffinity = 'ClientIP';
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: this.pick([10800, 60]) } };
    }
    if (type === 'LoadBalancer' && this.chance(0.4)) spec.loadBalancerSourceRanges = ['10.0.0.0/8', '192.168.0.0/24', 'fd00::/64'];
    const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
    if (type === 'LoadBalancer' && this.chance(0.8)) {
      svc.status = { loadBalancer: { ingress: families.map((f) => ({ ip: f === 'IPv4' ? `198.51.${n >> 8}.${n & 255}` : `2001:db8:1b::${n.toString(16)}` })) } };
    }
    return svc;
  }

  ports(nodePorts: boolean, n: number): NonNullable<NonNullable<Service['spec']>['ports']> {
    const count = this.pick([1, 1, 2]);
    const out: NonNullable<NonNullable<Service['spec']>['ports']> = [];
    for (let i = 0; i < count; i++) {
      const port = { name: count === 1 && this.chance(0.3) ? '' : `p${i}`, port: this.pick([80, 443, 53, 8080]) + i, protocol: this.pick(['TCP', 'TCP', 'UDP'] as const), targetPort: 8000 + i } as {
        name: string;
        port: number;
        protocol: 'TCP' | 'UDP';
        targetPort: number;
        nodePort?: number;
      };
      if (nodePorts) port.nodePort = 30000 + ((n * 2 + i) % 2700);
      out.push(port);
    }
    return out;
  }

  /** One pod address: a small pool, so services share pods (and hairpin entries). */
  address(family: IPFamily): string {
    const i = Math.floor(this.r() * 24);
    return family === 'IPv4' ? `10.244.${i % 3}.${10 + i}` : `fd00:10:244:${i % 3}::${(10 + i).toString(16)}`;
  }

  endpoint(family: IPFamily): NonNullable<EndpointSlice['endpoints']>[number] {
    const node = this.pick(['node-0', 'node-0', 'node-1', 'node-2']);
    const ep: NonNullable<EndpointSlice['endpoints']>[number] = {
      addresses: [this.address(family)],
      conditions: { ready: this.chance(0.8), serving: this.chance(0.9), terminating: this.chance(0.1) },
      nodeName: node,
      zone: node === 'node-1' ? 'zone-1' : 'zone-0',
    };
    if (this.chance(0.2)) ep.hints = { forZones: [{ name: this.pick(['zone-0', 'zone-1']) }] };
    return ep;
  }

  slice(svc: Service, family: IPFamily, index: number): EndpointSlice {
    const ns = svc.metadata!.namespace!;
    const name = svc.metadata!.name!;
    const count = Math.floor(this.r() * 5);
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: ns, name: `${name}-${family === 'IPv4' ? 'v4' : 'v6'}-${index}`, labels: { 'kubernetes.io/service-name': name } },
      addressType: family,
      endpoints: Array.from({ length: count }, () => this.endpoint(family)),
      ports: (svc.spec?.ports ?? []).map((p) => ({ name: p.name ?? '', port: (p.targetPort as number | undefined) ?? p.port, protocol: p.protocol ?? 'TCP' })),
    };
  }

  slicesOf(svc: Service): EndpointSlice[] {
    const out: EndpointSlice[] = [];
    for (const f of (svc.spec?.ipFamilies ?? ['IPv4']) as IPFamily[]) {
      const n = this.pick([0, 1, 1, 2]);
      for (let i = 0; i < n; i++) out.push(this.slice(svc, f, i));
    }
    return out;
  }

  cluster(services: number): Cluster {
    const c: Cluster = { services: [], endpointSlices: [], nodes: nodes() };
    for (let i = 0; i < services; i++) {
      const svc = this.service(this.pick(['default', 'kube-system', 'apps']), `svc-${i}`);
      c.services.push(svc);
      c.endpointSlices.push(...this.slicesOf(svc));
    }
    return c;
  }
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const serviceOfSlice = (s: EndpointSlice) => `${s.metadata?.namespace ?? ''}/${s.metadata?.labels?.['kubernetes.io/service-name'] ?? ''}`;

export interface Change {
  what: string;
  cluster: Cluster;
  /** The services ("ns/name") the change touched, as the proxier's change tracker names them. */
  services: Set<string>;
}

/** One random change (a new object replaces the old one, as a watch event brings it); `c` is not modified. */
export function randomChange(g: ClusterGen, c: Cluster): Change {
  const services = [...c.services];
  const slices = [...c.endpointSlices];
  const kinds = ['endpoint added', 'endpoint removed', 'ready flip', 'service added', 'service deleted', 'port changed', 'etp flip', 'affinity flip', 'slice deleted', 'slice added'] as const;
  const kind = g.pick(kinds);
  const touched = new Set<string>();
  const editSlice = (fn: (s: EndpointSlice) => EndpointSlice) => {
    if (slices.length === 0) return;
    const i = Math.floor(g.r() * slices.length);
    const next = fn(structuredClone(slices[i]!));
    slices[i] = next;
    touched.add(serviceOfSlice(next));
  };
  const editService = (fn: (s: Service) => Service) => {
    if (services.length === 0) return;
    const i = Math.floor(g.r() * services.length);
    const next = fn(structuredClone(services[i]!));
    services[i] = next;
    touched.add(keyOf(next));
  };
  switch (kind) {
    case 'endpoint added':
      editSlice((s) => ({ ...s, endpoints: [...(s.endpoints ?? []), g.endpoint(s.addressType as IPFamily)] }));
      break;
    case 'endpoint removed':
      editSlice((s) => ({ ...s, endpoints: (s.endpoints ?? []).slice(1) }));
      break;
    case 'ready flip':
      editSlice((s) => {
        const e = s.endpoints?.[Math.floor(g.r() * (s.endpoints?.length ?? 0))];
        if (e) e.conditions = { ...e.conditions, ready: !(e.conditions?.ready ?? true) };
        return s;
      });
      break;
    case 'service added': {
      const svc = g.service(g.pick(['default', 'apps', 'new']), `added-${Math.floor(g.r() * 1e6)}`);
      if (services.some((s) => keyOf(s) === keyOf(svc))) break;
      services.push(svc);
      slices.push(...g.slicesOf(svc));
      touched.add(keyOf(svc));
      break;
    }
    case 'service deleted': {
      if (services.length === 0) break;
      const i = Math.floor(g.r() * services.length);
      touched.add(keyOf(services[i]!));
      services.splice(i, 1); // its slices stay until the controller removes them, as in a real cluster
      break;
    }
    case 'port changed':
      editService((s) => {
        const p = s.spec!.ports![0]!;
        s.spec!.ports![0] = { ...p, port: p.port + 1000 };
        return s;
      });
      break;
    case 'etp flip':
      editService((s) => {
        s.spec!.externalTrafficPolicy = s.spec!.externalTrafficPolicy === 'Local' ? 'Cluster' : 'Local';
        return s;
      });
      break;
    case 'affinity flip':
      editService((s) => {
        s.spec!.sessionAffinity = s.spec!.sessionAffinity === 'ClientIP' ? 'None' : 'ClientIP';
        return s;
      });
      break;
    case 'slice deleted': {
      if (slices.length === 0) break;
      const i = Math.floor(g.r() * slices.length);
      touched.add(serviceOfSlice(slices[i]!));
      slices.splice(i, 1);
      break;
    }
    case 'slice added': {
      if (services.length === 0) break;
      const svc = g.pick(services);
      const f = g.pick((svc.spec?.ipFamilies ?? ['IPv4']) as IPFamily[]);
      slices.push(g.slice(svc, f, 7 + Math.floor(g.r() * 1000)));
      touched.add(keyOf(svc));
      break;
    }
  }
  return { what: kind, cluster: { services, endpointSlices: slices, nodes: c.nodes }, services: touched };
}
