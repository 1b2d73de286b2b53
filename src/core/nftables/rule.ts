// The nft rule language as kube-proxy writes it (and as `nft list` prints it back), parsed into matches
// and one final statement, so the tracer can evaluate rules instead of pattern-matching their text.
// Anything outside kube-proxy's vocabulary parses to an `unknown` item: the tracer then says so.

export type Selector =
  | { kind: 'addr'; field: 'saddr' | 'daddr'; v6: boolean }
  | { kind: 'l4proto' }
  | { kind: 'port'; field: 'dport' | 'sport'; proto?: string }
  | { kind: 'fib'; field: 'saddr' | 'daddr' }
  | { kind: 'ctstate' }
  | { kind: 'ctstatus' }
  | { kind: 'iface'; field: 'iif' | 'iifname' | 'oif' | 'oifname' }
  | { kind: 'numgen'; mod: number };

/** A literal, an anonymous set `{ a , b }`, or a named set `@name`. */
export type Operand = { kind: 'literal'; value: string } | { kind: 'anon'; elements: string[][] } | { kind: 'named'; name: string };

export type Match =
  | { kind: 'compare'; selectors: Selector[]; negate: boolean; operand: Operand }
  | { kind: 'mark'; mask: string; op: '==' | '!='; value: string }
  | { kind: 'unknown'; text: string };

export type VmapTarget = { kind: 'named'; name: string } | { kind: 'anon'; entries: Array<{ key: string[]; verdict: string }> };

export type Statement =
  | { kind: 'verdict'; verdict: 'accept' | 'drop' | 'reject' | 'return' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'vmap'; selectors: Selector[]; target: VmapTarget }
  | { kind: 'dnat'; to: string }
  | { kind: 'dnat-map'; selectors: Selector[]; entries: Array<{ key: string[]; to: string }> }
  | { kind: 'masquerade' }
  | { kind: 'mark-set'; op: 'or' | 'xor' | 'set'; value: string }
  | { kind: 'update'; set: string; selectors: Selector[] }
  | { kind: 'none' };

export interface ParsedRule {
  matches: Match[];
  /** Statements that do not end evaluation (mark set, update, counter), then at most one that does. */
  statements: Statement[];
}

/** Splits rule text into words, keeping `{ … }` groups and quoted strings as single tokens. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      i++;
      continue;
    }
    if (ch === '{') {
      let depth = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}' && --depth === 0) break;
      }
      out.push(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out.push(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !' \t\n{'.includes(text[j]!)) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** `{ a . b , c . d }` or `{ 0 : goto x , 1 : goto y }` -> entries of [key words, value words]. */
export function braceEntries(group: string): Array<{ key: string[]; value: string[] }> {
  const inner = group.trim().replace(/^\{/, '').replace(/\}$/, '').trim();
  if (inner === '') return [];
  return inner.split(',').map((part) => {
    const [k, v] = part.split(' : ');
    return {
      key: k!
        .trim()
        .split(/\s+\.\s+/)
        .map((s) => s.trim()),
      value: v === undefined ? [] : v.trim().split(/\s+\.\s+/),
    };
  });
}

const PROTOS = new Set(['tcp', 'udp', 'sctp']);

class Cursor {
  i = 0;
  constructor(readonly t: string[]) {}
  peek(o = 0): string | undefined {
    return this.t[this.i + o];
  }
  next(): string {
    return this.t[this.i++]!;
  }
  done(): boolean {
    return this.i >= this.t.length;
  }
}

function parseSelector(c: Cursor): Selector | null {
  const a = c.peek();
  const b = c.peek(1);
  if ((a === 'ip' || a === 'ip6') && (b === 'saddr' || b === 'daddr')) {
    c.i += 2;
    return { kind: 'addr', field: b, v6: a === 'ip6' };
  }
  if (a === 'meta' && b === 'l4proto') {
    c.i += 2;
    return { kind: 'l4proto' };
  }
  if (a === 'th' && (b === 'dport' || b === 'sport')) {
    c.i += 2;
    return { kind: 'port', field: b };
  }
  if (a !== undefined && PROTOS.has(a) && (b === 'dport' || b === 'sport')) {
    c.i += 2;
    return { kind: 'port', field: b, proto: a };
  }
  if (a === 'fib' && (b === 'saddr' || b === 'daddr') && c.peek(2) === 'type') {
    c.i += 3;
    return { kind: 'fib', field: b };
  }
  if (a === 'ct' && b === 'state') {
    c.i += 2;
    return { kind: 'ctstate' };
  }
  if (a === 'ct' && b === 'status') {
    c.i += 2;
    return { kind: 'ctstatus' };
  }
  if (a === 'iif' || a === 'iifname' || a === 'oif' || a === 'oifname') {
    c.i += 1;
    return { kind: 'iface', field: a };
  }
  if (a === 'numgen' && b === 'random' && c.peek(2) === 'mod') {
    const mod = Number(c.peek(3));
    c.i += 4;
    return { kind: 'numgen', mod };
  }
  return null;
}

