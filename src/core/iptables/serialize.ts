// Ruleset -> text.
//
// serializeRestore writes what kube-proxy passes to `iptables-restore --noflush --counters` on a full
// sync: per table `*table`, the `:CHAIN - [0:0]` lines, the `-A` lines, `COMMIT`. kube-proxy builds each
// line by joining words with single blanks (pkg/proxy/util LineBuffer); the only words it quotes are the
// comments it formats with spaces in them, which it writes inside double quotes with no escaping
// (`--comment "ns1/svc1:p80 cluster IP"`), while a comment without a space stays bare
// (`--comment ns1/svc1:p80`). So here a word is quoted exactly when it holds a blank.
//
// The restore text is built in chunks of a few hundred lines (RestoreText) and returned as their
// concatenation; a rendered table's lines come in kube-proxy's write order (Table.writeOrder, read
// through render/order.ts), and the lines of its top-level chains are kept for partial restores (below).
//
// serializeSave writes iptables-save's layout instead, with its own quoting: the value of a --comment is
// printed bare only when it is made of [A-Za-z0-9_-] alone, otherwise double-quoted with \ before
// " \ and ' (xtables_save_string). The words stay in the Ruleset's order (iptables-save itself would print
// the kernel's canonical order: -d with /32, -p before -m …); it is meant for tests and display.
//
// sortRestoreLikeUpstream is upstream's test normalisation (sortIPTablesRules in proxier_test.go, over
// pkg/util/iptables/testing's IPTablesDump.String()), which every expected ruleset in proxier_test.go is
// written in.

import type { Rule, Ruleset, Table } from './types.js';
import { writeSequence, type WriteOrder } from './render/order.js';

/** A word as kube-proxy writes it into restore input. */
export function quoteRestoreWord(word: string): string {
  return word.includes(' ') ? `"${word}"` : word;
}

/** The words as kube-proxy writes them after `-A CHAIN ` (one join; a map only when a word needs quotes). */
function restoreWordsText(words: readonly string[]): string {
  for (let i = 0, n = words.length; i < n; i++) {
    if (words[i]!.includes(' ')) return words.map(quoteRestoreWord).join(' ');
  }
  return words.join(' ');
}

/** One rule's text after `-A CHAIN ` as kube-proxy writes it. */
export function restoreRuleText(rule: Rule): string {
  return restoreWordsText(rule.words);
}

export function chainLine(name: string, policy = '-', counters?: { packets: bigint; bytes: bigint }): string {
  return `:${name} ${policy} [${counters?.packets ?? 0n}:${counters?.bytes ?? 0n}]`;
}

/** chainLine of a user chain without counters. */
function userChainLine(name: string): string {
  return ':' + name + ' - [0:0]';
}

// ---- the lines of a rendered table's top-level rules, kept in blocks for partial restores ------------
//
// A partial restore writes every rule of KUBE-SERVICES, KUBE-NODEPORTS … (and all of filter) each time,
// while the service chains it writes are few. So the lines of the rules in chains declared outside any
// service port's stretch (order.ts: chainGroup -1), in write order, are kept on their table's WriteOrder
// as texts of TOP_BLOCK lines each: serializeRestore (re)builds them from the lines it writes anyway, and
// a partial restore builds those it lacks. A partial plan takes a kept block as it is (see partial.ts
// for what is checked then); serializeRestore always writes every line anew.

interface TopLines {
  /** Write-order indices of the rules in chains declared outside the groups, ascending. */
  rules: Int32Array;
  /** Per block of TOP_BLOCK entries: their lines as one text (each line with its newline). */
  blocks: (string | undefined)[];
}

/** Top-level lines per kept block (about 13 kB of text). */
export const TOP_BLOCK = 128;

/** The WriteOrder's top-level rules (computed once per table). */
export function topLines(order: WriteOrder): TopLines {
  let top = order.cache.topLines as TopLines | undefined;
  if (top === undefined) {
    const { ruleChain, chainGroup } = order;
    let n = 0;
    for (let k = 0; k < ruleChain.length; k++) if (chainGroup[ruleChain[k]!] === -1) n++;
    const rules = new Int32Array(n);
    for (let k = 0, t = 0; k < ruleChain.length; k++) if (chainGroup[ruleChain[k]!] === -1) rules[t++] = k;
    top = { rules, blocks: [] };
    order.cache.topLines = top;
  }
  return top;
}

/** The restore line of the k-th rule written to a WriteOrder's table, from its words as they are now. */
function orderLine(order: WriteOrder, k: number): string {
  return '-A ' + order.chains[order.ruleChain[k]!]!.name + ' ' + restoreWordsText(order.rules[k]!.words);
}

