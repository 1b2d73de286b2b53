// The Service and EndpointSlice objects kernel tests render rules from: IPv4 single-stack Services in one
// namespace, and one ready EndpointSlice per Service naming the pods (harness hosts) that serve it.
import type { EndpointSlice, Service } from '../../../src/core/objects/types.js';
import type { Host } from './topology.js';

export const TEST_NAMESPACE = 'pm';

export function service(name: string, spec: NonNullable<Service['spec']>, lbIP?: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: TEST_NAMESPACE },
    spec: { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', clusterIPs: spec.clusterIP ? [spec.clusterIP] : undefined, ...spec },
    ...(lbIP ? { status: { loadBalancer: { ingress: [{ ip: lbIP, ipMode: 'VIP' as const }] } } } : {}),
  };
}

export function slice(svc: string, eps: Array<{ host: Host; node: string }>, ports: Array<{ name: string; protocol: 'TCP' | 'UDP' }>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abcde`, namespace: TEST_NAMESPACE, labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: eps.map(({ host, node }) => ({
      addresses: [host.ipv4],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: node,
      targetRef: { kind: 'Pod', namespace: TEST_NAMESPACE, name: host.name },
    })),
    ports: ports.map((p) => ({ ...p, port: 80 })),
  };
}
