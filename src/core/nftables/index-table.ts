// Which service port each object of a kube-proxy table serves: per-service chains and affinity sets by
// name, fixed-map elements by the chain they send to or by their comment, cluster-ips members by the
// service-ips / no-endpoint-services element of the same address.
import { CHAIN, SET, servicePortOfName } from './names.js';
import type { NftElement, NftTable } from './types.js';

/** `prefix` is "ns/", "ns/name" (every port) or "ns/name:port". */
export function servicePortMatches(servicePort: string, prefix: string): boolean {
  if (prefix === '' || prefix.endsWith('/')) return servicePort.startsWith(prefix);
  if (prefix.includes(':')) return servicePort === prefix;
  return servicePort === prefix || servicePort.startsWith(`${prefix}:`);
}

/** The chain an element's verdict sends to ("goto service-…"), if any. */
export function elementTarget(e: NftElement): string | undefined {
  const m = /^(?:goto|jump) (\S+)$/.exec((e.value ?? []).join(' '));
  return m ? m[1] : undefined;
}

export function elementServicePort(e: NftElement): string | null {
  if (e.comment !== undefined) return e.comment;
  const t = elementTarget(e);
  return t && t !== CHAIN.reject ? servicePortOfName(t) : null;
}

/** cluster IP address -> service port, from the maps that name the service. */
export function clusterIPOwners(t: NftTable): Map<string, string> {
  const out = new Map<string, string>();
  const cluster = new Set(t.sets.find((s) => s.name === SET.clusterIPs)?.elements.map((e) => e.key[0]!) ?? []);
  for (const name of [SET.serviceIPs, SET.noEndpointServices]) {
    for (const e of t.sets.find((s) => s.name === name)?.elements ?? []) {
      const sp = elementServicePort(e);
      if (sp && cluster.has(e.key[0]!) && !out.has(e.key[0]!)) out.set(e.key[0]!, sp);
    }
  }
  return out;
}
