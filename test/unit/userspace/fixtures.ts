// Small clusters for the userspace tests: Services, EndpointSlices and a Node, built into one node's view.
import { defaultConfig, type KubeProxyConfiguration } from '../../../src/core/config/index.js';
import type { EndpointSlice, Node, Service } from '../../../src/core/objects/types.js';
import { buildProxyView, type ProxyView } from '../../../src/core/proxy-view.js';

export const NODE_IP = '192.168.77.2';

export interface SvcSpec {
  ns?: string;
  name: string;
  clusterIP: string;
  ports: Array<{ name: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP'; nodePort?: number; targetPort?: number }>;
  externalIPs?: string[];
  lbIPs?: string[];
  affinitySeconds?: number;
  endpoints?: string[];
  notReady?: string[];
}

export function service(s: SvcSpec): { svc: Service; slice: EndpointSlice } {
  const ns = s.ns ?? 'default';
  const type = s.lbIPs ? 'LoadBalancer' : s.ports.some((p) => p.nodePort) ? 'NodePort' : 'ClusterIP';
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name: s.name },
    spec: {
      type,
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      ipFamilies: [s.clusterIP.includes(':') ? 'IPv6' : 'IPv4'],
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
      ...(s.externalIPs ? { externalIPs: s.externalIPs } : {}),
      ...(s.affinitySeconds !== undefined ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinitySeconds } } } : {}),
    },
    status: { loadBalancer: { ingress: (s.lbIPs ?? []).map((ip) => ({ ip })) } },
  } as unknown as Service;
  const all = [...(s.endpoints ?? []).map((ip) => ({ ip, ready: true })), ...(s.notReady ?? []).map((ip) => ({ ip, ready: false }))];
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${s.name}-abc`, labels: { 'kubernetes.io/service-name': s.name } },
    addressType: s.clusterIP.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: all.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
    ports: s.ports.map((p) => ({ name: p.name, port: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })),
  } as unknown as EndpointSlice;
  return { svc, slice };
}

export function node(ips: string[] = [NODE_IP]): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: ips.map((address) => ({ type: 'InternalIP', address })) } } as unknown as Node;
}

export function view(specs: SvcSpec[], config: Partial<KubeProxyConfiguration> = {}, nodeIPs?: string[]): { view: ProxyView; config: KubeProxyConfiguration } {
  const built = specs.map(service);
  const cfg = { ...defaultConfig().config, mode: 'userspace', hostnameOverride: 'node-1', ...config } as KubeProxyConfiguration;
  return { view: buildProxyView({ services: built.map((b) => b.svc), endpointSlices: built.map((b) => b.slice), nodes: [node(nodeIPs)] }, cfg, 'test'), config: cfg };
}
