// An iptables-restore script as data: the operations of a plan (plan.ts), each one line of the script,
// and the writer partial.ts fills them in with.
//
// The operations are light objects whose `text` is built when read; the top-level lines of a partial
// restore, the same thousands of lines every sync, come as kept blocks of text (serialize.ts) that are
// turned into operations only when someone asks for them. A plan's text() and its operations are two
// readings of the same list.

import type { IPFamily, Plan, PlanOperation } from '../modes/types.js';
import { RestoreText, restoreRuleText } from './serialize.js';
import type { Rule, TableName } from './types.js';

/** What an operation does, in iptables-restore's terms. */
export type IptablesOp =
  /** `*nat`: the following lines are for this table */
  | 'begin table'
  /** `:CHAIN - [0:0]`: create the chain, or empty it when it exists (it is then filled by `-A` lines) */
  | 'declare chain'
  /** `:CHAIN - [0:0]` of a stale chain: empty it so that it can be deleted */
  | 'flush chain'
  /** `-A CHAIN words…` */
  | 'add rule'
  /** `-X CHAIN` */
  | 'delete chain'
  /** `COMMIT`: the table's lines take effect together */
  | 'commit';

export interface IptablesOperation extends PlanOperation {
  op: IptablesOp;
  table: TableName;
  /** The chain it acts on (all but 'begin table' and 'commit'). */
  chain?: string;
  /** 'add rule': the rule. */
  rule?: Rule;
}

export interface IptablesPlan extends Plan {
  mode: 'iptables';
  operations: IptablesOperation[];
}

class Operation implements IptablesOperation {
  constructor(
    readonly op: IptablesOp,
    readonly table: TableName,
    readonly chain?: string,
    readonly rule?: Rule,
  ) {}

  get object(): string {
    return this.chain === undefined ? this.table : `${this.table}/${this.chain}`;
  }

  get text(): string {
    switch (this.op) {
      case 'begin table':
        return `*${this.table}`;
      case 'declare chain':
      case 'flush chain':
        return `:${this.chain} - [0:0]`;
      case 'add rule':
        return `-A ${this.chain} ${restoreRuleText(this.rule!)}`;
      case 'delete chain':
        return `-X ${this.chain}`;
      case 'commit':
        return 'COMMIT';
    }
  }

  toJSON(): PlanOperation {
    return { op: this.op, object: this.object, text: this.text };
  }
}

/** A kept block of `-A` lines: its text, and its operations when asked for. */
interface KeptBlock {
  text: string;
  operations: () => IptablesOperation[];
}

/** Collects a plan's operations in order (partial.ts writes into it). */
export class IptablesPlanWriter {
  readonly pieces: (Operation | KeptBlock)[] = [];
  private table: TableName = 'filter';

  beginTable(table: TableName): void {
    this.table = table;
    this.pieces.push(new Operation('begin table', table));
  }
  declareChain(chain: string): void {
    this.pieces.push(new Operation('declare chain', this.table, chain));
  }
  flushChain(chain: string): void {
    this.pieces.push(new Operation('flush chain', this.table, chain));
  }
  addRule(chain: string, rule: Rule): void {
    this.pieces.push(new Operation('add rule', this.table, chain, rule));
  }
  /** `-A` lines already written out (each with its newline); `rules` gives them as (chain, rule) pairs. */
  addKeptRules(text: string, rules: () => { chain: string; rule: Rule }[]): void {
    const table = this.table;
    this.pieces.push({ text, operations: () => rules().map(({ chain, rule }) => new Operation('add rule', table, chain, rule)) });
  }
  deleteChain(chain: string): void {
    this.pieces.push(new Operation('delete chain', this.table, chain));
  }
  commit(): void {
    this.pieces.push(new Operation('commit', this.table));
  }

  plan(family: IPFamily, full: boolean): IptablesPlan {
    const pieces = this.pieces;
    let operations: IptablesOperation[] | undefined;
    let text: string | undefined;
    return {
      mode: 'iptables',
      family,
      full,
      get operations(): IptablesOperation[] {
        if (operations === undefined) {
          operations = [];
          for (const p of pieces) {
            if (p instanceof Operation) operations.push(p);
            else for (const o of p.operations()) operations.push(o);
          }
        }
        return operations;
      },
      text(): string {
        if (text === undefined) {
          const out = new RestoreText();
          for (const p of pieces) {
            if (!(p instanceof Operation)) out.pushBlock(p.text);
            else if (p.op === 'add rule') out.pushRule(p.chain!, restoreRuleText(p.rule!));
            else out.push(p.text);
          }
          text = out.finish();
        }
        return text;
      },
    };
  }
}
