// The order in which kube-proxy writes its `-A` lines, read from a table's writeOrder.
//
// A Ruleset keeps each chain's rules together, which is all iptables-restore cares about: every `-A`
// appends to its own chain, so only the order within a chain matters. kube-proxy's text, though, writes
// the lines of different chains interleaved (a service's KUBE-SERVICES rule, then its KUBE-NODEPORTS
// rules, then its own chains …). The renderer records that order as plain data on each table
// (Table.writeOrder: runs of one chain's next rules, each service port's runs marked with its key), so it
// is seen by whoever reads the table and travels with every copy of it. A table without one (parsed,
// narrowed, built by hand), or whose runs do not account for its rules exactly, is written chain by
// chain, which iptables-restore loads identically.
//
// serialize.ts and partial.ts read the runs through a WriteOrder: the same order as flat arrays, the
// service ports' stretches of it (groups) and their chain names encoded as numbers, so that a partial
// restore writes the changed services and finds stale chains without visiting the other services. It is
// computed from the table's data on first use and kept, as a cache, beside the table (a WeakMap); it is
// used only while the table still holds the chain list and runs it was computed from, and for what is
// written from it, the same rule objects (tableIntact, chainIntact). Dropping it changes no output.

import { SERVICE_CHAIN_PREFIX, isServiceChainName } from '../names.js';
import type { Chain, Rule, Table, WriteRun } from '../types.js';

const SERVICE_PREFIXES: readonly string[] = [
  SERVICE_CHAIN_PREFIX.clusterPolicy,
  SERVICE_CHAIN_PREFIX.localPolicy,
  SERVICE_CHAIN_PREFIX.external,
  SERVICE_CHAIN_PREFIX.firewall,
  SERVICE_CHAIN_PREFIX.endpoint,
];

/** One service port's stretch of a table's write order: its runs, consecutive, marked with its key. */
export interface WriteGroup {
  /** The 16 hash characters of its KUBE-SVC-/SVL-/EXT-/FW- chains (portProtoHash); set by serviceLayout. */
  hash: string;
  /** Declaration indices [chainStart, chainEnd) of its chains (those its runs wrote to first). */
  chainStart: number;
  chainEnd: number;
  /** Write-order indices [ruleStart, ruleEnd) of the rules written meanwhile (to any chain). */
  ruleStart: number;
  ruleEnd: number;
  /** The service port's key ("ns/name:port"); groups are written in ascending key order. */
  key: string;
}

/** A table's writeOrder as arrays, computed from the table (see the top of this file). */
export interface WriteOrder {
  table: Table;
  /** table.chains when it was computed (a copy), and each chain's name then. */
  chains: Chain[];
  /** The table.chains array object itself, and the table.writeOrder array object and its length. */
  chainArray: Chain[];
  runs: WriteRun[];
  runCount: number;
  names: string[];
  /** Chain i's rules are byChain[offsets[i] .. offsets[i + 1]): every rule, chain by chain. */
  offsets: Int32Array;
  byChain: Rule[];
  /** The k-th rule written: the declaration index of its chain, and the rule. */
  ruleChain: Int32Array;
  rules: Rule[];
  /** Per declaration index: the group whose runs first wrote to it (a service chain), or -1. */
  chainGroup: Int32Array;
  groups: WriteGroup[];
  /** What partial.ts needs besides, computed on first use (serviceLayout). */
  layout: ServiceLayout | undefined;
  /** Lazily derived data, kept for later calls (see partial.ts, serialize.ts). */
  cache: Record<string, unknown>;
}

/** How the service ports' chains lie in a WriteOrder, for partial restores. */
export interface ServiceLayout {
  /**
   * The table is laid out as the renderer writes it: the chains outside every group are top-level ones
   * (not service chains); a group's chains are declared together, and are service chains only, the
   * KUBE-SVC-/SVL-/EXT-/FW- ones with its hash; every rule written during a group goes to a top-level
   * chain or to one of the group's own; groups come in ascending key order, no two share a hash.
   */
  fits: boolean;
  /** Group hash -> group index. */
  groupByHash: Map<string, number>;
  /**
   * The names as numbers, three per entry, to compare two renders' services without visiting the name
   * strings: per group its hash, per declaration index the name of a chain declared in a group (a
   * service prefix and 16 base32 characters; zeros for the chains outside the groups). See encodeName.
   */
  groupSig: Int32Array;
  chainSig: Int32Array;
  /** Per group, its [chainStart, chainEnd) again, as two int32s (no object to visit per group). */
  groupChains: Int32Array;
}

