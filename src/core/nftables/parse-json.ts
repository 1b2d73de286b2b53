// parse: `nft -j list ruleset` / `nft -j list table …` -> the same tables as the text listing gives.
// Rule expressions are written back as the words `nft list` prints, then brought to kube-proxy's.
import type { ListedTable } from './parse-text.js';
import { kubeProxySpelling } from './spelling.js';
import type { NftChain, NftElement, NftHook, NftSet, NftTable } from './types.js';

type J = unknown;
type O = Record<string, J>;

const isObj = (x: J): x is O => typeof x === 'object' && x !== null && !Array.isArray(x);

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** An expression (selector or value) as nft prints it. */
function expr(x: J): string {
  if (typeof x === 'string') return x.startsWith('@') ? x : x;
  if (typeof x === 'number') return String(x);
  if (Array.isArray(x)) return x.map(expr).join(' . ');
  if (!isObj(x)) return String(x);
  if ('payload' in x) {
    const p = x.payload as O;
    return `${p.protocol} ${p.field}`;
  }
  if ('meta' in x) return `meta ${(x.meta as O).key}`;
  if ('ct' in x) return `ct ${(x.ct as O).key}`;
  if ('fib' in x) {
    const f = x.fib as O;
    return `fib ${(f.flags as string[]).join(' . ')} ${f.result}`;
  }
  if ('numgen' in x) {
    const n = x.numgen as O;
    return `numgen ${n.mode} mod ${n.mod}${n.offset ? ` offset ${n.offset}` : ''}`;
  }
  if ('concat' in x) return (x.concat as J[]).map(expr).join(' . ');
  // `numgen random mod N map { 0 : 10.0.0.1 . 80 }` (1.36+ DNAT without endpoint chains)
  if ('map' in x) {
    const m = x.map as O;
    return `${expr(m.key)} map ${expr(m.data)}`;
  }
  if ('prefix' in x) {
    const p = x.prefix as O;
    return `${p.addr}/${p.len}`;
  }
  if ('range' in x) {
    const r = x.range as J[];
    return `${expr(r[0])}-${expr(r[1])}`;
  }
  if ('set' in x) {
    const s = x.set;
    if (!Array.isArray(s)) return `{ ${expr(s)} }`;
    return `{ ${s.map((e) => (Array.isArray(e) && e.length === 2 ? `${expr(e[0])} : ${verdict(e[1])}` : expr(e))).join(', ')} }`;
  }
  if ('&' in x) {
    const [a, b] = x['&'] as J[];
    return `${expr(a)} & ${typeof b === 'number' ? hex(b) : expr(b)}`;
  }
  if ('|' in x) {
    const [a, b] = x['|'] as J[];
    return `${expr(a)} | ${typeof b === 'number' ? hex(b) : expr(b)}`;
  }
  if ('^' in x) {
    const [a, b] = x['^'] as J[];
    return `${expr(a)} ^ ${typeof b === 'number' ? hex(b) : expr(b)}`;
  }
  if ('elem' in x) return expr((x.elem as O).val);
  return JSON.stringify(x);
}

function verdict(x: J): string {
  if (!isObj(x)) return String(x);
  for (const k of ['accept', 'drop', 'return', 'continue']) if (k in x) return k;
  if ('jump' in x) return `jump ${(x.jump as O).target}`;
  if ('goto' in x) return `goto ${(x.goto as O).target}`;
  return expr(x);
}

