// The order in which kube-proxy writes its `-A` lines.
//
// A Ruleset keeps each chain's rules together, which is all iptables-restore cares about: every `-A`
// appends to its own chain, so only the order within a chain matters. kube-proxy's text, though, writes
// the lines of different chains interleaved (a service's KUBE-SERVICES rule, then its KUBE-NODEPORTS
// rules, then its own chains …). To reproduce that text exactly, the renderer numbers every rule it
// writes, per table, in kube-proxy's write order, and keeps the numbers beside the data rather than in
// it: the Ruleset stays plain (deep-equal to a parsed one), and a Ruleset that did not come from the
// renderer (parsed, copied, edited) is written chain by chain instead, which iptables-restore loads
// identically.
//
// Two records, both invisible to the Ruleset's users:
//   - each rule carries its number in a private field (stamped onto the plain object: no own property,
//     nothing for deepEqual, JSON, structuredClone, spread or util.inspect to see, and, unlike a WeakMap
//     entry per rule, no work for the garbage collector). A table whose rules all carry numbers but which
//     is not the rendered table as it was (narrowed, copied, edited) is written sorted by them, as before;
//   - each rendered table has a WriteOrder (one WeakMap entry per table): its rules in write order with
//     their chains, as flat arrays, and the service ports' stretches of it (groups). While the table is
//     as the renderer left it (same chains, names and rule objects, checked in one pass without
//     allocating) that is its write order, without a sort. The groups, with the chain names encoded as
//     numbers, let a partial restore write the changed services and find stale chains without visiting
//     the other services (partial.ts); the top-level lines are kept there by serialize.ts.

import type { Chain, Rule, Table } from '../types.js';

class ReturnsArgument {
  constructor(o: object) {
    return o;
  }
}

