// An in-memory iptables backend for unit tests (of sync and of anything that applies rules): it keeps the
// applied rules as data, a Ruleset per family, and interprets restore text line by line the way
// iptables-restore does, so a test can apply what render produced and read back what a node would hold.
//
//   `*table` … `COMMIT`   one table; with noflush it starts from what the table holds, without it from the
//                         table's built-in chains only (user chains deleted, every chain flushed)
//   `:NAME POLICY [p:b]`  a user chain is created, or flushed when it exists; a built-in chain gets the policy
//   `-A/-I/-D/-R/-N/-X/-F/-P/-Z`  as iptables does; -X refuses a built-in, missing, non-empty or still
//                         referenced chain
//   at COMMIT             every jump (-j/-g) must name a chain of the table or a known target
// Like the real backend (iptables.ts) a restore is all or nothing over the whole text, and a refusal is a
// RestoreError naming the line. Rules are compared word for word (the real `-C` compares parsed rules).
// save() prints iptables-save's layout: built-in chains first, then user chains sorted, rules chain by chain;
// comment strings quoted as iptables-save quotes them; no `# Generated` lines.

import { BUILTIN_CHAINS, tokenizeLine } from '../iptables/parse.js';
import type { Chain, IPFamily, Rule, Ruleset, Table, TableName } from '../iptables/types.js';
import type { IptablesBackend, RestoreOptions, RulePosition } from './backend.js';
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

/** A restore the fake was asked to do, for assertions. */
export interface FakeRestoreCall {
  family: IPFamily;
  text: string;
  opts: RestoreOptions;
  ok: boolean;
}

type State = Map<TableName, Table>;

class Refusal extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class FakeIptablesBackend implements IptablesBackend {
  readonly kind = 'fake' as const;
  readonly restores: FakeRestoreCall[] = [];
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

  async restore(family: IPFamily, text: string, opts: RestoreOptions): Promise<void> {
    const call: FakeRestoreCall = { family, text, opts, ok: false };
    this.restores.push(call);
    this.state.set(family, this.apply(family, text, opts, false));
    call.ok = true;
  }

