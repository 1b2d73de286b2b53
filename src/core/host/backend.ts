// The one small interface through which the iptables engine touches a host, in the spirit of
// kubernetes-sigs/knftables (list, transaction, run, check) and of kube-proxy's pkg/util/iptables
// Interface (SaveInto, RestoreAll, EnsureChain, EnsureRule, DeleteRule, GetVersion):
//
//   save      read what a table holds now (iptables-save text)
//   apply     carry out a plan (iptables/plan.ts) as ONE change: all of it or nothing (see iptables.ts
//             for how the real backend keeps that promise across tables)
//   test      validate a plan as apply would carry it out, changing nothing (iptables-restore --test)
//   ensure…   the few single-rule operations kube-proxy does outside restore (jump rules, chains)
//
// What to change is decided before it gets here: a backend only executes a plan. Two implementations:
// IptablesCommandBackend (iptables.ts) runs the plan's script with the real tools through a
// CommandRunner, so the same code works on this host, inside `ip netns exec NS` or through exec in a pod;
// FakeIptablesBackend (fake.ts) applies the plan's operations to rules kept as data, for unit tests.

import type { IptablesPlan } from '../iptables/plan.js';
import type { IPFamily, TableName } from '../iptables/types.js';

export type { IPFamily, TableName } from '../iptables/types.js';

/** What running one command gave back. `code` is the exit status; 127 when it could not be started. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs argv (argv[0] is the program, looked up in PATH) with `stdin` as its standard input. Never
 * throws for a non-zero exit: the caller reads `code`. Implementations: localRunner, netnsRunner
 * (runner.ts), a scripted runner in tests, exec into a pod.
 */
export type CommandRunner = (argv: readonly string[], stdin?: string) => Promise<CommandResult>;

export interface RestoreOptions {
  /** `--noflush`: keep what the tables hold and change only the chains the text names (kube-proxy's partial syncs). */
  noflush: boolean;
  /** `--counters`: set the `[packets:bytes]` given in the text. */
  counters?: boolean;
}

export type RulePosition = 'prepend' | 'append';

export type BackendKind = 'nft' | 'legacy' | 'fake';

export interface IptablesBackend {
  readonly kind: BackendKind;
  /** iptables-save text of one table, or of every table the backend holds when `table` is omitted. */
  save(family: IPFamily, table?: TableName): Promise<string>;
  /**
   * Carry out the plan atomically: when it resolves every table of the plan is as its script says; when
   * it throws (a RestoreError naming the refused line of the script), every table is as it was before.
   */
  apply(plan: IptablesPlan): Promise<void>;
  /** Validate the plan as `apply` would carry it out, changing nothing; throws the same RestoreError. */
  test(plan: IptablesPlan): Promise<void>;
  /** Create the chain unless it exists; resolves true when it was created. */
  ensureChain(family: IPFamily, table: TableName, chain: string): Promise<boolean>;
  /** Add the rule (words after `-A CHAIN`) unless an identical rule exists; resolves true when it was added. */
  ensureRule(family: IPFamily, table: TableName, chain: string, words: readonly string[], position: RulePosition): Promise<boolean>;
  /** Delete the rule if present; resolves true when a rule was deleted. */
  deleteRule(family: IPFamily, table: TableName, chain: string, words: readonly string[]): Promise<boolean>;
  /** The iptables version, e.g. "1.8.9". */
  version(): Promise<string>;
}

/** The tables named by `*table` lines of restore text, in order, with their lines (1-based) — no parsing of rules. */
export interface RestoreBlock {
  table: string;
  /** line of `*table` */
  start: number;
  /** line of its COMMIT, or undefined when the text ends before it */
  commit?: number;
}

export function restoreBlocks(text: string): RestoreBlock[] {
  const blocks: RestoreBlock[] = [];
  const lines = text.split('\n');
  let open: RestoreBlock | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line.startsWith('*')) {
      open = { table: line.slice(1).trim(), start: i + 1 };
      blocks.push(open);
    } else if (line === 'COMMIT' && open) {
      open.commit = i + 1;
      open = undefined;
    }
  }
  return blocks;
}