/** Stamps a private field onto an existing object (the base constructor returns that object). */
class SequenceStamp extends ReturnsArgument {
  #seq: number;
  constructor(rule: Rule, seq: number) {
    super(rule);
    this.#seq = seq;
  }
  static set(rule: Rule, seq: number): void {
    if (#seq in rule) (rule as unknown as SequenceStamp).#seq = seq;
    else new SequenceStamp(rule, seq);
  }
  static of(rule: Rule): number | undefined {
    return #seq in rule ? (rule as unknown as SequenceStamp).#seq : undefined;
  }
}

export function setWriteSequence(rule: Rule, seq: number): void {
  SequenceStamp.set(rule, seq);
}

/**
 * A plain rule object ({words}, prototype Object.prototype, deep-equal to a literal) made by a constructor,
 * so that V8 gives its instances room for the stamp in the object itself.
 */
const PlainRule = function PlainRule(this: Rule, words: string[]) {
  this.words = words;
} as unknown as { new (words: string[]): Rule; prototype: object };
PlainRule.prototype = Object.prototype;

/** A new rule `{ words }` carrying write sequence number `seq`. */
export function newNumberedRule(words: string[], seq: number): Rule {
  const rule = new PlainRule(words);
  new SequenceStamp(rule, seq);
  return rule;
}

/** The renderer's number for `rule`, or undefined for a rule it did not write. */
export function writeSequenceOf(rule: Rule): number | undefined {
  return SequenceStamp.of(rule);
}

/** One service port's stretch of a table's write order (rendered in one go by writeServicePort). */
export interface WriteGroup {
  /** The 16 hash characters of its KUBE-SVC-/SVL-/EXT-/FW- chains (portProtoHash). */
  hash: string;
  /** Declaration indices [chainStart, chainEnd) of the chains declared while it was written. */
  chainStart: number;
  chainEnd: number;
  /** Write-order indices [ruleStart, ruleEnd) of the rules written meanwhile (to any chain). */
  ruleStart: number;
  ruleEnd: number;
  /** The service port's key ("ns/name:port"); groups are written in ascending key order. */
  key: string;
}

/** A rendered table's write order, as the renderer left the table. */
export interface WriteOrder {
  table: Table;
  /** table.chains at the end of rendering (a copy), and each chain's name then. */
  chains: Chain[];
  /** The table.chains array object itself. */
  chainArray: Chain[];
  names: string[];
  /** Chain i's rules are byChain[offsets[i] .. offsets[i + 1]): every rule, chain by chain. */
  offsets: Int32Array;
  byChain: Rule[];
  /** The k-th rule written: the declaration index of its chain, and the rule. */
  ruleChain: Int32Array;
  rules: Rule[];
  /** Per declaration index: the group whose writing declared it, or -1. */
  chainGroup: Int32Array;
  groups: WriteGroup[];
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
  /**
   * The table is laid out as writeServicePort writes it: the chains declared outside every group are
   * top-level ones (not service chains); a group declares only service chains, the KUBE-SVC-/SVL-/EXT-/
   * FW- ones with its hash; every rule written during a group goes to a top-level chain or to one of the
   * group's own; no two groups share a hash.
   */
  fits: boolean;
  /**
   * Chain name -> the writer's id for it, for every chain but the KUBE-SEP- ones (declared in groups
   * only; see findEndpointChain); declOf[id] is its declaration index.
   */
  ids: Map<string, number>;
  declOf: Int32Array;
  /** Lazily derived data, kept for later calls (see partial.ts, serialize.ts). */
  cache: Record<string, unknown>;
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

export function registerWriteOrder(order: WriteOrder): void {
  orders.set(order.table, order);
}

/**
 * The declaration index of the KUBE-SEP- chain `name`, found by its encoded name (one pass over
 * chainSig, no strings visited); -1 when the table has none. Needs order.fits.
 */
export function findEndpointChain(order: WriteOrder, name: string): number {
  const sig = ENDPOINT_SIG;
  if (!encodeName(name, 9, 5, sig, 0)) return -1;
  const cs = order.chainSig;
  const s0 = sig[0]!;
  const s1 = sig[1]!;
  const s2 = sig[2]!;
  for (let x = 0, i = 0; x < cs.length; x += 3, i++) if (cs[x] === s0 && cs[x + 1] === s1 && cs[x + 2] === s2) return i;
  return -1;
}

const ENDPOINT_SIG = new Int32Array(3);

/** table.chains holds the rendered chain objects, in their order (one pass over one array). */
export function chainListIntact(order: WriteOrder, table: Table): boolean {
  const cs = table.chains;
  const snap = order.chains;
  const n = snap.length;
  if (cs.length !== n) return false;
  for (let i = 0; i < n; i++) if (cs[i] !== snap[i]) return false;
  return true;
}

/**
 * table.chains is still the rendered array, at its rendered length (its entries are not visited: see
 * partial.ts for what this is enough for).
 */
export function chainArrayKept(order: WriteOrder, table: Table): boolean {
  return table.chains === order.chainArray && table.chains.length === order.chains.length;
}

/** Chain i (of an intact chain list) has its rendered name and exactly its rendered rule objects. */
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

/** The table is as rendered: the same chains, names and rule objects, in the same places. */
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

/** The table's WriteOrder when the table is still as rendered (checked now), else undefined. */
export function intactWriteOrder(table: Table): WriteOrder | undefined {
  const order = orders.get(table);
  return order !== undefined && tableIntact(order, table) ? order : undefined;
}

/** The table's WriteOrder, unchecked: callers check what they rely on. */
export function writeOrderOf(table: Table): WriteOrder | undefined {
  return orders.get(table);
}

/**
 * A table's rules in write order as parallel arrays: the k-th rule is `rules[k]`, in chain
 * `chains[chainOf[k]]` (`chains` is table.chains). `order` is set when they come from an intact WriteOrder.
 */
export interface WriteSequence {
  chains: readonly Chain[];
  chainOf: ArrayLike<number>;
  rules: readonly Rule[];
  order: WriteOrder | undefined;
}

/**
 * The rules in the order kube-proxy writes them when every rule carries the renderer's sequence number
 * (sorted by it); otherwise chain by chain, in chain order.
 */
export function writeSequence(table: Table): WriteSequence {
  const order = intactWriteOrder(table);
  if (order !== undefined) return { chains: order.chains, chainOf: order.ruleChain, rules: order.rules, order };
  const chainOf: number[] = [];
  const rules: Rule[] = [];
  const seqs: number[] = [];
  let numbered = true;
  const cs = table.chains;
  for (let i = 0; i < cs.length; i++) {
    for (const rule of cs[i]!.rules) {
      chainOf.push(i);
      rules.push(rule);
      if (numbered) {
        const s = SequenceStamp.of(rule);
        if (s === undefined) numbered = false;
        else seqs.push(s);
      }
    }
  }
  if (!numbered) return { chains: cs, chainOf, rules, order: undefined };
  const idx = Array.from(rules, (_, k) => k);
  idx.sort((a, b) => seqs[a]! - seqs[b]!); // stable: equal numbers (from different renders) keep chain order
  return { chains: cs, chainOf: idx.map((k) => chainOf[k]!), rules: idx.map((k) => rules[k]!), order: undefined };
}

export interface OrderedRule {
  chain: Chain;
  rule: Rule;
}

/**
 * A table's rules in the order kube-proxy writes them when every rule carries the renderer's sequence
 * number; otherwise chain by chain, in chain order.
 */
export function rulesInWriteOrder(table: Table): OrderedRule[] {
  const { chains, chainOf, rules } = writeSequence(table);
  const out: OrderedRule[] = new Array(rules.length);
  for (let k = 0; k < rules.length; k++) out[k] = { chain: chains[chainOf[k]!]!, rule: rules[k]! };
  return out;
}
