// Writes one table the way kube-proxy fills its LineBuffers: chain declarations (`:NAME - [0:0]`) in the
// order they are written, and rules numbered in the order they are written (see order.ts). A rule may be
// written to a chain before the chain's declaration (kube-proxy writes a service's masquerade rule before
// its KUBE-SVC- line); the chain takes its place among the declarations when it is declared.
//
// Chains are addressed by name or, in the renderer's hot paths, by the id chainId() hands out (saving a
// map lookup per rule). beginGroup/endGroup mark one service port's stretch of the write order.

import type { Chain, Rule, Table, TableName } from '../types.js';
import { SERVICE_CHAIN_PREFIX, isServiceChainName, serviceChainHash } from '../names.js';
import { encodeName, newNumberedRule, registerWriteOrder, type WriteGroup } from './order.js';

const SERVICE_PREFIXES: readonly string[] = [
  SERVICE_CHAIN_PREFIX.clusterPolicy,
  SERVICE_CHAIN_PREFIX.localPolicy,
  SERVICE_CHAIN_PREFIX.external,
  SERVICE_CHAIN_PREFIX.firewall,
  SERVICE_CHAIN_PREFIX.endpoint,
];

/** Every chain's rules until finish() gives it its own array. */
const NO_RULES: Rule[] = [];

/** A growable Int32Array. */
class Int32Buffer {
  data = new Int32Array(1024);
  length = 0;
  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.data.length) {
      const bigger = new Int32Array(Math.max(this.data.length * 2, at + n));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.length = at + n;
    return at;
  }
  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

export class TableWriter {
  private readonly table: Table;
  /** Chain name -> id (creation order). */
  private readonly ids = new Map<string, number>();
  /** Per id: the chain, and its declaration index (-1 while undeclared). */
  private readonly byId: Chain[] = [];
  private readonly declOf: number[] = [];
  /** Per declaration index: the group being written when it was declared, or -1. */
  private readonly chainGroup: number[] = [];
  /** Per rule written: its chain's id, and the rule. */
  private readonly ruleId: number[] = [];
  private readonly rules: Rule[] = [];
  private readonly groups: WriteGroup[] = [];
  private group = -1;
  /** Still laid out as WriteOrder.fits describes. */
  private fits = true;
  private readonly groupSig = new Int32Buffer();
  private readonly chainSig = new Int32Buffer();

  constructor(name: TableName) {
    this.table = { name, chains: [] };
  }

  /** The id of the chain called `name` (created, undeclared, on first use). */
  chainId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.byId.length;
      this.ids.set(name, id);
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
    if (this.declOf[id] !== -1) return;
    const chain = this.byId[id]!;
    this.declOf[id] = this.table.chains.length;
    this.table.chains.push(chain);
    this.chainGroup.push(this.group);
    const at = this.chainSig.reserve(3);
    if (this.fits) {
      const name = chain.name;
      if (this.group === -1) {
        if (isServiceChainName(name)) this.fits = false;
      } else {
        let kind = 0;
        while (kind < SERVICE_PREFIXES.length && !name.startsWith(SERVICE_PREFIXES[kind]!)) kind++;
        if (
          kind === SERVICE_PREFIXES.length ||
          (kind !== 4 && serviceChainHash(name) !== this.groups[this.group]!.hash) ||
          !encodeName(name, SERVICE_PREFIXES[kind]!.length, kind + 1, this.chainSig.data, at)
        ) {
          this.fits = false;
        }
      }
    }
  }

  isDeclared(name: string): boolean {
    const id = this.ids.get(name);
    return id !== undefined && this.declOf[id] !== -1;
  }

  /** Writes `-A chain words…`. */
  append(chain: string, words: string[]): void {
    this.appendId(this.chainId(chain), words);
  }

  appendId(id: number, words: string[]): void {
    // the chains' rule arrays are filled in finish(), each at its exact length
    this.ruleId.push(id);
    this.rules.push(newNumberedRule(words, this.rules.length));
  }

  /** Starts the rules of the service port `key` (its chains' names end in `hash`); groups come in key order. */
  beginGroup(hash: string, key: string): void {
    if (this.group !== -1) this.fits = false;
    this.group = this.groups.length;
    this.groups.push({ hash, key, chainStart: this.table.chains.length, chainEnd: -1, ruleStart: this.rules.length, ruleEnd: -1 });
    const at = this.groupSig.reserve(3);
    if (!encodeName(hash, 0, 0, this.groupSig.data, at)) this.fits = false;
  }

  endGroup(): void {
    const g = this.groups[this.group]!;
    g.chainEnd = this.table.chains.length;
    g.ruleEnd = this.rules.length;
    this.group = -1;
  }

  finish(): Table {
    const declOf = this.declOf;
    for (const [name, id] of this.ids) {
      if (declOf[id] === -1) throw new Error(`internal error: rules written to undeclared chain ${name}`);
    }
    const chains = this.table.chains.slice();
    const n = chains.length;
    const rules = this.rules.slice(); // without the spare capacity of pushing
    const total = rules.length;
    // rule k's chain as its declaration index, and the rules chain by chain (a counting sort: each
    // chain's rules keep their write order)
    const ruleChain = new Int32Array(total);
    const offsets: number[] = new Array(n + 1).fill(0);
    for (let k = 0; k < total; k++) {
      const ci = declOf[this.ruleId[k]!]!;
      ruleChain[k] = ci;
      offsets[ci + 1]!++;
    }
    for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
    const byChain: Rule[] = new Array(total);
    const fill = offsets.slice(0, n);
    for (let k = 0; k < total; k++) byChain[fill[ruleChain[k]!]!++] = rules[k]!;
    const names: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = chains[i]!;
      names[i] = c.name;
      c.rules = byChain.slice(offsets[i]!, offsets[i + 1]!);
    }
    // the layout check of every rule's chain against the group it was written in
    const { groups } = this;
    const chainGroup = Int32Array.from(this.chainGroup);
    let fits = this.fits;
    let g = 0;
    for (let k = 0; k < total && fits; k++) {
      while (g < groups.length && groups[g]!.ruleEnd <= k) g++;
      const cg = chainGroup[ruleChain[k]!]!;
      if (cg !== -1 && !(g < groups.length && groups[g]!.ruleStart <= k && cg === g)) fits = false;
    }
    const groupByHash = new Map<string, number>();
    const groupChains = new Int32Array(2 * groups.length);
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i]!;
      groupByHash.set(group.hash, i);
      groupChains[2 * i] = group.chainStart;
      groupChains[2 * i + 1] = group.chainEnd;
    }
    if (groupByHash.size !== groups.length || this.group !== -1) fits = false;
    registerWriteOrder({
      table: this.table,
      chains,
      chainArray: this.table.chains,
      names,
      offsets,
      byChain,
      ruleChain,
      rules,
      chainGroup,
      groups,
      groupByHash,
      groupSig: this.groupSig.finish(),
      chainSig: this.chainSig.finish(),
      groupChains,
      fits,
      ids: this.ids,
      declOf: Int32Array.from(declOf),
      cache: {},
    });
    return this.table;
  }
}
