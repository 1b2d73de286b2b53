// kubectl's -o jsonpath=TEMPLATE and -o custom-columns=SPEC over the JSON a command prints. The template
// language is kubectl's subset: text, {.field.path}, [n], [*], [start:end], {range …}{end}, "…" literals,
// and {@} for the current object. Multiple results of one expression are joined by spaces, as kubectl does.
import { InputError } from '../core/errors.js';

type Node = { text: string } | { path: string } | { range: string; body: Node[] };

export function jsonpath(template: string, data: unknown): string {
  const nodes = parseTemplate(template);
  return render(nodes, data);
}

function parseTemplate(template: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: Array<{ range: string; body: Node[] }> = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open === -1) {
      stack.at(-1)!.push({ text: unescape(template.slice(i)) });
      break;
    }
    if (open > i) stack.at(-1)!.push({ text: unescape(template.slice(i, open)) });
    const close = findClose(template, open);
    if (close === -1) throw new InputError(`the jsonpath template ${JSON.stringify(template)} has an unclosed "{"; close every {…}.`);
    const expr = template.slice(open + 1, close).trim();
    i = close + 1;
    if (expr.startsWith('range ')) {
      const r = { range: expr.slice(6).trim(), body: [] as Node[] };
      stack.at(-1)!.push(r);
      ranges.push(r);
      stack.push(r.body);
    } else if (expr === 'end') {
      if (stack.length === 1) throw new InputError(`the jsonpath template ${JSON.stringify(template)} has {end} without {range}.`);
      stack.pop();
      ranges.pop();
    } else if (/^"(?:[^"\\]|\\.)*"$/.test(expr) || /^'[^']*'$/.test(expr)) {
      stack.at(-1)!.push({ text: expr.startsWith('"') ? (JSON.parse(expr) as string) : expr.slice(1, -1) });
    } else {
      stack.at(-1)!.push({ path: expr });
    }
  }
  if (stack.length !== 1) throw new InputError(`the jsonpath template ${JSON.stringify(template)} has {range} without {end}.`);
  return stack[0]!;
}

function findClose(s: string, open: number): number {
  let quote = '';
  for (let j = open + 1; j < s.length; j++) {
    const c = s[j]!;
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return j;
  }
  return -1;
}

const unescape = (t: string) => t.replace(/\\n/g, '\n').replace(/\\t/g, '\t');

function render(nodes: Node[], data: unknown): string {
  let out = '';
  for (const n of nodes) {
    if ('text' in n) out += n.text;
    else if ('path' in n) out += evaluate(n.path, data).map(show).join(' ');
    else for (const item of evaluate(n.range, data)) out += render(n.body, item);
  }
  return out;
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The values a path selects: `.a.b`, `.a[0]`, `.a[*].b`, `[1:3]`, `..b` (recursive), `@`. */
export function evaluate(path: string, data: unknown): unknown[] {
  const p = path.trim().replace(/^\$/, '').replace(/^@/, '');
  let current: unknown[] = [data];
  const re = /\.\.([A-Za-z0-9_-]+)|\.([A-Za-z0-9_-]+|\*)|\[\s*(\*|-?\d*\s*:\s*-?\d*|-?\d+|'[^']*'|"[^"]*")\s*\]|\.$/y;
  let at = 0;
  while (at < p.length) {
    re.lastIndex = at;
    const m = re.exec(p);
    if (!m) throw new InputError(`cannot read the jsonpath expression ${JSON.stringify(path)} at ${JSON.stringify(p.slice(at))}; use paths like .nodes[*].node.`);
    at = re.lastIndex;
    if (m[1]) current = current.flatMap((v) => descend(v, m[1]!));
    else if (m[2] === '*') current = current.flatMap((v) => (v && typeof v === 'object' ? Object.values(v) : []));
    else if (m[2]) current = current.flatMap((v) => (v && typeof v === 'object' && m[2]! in v ? [(v as Record<string, unknown>)[m[2]!]] : []));
    else if (m[3]) {
      const sel = m[3];
      current = current.flatMap((v) => {
        if (sel === '*') return Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
        if (/^['"]/.test(sel)) return v && typeof v === 'object' ? [(v as Record<string, unknown>)[sel.slice(1, -1)]].filter((x) => x !== undefined) : [];
        if (!Array.isArray(v)) return [];
        if (sel.includes(':')) {
          const [a, b] = sel.split(':').map((x) => x.trim());
          return v.slice(a ? Number(a) : 0, b ? Number(b) : undefined);
        }
        const idx = Number(sel);
        const item = v[idx < 0 ? v.length + idx : idx];
        return item === undefined ? [] : [item];
      });
    }
  }
  return current;
}

function descend(v: unknown, key: string): unknown[] {
  if (!v || typeof v !== 'object') return [];
  const out: unknown[] = [];
  if (!Array.isArray(v) && key in v) out.push((v as Record<string, unknown>)[key]);
  for (const child of Object.values(v)) out.push(...descend(child, key));
  return out;
}

/** -o custom-columns=NAME:.path,…: a header row and one row per item. */
export function customColumns(spec: string, items: unknown[]): { headers: string[]; rows: string[][] } {
  const cols = spec.split(',').map((c) => {
    const colon = c.indexOf(':');
    if (colon <= 0 || colon === c.length - 1) throw new InputError(`custom-columns "${c}" is not NAME:.path; write e.g. -o custom-columns=NODE:.node,RUNNING:.running.`);
    return { name: c.slice(0, colon), path: c.slice(colon + 1).replace(/^\{(.*)\}$/, '$1') };
  });
  return {
    headers: cols.map((c) => c.name),
    rows: items.map((item) => cols.map((c) => {
      const v = evaluate(c.path, item);
      return v.length ? v.map(show).join(',') : '<none>';
    })),
  };
}