const orders = new WeakMap<Table, WriteOrder>();

const BASE32_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) BASE32_VALUE['ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.charCodeAt(i)] = i;

/**
 * Writes `kind` and the 80 bits of the 16 base32 characters that end `name` (after `prefixLength`
 * characters) as three int32s at out[at…at+2]: a one-to-one encoding of (kind, hash). False when the name
 * is not prefix + 16 base32 characters.
 */
export function encodeName(name: string, prefixLength: number, kind: number, out: Int32Array, at: number): boolean {
  if (name.length !== prefixLength + 16) return false;
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  for (let i = 0; i < 16; i++) {
    const c = name.charCodeAt(prefixLength + i);
    const v = c < 128 ? BASE32_VALUE[c]! : -1;
    if (v < 0) return false;
    if (i < 6) w0 = w0 * 32 + v;
    else if (i < 12) w1 = w1 * 32 + v;
    else w2 = w2 * 32 + v;
  }
  out[at] = w0;
  out[at + 1] = w1;
  out[at + 2] = w2 + kind * (1 << 20);
  return true;
}

/**
 * The declaration index of the KUBE-SEP- chain `name`, found by its encoded name (one pass over
 * chainSig, no strings visited); -1 when the table has none. Needs serviceLayout(order).fits.
 */
export function findEndpointChain(order: WriteOrder, name: string): number {
  const sig = ENDPOINT_SIG;
  if (!encodeName(name, 9, 5, sig, 0)) return -1;
  const cs = serviceLayout(order).chainSig;
  const s0 = sig[0]!;
  const s1 = sig[1]!;
  const s2 = sig[2]!;
  for (let x = 0, i = 0; x < cs.length; x += 3, i++) if (cs[x] === s0 && cs[x + 1] === s1 && cs[x + 2] === s2) return i;
  return -1;
}

const ENDPOINT_SIG = new Int32Array(3);

/** table.chains holds the chain objects the WriteOrder was computed from, in their order (one pass over one array). */
export function chainListIntact(order: WriteOrder, table: Table): boolean {
  const cs = table.chains;
  const snap = order.chains;
  const n = snap.length;
  if (cs.length !== n) return false;
  for (let i = 0; i < n; i++) if (cs[i] !== snap[i]) return false;
  return true;
}

/**
 * table.chains is still the array the WriteOrder was computed from, at its length then (its entries are
 * not visited: see partial.ts for what this is enough for).
 */
export function chainArrayKept(order: WriteOrder, table: Table): boolean {
  return table.chains === order.chainArray && table.chains.length === order.chains.length;
}

/** Chain i (of an intact chain list) has its name and exactly its rule objects of then. */
export function chainIntact(order: WriteOrder, i: number): boolean {
  const c = order.chains[i]!;
  const rules = c.rules;
  const from = order.offsets[i]!;
  const len = order.offsets[i + 1]! - from;
  if (c.name !== order.names[i] || rules.length !== len) return false;
  const byChain = order.byChain;
  for (let r = 0; r < len; r++) if (rules[r] !== byChain[from + r]) return false;
  return true;
}

/** The table is as it was when the WriteOrder was computed: the same chains, names and rule objects, in the same places. */
export function tableIntact(order: WriteOrder, table: Table): boolean {
  const cs = table.chains;
  const snap = order.chains;
  const n = snap.length;
  if (cs.length !== n) return false;
  const { names, offsets, byChain } = order;
  for (let i = 0; i < n; i++) {
    const c = cs[i]!;
    const rules = c.rules;
    const from = offsets[i]!;
    const len = offsets[i + 1]! - from;
    if (c !== snap[i] || c.name !== names[i] || rules.length !== len) return false;
    for (let r = 0; r < len; r++) if (rules[r] !== byChain[from + r]) return false;
  }
  return true;
}

/** The table's WriteOrder when it has one and still holds the rule objects it was computed with (checked now). */
export function intactWriteOrder(table: Table): WriteOrder | undefined {
  let order = writeOrderOf(table);
  if (order !== undefined && !tableIntact(order, table)) {
    order = computeWriteOrder(table); // the rules changed since: read the runs again
    if (order === undefined) orders.delete(table);
    else orders.set(table, order);
  }
  return order;
}

/**
 * The table's WriteOrder, checked only for the same chain list and runs (callers check the chains and
 * rules they write); undefined when the table has no writeOrder or its runs do not fit its rules.
 */
export function writeOrderOf(table: Table): WriteOrder | undefined {
  const runs = table.writeOrder;
  if (runs === undefined) return undefined;
  const kept = orders.get(table);
  if (kept !== undefined && kept.chainArray === table.chains && kept.chains.length === table.chains.length && kept.runs === runs && kept.runCount === runs.length) return kept;
  const order = computeWriteOrder(table);
  if (order === undefined) orders.delete(table);
  else orders.set(table, order);
  return order;
}

/** Reads table.writeOrder into a WriteOrder; undefined when its runs do not account for the rules exactly. */
function computeWriteOrder(table: Table): WriteOrder | undefined {
  const runs = table.writeOrder;
  if (runs === undefined) return undefined;
  const chains = table.chains.slice();
  const n = chains.length;
  const names: string[] = new Array(n);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const c = chains[i]!;
    names[i] = c.name;
    offsets[i + 1] = offsets[i]! + c.rules.length;
  }
  const total = offsets[n]!;
  const byChain: Rule[] = new Array(total);
  for (let i = 0; i < n; i++) {
    const rules = chains[i]!.rules;
    const from = offsets[i]!;
    for (let r = 0; r < rules.length; r++) byChain[from + r] = rules[r]!;
  }
  // A run's chain is found by name, without a map of every name: most often it is the next chain declared
  // (the renderer declares a chain, then writes to it); the others are looked up among those met before.
  // A KUBE-SEP- chain is written by its own service port only, so those are kept for the current one.
  const met = new Map<string, number>();
  const endpointChains = new Map<string, number>();
  let cursor = 0;
  const remember = (i: number): number => {
    const name = names[i]!;
    if (name.startsWith(SERVICE_CHAIN_PREFIX.endpoint)) endpointChains.set(name, i);
    else met.set(name, i);
    return i;
  };
  const chainOf = (name: string): number => {
    if (cursor < n && names[cursor] === name) return remember(cursor++);
    const ci = met.get(name) ?? endpointChains.get(name);
    if (ci !== undefined) return ci;
    while (cursor < n) {
      const i = cursor++;
      remember(i);
      if (names[i] === name) return i;
    }
    return -1;
  };
  const ruleChain = new Int32Array(total);
  const rules: Rule[] = new Array(total);
  const taken = offsets.slice(0, n);
  const groups: WriteGroup[] = [];
  /** Per chain: the group of its first rule written, -1 outside every group, -2 while it has none. */
  const firstGroup = new Int32Array(n).fill(-2);
  let k = 0;
  let last: string | undefined;
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r]!;
    const count = run.rules;
    const key = run.servicePort;
    if (key !== last && endpointChains.size > 0) endpointChains.clear();
    let ci = chainOf(run.chain);
    if (ci !== -1 && taken[ci]! + count > offsets[ci + 1]!) ci = -1;
    if (ci === -1 || !(count > 0)) return undefined;
    let g = -1;
    if (key !== undefined) {
      if (key !== last) groups.push({ hash: '', key, chainStart: n, chainEnd: 0, ruleStart: k, ruleEnd: k });
      g = groups.length - 1;
      groups[g]!.ruleEnd = k + count;
    }
    last = key;
    if (firstGroup[ci] === -2) firstGroup[ci] = g;
    for (let x = 0; x < count; x++, k++) {
      ruleChain[k] = ci;
      rules[k] = byChain[taken[ci]!++]!;
    }
  }
  if (k !== total) return undefined;
  const chainGroup = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = firstGroup[i]!;
    if (g < 0 || !isServiceChainName(names[i]!)) {
      chainGroup[i] = -1;
      continue;
    }
    chainGroup[i] = g;
    const group = groups[g]!;
    if (i < group.chainStart) group.chainStart = i;
    if (i + 1 > group.chainEnd) group.chainEnd = i + 1;
  }
  return { table, chains, chainArray: table.chains, runs, runCount: runs.length, names, offsets, byChain, ruleChain, rules, chainGroup, groups, layout: undefined, cache: {} };
}

