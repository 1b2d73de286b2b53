// An in-memory iptables backend for unit tests (of sync and of anything that applies rules): it keeps the
// applied rules as data, a Ruleset per family, and applies a plan's operations (iptables/plan.ts) to them
// the way iptables-restore --noflush applies the plan's script, without reading the script:
//
//   begin table     the table as it is (built-in chains added when missing)
//   declare chain   the chain is created, or emptied when it exists (a built-in one too); so is a flushed one
//   add rule        appended to its chain, which must exist
//   delete chain    refused for a built-in, missing or non-empty chain
//   commit          every jump (-j/-g) must name a chain of the table or a known target; a chain deleted
//                   while still jumped to is refused there, at its deletion
// Like the real backend (iptables.ts) a plan is applied all or nothing, and a refusal is a RestoreError
// naming the operation's line of the script. Rules are compared word for word (the real `-C` compares
// parsed rules). save() prints iptables-save's layout: built-in chains first, then user chains sorted,
// rules chain by chain; comment strings quoted as iptables-save quotes them; no `# Generated` lines.
// Tests that start from text parse it with the real parser (iptables/parse.ts) and plan it.

import { BUILTIN_CHAINS } from '../iptables/parse.js';
import type { IptablesOperation, IptablesPlan } from '../iptables/plan.js';
import type { Chain, IPFamily, Rule, Ruleset, Table, TableName } from '../iptables/types.js';
import type { IptablesBackend, RulePosition } from './backend.js';
import { HostCommandError, RestoreError, nfacctNamesInLine, restoreError } from './errors.js';

/** Targets that are not chains (standard verdicts and the extension targets kube-proxy and CNIs use). */
const KNOWN_TARGETS = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'QUEUE', 'NFQUEUE', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP',
  'MARK', 'CONNMARK', 'LOG', 'NFLOG', 'TRACE', 'NOTRACK', 'CT', 'TPROXY', 'CHECKSUM', 'TCPMSS', 'CLASSIFY',
  'AUDIT', 'SET', 'DSCP', 'TOS', 'TTL', 'HL', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED',
]);

export interface FakeIptablesOptions {
  /** what version() answers; default "1.8.9" */
  version?: string;
  /** rules the fake starts with */
  initial?: Ruleset[];
  /**
   * nfacct counters that exist; a rule naming another one is refused as the kernel refuses it. Undefined
   * (the default) checks nothing.
   */
  nfacctCounters?: Set<string>;
}

/** A plan the fake was asked to apply, for assertions. */
export interface FakeApplyCall {
  plan: IptablesPlan;
  ok: boolean;
}

type State = Map<TableName, Table>;

