// Writes one table the way kube-proxy fills its LineBuffers: chain declarations (`:NAME - [0:0]`) in the
// order they are written, and rules numbered in the order they are written (see order.ts). A rule may be
// written to a chain before the chain's declaration (kube-proxy writes a service's masquerade rule before
// its KUBE-SVC- line); the chain takes its place among the declarations when it is declared.

import type { Chain, Table, TableName } from '../types.js';
import { setWriteSequence } from './order.js';

export class TableWriter {
  private readonly table: Table;
  private readonly byName = new Map<string, Chain>();
  private readonly declared = new Set<string>();
  private seq = 0;

  constructor(name: TableName) {
    this.table = { name, chains: [] };
  }

  private chainObject(name: string): Chain {
    let chain = this.byName.get(name);
    if (!chain) {
      chain = { name, policy: '-', rules: [] };
      this.byName.set(name, chain);
    }
    return chain;
  }

  /** Writes the chain's `:NAME - [0:0]` line (once). */
  declare(name: string): void {
    if (this.declared.has(name)) return;
    this.declared.add(name);
    this.table.chains.push(this.chainObject(name));
  }

  isDeclared(name: string): boolean {
    return this.declared.has(name);
  }

  /** Writes `-A chain words…`. */
  append(chain: string, words: string[]): void {
    const rule = { words };
    setWriteSequence(rule, this.seq++);
    this.chainObject(chain).rules.push(rule);
  }

  finish(): Table {
    for (const name of this.byName.keys()) {
      if (!this.declared.has(name)) throw new Error(`internal error: rules written to undeclared chain ${name}`);
    }
    return this.table;
  }
}