/** The order's ServiceLayout (computed once). */
export function serviceLayout(order: WriteOrder): ServiceLayout {
  if (order.layout !== undefined) return order.layout;
  const { names, groups, chainGroup, ruleChain } = order;
  const n = names.length;
  let fits = true;
  for (let g = 1; g < groups.length && fits; g++) if (!(groups[g - 1]!.key < groups[g]!.key)) fits = false;
  for (let i = 0; i < n && fits; i++) if (chainGroup[i] === -1 && isServiceChainName(names[i]!)) fits = false;
  const chainSig = new Int32Array(3 * n);
  const groupSig = new Int32Array(3 * groups.length);
  const groupChains = new Int32Array(2 * groups.length);
  const groupByHash = new Map<string, number>();
  for (let g = 0; g < groups.length && fits; g++) {
    const group = groups[g]!;
    // each chain's name encoded; the KUBE-SVC-/SVL-/EXT-/FW- ones must all end in the group's hash (their
    // encodings equal but for the kind), which is then the group's own encoding
    let hashOf = -1;
    for (let i = group.chainStart; i < group.chainEnd && fits; i++) {
      const name = names[i]!;
      let kind = 0;
      while (kind < SERVICE_PREFIXES.length && !name.startsWith(SERVICE_PREFIXES[kind]!)) kind++;
      if (chainGroup[i] !== g || kind === SERVICE_PREFIXES.length || !encodeName(name, SERVICE_PREFIXES[kind]!.length, kind + 1, chainSig, 3 * i)) {
        fits = false;
      } else if (kind !== 4) {
        const x = 3 * i;
        const w2 = chainSig[x + 2]! - (kind + 1) * (1 << 20);
        if (hashOf === -1) {
          hashOf = i;
          group.hash = name.slice(SERVICE_PREFIXES[kind]!.length);
          groupSig[3 * g] = chainSig[x]!;
          groupSig[3 * g + 1] = chainSig[x + 1]!;
          groupSig[3 * g + 2] = w2;
        } else if (chainSig[x] !== groupSig[3 * g] || chainSig[x + 1] !== groupSig[3 * g + 1] || w2 !== groupSig[3 * g + 2]) {
          fits = false;
        }
      }
    }
    if (!fits || hashOf === -1 || groupByHash.has(group.hash)) fits = false;
    groupByHash.set(group.hash, g);
    groupChains[2 * g] = group.chainStart;
    groupChains[2 * g + 1] = group.chainEnd;
  }
  // every rule written during a group goes to a top-level chain or to one of the group's own
  for (let g = 0, k = 0; k < ruleChain.length && fits; k++) {
    while (g < groups.length && groups[g]!.ruleEnd <= k) g++;
    const cg = chainGroup[ruleChain[k]!]!;
    if (cg !== -1 && !(g < groups.length && groups[g]!.ruleStart <= k && cg === g)) fits = false;
  }
  return (order.layout = { fits, groupByHash, groupSig, chainSig, groupChains });
}

/**
 * A table's rules in write order as parallel arrays: the k-th rule is `rules[k]`, in chain
 * `chains[chainOf[k]]` (`chains` is table.chains). `order` is set when they come from its WriteOrder.
 */
export interface WriteSequence {
  chains: readonly Chain[];
  chainOf: ArrayLike<number>;
  rules: readonly Rule[];
  order: WriteOrder | undefined;
}

/** The rules in the order kube-proxy writes them when the table has a writeOrder; otherwise chain by chain. */
export function writeSequence(table: Table): WriteSequence {
  const order = intactWriteOrder(table);
  if (order !== undefined) return { chains: order.chains, chainOf: order.ruleChain, rules: order.rules, order };
  const chainOf: number[] = [];
  const rules: Rule[] = [];
  const cs = table.chains;
  for (let i = 0; i < cs.length; i++) {
    for (const rule of cs[i]!.rules) {
      chainOf.push(i);
      rules.push(rule);
    }
  }
  return { chains: cs, chainOf, rules, order: undefined };
}