  async check(family: IPFamily, text: string, opts: RestoreOptions): Promise<void> {
    this.apply(family, text, opts, true);
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

  /** Interpret restore text against a copy of the family's state; the new state, or a RestoreError. */
  private apply(family: IPFamily, text: string, opts: RestoreOptions, test: boolean): State {
    const lines = text.split('\n');
    try {
      return interpret(this.state.get(family)!, lines, opts, this.nfacctCounters);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      const tool = `${family === 'IPv6' ? 'ip6tables' : 'iptables'}-restore`;
      const lineText = lines[e.line - 1];
      const at = lineText === undefined ? undefined : { line: e.line, text: lineText };
      return throwing(restoreError({ tool, family, at, reason: e.reason, status: e.reason.startsWith('COMMIT') ? 1 : 2, stderr: `${tool}: line ${e.line}: ${e.reason}\n`, test }));
    }
  }
}

function throwing(e: RestoreError): never {
  throw e;
}

function interpret(current: State, lines: string[], opts: RestoreOptions, nfacct: Set<string> | undefined): State {
  const work: State = new Map([...current].map(([k, v]) => [k, cloneTable(v)]));
  let cur: { table: Table; added: Map<Rule, number>; deleted: Map<string, number> } | undefined;
  let lastLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    lastLine = n;
    if (line.startsWith('*')) {
      if (cur) throw new Refusal(n, `COMMIT expected at line ${n}`);
      const name = line.slice(1).trim();
      if (!(name in BUILTIN_CHAINS)) throw new Refusal(n, `table name '${name}' invalid`);
      const existing = work.get(name as TableName);
      const table = opts.noflush
        ? cloneTable(existing ?? emptyTable(name as TableName))
        : flushedTable(name as TableName, existing);
      cur = { table, added: new Map(), deleted: new Map() };
      continue;
    }
    if (!cur) throw new Refusal(n, 'no table given (a line before any *table)');
    const t = cur.table;
    if (line === 'COMMIT') {
      commitChecks(cur.table, cur.added, cur.deleted, n);
      work.set(t.name, normalizeTable(t));
      cur = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/.exec(line);
      if (!m) throw new Refusal(n, 'bad chain line');
      const [, name, policy, p, b] = m as unknown as [string, string, string, string?, string?];
      const builtin = BUILTIN_CHAINS[t.name].includes(name);
      let c = t.chains.find((x) => x.name === name);
      if (builtin) {
        if (policy !== '-') c!.policy = policy;
        if (opts.counters && p !== undefined) c!.counters = { packets: BigInt(p), bytes: BigInt(b!) };
      } else {
        if (policy !== '-') throw new Refusal(n, `Can't set policy \`${policy}' on user-defined chain \`${name}'`);
        if (c) c.rules = [];
        else t.chains.push((c = { name, policy: '-', rules: [] }));
        cur.deleted.delete(name);
      }
      continue;
    }
    let body = line;
    let counters: Rule['counters'];
    const cm = /^\[(\d+):(\d+)\]\s+/.exec(body);
    if (cm) {
      body = body.slice(cm[0].length);
      if (opts.counters) counters = { packets: BigInt(cm[1]!), bytes: BigInt(cm[2]!) };
    }
    const words = tokenizeLine(body);
    if (words === null) throw new Refusal(n, 'unterminated quoted string');
    const [cmd = '', chainName, ...rest] = words;
    const chain = chainName === undefined ? undefined : t.chains.find((x) => x.name === chainName);
    const need = (): Chain => {
      if (!chain) throw new Refusal(n, `Chain '${chainName ?? ''}' does not exist`);
      return chain;
    };
    switch (cmd) {
      case '-A':
      case '--append':
      case '-I':
      case '--insert': {
        const c = need();
        let pos = cmd === '-A' || cmd === '--append' ? c.rules.length : 0;
        let ruleWords = rest;
        if ((cmd === '-I' || cmd === '--insert') && /^\d+$/.test(rest[0] ?? '')) {
          pos = Number(rest[0]) - 1;
          ruleWords = rest.slice(1);
          if (pos < 0 || pos > c.rules.length) throw new Refusal(n, 'Index of insertion too big');
        }
        checkNfacct(ruleWords, nfacct, n);
        const rule: Rule = counters ? { words: ruleWords, counters } : { words: ruleWords };
        c.rules.splice(pos, 0, rule);
        cur.added.set(rule, n);
        break;
      }
      case '-D':
      case '--delete': {
        const c = need();
        const i = /^\d+$/.test(rest[0] ?? '') && rest.length === 1 ? Number(rest[0]) - 1 : c.rules.findIndex((r) => sameWords(r.words, rest));
        if (i < 0 || i >= c.rules.length) throw new Refusal(n, 'Bad rule (does a matching rule exist in that chain?)');
        c.rules.splice(i, 1);
        break;
      }
      case '-R':
      case '--replace': {
        const c = need();
        const i = Number(rest[0]) - 1;
        if (!(i >= 0 && i < c.rules.length)) throw new Refusal(n, 'Index of replacement too big');
        const rule: Rule = { words: rest.slice(1) };
        c.rules[i] = rule;
        cur.added.set(rule, n);
        break;
      }
      case '-N':
      case '--new-chain':
        if (!chainName) throw new Refusal(n, '-N needs a chain name');
        if (chain) throw new Refusal(n, 'Chain already exists');
        t.chains.push({ name: chainName, policy: '-', rules: [] });
        cur.deleted.delete(chainName);
        break;
      case '-X':
      case '--delete-chain': {
        const targets = chainName === undefined ? t.chains.filter((c) => !BUILTIN_CHAINS[t.name].includes(c.name)) : [need()];
        for (const c of targets) {
          if (BUILTIN_CHAINS[t.name].includes(c.name)) throw new Refusal(n, `Cannot delete built-in chain ${c.name}`);
          if (c.rules.length > 0) throw new Refusal(n, `Directory not empty: chain ${c.name} still has rules`);
          t.chains.splice(t.chains.indexOf(c), 1);
          cur.deleted.set(c.name, n);
        }
        break;
      }
      case '-F':
      case '--flush':
        for (const c of chainName === undefined ? t.chains : [need()]) c.rules = [];
        break;
      case '-Z':
      case '--zero':
        for (const c of chainName === undefined ? t.chains : [need()]) for (const r of c.rules) if (r.counters) r.counters = { packets: 0n, bytes: 0n };
        break;
      case '-P':
      case '--policy': {
        const c = need();
        if (!BUILTIN_CHAINS[t.name].includes(c.name)) throw new Refusal(n, `Can't set policy on user-defined chain ${c.name}`);
        c.policy = rest[0] ?? c.policy;
        break;
      }
      default:
        throw new Refusal(n, `unknown command ${JSON.stringify(cmd)}`);
    }
  }
  if (cur) throw new Refusal(lastLine + 1, `COMMIT expected at line ${lastLine + 1}`);
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

/** Without --noflush: built-in chains keep their policies, everything else goes. */
function flushedTable(name: TableName, existing: Table | undefined): Table {
  const t = emptyTable(name);
  for (const c of t.chains) c.policy = existing?.chains.find((x) => x.name === c.name)?.policy ?? c.policy;
  return t;
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
