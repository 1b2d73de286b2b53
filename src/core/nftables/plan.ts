// plan: the transaction turning what a host holds into a rendered table, as data, the way kube-proxy's
// syncProxyRules builds it. A full sync re-creates everything (add+flush every chain, every fixed set
// and map); a partial sync touches only the changed service ports' chains and the elements that differ.
// Either way, service chains no longer used are flushed now and deleted by a later transaction (a kernel
// before 6.2 may still see a just-removed map element pointing at them), and unused affinity sets go.
import type { Plan, PlanOperation, PlanOptions } from '../modes/types.js';
import { type ServicePortIndex, clusterIPOwners, elementServicePort, servicePortIndex } from './index-table.js';
import { SET, isAffinitySetName, isServiceChainName, servicePortOfName } from './names.js';
import { addChainLine, addRuleLine, addSetLine, addTableLine, elementLine, tableRef } from './serialize.js';
import type { NftChain, NftElement, NftSet, NftTable } from './types.js';

export type NftOp =
  | { op: 'add table' }
  | { op: 'add chain'; chain: NftChain }
  | { op: 'flush chain'; name: string }
  | { op: 'delete chain'; name: string; stale?: boolean }
  | { op: 'add set'; set: NftSet }
  | { op: 'flush set'; name: string; map: boolean }
  | { op: 'delete set'; name: string; map: boolean }
  | { op: 'add rule'; chain: string; rule: { rule: string; comment?: string } }
  | { op: 'add element'; set: string; element: NftElement }
  | { op: 'delete element'; set: string; element: NftElement };

export interface NftPlanOperation extends PlanOperation {
  data: NftOp;
}

export interface NftPlan extends Plan {
  operations: NftPlanOperation[];
}

function shell(t: NftTable): NftTable {
  return { family: t.family, name: t.name, chains: [], sets: [] };
}

function describe(t: NftTable, o: NftOp): NftPlanOperation {
  const ref = tableRef(t);
  switch (o.op) {
    case 'add table':
      return { op: o.op, object: `table ${ref}`, text: addTableLine(t), data: o };
    case 'add chain':
      return { op: o.op, object: o.chain.name, text: addChainLine(t, o.chain), data: o };
    case 'flush chain':
    case 'delete chain':
      return { op: o.op, object: o.name, text: `${o.op.split(' ')[0]} chain ${ref} ${o.name}`, data: o };
    case 'add set':
      return { op: o.set.map ? 'add map' : 'add set', object: o.set.name, text: addSetLine(t, o.set), data: o };
    case 'flush set':
    case 'delete set': {
      const verb = o.op.split(' ')[0];
      return { op: `${verb} ${o.map ? 'map' : 'set'}`, object: o.name, text: `${verb} ${o.map ? 'map' : 'set'} ${ref} ${o.name}`, data: o };
    }
    case 'add rule':
      return { op: o.op, object: o.chain, text: addRuleLine(t, o.chain, o.rule), data: o };
    case 'add element':
    case 'delete element':
      return { op: o.op, object: o.set, text: elementLine(o.op === 'add element' ? 'add' : 'delete', t, o.set, o.element), data: o };
  }
}

function makePlan(t: NftTable, full: boolean, ops: NftOp[]): NftPlan {
  const operations = ops.map((o) => describe(t, o));
  return {
    mode: 'nftables',
    family: t.family,
    full,
    operations,
    text: () => operations.map((o) => o.text + '\n').join(''),
  };
}

const key = (e: NftElement) => e.key.join(' . ');
const val = (e: NftElement) => (e.value ?? []).join(' . ');

/** nftElementStorage: add what is new, delete+add what changed value, delete what is left over. */
function elementOps(set: NftSet, before: NftSet | undefined, fresh: boolean): NftOp[] {
  const ops: NftOp[] = [];
  const old = new Map((fresh ? [] : (before?.elements ?? [])).map((e) => [key(e), e]));
  for (const e of set.elements) {
    const prev = old.get(key(e));
    if (prev === undefined) ops.push({ op: 'add element', set: set.name, element: e });
    else if (val(prev) !== val(e)) ops.push({ op: 'delete element', set: set.name, element: e }, { op: 'add element', set: set.name, element: e });
    old.delete(key(e));
  }
  for (const e of old.values()) ops.push({ op: 'delete element', set: set.name, element: { key: e.key } });
  return ops;
}

function chainsEqual(a: NftChain | undefined, b: NftChain | undefined): boolean {
  if (!a || !b || a.rules.length !== b.rules.length) return false;
  return a.rules.every((r, i) => r.rule === b.rules[i]!.rule && r.comment === b.rules[i]!.comment);
}

