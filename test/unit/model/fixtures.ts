// Small builders shared by the model tests: objects from YAML, and endpoints for topology tables.

import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, Service } from '../../../src/core/objects/types.js';
import type { Endpoint, ServicePort } from '../../../src/core/model/index.js';

/** Services and EndpointSlices from a multi-document YAML string. */
export function objectsFromYAML(text: string): { services: Service[]; endpointSlices: EndpointSlice[] } {
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (!('toJS' in doc)) throw new Error('bad YAML in test');
    const o = doc.toJS() as { kind?: string } | null;
    if (!o) continue;
    if (o.kind === 'Service') services.push(o as Service);
    else if (o.kind === 'EndpointSlice') endpointSlices.push(o as EndpointSlice);
    else throw new Error(`unexpected kind ${o.kind}`);
  }
  return { services, endpointSlices };
}

/** An endpoint for CategorizeEndpoints tables: "ip:port" plus the flags that matter. */
export function ep(endpoint: string, f: Partial<Omit<Endpoint, 'endpoint'>> = {}): Endpoint {
  const i = endpoint.lastIndexOf(':');
  return {
    ip: endpoint.slice(0, i).replace(/^\[|\]$/g, ''),
    port: Number(endpoint.slice(i + 1)),
    endpoint,
    isLocal: false,
    ready: false,
    serving: false,
    terminating: false,
    zoneHints: null,
    nodeHints: null,
    ...f,
  };
}

/** A service port with only what CategorizeEndpoints reads set. */
export function sp(f: Partial<ServicePort> = {}): ServicePort {
  const name = { namespace: 'ns', name: 'svc', port: 'p', protocol: 'TCP' as const };
  return {
    name,
    key: 'ns/svc:p',
    clusterIP: '172.30.0.1',
    port: 80,
    protocol: 'TCP',
    nodePort: 0,
    loadBalancerVIPs: [],
    externalIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinity: { type: 'None' },
    healthCheckNodePort: 0,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    ...f,
  };
}

export function strings(eps: readonly Endpoint[] | null): string[] | null {
  return eps === null ? null : eps.map((e) => e.endpoint);
}