function parseSelectors(c: Cursor): Selector[] | null {
  const start = c.i;
  const first = parseSelector(c);
  if (!first) return null;
  const out = [first];
  while (c.peek() === '.') {
    c.i++;
    const s = parseSelector(c);
    if (!s) {
      c.i = start;
      return null;
    }
    out.push(s);
  }
  return out;
}

function operandOf(tok: string): Operand {
  if (tok.startsWith('@')) return { kind: 'named', name: tok.slice(1) };
  if (tok.startsWith('{')) return { kind: 'anon', elements: braceEntries(tok).map((e) => e.key) };
  return { kind: 'literal', value: tok.replace(/^"|"$/g, '') };
}

/** Parses one rule's statements (its comment already removed). */
export function parseRule(text: string): ParsedRule {
  const c = new Cursor(tokenize(text));
  const out: ParsedRule = { matches: [], statements: [] };
  while (!c.done()) {
    const w = c.peek()!;
    // statements
    if (w === 'accept' || w === 'drop' || w === 'reject' || w === 'return') {
      c.next();
      out.statements.push({ kind: 'verdict', verdict: w });
      continue;
    }
    if (w === 'jump' || w === 'goto') {
      c.next();
      out.statements.push({ kind: w, chain: c.next() });
      continue;
    }
    if (w === 'counter') {
      c.next();
      while (c.peek() === 'packets' || c.peek() === 'bytes') c.i += 2;
      continue;
    }
    if (w === 'masquerade') {
      c.next();
      while (c.peek() === 'fully-random' || c.peek() === 'random' || c.peek() === 'persistent') c.next();
      out.statements.push({ kind: 'masquerade' });
      continue;
    }
    if (w === 'dnat') {
      c.next();
      if (c.peek() === 'ip' || c.peek() === 'ip6') c.next();
      // `dnat ip addr . port to … map { … }`: the map gives address and port together
      if (c.peek() === 'addr' && c.peek(1) === '.' && c.peek(2) === 'port') c.i += 3;
      if (c.peek() === 'to') c.next();
      const sels = parseSelectors(c);
      if (sels && c.peek() === 'map') {
        c.next();
        const entries = braceEntries(c.next()).map((e) => ({ key: e.key, to: e.value.join(' . ') }));
        out.statements.push({ kind: 'dnat-map', selectors: sels, entries });
      } else {
        out.statements.push({ kind: 'dnat', to: c.next() });
      }
      continue;
    }
    if (w === 'update' || w === 'add') {
      c.next();
      const set = c.next().replace(/^@/, '');
      const group = c.next();
      const inner = new Cursor(tokenize(group.slice(1, -1)));
      const sels = parseSelectors(inner) ?? [];
      out.statements.push({ kind: 'update', set, selectors: sels });
      continue;
    }
    if (w === 'mark' || (w === 'meta' && c.peek(1) === 'mark')) {
      if (w === 'meta') c.next();
      c.next();
      if (c.peek() === 'set') {
        c.next();
        // "mark set mark or 0x4000" | "mark set 0x4000"
        if (c.peek() === 'mark' || c.peek() === 'meta') {
          if (c.peek() === 'meta') c.next();
          c.next();
          const op = c.next() as 'or' | 'xor';
          out.statements.push({ kind: 'mark-set', op, value: c.next() });
        } else {
          out.statements.push({ kind: 'mark-set', op: 'set', value: c.next() });
        }
        continue;
      }
      if (c.peek() === 'and') {
        c.next();
        const mask = c.next();
        let op: '==' | '!=' = '==';
        if (c.peek() === '==' || c.peek() === '!=') op = c.next() as '==' | '!=';
        out.matches.push({ kind: 'mark', mask, op, value: c.next() });
        continue;
      }
      out.matches.push({ kind: 'unknown', text: `mark ${c.next() ?? ''}` });
      continue;
    }
    if (w === 'meta' && c.peek(1) === 'l4proto' && c.peek(2) !== '.' && c.peek(2) !== undefined && PROTOS.has(c.peek(2)!)) {
      c.i += 2;
      out.matches.push({ kind: 'compare', selectors: [{ kind: 'l4proto' }], negate: false, operand: { kind: 'literal', value: c.next() } });
      continue;
    }
    // selector expressions: matches, set lookups, verdict maps
    const sels = parseSelectors(c);
    if (sels) {
      if (c.peek() === 'vmap') {
        c.next();
        const t = c.next();
        const target: VmapTarget = t.startsWith('@')
          ? { kind: 'named', name: t.slice(1) }
          : { kind: 'anon', entries: braceEntries(t).map((e) => ({ key: e.key, verdict: e.value.join(' ') })) };
        out.statements.push({ kind: 'vmap', selectors: sels, target });
        continue;
      }
      let negate = false;
      if (c.peek() === '!=') {
        negate = true;
        c.next();
      } else if (c.peek() === '==') c.next();
      const tok = c.next();
      if (tok === undefined) {
        out.matches.push({ kind: 'unknown', text });
        break;
      }
      out.matches.push({ kind: 'compare', selectors: sels, negate, operand: operandOf(tok) });
      continue;
    }
    // not kube-proxy's vocabulary: keep the rest as one unknown item
    out.matches.push({ kind: 'unknown', text: c.t.slice(c.i).join(' ') });
    break;
  }
  return out;
}
