// parse: `nft list ruleset` / `nft list table ip kube-proxy` text -> tables. kube-proxy's table comes
// back in kube-proxy's own spelling; every other table (CNI, firewalld, Docker …) is kept aside, parsed
// only as far as its name, chains and rules.
import type { IPFamily } from '../objects/types.js';
import { kubeProxySpelling, parseDurationSeconds, parsePriority } from './spelling.js';
import { braceEntries } from './rule.js';
import type { NftChain, NftElement, NftHook, NftSet, NftTable } from './types.js';

export interface ListedTable {
  /** "ip", "ip6", "inet", "bridge" … */
  nftFamily: string;
  table: NftTable;
}

class Lines {
  i = 0;
  constructor(readonly lines: string[], readonly startLine: number) {}
  next(): string | undefined {
    while (this.i < this.lines.length) {
      const l = this.lines[this.i++]!.replace(/\s+# handle \d+\s*$/, '').trim();
      if (l !== '' && !l.startsWith('#')) return l;
    }
    return undefined;
  }
  get line(): number {
    return this.startLine + this.i;
  }
}

function unquote(s: string): string {
  return s.startsWith('"') ? (JSON.parse(s) as string) : s;
}

/** Splits ` comment "…"` off the end of a rule. */
function splitComment(rule: string): { rule: string; comment?: string } {
  const m = /^(.*?) comment ("(?:[^"\\]|\\.)*")$/.exec(rule);
  return m ? { rule: m[1]!, comment: unquote(m[2]!) } : { rule };
}

function familyOf(nftFamily: string): IPFamily {
  return nftFamily === 'ip6' ? 'IPv6' : 'IPv4';
}

/** Reads an `elements = { … }` block that may span lines. */
function readElements(first: string, ls: Lines): NftElement[] {
  let text = first.slice(first.indexOf('{'));
  let depth = 0;
  for (const ch of text) depth += ch === '{' ? 1 : ch === '}' ? -1 : 0;
  while (depth > 0) {
    const l = ls.next();
    if (l === undefined) break;
    text += ' ' + l;
    for (const ch of l) depth += ch === '{' ? 1 : ch === '}' ? -1 : 0;
  }
  return braceEntries(text).map((e) => {
    const last = e.key[e.key.length - 1]!;
    const cm = /^(.*?) comment ("(?:[^"\\]|\\.)*")$/.exec(last);
    const key = cm ? [...e.key.slice(0, -1), cm[1]!] : e.key;
    const out: NftElement = { key: key.map((k) => k.replace(/^(\S+) expires .*$/, '$1').replace(/ timeout \S+$/, '')) };
    if (cm) out.comment = unquote(cm[2]!);
    if (e.value.length > 0) out.value = e.value;
    return out;
  });
}

function readSet(name: string, map: boolean, ls: Lines): NftSet {
  const s: NftSet = { name, map, type: '', elements: [] };
  for (let l = ls.next(); l !== undefined && l !== '}'; l = ls.next()) {
    if (l.startsWith('type ')) s.type = l.slice(5);
    else if (l.startsWith('typeof ')) s.type = l.slice(7);
    else if (l.startsWith('flags ')) s.flags = l.slice(6).split(/\s*,\s*/);
    else if (l.startsWith('timeout ')) s.timeout = parseDurationSeconds(l.slice(8));
    else if (l.startsWith('comment ')) s.comment = unquote(l.slice(8));
    else if (l.startsWith('elements = ')) s.elements = readElements(l, ls);
    // size, policy, auto-merge, gc-interval: kube-proxy sets none of them
  }
  return s;
}

function readChain(name: string, ls: Lines): NftChain {
  const c: NftChain = { name, rules: [] };
  for (let l = ls.next(); l !== undefined && l !== '}'; l = ls.next()) {
    const base = /^type (\w+) hook (\w+)(?: device \S+)? priority ([^;]+);(?: policy (\w+);)?$/.exec(l);
    if (base && c.rules.length === 0 && !c.base) {
      c.base = { type: base[1] as 'filter', hook: base[2] as NftHook, priority: parsePriority(base[3]!) };
      if (base[4] === 'drop') c.base.policy = 'drop';
      continue;
    }
    if (l.startsWith('comment "') && c.rules.length === 0 && /^comment "(?:[^"\\]|\\.)*"$/.test(l)) {
      c.comment = unquote(l.slice(8));
      continue;
    }
    const r = splitComment(l);
    c.rules.push({ ...r, rule: kubeProxySpelling(r.rule) });
  }
  return c;
}

/** Every table in the text, in order. Throws with the line number on text that is not a listing. */
export function parseListing(text: string, startLine = 1): ListedTable[] {
  const ls = new Lines(text.split('\n'), startLine);
  const out: ListedTable[] = [];
  for (let l = ls.next(); l !== undefined; l = ls.next()) {
    const m = /^table (\S+) (\S+) \{$/.exec(l);
    if (!m) throw new Error(`line ${ls.line - 1}: expected "table FAMILY NAME {", found "${l.slice(0, 60)}"`);
    const table: NftTable = { family: familyOf(m[1]!), name: m[2]!, chains: [], sets: [] };
    for (let t = ls.next(); t !== undefined && t !== '}'; t = ls.next()) {
      const obj = /^(set|map|chain|flowtable|counter|quota|ct \w+|limit|secmark|synproxy) (\S+) \{$/.exec(t);
      if (t.startsWith('comment "')) table.comment = unquote(t.slice(8));
      else if (t === 'flags dormant' || t.startsWith('flags ')) continue;
      else if (obj && obj[1] === 'chain') table.chains.push(readChain(obj[2]!, ls));
      else if (obj && (obj[1] === 'set' || obj[1] === 'map')) table.sets.push(readSet(obj[2]!, obj[1] === 'map', ls));
      else if (obj) for (let x = ls.next(); x !== undefined && x !== '}'; x = ls.next());
      else throw new Error(`line ${ls.line - 1}: unexpected "${t.slice(0, 60)}" in table ${m[1]} ${m[2]}`);
    }
    out.push({ nftFamily: m[1]!, table });
  }
  return out;
}
