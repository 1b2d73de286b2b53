// plan: the transaction turning what a host holds into a rendered table, as data, the way kube-proxy's
// syncProxyRules builds it. A full sync re-creates everything (add+flush every chain, every fixed set
// and map); a partial sync touches only the changed service ports' chains and the elements that differ.
// Either way, service chains no longer used are flushed now and deleted by a later transaction (a kernel
// before 6.2 may still see a just-removed map element pointing at them), and unused affinity sets go.
import type { Plan, PlanOperation, PlanOptions } from '../modes/types.js';
import { isAffinitySetName, isServiceChainName, servicePortOfName } from './names.js';
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
  return out;
}

export function plan(previous: NftTable | undefined, next: NftTable, opts: PlanOptions = {}): NftPlan {
  const full = opts.full === true || previous === undefined;
  const prevSets = new Map((previous?.sets ?? []).map((s) => [s.name, s]));
  const changed = full ? null : new Set(opts.changed ?? changedServicePorts(previous!, next));
  const ops: NftOp[] = [];
  const nextChains = new Set(next.chains.map((c) => c.name));
  const nextSets = new Set(next.sets.map((s) => s.name));

  // Chains flushed by an earlier sync and still unused: kube-proxy deletes them (in its own transaction,
  // a second after they went stale) before building the sync transaction.
  for (const c of previous?.chains ?? []) {
    if (isServiceChainName(c.name) && c.rules.length === 0 && !nextChains.has(c.name)) ops.push({ op: 'delete chain', name: c.name, stale: true });
  }

  const perService = (name: string) => isServiceChainName(name) || isAffinitySetName(name);
  // a service port's chain names all start "PREFIX-HASH-ns/name/proto/port": test the cheap part first
  const changedNamespaces = changed === null ? null : new Set([...changed].map((k) => k.split('/')[0]!));
  const touches = (name: string) => {
    if (changed === null) return true;
    const dash = name.indexOf('-');
    const ns = name.slice(dash + 10, name.indexOf('/', dash));
    return changedNamespaces!.has(ns) && changed.has(servicePortOfName(name) ?? name);
  };

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
      if (!full) continue;
      ops.push({ op: 'add set', set: s });
      continue;
    }
    if (touches(s.name) || !prevSets.has(s.name)) ops.push({ op: 'add set', set: s }); // affinity sets are never flushed
  }
  if (full && !nextSets.has('nodeport-ips')) {
    // nodePortAddresses match everything: kube-proxy makes sure the set does not exist (add, then delete)
    ops.push({ op: 'add set', set: { name: 'nodeport-ips', map: false, type: next.family === 'IPv6' ? 'ipv6_addr' : 'ipv4_addr', comment: 'IPs that accept NodePort traffic', elements: [] } });
    ops.push({ op: 'delete set', name: 'nodeport-ips', map: false });
  }
  for (const s of next.sets) if (!perService(s.name) && full) ops.push({ op: 'flush set', name: s.name, map: s.map });
  for (const c of rewritten) for (const r of c.rules) ops.push({ op: 'add rule', chain: c.name, rule: r });
  for (const s of next.sets) {
    if (perService(s.name)) continue;
    ops.push(...elementOps(s, prevSets.get(s.name), full));
  }
  // leftovers: service chains no longer used are flushed (deleted later); unused affinity sets deleted now
  for (const c of previous?.chains ?? []) {
    if (!isServiceChainName(c.name) || nextChains.has(c.name)) continue;
    if (c.rules.length > 0) ops.push({ op: 'flush chain', name: c.name });
  }
  for (const s of previous?.sets ?? []) {
    if (isAffinitySetName(s.name) && !nextSets.has(s.name)) ops.push({ op: 'delete set', name: s.name, map: false });
  }
  return makePlan(next, full, ops);
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