class Refusal extends Error {
  constructor(
    /** 1-based line of the script (the operation's index + 1) */
    readonly line: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class FakeIptablesBackend implements IptablesBackend {
  readonly kind = 'fake' as const;
  readonly applied: FakeApplyCall[] = [];
  nfacctCounters: Set<string> | undefined;
  private readonly state = new Map<IPFamily, State>([
    ['IPv4', new Map()],
    ['IPv6', new Map()],
  ]);
  private readonly versionString: string;

  constructor(opts: FakeIptablesOptions = {}) {
    this.versionString = opts.version ?? '1.8.9';
    this.nfacctCounters = opts.nfacctCounters;
    for (const rs of opts.initial ?? []) {
      const st = this.state.get(rs.family)!;
      for (const t of rs.tables) st.set(t.name, normalizeTable(cloneTable(t)));
    }
  }

  /** What the fake holds for `family`, as data (a copy). */
  ruleset(family: IPFamily): Ruleset {
    return { family, tables: [...this.state.get(family)!.values()].map(cloneTable) };
  }

  async save(family: IPFamily, table?: TableName): Promise<string> {
    const st = this.state.get(family)!;
    const tables = table ? [st.get(table) ?? emptyTable(table)] : [...st.values()];
    return tables.map(formatTable).join('');
  }

  async apply(plan: IptablesPlan): Promise<void> {
    const call: FakeApplyCall = { plan, ok: false };
    this.applied.push(call);
    this.state.set(plan.family, this.run(plan, false));
    call.ok = true;
  }

  async test(plan: IptablesPlan): Promise<void> {
    this.run(plan, true);
  }

  async ensureChain(family: IPFamily, table: TableName, chain: string): Promise<boolean> {
    const t = this.tableFor(family, table);
    if (t.chains.some((c) => c.name === chain)) return false;
    t.chains.push({ name: chain, policy: '-', rules: [] });
    normalizeTable(t);
    return true;
  }

  async ensureRule(family: IPFamily, table: TableName, chain: string, words: readonly string[], position: RulePosition): Promise<boolean> {
    const c = this.chainFor(family, table, chain, position === 'prepend' ? '-I' : '-A', words);
    if (c.rules.some((r) => sameWords(r.words, words))) return false;
    const rule: Rule = { words: [...words] };
    if (position === 'prepend') c.rules.unshift(rule);
    else c.rules.push(rule);
    return true;
  }

  async deleteRule(family: IPFamily, table: TableName, chain: string, words: readonly string[]): Promise<boolean> {
    const c = this.chainFor(family, table, chain, '-D', words);
    const i = c.rules.findIndex((r) => sameWords(r.words, words));
    if (i < 0) return false;
    c.rules.splice(i, 1);
    return true;
  }

  async version(): Promise<string> {
    return this.versionString;
  }

  // ---------------------------------------------------------------------------------------------

  private tableFor(family: IPFamily, table: TableName): Table {
    const st = this.state.get(family)!;
    let t = st.get(table);
    if (!t) st.set(table, (t = emptyTable(table)));
    return t;
  }

  private chainFor(family: IPFamily, table: TableName, chain: string, op: string, words: readonly string[]): Chain {
    const c = this.tableFor(family, table).chains.find((x) => x.name === chain);
    if (c) return c;
    const argv = [family === 'IPv6' ? 'ip6tables' : 'iptables', op, chain, '-t', table, ...words];
    const stderr = 'iptables: No chain/target/match by that name.\n';
    throw new HostCommandError(`\`${argv.join(' ')}\` failed (exit 1: iptables: No chain/target/match by that name).`, argv, 1, stderr);
  }

  /** Apply the plan to a copy of the family's state; the new state, or a RestoreError. */
  private run(plan: IptablesPlan, test: boolean): State {
    const ops = plan.operations;
    try {
      return applyOperations(this.state.get(plan.family)!, ops, this.nfacctCounters);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      const family = plan.family;
      const tool = `${family === 'IPv6' ? 'ip6tables' : 'iptables'}-restore`;
      const at = { line: e.line, text: ops[e.line - 1]?.text ?? '' }; // (past the end: where COMMIT was due)
      return throwing(restoreError({ tool, family, at, reason: e.reason, status: e.reason.startsWith('COMMIT') ? 1 : 2, stderr: `${tool}: line ${e.line}: ${e.reason}\n`, test }));
    }
  }
}

function throwing(e: RestoreError): never {
  throw e;
}

function applyOperations(current: State, ops: readonly IptablesOperation[], nfacct: Set<string> | undefined): State {
  const work: State = new Map([...current].map(([k, v]) => [k, cloneTable(v)]));
  let cur: { table: Table; added: Map<Rule, number>; deleted: Map<string, number> } | undefined;
  for (let i = 0; i < ops.length; i++) {
    const n = i + 1;
    const o = ops[i]!;
    if (o.op === 'begin table') {
      if (cur) throw new Refusal(n, `COMMIT expected at line ${n}`);
      cur = { table: normalizeTable(cloneTable(work.get(o.table) ?? emptyTable(o.table))), added: new Map(), deleted: new Map() };
      continue;
    }
    if (!cur || cur.table.name !== o.table) throw new Refusal(n, 'no table given (an operation before its table is begun)');
    const t = cur.table;
    const chain = o.chain === undefined ? undefined : t.chains.find((x) => x.name === o.chain);
    switch (o.op) {
      case 'commit':
        commitChecks(t, cur.added, cur.deleted, n);
        work.set(t.name, normalizeTable(t));
        cur = undefined;
        break;
      case 'declare chain':
      case 'flush chain':
        if (chain) chain.rules = [];
        else t.chains.push({ name: o.chain!, policy: '-', rules: [] });
        cur.deleted.delete(o.chain!);
        break;
      case 'add rule': {
        if (!chain) throw new Refusal(n, `Chain '${o.chain}' does not exist`);
        checkNfacct(o.rule!.words, nfacct, n);
        const rule: Rule = { words: [...o.rule!.words] };
        chain.rules.push(rule);
        cur.added.set(rule, n);
        break;
      }
      case 'delete chain':
        if (BUILTIN_CHAINS[t.name].includes(o.chain!)) throw new Refusal(n, `Cannot delete built-in chain ${o.chain}`);
        if (!chain) throw new Refusal(n, `Chain '${o.chain}' does not exist`);
        if (chain.rules.length > 0) throw new Refusal(n, `Directory not empty: chain ${chain.name} still has rules`);
        t.chains.splice(t.chains.indexOf(chain), 1);
        cur.deleted.set(chain.name, n);
        break;
    }
  }
  if (cur) throw new Refusal(ops.length + 1, `COMMIT expected at line ${ops.length + 1}`);
  return work;
}

function checkNfacct(words: readonly string[], nfacct: Set<string> | undefined, n: number): void {
  if (!nfacct) return;
  for (const name of nfacctNamesInLine(words.map(quoteWord).join(' '))) {
    if (!nfacct.has(name)) throw new Refusal(n, `nfacct counter ${name} does not exist; RULE_APPEND failed (No such file or directory)`);
  }
}

function commitChecks(t: Table, added: Map<Rule, number>, deleted: Map<string, number>, commitLine: number): void {
  const names = new Set(t.chains.map((c) => c.name));
  for (const c of t.chains) {
    for (const r of c.rules) {
      const target = jumpTarget(r.words);
      if (target === undefined || names.has(target) || KNOWN_TARGETS.has(target)) continue;
      const at = added.get(r);
      const x = deleted.get(target);
      if (x !== undefined) throw new Refusal(x, `Too many links: chain ${target} is still referenced by ${c.name}`);
      throw new Refusal(at ?? commitLine, `Chain '${target}' does not exist`);
    }
  }
}

/** The chain or target a rule jumps or goes to. */
export function jumpTarget(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i];
    if (w === '-j' || w === '--jump' || w === '-g' || w === '--goto') return words[i + 1];
  }
  return undefined;
}

