// Writes one table the way kube-proxy fills its LineBuffers: chain declarations (`:NAME - [0:0]`) in the
// order they are written, and the order the rules are written in as the table's writeOrder. A rule may be
// written to a chain before the chain's declaration (kube-proxy writes a service's masquerade rule before
// its KUBE-SVC- line); the chain takes its place among the declarations when it is declared.
//
// Chains are addressed by name or, in the renderer's hot paths, by the id chainId() hands out (saving a
// map lookup per rule). beginGroup/endGroup mark one service port's stretch of the write order.

import type { Chain, Rule, Table, TableName, WriteRun } from '../types.js';
import { SERVICE_CHAIN_PREFIX } from '../names.js';

/** One service port's stretch of the rules written. */
interface WriteGroup {
  key: string;
  ruleStart: number;
  ruleEnd: number;
}

/** Every chain's rules until finish() gives it its own array. */
const NO_RULES: Rule[] = [];

/**
 * A growable Int32Array. The writer's bookkeeping lives in these rather than in arrays grown by push:
 * their memory is outside the JS heap and freed with them, where a large JS array grown step by step
 * leaves its outgrown copies in the large-object space until the next full collection.
 */
class Int32Buffer {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  private grow(min: number): void {
    const bigger = new Int32Array(Math.max(this.data.length * 2, min));
    bigger.set(this.data);
    this.data = bigger;
  }
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }
  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.data.length) this.grow(at + n);
    this.length = at + n;
    return at;
  }
  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** A growable array of references, preallocated to an expected length (no spare copies when it fits). */
class RefBuffer<T> {
  data: T[];
  length = 0;
  constructor(capacity: number) {
    this.data = new Array<T>(Math.max(16, capacity));
  }
  push(v: T): void {
    if (this.length === this.data.length) {
      const bigger = new Array<T>(this.data.length * 2);
      for (let i = 0; i < this.length; i++) bigger[i] = this.data[i]!;
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  /** The array itself when full (or nearly), else an exact copy. */
  finish(): T[] {
    const d = this.data;
    if (this.length === d.length) return d;
    if (this.length >= d.length * 0.9) {
      d.length = this.length;
      return d;
    }
    return d.slice(0, this.length);
  }
}

export class TableWriter {
  private readonly table: Table;
  /**
   * Chain name -> id (creation order): the KUBE-SEP- chains in the map of the group being written (they
   * are used only there, and most chains are KUBE-SEP- ones), every other chain in the table's.
   */
  private readonly ids = new Map<string, number>();
  private groupIds: Map<string, number> | undefined;
  /** Per id: the chain, and its declaration index (-1 while undeclared). */
  private readonly byId: RefBuffer<Chain>;
  private readonly declOf: Int32Buffer;
  /** Per rule written: its chain's id, and the rule. */
  private readonly ruleId: Int32Buffer;
  private readonly rules: RefBuffer<Rule>;
  private readonly groups: WriteGroup[] = [];
  private group = -1;

  /** `expect`: about how many chains and rules the table will have (sizes the bookkeeping). */
  constructor(name: TableName, expect: { chains: number; rules: number } = { chains: 64, rules: 256 }) {
    this.table = { name, chains: [] };
    this.byId = new RefBuffer(expect.chains);
    this.declOf = new Int32Buffer(expect.chains);
    this.ruleId = new Int32Buffer(expect.rules);
    this.rules = new RefBuffer(expect.rules);
  }

  /** The id of the chain called `name` (created, undeclared, on first use). */
  chainId(name: string): number {
    const ids = name.startsWith(SERVICE_CHAIN_PREFIX.endpoint) ? this.groupIds : this.ids;
    if (ids === undefined) throw new Error(`internal error: ${name} used outside its service port's rules`);
    let id = ids.get(name);
    if (id === undefined) {
      id = this.byId.length;
      ids.set(name, id);
      this.byId.push({ name, policy: '-', rules: NO_RULES });
      this.declOf.push(-1);
    }
    return id;
  }

  /** Writes the chain's `:NAME - [0:0]` line (once). */
  declare(name: string): void {
    this.declareId(this.chainId(name));
  }

  declareId(id: number): void {
    const declOf = this.declOf.data;
    if (declOf[id] !== -1) return;
    const chain = this.byId.data[id]!;
    declOf[id] = this.table.chains.length;
    this.table.chains.push(chain);
  }

  isDeclared(name: string): boolean {
    const id = (name.startsWith(SERVICE_CHAIN_PREFIX.endpoint) ? this.groupIds : this.ids)?.get(name);
    return id !== undefined && this.declOf.data[id] !== -1;
  }

  /** Writes `-A chain words…`. */
  append(chain: string, words: string[]): void {
    this.appendId(this.chainId(chain), words);
  }

  appendId(id: number, words: string[]): void {
    // the chains' rule arrays are filled in finish(), each at its exact length
    this.ruleId.push(id);
    this.rules.push({ words });
  }

  /** Starts the rules of the service port `key` (its chains' names end in `hash`); groups come in key order. */
  beginGroup(_hash: string, key: string): void {
    if (this.group !== -1) throw new Error(`internal error: service port ${key} begun inside another`);
    this.group = this.groups.length;
    this.groupIds = new Map();
    this.groups.push({ key, ruleStart: this.rules.length, ruleEnd: -1 });
  }

  endGroup(): void {
    for (const [name, id] of this.groupIds!) {
      if (this.declOf.data[id] === -1) throw new Error(`internal error: rules written to undeclared chain ${name}`);
    }
    this.groupIds = undefined;
    this.groups[this.group]!.ruleEnd = this.rules.length;
    this.group = -1;
  }

  finish(): Table {
    const declOf = this.declOf.finish();
    for (const [name, id] of this.ids) {
      if (declOf[id] === -1) throw new Error(`internal error: rules written to undeclared chain ${name}`);
    }
    const chains = this.table.chains;
    const n = chains.length;
    const rules = this.rules.finish();
    const total = rules.length;
    const ruleId = this.ruleId.data;
    // the rules chain by chain (a counting sort: each chain's rules keep their write order)
    const offsets = new Int32Array(n + 1);
    for (let k = 0; k < total; k++) offsets[declOf[ruleId[k]!]! + 1]!++;
    for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
    const byChain: Rule[] = new Array(total);
    const fill = offsets.slice(0, n);
    for (let k = 0; k < total; k++) byChain[fill[declOf[ruleId[k]!]!]!++] = rules[k]!;
    for (let i = 0; i < n; i++) chains[i]!.rules = byChain.slice(offsets[i]!, offsets[i + 1]!);
    // the write order: runs of consecutive rules to one chain, cut where a service port's stretch starts or ends
    const runs: WriteRun[] = [];
    const { groups } = this;
    let g = 0;
    for (let k = 0; k < total; ) {
      while (g < groups.length && groups[g]!.ruleEnd <= k) g++;
      const group = g < groups.length && groups[g]!.ruleStart <= k ? groups[g] : undefined;
      const end = group !== undefined ? group.ruleEnd : g < groups.length ? groups[g]!.ruleStart : total;
      const id = ruleId[k]!;
      let j = k + 1;
      while (j < end && ruleId[j] === id) j++;
      const chain = this.byId.data[id]!.name;
      runs.push(group !== undefined ? { chain, rules: j - k, servicePort: group.key } : { chain, rules: j - k });
      k = j;
    }
    this.table.writeOrder = runs;
    return this.table;
  }
}