/** The service ports whose chains differ between two tables ("ns/name:port"). */
export function changedServicePorts(previous: NftTable, next: NftTable): Set<string> {
  const out = new Set<string>();
  const before = new Map(previous.chains.map((c) => [c.name, c]));
  const after = new Map(next.chains.map((c) => [c.name, c]));
  for (const c of next.chains) {
    if (!isServiceChainName(c.name)) continue;
    if (!chainsEqual(before.get(c.name), c)) out.add(servicePortOfName(c.name) ?? c.name);
  }
  for (const c of previous.chains) {
    if (isServiceChainName(c.name) && !after.has(c.name) && c.rules.length > 0) out.add(servicePortOfName(c.name) ?? c.name);
  }
  const setsBefore = new Map(previous.sets.map((s) => [s.name, s]));
  for (const s of next.sets) if (isAffinitySetName(s.name) && !setsBefore.has(s.name)) out.add(servicePortOfName(s.name) ?? s.name);
  // elements that differ name their service port too (a service without endpoints has no chains)
  const owners = [clusterIPOwners(previous), clusterIPOwners(next)];
  const text = (e: NftElement) => `${key(e)} : ${val(e)} ${e.comment ?? ''}`;
  for (const s of next.sets) {
    if (isAffinitySetName(s.name)) continue;
    const a = new Set((setsBefore.get(s.name)?.elements ?? []).map(text));
    const b = new Set(s.elements.map(text));
    for (const [i, list] of [setsBefore.get(s.name)?.elements ?? [], s.elements].entries()) {
      const other = i === 0 ? b : a;
      for (const e of list) {
        if (other.has(text(e))) continue;
        const sp = s.name === SET.clusterIPs ? owners[i]!.get(e.key[0]!) : elementServicePort(e);
        if (sp) out.add(sp);
      }
    }
  }
  return out;
}

export function plan(previous: NftTable | undefined, next: NftTable, opts: PlanOptions = {}): NftPlan {
  if (previous !== undefined && opts.full !== true && opts.changed !== undefined) return scopedPlan(previous, next, [...new Set(opts.changed)]);
  const full = opts.full === true || previous === undefined;
  const changed = full ? null : changedServicePorts(previous!, next);
  const touches = (name: string) => changed === null || changed.has(servicePortOfName(name) ?? name);
  const perService = (name: string) => isServiceChainName(name) || isAffinitySetName(name);
  const prevChains = (previous?.chains ?? []).filter((c) => isServiceChainName(c.name));
  const prevSets = new Map((previous?.sets ?? []).map((s) => [s.name, s]));
  const nextChains = new Set(next.chains.map((c) => c.name));
  const nextSets = new Set(next.sets.map((s) => s.name));
  const ops: NftOp[] = [];

  // Chains flushed by an earlier sync and still unused: kube-proxy deletes them (in its own transaction,
  // a second after they went stale) before building the sync transaction.
  for (const c of prevChains) if (c.rules.length === 0 && !nextChains.has(c.name)) ops.push({ op: 'delete chain', name: c.name, stale: true });

  if (full) {
    ops.push({ op: 'add table' });
    if (previous !== undefined) {
      // re-create the base chains once so a changed hook or priority cannot fail the transaction
      for (const c of next.chains) if (c.base) ops.push({ op: 'add chain', chain: { name: c.name, rules: [] } }, { op: 'delete chain', name: c.name });
    }
  }
  // the chains this transaction rewrites: all of them on a full sync, the changed service ports' otherwise
  const rewritten = next.chains.filter((c) => (isServiceChainName(c.name) ? touches(c.name) : full));
  for (const c of rewritten) ops.push({ op: 'add chain', chain: c }, { op: 'flush chain', name: c.name });
  for (const s of next.sets) {
    if (!perService(s.name)) {
      if (full) ops.push({ op: 'add set', set: s });
      continue;
    }
    if (touches(s.name) || !prevSets.has(s.name)) ops.push({ op: 'add set', set: s }); // affinity sets are never flushed
  }
  if (full && !nextSets.has(SET.nodePortIPs)) {
    // nodePortAddresses match everything: kube-proxy makes sure the set does not exist (add, then delete)
    ops.push({ op: 'add set', set: { name: SET.nodePortIPs, map: false, type: next.family === 'IPv6' ? 'ipv6_addr' : 'ipv4_addr', comment: 'IPs that accept NodePort traffic', elements: [] } });
    ops.push({ op: 'delete set', name: SET.nodePortIPs, map: false });
  }
  for (const s of next.sets) if (!perService(s.name) && full) ops.push({ op: 'flush set', name: s.name, map: s.map });
  for (const c of rewritten) for (const r of c.rules) ops.push({ op: 'add rule', chain: c.name, rule: r });
  for (const s of next.sets) if (!perService(s.name)) ops.push(...elementOps(s, prevSets.get(s.name), full));
  // leftovers: service chains no longer used are flushed (deleted later); unused affinity sets deleted now
  for (const c of prevChains) if (c.rules.length > 0 && !nextChains.has(c.name)) ops.push({ op: 'flush chain', name: c.name });
  for (const s of previous?.sets ?? []) if (isAffinitySetName(s.name) && !nextSets.has(s.name)) ops.push({ op: 'delete set', name: s.name, map: false });
  return makePlan(next, full, ops);
}

