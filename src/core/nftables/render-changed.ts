// A partial sync's table: the previous table with only the changed service ports rendered again, as
// kube-proxy's partial sync writes only what the changed services own. The changed service ports are
// rendered twice, as they were (from the previous state) and as they are, each alone in a table of its
// own; what the first holds is taken out of a copy of the previous table and what the second holds put
// in. Chains and affinity sets are theirs by name; an element of a fixed set or map is theirs when
// their rendering writes it. hairpin-connections is shared: an element several service ports write (two
// services selecting one local pod) stays while a service port left unchanged still writes it.
// A key two services claim in a map (one address and port given to both, which the API server does not
// stop for externalIPs) is settled by the next full sync, as it is by kube-proxy's own order.
import { compareEndpointStrings, type ProxyState } from '../model/index.js';
import { type ServicePortIndex, elementServicePort, rememberServicePortIndex, servicePortIndex } from './index-table.js';
import { isAffinitySetName, isServiceChainName, SET, servicePortOfName } from './names.js';
import { type NftRenderInput, renderNftables } from './render.js';
import type { NftChain, NftElement, NftSet, NftTable } from './types.js';

/** `state` with only the service ports (and their endpoints) named in `keys` ("ns/name:port"). */
export function onlyServicePorts(state: ProxyState, keys: readonly string[]): ProxyState {
  const sorted = [...new Set(keys)].sort(compareEndpointStrings);
  const out: ProxyState = { ipFamily: state.ipFamily, nodeName: state.nodeName, serviceMap: new Map(), endpointsMap: new Map() };
  for (const k of sorted) {
    const sp = state.serviceMap.get(k);
    if (sp) out.serviceMap.set(k, sp);
    const eps = state.endpointsMap.get(k);
    if (eps) out.endpointsMap.set(k, eps);
  }
  if (state.nodeLabels) out.nodeLabels = state.nodeLabels;
  return out;
}

const keyText = (e: NftElement) => e.key.join(' . ');

/** The same elements in the same order: key, value and comment. */
function sameElements(a: readonly NftElement[], b: readonly NftElement[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.comment !== y.comment || keyText(x) !== keyText(y) || (x.value ?? []).join(' ') !== (y.value ?? []).join(' ')) return false;
  }
  return true;
}

export interface ChangedRenderInput extends Omit<NftRenderInput, 'state'> {
  /** The table rendered from `previousState` (by renderNftables or by this function). */
  previous: NftTable;
  previousState: ProxyState;
  state: ProxyState;
  /** The changed service ports, as they were and as they are ("ns/name:port"). */
  changed: readonly string[];
}

/** The table renderNftables would give for `state`, built from `previous` and the changed service ports alone. */
export function renderNftablesChanged(input: ChangedRenderInput): NftTable {
  const { previous, previousState, state, changed, ...rest } = input;
  const before = renderNftables({ ...rest, state: onlyServicePorts(previousState, changed) });
  const after = renderNftables({ ...rest, state: onlyServicePorts(state, changed) });

  // chains: the changed service ports' go, their new ones come where the first of the old ones stood
  const serviceChains = (t: NftTable) => t.chains.filter((c) => isServiceChainName(c.name));
  const fresh = serviceChains(after);
  const gone = new Set([...serviceChains(before), ...fresh].map((c) => c.name));
  const chains: NftChain[] = [];
  let at = -1;
  for (const c of previous.chains) {
    if (gone.has(c.name)) {
      if (at < 0) at = chains.length;
      continue;
    }
    chains.push(c);
  }
  chains.splice(at < 0 ? chains.length : at, 0, ...fresh);

  // sets: affinity sets by name as chains; the fixed sets' elements by key
  const setOf = (t: NftTable, name: string) => t.sets.find((s) => s.name === name);
  const freshAffinity = after.sets.filter((s) => isAffinitySetName(s.name));
  const goneAffinity = new Set([...before.sets.filter((s) => isAffinitySetName(s.name)), ...freshAffinity].map((s) => s.name));
  const sets: NftSet[] = [];
  const touchedSets = new Map<string, NftElement[]>();
  for (const s of previous.sets) {
    if (isAffinitySetName(s.name)) {
      if (!goneAffinity.has(s.name)) sets.push(s);
      continue;
    }
    if (s.name === SET.nodePortIPs) {
      sets.push(s); // the node's addresses, no service's
      continue;
    }
    const old = setOf(before, s.name)?.elements ?? [];
    const now = setOf(after, s.name)?.elements ?? [];
    if (sameElements(old, now)) {
      sets.push(s); // what the changed service ports write here is as it was (an endpoint change, mostly)
      continue;
    }
    const kept = s.name === SET.hairpinConnections ? stillWritten(rest, state, changed, old, now) : new Set<string>();
    sets.push({ ...s, elements: spliceElements(s.elements, old, now, kept) });
    touchedSets.set(s.name, [...old, ...now]);
  }
  sets.push(...freshAffinity);
  const out: NftTable = { ...previous, chains, sets };
  // the plan looks tables up by service port: the new table's index is the previous one's, redone for
  // what changed, instead of a walk of every chain and element
  rememberServicePortIndex(out, indexAfter(previous, out, { gone, fresh, goneAffinity, freshAffinity, touchedSets }));
  return out;
}