/** As iptables-save prints a word: comment strings quoted unless only [A-Za-z0-9_-]; others only when needed. */
export function formatWords(words: readonly string[]): string {
  return words.map((w, i) => (i > 0 && (words[i - 1] === '--comment' || words[i - 1] === '--log-prefix') ? saveString(w) : quoteWord(w))).join(' ');
}

function saveString(s: string): string {
  return /^[A-Za-z0-9_-]+$/.test(s) ? s : `"${s.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

function quoteWord(s: string): string {
  return s !== '' && !/[\s"'\\]/.test(s) ? s : `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function formatTable(t: Table): string {
  const out = [`*${t.name}`];
  for (const c of t.chains) out.push(`:${c.name} ${c.policy} [${c.counters?.packets ?? 0n}:${c.counters?.bytes ?? 0n}]`);
  for (const c of t.chains) for (const r of c.rules) out.push(`-A ${c.name}${r.words.length ? ' ' + formatWords(r.words) : ''}`);
  out.push('COMMIT', '');
  return out.join('\n');
}

function emptyTable(name: TableName): Table {
  return { name, chains: BUILTIN_CHAINS[name].map((c) => ({ name: c, policy: 'ACCEPT', rules: [] })) };
}

/** Built-in chains first in iptables' order (added when missing), then user chains sorted, as iptables-save lists them. */
function normalizeTable(t: Table): Table {
  const builtin = BUILTIN_CHAINS[t.name];
  const byName = new Map(t.chains.map((c) => [c.name, c]));
  const first = builtin.map((b) => byName.get(b) ?? { name: b, policy: 'ACCEPT', rules: [] });
  const users = t.chains.filter((c) => !builtin.includes(c.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  t.chains = [...first, ...users];
  return t;
}

function cloneTable(t: Table): Table {
  return {
    name: t.name,
    chains: t.chains.map((c) => ({
      name: c.name,
      policy: c.policy,
      ...(c.counters ? { counters: { ...c.counters } } : {}),
      rules: c.rules.map((r) => ({ words: [...r.words], ...(r.counters ? { counters: { ...r.counters } } : {}) })),
    })),
  };
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((w, i) => w === b[i]);
}
