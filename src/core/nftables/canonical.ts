// canonicalLines: a table in one spelling and one order, for unified diffs and for comparing a parsed
// table with a rendered one. Chains by name, each followed by its rules (in order: order matters);
// sets and maps by name, each followed by its elements sorted.
import { formatIP, parseIPSloppy } from '../net/ip.js';
import { canonicalRule } from './spelling.js';
import { addChainLine, addSetLine, addTableLine, elementText, quote, tableRef } from './serialize.js';
import type { NftElement, NftSet, NftTable } from './types.js';

function canonicalKeyPart(s: string): string {
  const slash = s.indexOf('/');
  const ip = parseIPSloppy(slash >= 0 ? s.slice(0, slash) : s);
  if (ip && (s.includes('.') || s.includes(':'))) return formatIP(ip) + (slash >= 0 ? s.slice(slash) : '');
  return s;
}

export function canonicalElement(e: NftElement): NftElement {
  const out: NftElement = { key: e.key.map(canonicalKeyPart) };
  if (e.comment !== undefined) out.comment = e.comment;
  if (e.value && e.value.length > 0) out.value = e.value.map((v) => v.trim().replace(/\s+/g, ' '));
  return out;
}

/** nft adds "dynamic" to sets updated from the packet path and lists no flags JSON-side: not a difference. */
export function canonicalSet(s: NftSet): NftSet {
  const flags = (s.flags ?? []).filter((f) => f !== 'dynamic');
  const out: NftSet = { ...s, elements: s.elements.map(canonicalElement) };
  if (flags.length > 0) out.flags = flags;
  else delete out.flags;
  return out;
}

export function canonicalLines(t: NftTable): string[] {
  const ref = tableRef(t);
  const out = [addTableLine(t)];
  for (const c of [...t.chains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    out.push(addChainLine(t, { ...c, rules: [] }));
    for (const r of c.rules) out.push(`add rule ${ref} ${c.name} ${canonicalRule(r.rule)}${r.comment !== undefined ? ` comment ${quote(r.comment)}` : ''}`);
  }
  for (const raw of [...t.sets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const s = canonicalSet(raw);
    out.push(addSetLine(t, s));
    const elems = s.elements.map((e) => `add element ${ref} ${s.name} { ${elementText(e)} }`).sort();
    out.push(...elems);
  }
  return out;
}