/** Top-level block b (entries b·TOP_BLOCK …): the kept text, or built now and kept. */
export function topBlock(order: WriteOrder, top: TopLines, b: number): string {
  let text = top.blocks[b];
  if (text === undefined) {
    const lines: string[] = new Array(TOP_BLOCK + 1);
    for (let i = 0; i < TOP_BLOCK; i++) lines[i] = orderLine(order, top.rules[b * TOP_BLOCK + i]!);
    lines[TOP_BLOCK] = '';
    text = lines.join('\n');
    top.blocks[b] = text;
  }
  return text;
}

/**
 * Restore text built line by line: the pieces of every 512 lines are joined into one chunk (tens of
 * kilobytes, an ordinary heap string), and the chunks are concatenated at the end. No array of all the
 * lines of a 30 MB text is held at once, and no single huge string is laid out here; whoever writes the
 * text out reads it chunk by chunk (or flattens it once), as with any concatenated string.
 */
export class RestoreText {
  private readonly parts: string[] = [];
  private lines = 0;
  private readonly chunks: string[] = [];

  push(line: string): void {
    this.parts.push(line, '\n');
    if (++this.lines === 512) this.flush();
  }

  /** The line `-A chain text`, without making it one string first. */
  pushRule(chain: string, text: string): void {
    this.parts.push('-A ', chain, ' ', text, '\n');
    if (++this.lines === 512) this.flush();
  }

  /** Lines already joined, each with its newline. */
  pushBlock(text: string): void {
    if (this.lines > 0) this.flush();
    this.chunks.push(text);
  }

  private flush(): void {
    this.chunks.push(this.parts.join(''));
    this.parts.length = 0;
    this.lines = 0;
  }

  /** The text: every line pushed, each followed by a newline. */
  finish(): string {
    if (this.lines > 0) this.flush();
    let out = '';
    for (const c of this.chunks) out += c;
    return out;
  }
}

/** Appends a table's chain lines and `-A` lines, in kube-proxy's order, to `out`. */
function pushRestoreTableLines(table: Table, out: RestoreText): void {
  for (const c of table.chains) out.push(userChainLine(c.name));
  const { chains, chainOf, rules, order } = writeSequence(table);
  // for an intact rendered table, the top-level lines are also gathered into the kept blocks
  const top = order !== undefined ? topLines(order) : undefined;
  const topRules = top?.rules;
  const blocked = topRules !== undefined ? topRules.length - (topRules.length % TOP_BLOCK) : 0;
  let t = 0;
  let block: string[] | undefined;
  for (let k = 0, n = rules.length; k < n; k++) {
    const chain = chains[chainOf[k]!]!.name;
    const words = restoreWordsText(rules[k]!.words);
    if (t < blocked && topRules![t] === k) {
      const line = '-A ' + chain + ' ' + words;
      out.push(line);
      (block ??= []).push(line);
      if (++t % TOP_BLOCK === 0) {
        block.push('');
        top!.blocks[t / TOP_BLOCK - 1] = block.join('\n');
        block.length = 0;
      }
    } else {
      out.pushRule(chain, words);
    }
  }
}

/** The iptables-restore input kube-proxy writes for this ruleset on a full sync (no stale chains to delete). */
export function serializeRestore(rs: Ruleset): string {
  const out = new RestoreText();
  for (const table of rs.tables) {
    out.push(`*${table.name}`);
    pushRestoreTableLines(table, out);
    out.push('COMMIT');
  }
  return out.finish();
}

const SAVE_BARE = /^[A-Za-z0-9_-]+$/;

/** xtables_save_string. */
export function quoteSaveString(value: string): string {
  if (SAVE_BARE.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

function saveWord(word: string, previous: string | undefined): string {
  if (previous === '--comment') return quoteSaveString(word);
  if (word === '' || /[\s"'\\]/.test(word)) return quoteSaveString(word);
  return word;
}

/** iptables-save's layout and quoting; with `counters`, the `[packets:bytes]` prefixes of `iptables-save -c`. */
export function serializeSave(rs: Ruleset, opts: { counters?: boolean } = {}): string {
  let out = '';
  for (const table of rs.tables) {
    out += `*${table.name}\n`;
    for (const c of table.chains) out += chainLine(c.name, c.policy, c.counters) + '\n';
    for (const c of table.chains) {
      for (const r of c.rules) {
        const prefix = opts.counters ? `[${r.counters?.packets ?? 0n}:${r.counters?.bytes ?? 0n}] ` : '';
        const words = r.words.map((w, i) => saveWord(w, r.words[i - 1]));
        out += `${prefix}-A ${c.name}${words.length > 0 ? ' ' + words.join(' ') : ''}\n`;
      }
    }
    out += 'COMMIT\n';
  }
  return out;
}

// ---- upstream's test normalisation -------------------------------------------------------------------

interface DumpRule {
  raw: string;
  comment: string | null;
}
interface DumpChain {
  name: string;
  counters: string;
  rules: DumpRule[];
  deleted: boolean;
}
interface DumpTable {
  name: string;
  chains: DumpChain[];
}

/** The words of a rule line, quoted stretches kept whole, as the test parser cuts them. */
function testParserWords(line: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\s)("[^"]*"|[^"]\S*)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1]!.replace(/^"+|"+$/g, ''));
  return out;
}