function statement(s: O): string {
  const [k] = Object.keys(s);
  const v = s[k!];
  switch (k) {
    case 'match': {
      const m = v as O;
      const left = expr(m.left);
      let right = expr(m.right);
      if (isObj(m.left) && '&' in m.left && typeof m.right === 'number') right = hex(m.right);
      const masked = isObj(m.left) && '&' in m.left;
      const op = (m.op === '==' || m.op === 'in') && !masked ? '' : `${m.op === 'in' ? '==' : m.op} `;
      return `${left} ${op}${right}`;
    }
    case 'vmap': {
      const m = v as O;
      return `${expr(m.key)} vmap ${expr(m.data)}`;
    }
    case 'jump':
    case 'goto':
      return `${k} ${(v as O).target}`;
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return k;
    case 'reject': {
      const r = v as O | null;
      return r && r.expr && r.expr !== 'port-unreachable' ? `reject with ${r.type} ${r.expr}` : 'reject';
    }
    case 'masquerade': {
      const m = v as O | null;
      const flags = m?.flags === undefined ? [] : Array.isArray(m.flags) ? (m.flags as string[]) : [m.flags as string];
      return ['masquerade', ...flags].join(' ');
    }
    case 'dnat': {
      const d = v as O;
      const addr = expr(d.addr);
      const to = d.port === undefined ? addr : addr.includes(':') ? `[${addr}]:${expr(d.port)}` : `${addr}:${expr(d.port)}`;
      return `dnat${d.family ? ` ${d.family}` : ''} to ${to}`;
    }
    case 'mangle': {
      const m = v as O;
      return `${expr(m.key)} set ${expr(m.value)}`;
    }
    case 'set': {
      const m = v as O;
      return `${m.op} ${m.set} { ${expr(m.elem)} }`;
    }
    case 'counter': {
      const c = v as O;
      return `counter packets ${c.packets} bytes ${c.bytes}`;
    }
    default:
      return `${k} ${JSON.stringify(v)}`;
  }
}

function elementOf(e: J): NftElement {
  if (Array.isArray(e) && e.length === 2 && (isObj(e[1]) || typeof e[1] === 'string')) {
    const out = elementOf(e[0]);
    out.value = [verdict(e[1])];
    return out;
  }
  let comment: string | undefined;
  let val: J = e;
  if (isObj(e) && 'elem' in e) {
    const el = e.elem as O;
    comment = el.comment as string | undefined;
    val = el.val;
  }
  const key = isObj(val) && 'concat' in val ? (val.concat as J[]).map(expr) : [expr(val)];
  return comment === undefined ? { key } : { key, comment };
}

function setOf(s: O, map: boolean): NftSet {
  const type = Array.isArray(s.type) ? (s.type as string[]).join(' . ') : String(s.type);
  const out: NftSet = { name: String(s.name), map, type: map ? `${type} : ${s.map}` : type, elements: ((s.elem as J[]) ?? []).map(elementOf) };
  if (Array.isArray(s.flags)) out.flags = s.flags as string[];
  if (typeof s.timeout === 'number') out.timeout = s.timeout;
  if (typeof s.comment === 'string') out.comment = s.comment;
  return out;
}

/** Every table in the JSON document, as parseListing gives them. */
export function parseJsonListing(text: string): ListedTable[] {
  const doc = JSON.parse(text) as { nftables?: J[] };
  if (!Array.isArray(doc.nftables)) throw new Error('not `nft -j` output: no "nftables" array');
  const tables = new Map<string, ListedTable>();
  const tableOf = (o: O): NftTable => {
    const id = `${o.family} ${o.table ?? o.name}`;
    let t = tables.get(id);
    if (!t) {
      t = { nftFamily: String(o.family), table: { family: o.family === 'ip6' ? 'IPv6' : 'IPv4', name: String(o.table ?? o.name), chains: [], sets: [] } };
      tables.set(id, t);
    }
    return t.table;
  };
  for (const item of doc.nftables) {
    if (!isObj(item)) continue;
    if (isObj(item.table)) {
      const t = tableOf(item.table);
      if (typeof item.table.comment === 'string') t.comment = item.table.comment;
    } else if (isObj(item.chain)) {
      const c = item.chain;
      const chain: NftChain = { name: String(c.name), rules: [] };
      if (typeof c.hook === 'string') chain.base = { type: c.type as 'filter', hook: c.hook as NftHook, priority: Number(c.prio) };
      if (chain.base && c.policy === 'drop') chain.base.policy = 'drop';
      if (typeof c.comment === 'string') chain.comment = c.comment;
      tableOf(c).chains.push(chain);
    } else if (isObj(item.set) || isObj(item.map)) {
      const map = isObj(item.map);
      const s = (map ? item.map : item.set) as O;
      tableOf(s).sets.push(setOf(s, map));
    } else if (isObj(item.rule)) {
      const r = item.rule;
      const t = tableOf(r);
      const chain = t.chains.find((c) => c.name === r.chain);
      if (!chain) continue;
      const text = kubeProxySpelling((r.expr as O[]).map(statement).join(' '));
      chain.rules.push(typeof r.comment === 'string' ? { rule: text, comment: r.comment } : { rule: text });
    }
  }
  return [...tables.values()];
}
