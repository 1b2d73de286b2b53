// The real iptables backend: iptables-{nft,legacy}-{save,restore} and ip6tables-* through a CommandRunner,
// run the way kube-proxy runs them (pkg/util/iptables): `iptables-restore -w 5 -W 100000 --noflush
// [--counters]` with the text on stdin, `iptables-save -t TABLE`, `iptables -w 5 -W 100000 -C/-A/-I/-D/-N
// CHAIN -t TABLE …` for single rules and chains. A plan is run as its script, always with --noflush, as
// kube-proxy runs every sync, full or partial: a full plan declares only kube-proxy's chains, and a
// flushing restore would take the rest of each table (other software's rules, the jumps from the
// built-in chains) with it.
//
// Atomicity. iptables-restore commits table by table: each `*table … COMMIT` block is applied in one
// kernel transaction (legacy: one table blob; nft: one netlink batch), so a block is all or nothing, but
// when a later block fails the earlier ones stay committed (measured: filter applied, nat refused).
// kube-proxy accepts that and repairs it on its next sync. This backend promises all-or-nothing for the
// whole text: before a restore of more than one table it saves those tables (with counters), and when the
// restore fails it puts back every table whose rules changed. A single-table restore needs no snapshot.

import type { IptablesPlan } from '../iptables/plan.js';
import type { IPFamily, TableName } from '../iptables/types.js';
import {
  type CommandRunner,
  type IptablesBackend,
  type RestoreOptions,
  type RulePosition,
  restoreBlocks,
} from './backend.js';
import { RestoreError, type RollbackOutcome, commandFailure, locateRefusedLine, nfacctNamesInLine, parseRestoreFailure, restoreError } from './errors.js';
import { listNfacct } from './nfacct.js';

export type IptablesKind = 'nft' | 'legacy';

export interface IptablesCommandBackendOptions {
  /** `-w SECONDS`: how long to wait for the xtables lock (legacy only; iptables-nft ignores it). kube-proxy: 5. */
  waitSeconds?: number;
  /** `-W MICROSECONDS` between lock attempts; kube-proxy passes 100000 (iptables ≥ 1.8 ignores it). null leaves it out. */
  waitIntervalMicros?: number | null;
  /** Put back tables a failed multi-table restore had already committed (default true). */
  rollback?: boolean;
}

/** `iptables-nft`, `ip6tables-legacy-save`, … */
export function iptablesCommand(kind: IptablesKind, family: IPFamily, tool: '' | 'save' | 'restore' = ''): string {
  return `${family === 'IPv6' ? 'ip6tables' : 'iptables'}-${kind}${tool ? `-${tool}` : ''}`;
}

export class IptablesCommandBackend implements IptablesBackend {
  private readonly wait: string[];
  private readonly rollback: boolean;

  constructor(
    readonly kind: IptablesKind,
    private readonly run: CommandRunner,
    opts: IptablesCommandBackendOptions = {},
  ) {
    const interval = opts.waitIntervalMicros === undefined ? 100_000 : opts.waitIntervalMicros;
    this.wait = ['-w', String(opts.waitSeconds ?? 5), ...(interval === null ? [] : ['-W', String(interval)])];
    this.rollback = opts.rollback ?? true;
  }

  async save(family: IPFamily, table?: TableName): Promise<string> {
    return this.saveTable(family, table, false);
  }

  async apply(plan: IptablesPlan): Promise<void> {
    await this.restore(plan.family, plan.text(), { noflush: true });
  }

  async test(plan: IptablesPlan): Promise<void> {
    await this.check(plan.family, plan.text(), { noflush: true });
  }

  /** Restore text as one change (see the top of this file): what apply runs a plan's script with. */
  async restore(family: IPFamily, text: string, opts: RestoreOptions): Promise<void> {
    const tables = [...new Set(restoreBlocks(text).map((b) => b.table))];
    const snapshot = new Map<string, string>();
    if (this.rollback && tables.length > 1) {
      for (const t of tables) snapshot.set(t, await this.saveTable(family, t as TableName, true));
    }
    const argv = this.restoreArgv(family, opts, false);
    const r = await this.run(argv, text);
    if (r.code === 0) return;
    const rollback = snapshot.size > 0 ? await this.putBack(family, snapshot) : undefined;
    throw await this.restoreError(family, argv, text, r.code, r.stderr, rollback);
  }

  /** `iptables-restore --test` of restore text. */
  async check(family: IPFamily, text: string, opts: RestoreOptions): Promise<void> {
    const argv = this.restoreArgv(family, opts, true);
    const r = await this.run(argv, text);
    if (r.code !== 0) throw await this.restoreError(family, argv, text, r.code, r.stderr, undefined, true);
  }

  async ensureChain(family: IPFamily, table: TableName, chain: string): Promise<boolean> {
    const argv = this.ruleArgv(family, '-N', table, chain, []);
    const r = await this.run(argv);
    if (r.code === 0) return true;
    if (r.code === 1 && /exists/i.test(r.stderr)) return false;
    throw commandFailure(argv, r.code, r.stderr, `chain ${chain} could not be created`);
  }

  /** Whether the chain exists (`-n -L CHAIN`: exit 0); throws when the tool itself fails (not installed, locked). */
  async chainExists(family: IPFamily, table: TableName, chain: string): Promise<boolean> {
    const argv = [iptablesCommand(this.kind, family), ...this.wait, '-t', table, '-n', '-L', chain];
    const r = await this.run(argv);
    if (r.code === 0) return true;
    // exit 1 is "no such chain" (iptables-nft 1.8.9 words it "… is incompatible, use 'nft' tool" when absent)
    if (r.code === 1 && !/Permission denied|xtables lock/i.test(r.stderr)) return false;
    throw commandFailure(argv, r.code, r.stderr, `chain ${chain} could not be looked up`);
  }