/**
 * A partial sync when the caller's change tracker names the changed service ports (as kube-proxy's
 * does): only their chains, affinity sets and elements are looked at, through each table's index, so a
 * 10,000-service table is not walked. Same operations, in the same order, as the unscoped plan.
 */
function scopedPlan(previous: NftTable, next: NftTable, changed: string[]): NftPlan {
  const before = servicePortIndex(previous);
  const after = servicePortIndex(next);
  const of = <T>(m: Map<string, T[]>) => changed.flatMap((sp) => m.get(sp) ?? []);
  const prevChains = of(before.chains);
  const nextChains = of(after.chains);
  const nextNames = new Set(nextChains.map((c) => c.name));
  const prevAffinity = new Set(of(before.affinitySets).map((s) => s.name));
  const nextAffinity = of(after.affinitySets);
  const ops: NftOp[] = [];
  // every flushed chain no longer used goes, whichever service it served (kube-proxy's staleChains)
  for (const c of before.empty) {
    const sp = servicePortOfName(c.name) ?? '';
    if (!(after.chains.get(sp) ?? []).some((n) => n.name === c.name)) ops.push({ op: 'delete chain', name: c.name, stale: true });
  }
  for (const c of nextChains) ops.push({ op: 'add chain', chain: c }, { op: 'flush chain', name: c.name });
  for (const s of nextAffinity) ops.push({ op: 'add set', set: s });
  for (const c of nextChains) for (const r of c.rules) ops.push({ op: 'add rule', chain: c.name, rule: r });
  const prevSets = new Map(previous.sets.map((s) => [s.name, s]));
  for (const s of next.sets) {
    if (isAffinitySetName(s.name) || s.name === SET.nodePortIPs) continue;
    if (s.name === SET.hairpinConnections) {
      // one element per local endpoint, shared by every service port it backs: compared whole, as
      // kube-proxy's element storage does on every sync
      ops.push(...elementOps(s, prevSets.get(s.name), false));
      continue;
    }
    const mine = (t: ServicePortIndex) => changed.flatMap((sp) => t.elements.get(s.name)?.get(sp) ?? []);
    const prev = prevSets.get(s.name);
    ops.push(...elementOps({ ...s, elements: mine(after) }, prev && { ...prev, elements: mine(before) }, false));
  }
  for (const c of prevChains) if (c.rules.length > 0 && !nextNames.has(c.name)) ops.push({ op: 'flush chain', name: c.name });
  const nextAffinityNames = new Set(nextAffinity.map((s) => s.name));
  for (const name of prevAffinity) if (!nextAffinityNames.has(name)) ops.push({ op: 'delete set', name, map: false });
  return makePlan(next, false, ops);
}

/** The table a host holds after running `p` on `before` (knftables' Fake, for our own operations). */
export function applyPlan(before: NftTable | undefined, p: NftPlan, like: NftTable): NftTable {
  const t: NftTable = before ? structuredClone(before) : shell(like);
  for (const { data: o } of p.operations) {
    switch (o.op) {
      case 'add table':
        t.comment = like.comment;
        break;
      case 'add chain':
        if (!t.chains.some((c) => c.name === o.chain.name)) t.chains.push({ ...o.chain, rules: [] });
        break;
      case 'flush chain':
        for (const c of t.chains) if (c.name === o.name) c.rules = [];
        break;
      case 'delete chain':
        t.chains = t.chains.filter((c) => c.name !== o.name);
        break;
      case 'add set':
        if (!t.sets.some((s) => s.name === o.set.name)) t.sets.push({ ...o.set, elements: [] });
        break;
      case 'flush set':
        for (const s of t.sets) if (s.name === o.name) s.elements = [];
        break;
      case 'delete set':
        t.sets = t.sets.filter((s) => s.name !== o.name);
        break;
      case 'add rule':
        t.chains.find((c) => c.name === o.chain)!.rules.push(o.rule);
        break;
      case 'add element': {
        const s = t.sets.find((x) => x.name === o.set)!;
        if (!s.elements.some((e) => key(e) === key(o.element))) s.elements.push(o.element);
        break;
      }
      case 'delete element': {
        const s = t.sets.find((x) => x.name === o.set)!;
        s.elements = s.elements.filter((e) => key(e) !== key(o.element));
        break;
      }
    }
  }
  t.layout = like.layout;
  return t;
}