interface Touched {
  gone: ReadonlySet<string>;
  fresh: readonly NftChain[];
  goneAffinity: ReadonlySet<string>;
  freshAffinity: readonly NftSet[];
  /** Per fixed set changed: the elements (as they were and as they are) whose keys it touched. */
  touchedSets: ReadonlyMap<string, readonly NftElement[]>;
}

/**
 * servicePortIndex(next), from servicePortIndex(previous): the entries of the service ports that own a
 * touched chain, affinity set or element are built again, the others shared. An element's owner is as
 * the index says (its comment or verdict; a cluster IP's, the service port its service-ips or
 * no-endpoint-services element names), looked up only for the touched keys.
 */
function indexAfter(previous: NftTable, next: NftTable, t: Touched): ServicePortIndex {
  const before = servicePortIndex(previous);
  const byName = <T extends { name: string }>(m: Map<string, T[]>, gone: ReadonlySet<string>, fresh: readonly T[]): Map<string, T[]> => {
    const out = new Map(m);
    const affected = new Set<string>();
    for (const n of [...gone, ...fresh.map((x) => x.name)]) {
      const sp = servicePortOfName(n);
      if (sp) affected.add(sp);
    }
    for (const sp of affected) {
      const list = (m.get(sp) ?? []).filter((x) => !gone.has(x.name));
      for (const x of fresh) if (servicePortOfName(x.name) === sp) list.push(x);
      if (list.length > 0) out.set(sp, list);
      else out.delete(sp);
    }
    return out;
  };
  const ix: ServicePortIndex = {
    chains: byName(before.chains, t.gone, t.fresh),
    empty: [...before.empty.filter((c) => !t.gone.has(c.name)), ...t.fresh.filter((c) => c.rules.length === 0 && servicePortOfName(c.name) !== null)],
    affinitySets: byName(before.affinitySets, t.goneAffinity, t.freshAffinity),
    elements: new Map(before.elements),
  };
  // the addresses whose cluster-ips owner may have changed: every touched address of the maps naming it
  const ips = new Set<string>();
  for (const name of [SET.clusterIPs, SET.serviceIPs, SET.noEndpointServices]) for (const e of t.touchedSets.get(name) ?? []) ips.add(e.key[0]!);
  const owners = [previous, next].map((tbl) => clusterIPOwnersOf(tbl, ips));
  for (const [name, touched] of t.touchedSets) {
    const sets = [previous, next].map((tbl) => tbl.sets.find((s) => s.name === name));
    if (!sets[1]) continue;
    const clusterIPs = name === SET.clusterIPs;
    const keys = new Set(touched.map(keyText));
    const firsts = new Set(touched.map((e) => e.key[0]!));
    const lasts = new Set(touched.map((e) => e.key[e.key.length - 1]!));
    // two Set lookups rule out almost every element before its key is joined
    const hit = (e: NftElement) => (clusterIPs ? ips.has(e.key[0]!) : firsts.has(e.key[0]!) && lasts.has(e.key[e.key.length - 1]!) && keys.has(keyText(e)));
    const owner = (e: NftElement, i: number) => (clusterIPs ? owners[i]!.get(e.key[0]!) : elementServicePort(e)) ?? null;
    const mine = sets.map((s, i) => (s?.elements ?? []).filter(hit).map((e) => [owner(e, i), e] as const));
    const affected = new Set<string>();
    for (const list of mine) for (const [sp] of list) if (sp) affected.add(sp);
    if (affected.size === 0) continue;
    const prevBySp = before.elements.get(name) ?? new Map<string, NftElement[]>();
    const bySp = new Map(prevBySp);
    for (const sp of affected) {
      const list = (prevBySp.get(sp) ?? []).filter((e) => !hit(e));
      for (const [o, e] of mine[1]!) if (o === sp) list.push(e);
      if (list.length > 0) bySp.set(sp, list);
      else bySp.delete(sp);
    }
    ix.elements.set(name, bySp);
  }
  return ix;
}

