// Which service port each object of a kube-proxy table serves: per-service chains and affinity sets by
// name, fixed-map elements by the chain they send to or by their comment, cluster-ips members by the
// service-ips / no-endpoint-services element of the same address.
import { CHAIN, SET, isAffinitySetName, isServiceChainName, servicePortOfName } from './names.js';
import type { NftChain, NftElement, NftSet, NftTable } from './types.js';

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

export interface ServicePortIndex {
  chains: Map<string, NftChain[]>;
  /** Service chains with no rules: flushed by an earlier sync, awaiting deletion. */
  empty: NftChain[];
  affinitySets: Map<string, NftSet[]>;
  /** Per fixed set or map: its elements by the service port they route (cluster-ips by owner). */
  elements: Map<string, Map<string, NftElement[]>>;
}

const indexes = new WeakMap<NftTable, ServicePortIndex>();

/**
 * The table's objects grouped by service port, built once per table (kube-proxy keeps the same in its
 * per-sync state): a partial plan then looks at the changed service ports' objects only.
 */
export function servicePortIndex(t: NftTable): ServicePortIndex {
  let ix = indexes.get(t);
  if (ix) return ix;
  ix = { chains: new Map(), empty: [], affinitySets: new Map(), elements: new Map() };
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  for (const c of t.chains) {
    const sp = isServiceChainName(c.name) ? servicePortOfName(c.name) : null;
    if (sp) push(ix.chains, sp, c);
    if (sp && c.rules.length === 0) ix.empty.push(c);
  }
  const owners = clusterIPOwners(t);
  for (const s of t.sets) {
    if (isAffinitySetName(s.name)) {
      const sp = servicePortOfName(s.name);
      if (sp) push(ix.affinitySets, sp, s);
      continue;
    }
    const bySp = new Map<string, NftElement[]>();
    for (const e of s.elements) {
      const sp = s.name === SET.clusterIPs ? owners.get(e.key[0]!) : elementServicePort(e);
      if (sp) push(bySp, sp, e);
    }
    ix.elements.set(s.name, bySp);
  }
  indexes.set(t, ix);
  return ix;
}

/** Takes `ix` as `t`'s index: a scoped render builds its table's index from the previous one's, without walking the table. */
export function rememberServicePortIndex(t: NftTable, ix: ServicePortIndex): void {
  indexes.set(t, ix);
}
