// A deterministic synthetic cluster for benchmarks: N services with M endpoints each, spread over
// nodes, with a seeded PRNG so every run renders the same bytes. Shapes follow what the API server
// returns (Services with clusterIPs, EndpointSlices of at most 100 endpoints as the controller cuts them).
import type { ClusterObjects, EndpointSlice, Node, Service } from '../src/core/objects/types.js';

export interface SyntheticOptions {
  services: number;
  endpointsPerService: number;
  nodes?: number;
  seed?: number;
  /** Share of services that are NodePort (the rest ClusterIP), 0..1. */
  nodePortShare?: number;
}

/** mulberry32: small, fast and good enough to pick ports and nodes reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ENDPOINTS_PER_SLICE = 100;

export function syntheticCluster(opts: SyntheticOptions): ClusterObjects {
  const rand = prng(opts.seed ?? 1);
  const nodeCount = opts.nodes ?? Math.max(3, Math.ceil((opts.services * opts.endpointsPerService) / 110));
  const nodes: Node[] = [];
  for (let n = 0; n < nodeCount; n++) {
    nodes.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n}`, labels: { 'kubernetes.io/hostname': `node-${n}`, 'topology.kubernetes.io/zone': `zone-${n % 3}` } },
      spec: { podCIDR: podCIDR(n), podCIDRs: [podCIDR(n)] },
      status: { addresses: [{ type: 'InternalIP', address: `192.168.${(n >> 8) & 255}.${n & 255}` }, { type: 'Hostname', address: `node-${n}` }] },
    });
  }
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  let podSerial = 0;
  for (let s = 0; s < opts.services; s++) {
    const ns = `ns-${s % 50}`;
    const name = `svc-${s}`;
    const nodePort = rand() < (opts.nodePortShare ?? 0.1);
    const port = [80, 443, 8080, 9090][Math.floor(rand() * 4)];
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, uid: uid(s) },
      spec: {
        type: nodePort ? 'NodePort' : 'ClusterIP',
        clusterIP: serviceIP(s),
        clusterIPs: [serviceIP(s)],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ name: 'http', protocol: 'TCP', port, targetPort: 8080, ...(nodePort ? { nodePort: 30000 + (s % 2768) } : {}) }],
        selector: { app: name },
        sessionAffinity: 'None',
      },
    });
    for (let first = 0; first < opts.endpointsPerService; first += ENDPOINTS_PER_SLICE) {
      const count = Math.min(ENDPOINTS_PER_SLICE, opts.endpointsPerService - first);
      const endpoints = [];
      for (let e = 0; e < count; e++) {
        const node = Math.floor(rand() * nodeCount);
        const serial = podSerial++;
        endpoints.push({
          addresses: [podIP(node, serial)],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: `node-${node}`,
          zone: `zone-${node % 3}`,
          targetRef: { kind: 'Pod', namespace: ns, name: `${name}-${serial.toString(36)}` },
        });
      }
      endpointSlices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-${(first / ENDPOINTS_PER_SLICE).toString(36)}x`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints,
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      });
    }
  }
  return { services, endpointSlices, nodes, configMaps: [], others: [] };
}

// 10.96.0.0/12 holds 1M addresses; skip .0 of each /24 for realism.
function serviceIP(i: number): string {
  const n = i + 1 + Math.floor(i / 255);
  return `10.${96 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
}

// Each node gets a /24 from 10.128.0.0/9 (room for 32k nodes).
function podCIDR(node: number): string {
  return `10.${128 + ((node >> 8) & 127)}.${node & 255}.0/24`;
}

function podIP(node: number, serial: number): string {
  return `10.${128 + ((node >> 8) & 127)}.${node & 255}.${2 + (serial % 250)}`;
}

function uid(i: number): string {
  const h = i.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${h}`;
}