/** clusterIPOwners (index-table.ts) for the addresses in `ips` only. */
function clusterIPOwnersOf(t: NftTable, ips: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  if (ips.size === 0) return out;
  const cluster = new Set<string>();
  for (const e of t.sets.find((s) => s.name === SET.clusterIPs)?.elements ?? []) if (ips.has(e.key[0]!)) cluster.add(e.key[0]!);
  for (const name of [SET.serviceIPs, SET.noEndpointServices]) {
    for (const e of t.sets.find((s) => s.name === name)?.elements ?? []) {
      const ip = e.key[0]!;
      if (!cluster.has(ip) || out.has(ip)) continue;
      const sp = elementServicePort(e);
      if (sp) out.set(ip, sp);
    }
  }
  return out;
}

/**
 * `elements` without the keys in `old` (unless in `kept`) or in `now`, with `now`'s elements in one block
 * where the first of those stood (appended when none did): the changed service ports' elements keep the
 * order their rendering gives them, as in a full render. Only elements whose first and last key parts
 * occur in `old` or `now` are looked at closely, so a 10,000-element map costs two Set lookups per element.
 */
function spliceElements(elements: readonly NftElement[], old: readonly NftElement[], now: readonly NftElement[], kept: ReadonlySet<string>): NftElement[] {
  const firsts = new Set<string>();
  const lasts = new Set<string>();
  for (const e of [...old, ...now]) {
    firsts.add(e.key[0]!);
    lasts.add(e.key[e.key.length - 1]!);
  }
  const replaced = new Set([...old.map(keyText).filter((k) => !kept.has(k)), ...now.map(keyText)]);
  const out: NftElement[] = [];
  let at = -1;
  for (const e of elements) {
    if (firsts.has(e.key[0]!) && lasts.has(e.key[e.key.length - 1]!) && replaced.has(keyText(e))) {
      if (at < 0) at = out.length;
      continue;
    }
    out.push(e);
  }
  out.splice(at < 0 ? out.length : at, 0, ...now);
  return out;
}

/**
 * The hairpin-connections keys the changed service ports no longer write that an unchanged service port
 * still does: found among the service ports with a local endpoint at that address and port, rendered alone.
 */
function stillWritten(rest: Omit<NftRenderInput, 'state'>, state: ProxyState, changed: readonly string[], old: readonly NftElement[], now: readonly NftElement[]): Set<string> {
  const nowKeys = new Set(now.map(keyText));
  const candidates = old.filter((e) => !nowKeys.has(keyText(e)));
  if (candidates.length === 0) return new Set();
  const wanted = new Set(candidates.map((e) => `${e.key[0]} ${e.key[3]}`));
  const skip = new Set(changed);
  const others: string[] = [];
  for (const [key, eps] of state.endpointsMap) {
    if (skip.has(key) || !state.serviceMap.has(key)) continue;
    if (eps.some((ep) => ep.isLocal && wanted.has(`${ep.ip} ${ep.port}`))) others.push(key);
  }
  if (others.length === 0) return new Set();
  const written = renderNftables({ ...rest, state: onlyServicePorts(state, others) }).sets.find((s) => s.name === SET.hairpinConnections)?.elements ?? [];
  return new Set(written.map(keyText));
}