  /** Flushes and deletes the chain if it exists (kube-proxy's canary on shutdown). */
  async deleteChain(family: IPFamily, table: TableName, chain: string): Promise<void> {
    for (const op of ['-F', '-X']) await this.run(this.ruleArgv(family, op, table, chain, []));
  }

  async ensureRule(family: IPFamily, table: TableName, chain: string, words: readonly string[], position: RulePosition): Promise<boolean> {
    if (await this.hasRule(family, table, chain, words)) return false;
    const argv = this.ruleArgv(family, position === 'prepend' ? '-I' : '-A', table, chain, words);
    const r = await this.run(argv);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, `a rule could not be added to ${chain}`);
    return true;
  }

  async deleteRule(family: IPFamily, table: TableName, chain: string, words: readonly string[]): Promise<boolean> {
    if (!(await this.hasRule(family, table, chain, words))) return false;
    const argv = this.ruleArgv(family, '-D', table, chain, words);
    const r = await this.run(argv);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, `a rule could not be deleted from ${chain}`);
    return true;
  }

  async version(): Promise<string> {
    const argv = [iptablesCommand(this.kind, 'IPv4'), '--version'];
    const r = await this.run(argv);
    const m = /v(\d+(?:\.\d+)+)/.exec(r.stdout + r.stderr);
    if (r.code !== 0 || !m) throw commandFailure(argv, r.code === 0 ? 1 : r.code, r.stderr || r.stdout, 'the iptables version could not be read');
    return m[1]!;
  }

  // ---------------------------------------------------------------------------------------------

  private restoreArgv(family: IPFamily, opts: RestoreOptions, test: boolean): string[] {
    return [
      iptablesCommand(this.kind, family, 'restore'),
      ...this.wait,
      ...(opts.noflush ? ['--noflush'] : []),
      ...(opts.counters ? ['--counters'] : []),
      ...(test ? ['--test'] : []),
    ];
  }

  private ruleArgv(family: IPFamily, op: string, table: string, chain: string, words: readonly string[]): string[] {
    return [iptablesCommand(this.kind, family), ...this.wait, op, chain, '-t', table, ...words];
  }

  private async hasRule(family: IPFamily, table: TableName, chain: string, words: readonly string[]): Promise<boolean> {
    const argv = this.ruleArgv(family, '-C', table, chain, words);
    const r = await this.run(argv);
    if (r.code === 0) return true;
    if (r.code === 1) return false; // iptables: 1 = "no such rule" (or no such chain: the add then says so)
    throw commandFailure(argv, r.code, r.stderr, `rules of ${chain} could not be checked`);
  }

  private async saveTable(family: IPFamily, table: TableName | undefined, counters: boolean): Promise<string> {
    const argv = [iptablesCommand(this.kind, family, 'save'), ...(table ? ['-t', table] : []), ...(counters ? ['-c'] : [])];
    const r = await this.run(argv);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, `the ${table ?? 'current'} rules could not be read`);
    return r.stdout;
  }

  /** Restore, each as it was, the tables whose rules differ from the snapshot. */
  private async putBack(family: IPFamily, snapshot: Map<string, string>): Promise<RollbackOutcome> {
    const outcome: RollbackOutcome = { tables: [] };
    try {
      for (const [table, before] of snapshot) {
        const now = await this.saveTable(family, table as TableName, true);
        if (comparable(now) === comparable(before)) continue;
        const text = before.trim() ? before : `*${table}\nCOMMIT\n`;
        const argv = this.restoreArgv(family, { noflush: false, counters: true }, false);
        const r = await this.run(argv, text);
        if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr);
        outcome.tables.push(table);
      }
    } catch (e) {
      outcome.error = (e as Error).message.replace(/\.$/, '');
    }
    return outcome;
  }

  private async restoreError(family: IPFamily, argv: string[], text: string, status: number, stderr: string, rollback: RollbackOutcome | undefined, test = false): Promise<RestoreError> {
    const tool = argv[0]!;
    if (status === 127 && !/line/.test(stderr)) {
      const e = commandFailure(argv, status, stderr, 'the rules could not be applied');
      return new RestoreError(e.message, tool, undefined, undefined, e.message, status, stderr, rollback);
    }
    const failure = parseRestoreFailure(stderr);
    let nfacctCounters: Set<string> | undefined;
    const reported = failure.line === undefined ? '' : (text.split('\n')[failure.line - 1] ?? '');
    // A rule naming a missing counter: nft blames that rule, legacy the table's COMMIT; ask which exist.
    if (text.includes('--nfacct-name') && failure.line !== undefined && (!/^\s*-[AIRD]\s/.test(reported) || reported.includes('--nfacct-name'))) {
      nfacctCounters = await listNfacct(this.run).catch(() => undefined);
    }
    const at = locateRefusedLine(text, failure.line, failure.reason, { nfacctCounters });
    let reason = failure.reason;
    if (at && nfacctCounters) {
      const missing = nfacctNamesInLine(at.text).filter((n) => !nfacctCounters!.has(n));
      if (missing.length > 0) reason = `nfacct counter ${missing.join(', ')} does not exist${reason ? `; ${reason}` : ''}`;
    }
    return restoreError({ tool, family, at, reason, status, stderr, test, rollback });
  }
}

/** Save text reduced to what a restore decides: no comments, no counters. */
function comparable(save: string): string {
  return save
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '').replace(/^:(\S+) (\S+) $/, ':$1 $2'))
    .join('\n');
}
