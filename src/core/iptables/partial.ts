// kube-proxy's partial sync: the operations of the restore input (operations.ts) that turn the rules of
// `prev` (what the host holds) into those of `next`, writing only what changed. planIptables (plan.ts)
// gives them as a plan; partialRestore is that plan's text.
//
// What syncProxyRules writes when it is not doing a full sync:
//   *filter  the whole filter table, always (it is small);
//   *nat     the chain lines of KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ and all
//            of their rules (every service's KUBE-SERVICES / KUBE-NODEPORTS rules are rewritten each time);
//            the chains and rules of the services that changed (their KUBE-SVC-, KUBE-SVL-, KUBE-EXT-,
//            KUBE-FW- and KUBE-SEP- chains), each service's lines in their usual place; the other services'
//            chains are neither declared nor written, so iptables-restore --noflush leaves them as they
//            are; then a `:CHAIN - [0:0]` line (which flushes it) and, after all rules but the final
//            KUBE-SERVICES -> KUBE-NODEPORTS jump(s), a `-X CHAIN` line for every service chain the host
//            has that `next` no longer uses.
// A full sync is the same with every service written (and stale chains still deleted).
//
// "Changed": upstream rewrites a service when its Service or EndpointSlice objects changed since the
// last sync (its change trackers). Without them, a service port is rewritten when the chains `next`
// gives it differ in any way from the ones `prev` has (a chain added, gone, or with other rules). Name
// the changed service ports to use upstream's rule instead: exactly those (the caller's change
// tracking) are rewritten, whether or not their rules differ, as TestSyncProxyRulesLargeClusterMode
// relies on. Service chains are grouped by their hash: KUBE-SVC-H, KUBE-SVL-H,
// KUBE-EXT-H, KUBE-FW-H, plus every KUBE-SEP- chain their rules jump to.
//
// Stale chains are listed in chain-name order (upstream walks a set difference, in map order).

import type { Chain, Rule, Ruleset, Table } from './types.js';
import { KUBE_CHAINS, SERVICE_CHAIN_PREFIX, isServiceChainName, portProtoHash, serviceChainHash } from './names.js';
import { chainArrayKept, chainIntact, chainListIntact, findEndpointChain, serviceLayout, writeOrderOf, writeSequence, type WriteGroup, type WriteOrder } from './render/order.js';
import { IptablesPlanWriter } from './operations.js';
import { TOP_BLOCK, topBlock, topLines } from './serialize.js';

export interface PartialRestoreOptions {
  /** Write every service's chains (a full sync), still deleting stale chains. */
  full?: boolean;
  /** Upstream's rule: rewrite exactly these service ports (and no others). */
  changed?: Iterable<{ name: string; protocol: string }>;
  /** Delete stale service chains (default true; upstream skips it in large clusters between cleanups). */
  deleteStale?: boolean;
}

interface Groups {
  /** Chain name -> group key. */
  groupOf: Map<string, string>;
}

function groupChains(table: Table | undefined): Groups {
  const groupOf = new Map<string, string>();
  if (!table) return { groupOf };
  for (const c of table.chains) {
    if (!isServiceChainName(c.name) || c.name.startsWith('KUBE-SEP-')) continue;
    groupOf.set(c.name, serviceChainHash(c.name)!);
  }
  for (const c of table.chains) {
    if (!c.name.startsWith('KUBE-SVC-') && !c.name.startsWith('KUBE-SVL-')) continue;
    const key = groupOf.get(c.name)!;
    for (const r of c.rules) {
      const target = jumpTarget(r);
      if (target !== null && target.startsWith('KUBE-SEP-') && !groupOf.has(target)) groupOf.set(target, key);
    }
  }
  for (const c of table.chains) {
    if (isServiceChainName(c.name) && !groupOf.has(c.name)) groupOf.set(c.name, `chain:${c.name}`);
  }
  return { groupOf };
}

function jumpTarget(rule: Rule): string | null {
  const w = rule.words;
  for (let i = 0; i < w.length - 1; i++) if (w[i] === '-j' || w[i] === '--jump') return w[i + 1]!;
  return null;
}

