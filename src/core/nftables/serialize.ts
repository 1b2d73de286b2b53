// Text for a table: the `add …` lines knftables writes (its Fake.Dump() spells a table's contents the
// same way its transactions add them), one object per line, in the table's own order.
import type { NftChain, NftElement, NftSet, NftTable } from './types.js';
import { nftFamily } from './types.js';

/** Go's %q for the ASCII strings kube-proxy writes (comments, service port names). */
export function quote(s: string): string {
  return JSON.stringify(s);
}

export function tableRef(t: Pick<NftTable, 'family' | 'name'>): string {
  return `${nftFamily(t.family)} ${t.name}`;
}

export function addTableLine(t: NftTable): string {
  return `add table ${tableRef(t)}${t.comment !== undefined ? ` { comment ${quote(t.comment)} ; }` : ''}`;
}

export function addChainLine(t: NftTable, c: NftChain): string {
  const parts: string[] = [];
  if (c.base) parts.push(`type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority} ;`);
  if (c.comment !== undefined) parts.push(`comment ${quote(c.comment)} ;`);
  return `add chain ${tableRef(t)} ${c.name}${parts.length ? ` { ${parts.join(' ')} }` : ''}`;
}

export function addSetLine(t: NftTable, s: NftSet): string {
  const parts = [`type ${s.type} ;`];
  if (s.flags && s.flags.length > 0) parts.push(`flags ${s.flags.join(',')} ;`);
  if (s.timeout !== undefined) parts.push(`timeout ${s.timeout}s ;`);
  if (s.comment !== undefined) parts.push(`comment ${quote(s.comment)} ;`);
  return `add ${s.map ? 'map' : 'set'} ${tableRef(t)} ${s.name} { ${parts.join(' ')} }`;
}

export function ruleText(r: { rule: string; comment?: string }): string {
  return r.comment !== undefined ? `${r.rule} comment ${quote(r.comment)}` : r.rule;
}

export function addRuleLine(t: NftTable, chain: string, r: { rule: string; comment?: string }): string {
  return `add rule ${tableRef(t)} ${chain} ${ruleText(r)}`;
}

export function elementText(e: NftElement): string {
  let s = e.key.join(' . ');
  if (e.comment !== undefined) s += ` comment ${quote(e.comment)}`;
  if (e.value && e.value.length > 0) s += ` : ${e.value.join(' . ')}`;
  return s;
}

export function elementLine(verb: 'add' | 'delete', t: NftTable, set: string, e: NftElement): string {
  return verb === 'add' ? `add element ${tableRef(t)} ${set} { ${elementText(e)} }` : `delete element ${tableRef(t)} ${set} { ${e.key.join(' . ')} }`;
}

/** Every object of the table as `add` lines: table, chains, sets and maps, rules, elements (Fake.Dump). */
export function dumpLines(t: NftTable): string[] {
  const out = [addTableLine(t)];
  for (const c of t.chains) out.push(addChainLine(t, c));
  for (const s of t.sets) out.push(addSetLine(t, s));
  for (const c of t.chains) for (const r of c.rules) out.push(addRuleLine(t, c.name, r));
  for (const s of t.sets) for (const e of s.elements) out.push(elementLine('add', t, s.name, e));
  return out;
}

export function dumpText(t: NftTable): string {
  return dumpLines(t).join('\n') + '\n';
}

/**
 * The full-sync transaction for a fresh host, as one string: the same lines, in the same order, as
 * plan(undefined, t).text(), written straight out without operation objects (a 10,000-service table is
 * half a million lines).
 */
export function transactionText(t: NftTable): string {
  const ref = tableRef(t);
  const out = new Lines();
  out.push(addTableLine(t));
  const perService = (name: string) => name.includes('/') || name.startsWith('affinity-');
  // per-service chains have neither hook nor comment: their line is a prefix and the name
  const addChain = `add chain ${ref} `;
  const flushChain = `flush chain ${ref} `;
  for (const c of t.chains) {
    out.push(c.base !== undefined || c.comment !== undefined ? addChainLine(t, c) : addChain + c.name);
    out.push(flushChain + c.name);
  }
  for (const s of t.sets) out.push(addSetLine(t, s));
  if (!t.sets.some((s) => s.name === 'nodeport-ips')) {
    out.push(`add set ${ref} nodeport-ips { type ${t.family === 'IPv6' ? 'ipv6_addr' : 'ipv4_addr'} ; comment "IPs that accept NodePort traffic" ; }`);
    out.push(`delete set ${ref} nodeport-ips`);
  }
  for (const s of t.sets) if (!perService(s.name)) out.push(`flush ${s.map ? 'map' : 'set'} ${ref} ${s.name}`);
  for (const c of t.chains) {
    const prefix = `add rule ${ref} ${c.name} `;
    for (const r of c.rules) out.push(prefix + (r.comment !== undefined ? ruleText(r) : r.rule));
  }
  for (const s of t.sets) {
    if (perService(s.name)) continue;
    const prefix = `add element ${ref} ${s.name} { `;
    for (const e of s.elements) out.push(prefix + elementText(e) + ' }');
  }
  return out.text();
}

/**
 * Newline-terminated lines joined a few thousand at a time: each line's string dies young instead of
 * being held (and copied by the garbage collector) until one join of half a million of them.
 */
class Lines {
  private readonly chunks: string[] = [];
  private batch: string[] = [];

  push(line: string): void {
    if (this.batch.push(line) === 4096) this.flush();
  }

  private flush(): void {
    this.chunks.push(this.batch.join('\n') + '\n');
    this.batch = [];
  }

  text(): string {
    if (this.batch.length > 0) this.flush();
    return this.chunks.join('');
  }
}