function parseDump(text: string): DumpTable[] {
  const tables: DumpTable[] = [];
  let table: DumpTable | null = null;
  let state: 'table' | 'chains' | 'rules' = 'table';
  const lines = text.replace(/^\n+|\n+$/g, '').split('\n');
  for (let raw of lines) {
    for (;;) {
      raw = raw.trim();
      if (raw === '' || raw.startsWith('#')) break;
      if (state === 'table') {
        if (!raw.startsWith('*')) throw new Error(`cannot parse restore text: table ${tables.length + 1} starts with ${JSON.stringify(raw)}`);
        table = { name: raw.slice(1), chains: [] };
        tables.push(table);
        state = 'chains';
        break;
      }
      if (state === 'chains') {
        const m = /^:([^ ]*) - \[([0-9]*):([0-9]*)\]$/.exec(raw);
        if (m === null) {
          state = 'rules';
          continue;
        }
        table!.chains.push({ name: m[1]!, counters: `${m[2]}:${m[3]}`, rules: [], deleted: false });
        break;
      }
      let m: RegExpExecArray | null;
      if ((m = /^-A ([^ ]*) (.*)$/.exec(raw)) !== null) {
        const chain = table!.chains.find((c) => c.name === m![1]);
        if (!chain) throw new Error(`cannot parse restore text: rule for undeclared chain ${m[1]}`);
        const words = testParserWords(raw);
        const at = words.indexOf('--comment');
        chain.rules.push({ raw, comment: at >= 0 && at + 1 < words.length ? words[at + 1]! : null });
      } else if ((m = /^-X (.*)$/.exec(raw)) !== null) {
        const chain = table!.chains.find((c) => c.name === m![1]);
        if (!chain) throw new Error(`cannot parse restore text: -X of undeclared chain ${m[1]}`);
        chain.deleted = true;
      } else if (raw === 'COMMIT') {
        state = 'table';
      } else {
        throw new Error(`cannot parse restore text: ${JSON.stringify(raw)}`);
      }
      break;
    }
  }
  if (state !== 'table') throw new Error('cannot parse restore text: no COMMIT line');
  return tables;
}

function serviceNameOfComment(c: string): string {
  const i = c.search(/[ :]/);
  return i === -1 ? c : c.slice(0, i);
}

/** orderByCommentServiceName: a strict "less" on the service name in the comments (false without both). */
function byServiceName(a: DumpRule, b: DumpRule): boolean {
  if (a.comment === null || b.comment === null) return false;
  return serviceNameOfComment(a.comment) < serviceNameOfComment(b.comment);
}

function stableSort<T>(items: T[], less: (a: T, b: T) => boolean): void {
  // insertion sort: stable, and well-defined for the partial orders upstream's comparators are
  for (let i = 1; i < items.length; i++) {
    const x = items[i]!;
    let j = i - 1;
    while (j >= 0 && less(x, items[j]!)) {
      items[j + 1] = items[j]!;
      j--;
    }
    items[j + 1] = x;
  }
}

function chainRank(name: string): number {
  if (name === 'KUBE-NODEPORTS') return 0;
  if (name === 'KUBE-SERVICES') return 1;
  return name.startsWith('KUBE-') ? 2 : 3;
}

/**
 * sortIPTablesRules: tables by name; chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, then the
 * rest by name; the rules of KUBE-NODEPORTS and KUBE-SERVICES stably by the service name in their comment
 * (nat KUBE-SERVICES' "must be the last rule" rule kept last); each chain's rules together, then the -X
 * lines. Rule lines are kept as written.
 */
export function sortRestoreLikeUpstream(text: string): string {
  const tables = parseDump(text);
  tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of tables) {
    t.chains.sort((a, b) => chainRank(a.name) - chainRank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const c of t.chains) {
      if (c.name === 'KUBE-NODEPORTS' || (c.name === 'KUBE-SERVICES' && t.name === 'filter')) {
        stableSort(c.rules, byServiceName);
      } else if (c.name === 'KUBE-SERVICES' && t.name === 'nat') {
        const last = (r: DumpRule) => r.comment !== null && r.comment.includes('must be the last rule');
        stableSort(c.rules, (a, b) => {
          if (last(a)) return false;
          if (last(b)) return true;
          return byServiceName(a, b);
        });
      }
    }
  }
  let out = '';
  for (const t of tables) {
    out += `*${t.name}\n`;
    for (const c of t.chains) out += `:${c.name} - [${c.counters}]\n`;
    for (const c of t.chains) for (const r of c.rules) out += r.raw + '\n';
    for (const c of t.chains) if (c.deleted) out += `-X ${c.name}\n`;
    out += 'COMMIT\n';
  }
  return out;
}