function sameRules(a: Chain, b: Chain): boolean {
  if (a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) {
    const x = a.rules[i]!.words;
    const y = b.rules[i]!.words;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

function membersByGroup(table: Table | undefined, groups: Groups): Map<string, Chain[]> {
  const out = new Map<string, Chain[]>();
  if (!table) return out;
  for (const c of table.chains) {
    const key = groups.groupOf.get(c.name);
    if (key === undefined) continue;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(c);
  }
  return out;
}

function changedByContent(prevNat: Table | undefined, nextNat: Table, nextGroups: Groups): Set<string> {
  const prevGroups = groupChains(prevNat);
  const nextMembers = membersByGroup(nextNat, nextGroups);
  const prevMembers = membersByGroup(prevNat, prevGroups);
  const changed = new Set<string>();
  for (const [key, chains] of nextMembers) {
    const before = prevMembers.get(key);
    if (!before || before.length !== chains.length) {
      changed.add(key);
      continue;
    }
    const byName = new Map(before.map((c) => [c.name, c] as const));
    for (const c of chains) {
      const old = byName.get(c.name);
      if (!old || !sameRules(old, c)) {
        changed.add(key);
        break;
      }
    }
  }
  return changed;
}

function isFinalNodePortsJump(chain: Chain, rule: Rule): boolean {
  return chain.name === KUBE_CHAINS.services.name && jumpTarget(rule) === KUBE_CHAINS.nodePorts.name;
}

/**
 * The rules of a partial nat table: those numbered `ks` (write-order indices into `chains`, `chainOf`,
 * `rules`, ascending), with the deletions of `stale` after every rule but the trailing KUBE-SERVICES ->
 * KUBE-NODEPORTS jump(s).
 */
function writeRules(out: IptablesPlanWriter, ks: readonly number[], chains: readonly Chain[], chainOf: ArrayLike<number>, rules: readonly Rule[], stale: readonly string[]): void {
  let tail = ks.length;
  while (tail > 0 && isFinalNodePortsJump(chains[chainOf[ks[tail - 1]!]!]!, rules[ks[tail - 1]!]!)) tail--;
  for (let i = 0; i < ks.length; i++) {
    if (i === tail) for (const name of stale) out.deleteChain(name);
    const k = ks[i]!;
    out.addRule(chains[chainOf[k]!]!.name, rules[k]!);
  }
  if (tail === ks.length) for (const name of stale) out.deleteChain(name);
}

/**
 * The nat (or other) table as a partial sync writes it: `writeChain` decides which service chains are
 * declared and filled; `stale` chains are declared and deleted.
 */
function writeNat(table: Table, writeChain: (name: string) => boolean, stale: string[], out: IptablesPlanWriter): void {
  const include = table.chains.map((c) => !isServiceChainName(c.name) || writeChain(c.name));
  for (let i = 0; i < include.length; i++) if (include[i]) out.declareChain(table.chains[i]!.name);
  for (const name of stale) out.flushChain(name);
  const { chains, chainOf, rules } = writeSequence(table);
  const ks: number[] = [];
  for (let k = 0; k < rules.length; k++) if (include[chainOf[k]!]) ks.push(k);
  writeRules(out, ks, chains, chainOf, rules, stale);
}

/** A whole table: every chain declared, every rule in write order. */
function writeTable(table: Table, out: IptablesPlanWriter): void {
  for (const c of table.chains) out.declareChain(c.name);
  const { chains, chainOf, rules } = writeSequence(table);
  for (let k = 0; k < rules.length; k++) out.addRule(chains[chainOf[k]!]!.name, rules[k]!);
}

/** Top-level block b of a WriteOrder, as kept text with its rules. */
function writeTopBlock(order: WriteOrder, b: number, out: IptablesPlanWriter): void {
  const top = topLines(order);
  out.addKeptRules(topBlock(order, top, b), () => {
    const list: { chain: string; rule: Rule }[] = new Array(TOP_BLOCK);
    for (let i = 0; i < TOP_BLOCK; i++) {
      const k = top.rules[b * TOP_BLOCK + i]!;
      list[i] = { chain: order.chains[order.ruleChain[k]!]!.name, rule: order.rules[k]! };
    }
    return list;
  });
}

/**
 * A table with a write order whose chains all are top-level (filter), from its kept blocks, when its
 * chain list and every chain are as the WriteOrder was computed from; false (nothing written) otherwise.
 */
function writeKeptTable(table: Table, out: IptablesPlanWriter): boolean {
  const order = writeOrderOf(table);
  if (order === undefined || order.groups.length > 0 || !chainListIntact(order, table)) return false;
  for (let i = 0; i < order.chains.length; i++) if (!chainIntact(order, i)) return false;
  for (const name of order.names) out.declareChain(name);
  const tr = topLines(order).rules;
  let t = 0;
  for (; t + TOP_BLOCK <= tr.length; t += TOP_BLOCK) writeTopBlock(order, t / TOP_BLOCK, out);
  for (; t < tr.length; t++) out.addRule(order.chains[order.ruleChain[tr[t]!]!]!.name, order.rules[tr[t]!]!);
  return true;
}

// ---- the fast path: a nat table with its write order, and the changed service ports named ------------
//
// A table with a writeOrder (render sets it; copies keep it) tells each service port's stretch of rules,
// and so of chains (its group), and whether it is laid out as the renderer lays it out
// (ServiceLayout.fits, order.ts). Then, with the changed service ports named, the partial table is the
// top-level declarations and rules with the changed groups' chains and rules merged in by write order,
// without grouping or comparing the other services' chains; the top-level lines come in the blocks kept
// by the last serialization (serialize.ts). Which KUBE-SEP- chains a changed service writes is read from
// its KUBE-SVC-/SVL- rules, as groupChains does. Stale chains are found by comparing the two tables'
// services as numbers (fastStaleChains).
//
// What is checked on each call: table.chains and table.writeOrder are still the arrays the WriteOrder
// was computed from, at their lengths then, and the chains written (top-level and the changed
// services') have their names and rule objects of then. The rest is taken as it was, not visited: that
// is what keeps the work proportional to the change. So edits made in place to a ruleset after it was
// first serialized or planned are not seen by this path when they touch what it does not visit: a rule
// added to, removed from or replaced in a chain of a service that is not rewritten, a chain renamed or
// replaced in table.chains, a top-level rule's words edited, a rule's words edited so that it jumps to
// another service's KUBE-SEP- chain. (The comparing path would see them.) Nothing in this program edits
// a ruleset in place; a copy is a new table, read anew.

/** Merges two ascending index lists. */
function mergeAscending(a: ArrayLike<number>, b: ArrayLike<number>): ArrayLike<number> {
  if (b.length === 0) return a;
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length && j < b.length) out[o++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[o++] = a[i++]!;
  while (j < b.length) out[o++] = b[j++]!;
  return out;
}

/** Declaration indices outside every group, ascending (computed once per table). */
function outsideChains(order: WriteOrder): number[] {
  let outside = order.cache.outsideChains as number[] | undefined;
  if (outside === undefined) {
    outside = [];
    for (let i = 0; i < order.chainGroup.length; i++) if (order.chainGroup[i] === -1) outside.push(i);
    order.cache.outsideChains = outside;
  }
  return outside;
}

/**
 * The partial nat table (see above) into `out`, or false (with `out` as it was) when
 * the fast path does not apply.
 */
function fastNat(table: Table, hashes: Set<string>, stale: readonly string[], out: IptablesPlanWriter): boolean {
  const order = writeOrderOf(table);
  if (order === undefined || !chainArrayKept(order, table)) return false;
  const layout = serviceLayout(order);
  if (!layout.fits) return false;
  const { chains, names, chainGroup, groups, ruleChain, rules } = order;
  const outside = outsideChains(order);
  for (const i of outside) if (!chainIntact(order, i)) return false;
  const writtenChains: number[] = [];
  const writtenRules: number[] = [];
  const written = new Set<number>();
  for (const hash of hashes) {
    const g: number | undefined = layout.groupByHash.get(hash);
    if (g === undefined) continue;
    const group: WriteGroup = groups[g]!;
    for (let i = group.chainStart; i < group.chainEnd; i++) if (!chainIntact(order, i)) return false;
    // the KUBE-SEP- chains this service's KUBE-SVC-/KUBE-SVL- rules jump to (all of them its own, as
    // the renderer writes them; a jump to another service's declines the fast path)
    const own = new Set<string>();
    for (let i = group.chainStart; i < group.chainEnd; i++) if (names[i]!.startsWith(SERVICE_CHAIN_PREFIX.endpoint)) own.add(names[i]!);
    const claimed = new Set<string>();
    for (let i = group.chainStart; i < group.chainEnd; i++) {
      const name = names[i]!;
      if (!name.startsWith(SERVICE_CHAIN_PREFIX.clusterPolicy) && !name.startsWith(SERVICE_CHAIN_PREFIX.localPolicy)) continue;
      for (const r of chains[i]!.rules) {
        const target = jumpTarget(r);
        if (target === null || !target.startsWith(SERVICE_CHAIN_PREFIX.endpoint)) continue;
        if (own.has(target)) claimed.add(target);
        else if (findEndpointChain(order, target) !== -1) return false; // another service's chain
        // else: no such chain, nothing to write
      }
    }
    for (let i = group.chainStart; i < group.chainEnd; i++) {
      if (names[i]!.startsWith(SERVICE_CHAIN_PREFIX.endpoint) && !claimed.has(names[i]!)) continue;
      writtenChains.push(i);
      written.add(i);
    }
    for (let k = group.ruleStart; k < group.ruleEnd; k++) {
      const ci = ruleChain[k]!;
      if (chainGroup[ci] !== -1 && written.has(ci)) writtenRules.push(k);
    }
  }
  writtenChains.sort((a, b) => a - b);
  writtenRules.sort((a, b) => a - b);

  const declared = mergeAscending(outside, writtenChains);
  for (let d = 0; d < declared.length; d++) out.declareChain(names[declared[d]!]!);
  for (const name of stale) out.flushChain(name);
  const top = topLines(order);
  const tr = top.rules;
  const ks = mergeAscending(tr, writtenRules);
  let tail = ks.length;
  while (tail > 0 && isFinalNodePortsJump(chains[ruleChain[ks[tail - 1]!]!]!, rules[ks[tail - 1]!]!)) tail--;
  // top-level lines come in kept blocks wherever a whole block is written without a changed service's
  // line (or the -X lines) in between
  let t = 0;
  for (let i = 0; i < ks.length; ) {
    if (i === tail) for (const name of stale) out.deleteChain(name);
    const k = ks[i]!;
    if (t < tr.length && tr[t] === k && t % TOP_BLOCK === 0 && t + TOP_BLOCK <= tr.length && ks[i + TOP_BLOCK - 1] === tr[t + TOP_BLOCK - 1] && (tail <= i || tail >= i + TOP_BLOCK)) {
      writeTopBlock(order, t / TOP_BLOCK, out);
      i += TOP_BLOCK;
      t += TOP_BLOCK;
      continue;
    }
    if (t < tr.length && tr[t] === k) t++;
    out.addRule(chains[ruleChain[k]!]!.name, rules[k]!);
    i++;
  }
  if (tail === ks.length) for (const name of stale) out.deleteChain(name);
  return true;
}

// ---- stale chains ---------------------------------------------------------------------------------

/** Service chains `prevNat` has and `nextNat` does not. */
function staleChains(prevNat: Table, nextNat: Table | undefined, changedGiven: boolean): string[] {
  const stale = changedGiven && nextNat !== undefined ? fastStaleChains(prevNat, nextNat) : undefined;
  if (stale !== undefined) return stale;
  const active = new Set(nextNat?.chains.map((c) => c.name) ?? []);
  return prevNat.chains.map((c) => c.name).filter((n) => isServiceChainName(n) && !active.has(n));
}

/**
 * Stale chains between two nat tables with write orders, service by service: their services are
 * walked side by side in key order, and a service port whose chains have the same names in both (their
 * encoded names compared, see ServiceLayout.chainSig) leaves nothing stale; the other services' chain
 * names, and those outside every service, are looked up among next's. Undefined unless both have write
 * orders, laid out as the renderer lays them out, with their chain lists still those the WriteOrders
 * were computed from (names taken as they were, as in fastNat).
 */
function fastStaleChains(prevNat: Table, nextNat: Table): string[] | undefined {
  const po = writeOrderOf(prevNat);
  const no = writeOrderOf(nextNat);
  if (po === undefined || no === undefined || !chainArrayKept(po, prevNat) || !chainArrayKept(no, nextNat)) return undefined;
  const pl = serviceLayout(po);
  const nl = serviceLayout(no);
  if (!pl.fits || !nl.fits) return undefined;
  const stale: string[] = [];
  for (const i of outsideChains(po)) staleCheck(po, no, i, i + 1, -1, stale);
  const pSig = pl.groupSig;
  const nSig = nl.groupSig;
  const pRange = pl.groupChains;
  const nRange = nl.groupChains;
  const pBytes = Buffer.from(pl.chainSig.buffer, pl.chainSig.byteOffset, pl.chainSig.byteLength);
  const nBytes = Buffer.from(nl.chainSig.buffer, nl.chainSig.byteOffset, nl.chainSig.byteLength);
  const pCount = pRange.length >> 1;
  const nCount = nRange.length >> 1;
  // Matched service ports with as many chains in both are compared in stretches of adjoining ones, one
  // native comparison for many (most often all equal); a stretch that differs is compared port by port.
  const pend: number[] = []; // pairs (prev group, next group)
  const settle = () => {
    const last = pend.length - 2;
    if (last < 0) return;
    if (nBytes.compare(pBytes, 12 * pRange[2 * pend[0]!]!, 12 * pRange[2 * pend[last]! + 1]!, 12 * nRange[2 * pend[1]!]!, 12 * nRange[2 * pend[last + 1]! + 1]!) !== 0) {
      for (let x = 0; x <= last; x += 2) {
        const pi = pend[x]!;
        const nj = pend[x + 1]!;
        const pFrom = pRange[2 * pi]!;
        const pTo = pRange[2 * pi + 1]!;
        if (nBytes.compare(pBytes, 12 * pFrom, 12 * pTo, 12 * nRange[2 * nj]!, 12 * nRange[2 * nj + 1]!) !== 0) staleCheck(po, no, pFrom, pTo, nj, stale);
      }
    }
    pend.length = 0;
  };
  let j = 0;
  for (let i = 0; i < pCount; i++) {
    const a = 3 * i;
    // next's services before this one in key order (new ones) are skipped
    while (j < nCount && !(pSig[a] === nSig[3 * j] && pSig[a + 1] === nSig[3 * j + 1] && pSig[a + 2] === nSig[3 * j + 2])) {
      if (!(no.groups[j]!.key < po.groups[i]!.key)) break;
      j++;
    }
    const pFrom = pRange[2 * i]!;
    const pTo = pRange[2 * i + 1]!;
    let ng = -1;
    if (j < nCount && pSig[a] === nSig[3 * j] && pSig[a + 1] === nSig[3 * j + 1] && pSig[a + 2] === nSig[3 * j + 2]) {
      const nFrom = nRange[2 * j]!;
      const nTo = nRange[2 * j + 1]!;
      ng = j++;
      if (nTo - nFrom === pTo - pFrom) {
        const adjoins = pend.length === 0 || (pRange[2 * pend[pend.length - 2]! + 1] === pFrom && nRange[2 * pend[pend.length - 1]! + 1] === nFrom);
        if (!adjoins || pend.length === 512) settle();
        pend.push(i, ng);
        continue;
      }
    }
    staleCheck(po, no, pFrom, pTo, ng, stale);
  }
  settle();
  return stale;
}

/**
 * Adds prev's service chains [from, to) that next does not have to `stale`; `ng` is the group of next
 * for the same service port, or -1. A KUBE-SEP- chain is looked for there first (it is only ever written
 * by its own service port), then among all of next's chains; the others in the group of their hash.
 */
function staleCheck(po: WriteOrder, no: WriteOrder, from: number, to: number, ng: number, stale: string[]): void {
  const groupNames = new Map<number, Set<string>>();
  const namesOf = (g: number): Set<string> => {
    let set = groupNames.get(g);
    if (set === undefined) {
      const group = no.groups[g]!;
      groupNames.set(g, (set = new Set(no.names.slice(group.chainStart, group.chainEnd))));
    }
    return set;
  };
  for (let i = from; i < to; i++) {
    const name = po.names[i]!;
    if (!isServiceChainName(name)) continue;
    let found: boolean;
    if (!name.startsWith(SERVICE_CHAIN_PREFIX.endpoint)) {
      // a KUBE-SVC-/SVL-/EXT-/FW- chain is only ever in the group of its hash (ServiceLayout.fits)
      const g = serviceLayout(no).groupByHash.get(serviceChainHash(name)!);
      found = g !== undefined && namesOf(g).has(name);
    } else {
      found = (ng !== -1 && namesOf(ng).has(name)) || anyEndpointChain(no, name);
    }
    if (!found) stale.push(name);
  }
}

/** Next has a KUBE-SEP- chain called `name` anywhere (a scan of the encoded names; for many, a set). */
function anyEndpointChain(order: WriteOrder, name: string): boolean {
  const cache = order.cache as { endpointScans?: number; endpointNames?: Set<string> };
  if (cache.endpointNames === undefined && (cache.endpointScans = (cache.endpointScans ?? 0) + 1) <= 16) {
    return findEndpointChain(order, name) !== -1;
  }
  if (cache.endpointNames === undefined) {
    cache.endpointNames = new Set();
    for (const n of order.names) if (n.startsWith(SERVICE_CHAIN_PREFIX.endpoint)) cache.endpointNames.add(n);
  }
  return cache.endpointNames.has(name);
}

/** What to write: see planIptables (plan.ts). */
export interface PartialOptions {
  full: boolean;
  /** The portProtoHash of every service port to rewrite, when the caller tracks changes. */
  hashes: Set<string> | undefined;
  deleteStale: boolean;
}

/** kube-proxy's restore input for a sync from `prev` (undefined: nothing known, a full sync) to `next`, into `out`. */
export function writePartial(prev: Ruleset | undefined, next: Ruleset, opts: PartialOptions, out: IptablesPlanWriter): void {
  const nextNat = next.tables.find((t) => t.name === 'nat');
  const prevNat = prev?.tables.find((t) => t.name === 'nat');
  const full = prev === undefined || opts.full;
  const hashes = full ? undefined : opts.hashes;

  let writeGroup: (key: string) => boolean;
  if (full) writeGroup = () => true;
  else if (hashes !== undefined) writeGroup = (key) => hashes.has(key);
  else writeGroup = () => false; // replaced below, once the groups are known

  let stale: string[] = [];
  if (prevNat && opts.deleteStale) {
    stale = staleChains(prevNat, nextNat, hashes !== undefined);
    stale.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  // the fast path: one nat table, the changed service ports named
  let natCount = 0;
  for (const t of next.tables) if (t.name === 'nat') natCount++;
  const fast = hashes !== undefined && natCount === 1;

  let writeChain: ((name: string) => boolean) | undefined = full ? () => true : undefined;
  const groupsOfNext = () => {
    if (writeChain === undefined) {
      const nextGroups = groupChains(nextNat);
      if (hashes === undefined) {
        const changed = nextNat ? changedByContent(prevNat, nextNat, nextGroups) : new Set<string>();
        writeGroup = (key) => changed.has(key);
      }
      writeChain = (name: string): boolean => writeGroup(nextGroups.groupOf.get(name) ?? `chain:${name}`);
    }
    return writeChain;
  };

  for (const table of next.tables) {
    out.beginTable(table.name);
    if (table.name !== 'nat') {
      if (!(hashes !== undefined && writeKeptTable(table, out))) writeTable(table, out);
    } else if (!(fast && fastNat(table, hashes!, stale, out))) {
      // (fastNat writes nothing when it declines)
      writeNat(table, groupsOfNext(), stale, out);
    }
    out.commit();
  }
}

/** kube-proxy's restore input for a sync from `prev` to `next`: the text of planIptables' plan. */
export function partialRestore(prev: Ruleset | undefined, next: Ruleset, opts: PartialRestoreOptions = {}): string {
  const out = new IptablesPlanWriter();
  let hashes: Set<string> | undefined;
  if (opts.changed !== undefined) {
    hashes = new Set();
    for (const c of opts.changed) hashes.add(portProtoHash(c.name, c.protocol));
  }
  writePartial(prev, next, { full: opts.full ?? false, hashes, deleteStale: opts.deleteStale ?? true }, out);
  return out.plan(next.family, prev === undefined || opts.full === true).text();
}
