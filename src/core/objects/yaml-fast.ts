// A fast reader for the YAML `kubectl get -o yaml` prints (block style, as go-yaml writes it): mappings and
// sequences by indentation, plain, quoted and block-literal scalars, `{}`/`[]`, long plain scalars folded
// onto indented continuation lines. It gives the values the general parser gives (YAML 1.2 core schema) at a
// fraction of its time and memory. Anything outside that shape — comments, anchors, aliases, tags, flow
// collections, folded scalars, a key given twice, a malformed line — makes it give up on the document
// (returns undefined), and the caller reads that document with the general parser, which also words the error.

import { newTables, type FastTables, type Interner, type Shape, type Shapes } from './yaml-fast-tables.js';

export interface FastDoc {
  value: unknown;
  /** Line (1-based) of the document's first content. */
  line: number;
  /** For a top-level `items:` sequence: the line of each item. */
  itemLines?: number[];
  /** Block-literal lines of `data` keys, for the mapping holding `data` (a ConfigMap's), by object. */
  blockLines: Map<object, Record<string, number>>;
}

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

/** Values longer than this are mostly unique (names, addresses): cut, not looked up. */
const INTERN_VALUE_MAX = 24;

// Lines are read as offsets into the text (no string per line): [bs, be) is the current line's text after
// its indent, without a trailing \r.
class Reader {
  private pos: number;
  /** Where the "---" line that ended the document starts, and where the next document starts (-1: none). */
  markerStart = -1;
  marker = -1;
  line: number;
  private indent = -1;
  private bs = 0;
  private be = 0;
  private commentSkipped = false;
  private readonly blockLines = new Map<object, Record<string, number>>();
  private readonly keys: Interner;
  private readonly values: Interner;
  private readonly shapes: Shapes;
  private readonly root: Shape;
  private readonly keyStack: string[] = [];
  private readonly valueStack: unknown[] = [];
  private sp = 0;

  constructor(
    private readonly text: string,
    from: number,
    private readonly end: number,
    firstLine: number,
    tables: FastTables,
  ) {
    this.pos = from;
    this.line = firstLine - 1;
    this.keys = tables.keys;
    this.values = tables.values;
    this.shapes = tables.shapes;
    this.root = tables.shapes.root;
  }

  document(): FastDoc | undefined {
    this.next();
    if (this.indent < 0) return { value: null, line: this.line, blockLines: this.blockLines };
    const line = this.line;
    if (this.indent !== 0) giveUp();
    let itemLines: number[] | undefined;
    const value = this.node(0, (key, seqLines) => {
      if (key === 'items') itemLines = seqLines;
    });
    if (this.indent >= 0) giveUp(); // text left over at a lesser indent
    return { value, line, itemLines, blockLines: this.blockLines };
  }

  /** The current line's text after its indent (for the rarer paths). */
  private get body(): string {
    return this.text.slice(this.bs, this.be);
  }

  /** The current line is a sequence entry: `-` alone or `- …`. */
  private dash(): boolean {
    const t = this.text;
    return t.charCodeAt(this.bs) === 45 && (this.be - this.bs === 1 || t.charCodeAt(this.bs + 1) === 32);
  }

  /** Moves to the next non-blank line; indent -1 at the end. */
  private next(): void {
    const t = this.text;
    const n = this.end;
    while (this.pos < n) {
      const end = t.indexOf('\n', this.pos);
      let stop = end < 0 || end > n ? n : end;
      const from = this.pos;
      this.line++;
      this.pos = stop + 1;
      if (stop > from && t.charCodeAt(stop - 1) === 13) stop--;
      let i = from;
      while (i < stop && t.charCodeAt(i) === 32) i++;
      if (i === stop) continue;
      const c = t.charCodeAt(i);
      if (i === from && (c === 45 || c === 37) && this.endsDocument(from, stop)) return;
      if (c === 35) {
        this.commentSkipped = true; // a full-line comment
        continue;
      }
      if (c === 9) giveUp(); // a tab where indentation goes on
      this.indent = i - from;
      this.bs = i;
      this.be = stop;
      return;
    }
    this.indent = -1;
    this.bs = this.be = n;
  }

  /**
   * A line at column 0 starting with "-" or "%": "---" and blanks ends the document (indent -1, and `marker`
   * says where the next one starts); a directive, or "---" with text after it, is for the general parser.
   */
  private endsDocument(from: number, stop: number): boolean {
    const t = this.text;
    if (t.charCodeAt(from) === 37) giveUp();
    if (t.charCodeAt(from + 1) !== 45 || t.charCodeAt(from + 2) !== 45) return false;
    let e = from + 3;
    while (e < stop && (t.charCodeAt(e) === 32 || t.charCodeAt(e) === 9)) e++;
    if (e !== stop) giveUp();
    this.markerStart = from;
    this.marker = this.pos;
    this.indent = -1;
    this.bs = this.be = stop;
    return true;
  }

  /** The node starting at the current line, whose lines are at `indent`. */
  private node(indent: number, onTopKey?: (key: string, seqLines?: number[]) => void): unknown {
    if (this.dash()) return this.sequence(indent);
    return this.mapping(indent, onTopKey);
  }

  private sequence(indent: number, lines?: number[]): unknown[] {
    const t = this.text;
    const out: unknown[] = [];
    while (this.indent === indent && this.dash()) {
      lines?.push(this.line);
      if (this.be - this.bs === 1) {
        this.next();
        out.push(this.indent > indent ? this.node(this.indent) : null);
        continue;
      }
      // "- rest": rest is a scalar, or the first line of a mapping indented at indent + 2 (+ extra spaces).
      let r = this.bs + 2;
      while (r < this.be && t.charCodeAt(r) === 32) r++;
      if (r === this.be) giveUp(); // "- " and spaces only
      const inner = indent + (r - this.bs);
      const dashed = t.charCodeAt(r) === 45 && (r + 1 === this.be || t.charCodeAt(r + 1) === 32);
      if (dashed) {
        this.indent = inner;
        this.bs = r;
        out.push(this.sequence(inner));
      } else if (keyEnd(t, r, this.be) >= 0) {
        this.indent = inner;
        this.bs = r;
        out.push(this.mapping(inner));
      } else {
        out.push(this.inlineScalar(r, indent));
      }
    }
    if (this.indent > indent) giveUp();
    return out;
  }

  private mapping(indent: number, onTopKey?: (key: string, seqLines?: number[]) => void): Record<string, unknown> {
    const t = this.text;
    // Keys and values wait on the reader's stacks (nested mappings use the slots above) until the mapping
    // ends; then one object is made at once, for a shape met before by its compiled literal.
    const base = this.sp;
    let shape: Shape | undefined = this.root;
    let blocks: Record<string, number> | undefined;
    while (this.indent === indent) {
      if (this.dash()) giveUp();
      const bs = this.bs;
      const be = this.be;
      // Most mappings repeat the keys of the last one of their shape: try that (plain) key first, in place.
      const hot: Shape | undefined = shape?.hot;
      let key: string;
      let end: number;
      const hotEnd = hot ? bs + hot.key.length : -1;
      if (hot && t.charCodeAt(hotEnd) === 58 && (hotEnd + 1 === be || t.charCodeAt(hotEnd + 1) === 32) && t.startsWith(hot.key, bs)) {
        key = hot.key;
        end = hotEnd;
        shape = hot;
      } else {
        end = keyEnd(t, bs, be);
        if (end < 0) giveUp();
        const c = t.charCodeAt(bs);
        const quoted = c === 34 || c === 39;
        key = quoted ? readKey(t.slice(bs, end)) : this.keys.get(t, bs, end);
        if (key === '__proto__') giveUp();
        const from: Shape | undefined = shape;
        shape = from && this.shapes.step(from, key);
        if (from && shape && !quoted) from.hot = shape;
      }
      const at = this.sp++;
      this.keyStack[at] = key;
      this.valueStack[at] = null;
      // The value starts after ": " and any further blanks.
      let r = end + 2;
      while (r < be && (t.charCodeAt(r) === 32 || t.charCodeAt(r) === 9)) r++;
      const keyLine = this.line;
      let value: unknown;
      if (r >= be) {
        this.next();
        if (this.indent > indent) {
          const lines: number[] | undefined = onTopKey && key === 'items' ? [] : undefined;
          value = this.dash() ? this.sequence(this.indent, lines) : this.mapping(this.indent);
          onTopKey?.(key, lines);
        } else if (this.indent === indent && this.dash()) {
          const lines: number[] | undefined = onTopKey && key === 'items' ? [] : undefined;
          value = this.sequence(indent, lines);
          onTopKey?.(key, lines);
        } else {
          value = null;
        }
      } else if (t.charCodeAt(r) === 124) {
        value = this.blockLiteral(t.slice(r, be), indent);
        (blocks ??= {})[key] = keyLine;
      } else {
        value = this.inlineScalar(r, indent);
      }
      this.valueStack[at] = value;
    }
    if (this.indent > indent) giveUp();
    const out = this.make(shape, base);
    this.sp = base;
    // A mapping's own block-literal keys are recorded on it; the holder of `data` gets data's (a ConfigMap).
    if (blocks) this.blockLines.set(out, blocks);
    const data = out.data;
    if (data && typeof data === 'object' && this.blockLines.has(data)) this.blockLines.set(out, this.blockLines.get(data)!);
    return out;
  }

  /**
   * The object of the keys and values on the stacks from `base`; a key given twice sends the text on. A key
   * sequence is compiled only on its second use, after its first was made key by key here without a repeat.
   */
  private make(shape: Shape | undefined, base: number): Record<string, unknown> {
    const build = shape && this.shapes.literal(shape);
    if (build) return build(this.valueStack, base);
    const out: Record<string, unknown> = {};
    for (let i = base; i < this.sp; i++) {
      const key = this.keyStack[i]!;
      if (Object.prototype.hasOwnProperty.call(out, key)) giveUp();
      out[key] = this.valueStack[i];
    }
    return out;
  }

  /** A scalar from offset r to the line's end, after "key: " or "- "; a plain one may go on over more-indented
   * lines (folded with spaces). */
  private inlineScalar(r: number, indent: number): unknown {
    const t = this.text;
    const be = this.be;
    const c = t.charCodeAt(r);
    if (c === 34 || c === 39) {
      // Quoted: when the only quote is the closing one at the line's end and nothing needs unescaping, the
      // value is the text between; otherwise the full rules below.
      let i = r + 1;
      while (i < be) {
        const d = t.charCodeAt(i);
        if (d === c || d === 92 || d < 32) break;
        i++;
      }
      const plain = i === be - 1 && t.charCodeAt(i) === c;
      const v = plain ? (i - r - 1 <= INTERN_VALUE_MAX ? this.values.get(t, r + 1, i) : t.slice(r + 1, i)) : c === 34 ? doubleQuoted(t.slice(r, be)) : singleQuoted(t.slice(r, be));
      this.next();
      return v;
    }
    if (be - r === 2 && (c === 123 || c === 91) && t.charCodeAt(r + 1) === c + 2) {
      this.next();
      return c === 123 ? {} : [];
    }
    // { [ > | & * ! # and a lone quote handled above: flow collections, folded scalars, anchors, tags, comments.
    if (c === 123 || c === 91 || c === 62 || c === 124 || c === 38 || c === 42 || c === 33 || c === 35) giveUp();
    // A plain scalar holds no ": " or " #" and does not end in ":" or a blank. (The same pass hashes it.)
    let h = be - r;
    for (let i = r; i < be; i++) {
      const d = t.charCodeAt(i);
      if (d === 58 && (i + 1 === be || t.charCodeAt(i + 1) === 32)) giveUp();
      if (d === 32 && (i + 1 === be || t.charCodeAt(i + 1) === 35)) giveUp();
      h = (Math.imul(h, 31) + d) | 0;
    }
    if (t.charCodeAt(be - 1) === 9) giveUp();
    const from = r;
    this.commentSkipped = false;
    this.next();
    if (this.indent <= indent) return resolvePlainAt(t, from, be, h, this.values);
    let text = t.slice(from, be);
    while (this.indent > indent) {
      const body = this.body;
      if (this.commentSkipped || body.includes(': ') || body.endsWith(':') || body.includes(' #')) giveUp();
      text += ` ${body}`;
      this.next();
    }
    return text;
  }

  /** `|`, `|-`, `|+`, with an optional indentation indicator; lines more indented than the key's. */
  private blockLiteral(header: string, indent: number): string {
    if (!/^\|(?:[1-9]?[-+]?|[-+][1-9])$/.test(header)) giveUp();
    const digit = /[1-9]/.exec(header)?.[0];
    const chomp = header.includes('-') ? '-' : header.includes('+') ? '+' : '';
    const t = this.text;
    const lines: string[] = [];
    let contentIndent = digit ? indent + Number(digit) : -1;
    // Read raw lines (blank ones included) until one with text is indented at most `indent`.
    for (;;) {
      if (this.pos >= this.end) break;
      const found = t.indexOf('\n', this.pos);
      const end = found >= this.end ? -1 : found;
      const stop = end < 0 ? this.end : end;
      let raw = t.slice(this.pos, stop);
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      let i = 0;
      while (raw.charCodeAt(i) === 32) i++;
      const blank = i === raw.length;
      if (!blank) {
        if (contentIndent < 0) {
          if (i <= indent) break;
          contentIndent = i;
        }
        if (i < contentIndent) {
          if (i > indent) giveUp(); // less indented than the block's first line, but inside it
          break;
        }
        if (raw.charCodeAt(i) === 9) giveUp();
      }
      lines.push(blank ? (contentIndent >= 0 && raw.length > contentIndent ? raw.slice(contentIndent) : '') : raw.slice(contentIndent));
      this.line++;
      this.pos = stop + 1;
      if (end < 0) break;
    }
    // Trailing blank lines belong to chomping.
    let last = lines.length;
    while (last > 0 && lines[last - 1] === '') last--;
    const content = lines.slice(0, last).join('\n');
    const trailing = lines.length - last;
    this.next();
    if (last === 0) return chomp === '+' ? '\n'.repeat(trailing) : '';
    if (chomp === '-') return content;
    if (chomp === '+') return `${content}\n${'\n'.repeat(trailing)}`;
    return `${content}\n`;
  }
}

/** A plain scalar's value: most start with a letter other than t/f/n and are strings, decided in one look. */
function resolvePlainAt(t: string, from: number, to: number, hash: number, values: Interner): unknown {
  const c = t.charCodeAt(from);
  const n = to - from;
  if (c === 116 && n === 4 && t.startsWith('true', from)) return true;
  if (c === 102 && n === 5 && t.startsWith('false', from)) return false;
  const s = n <= INTERN_VALUE_MAX ? values.get(t, from, to, hash) : t.slice(from, to);
  if ((c >= 97 && c <= 122 && c !== 116 && c !== 102 && c !== 110) || (c >= 65 && c <= 90 && c !== 84 && c !== 70 && c !== 78)) return s;
  return resolvePlain(s);
}

/** Where the key of the line t[from, to) ends (the offset of its ':'), or -1 when it is not `key:` / `key: value`. */
function keyEnd(t: string, from: number, to: number): number {
  const c = t.charCodeAt(from);
  if (c === 34 || c === 39) {
    const b = t.slice(from, to);
    const close = c === 34 ? closingDouble(b) : closingSingle(b);
    if (close < 0) return -1;
    return b[close + 1] === ':' && (close + 2 === b.length || b[close + 2] === ' ') ? from + close + 1 : -1;
  }
  // - ? : , [ ] { } # & * ! | > % @ ` cannot start a plain key.
  if (from >= to || NOT_KEY_START.has(c)) return -1;
  // The first ':' followed by a blank or the line's end; no " #" before it, no blank just before it.
  for (let i = from + 1; i < to; i++) {
    const d = t.charCodeAt(i);
    if (d === 58) {
      if (i + 1 === to || t.charCodeAt(i + 1) === 32) return t.charCodeAt(i - 1) === 32 ? -1 : i;
    } else if (d === 32 && t.charCodeAt(i + 1) === 35) return -1;
  }
  return -1;
}

const NOT_KEY_START = new Set([...'-?:,[]{}#&*!|>%@`'].map((ch) => ch.charCodeAt(0)));

function readKey(k: string): string {
  if (k[0] === '"') return doubleQuoted(k);
  if (k[0] === "'") return singleQuoted(k);
  return k;
}

function closingDouble(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function closingSingle(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "'") {
      if (s[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

function doubleQuoted(s: string): string {
  const close = closingDouble(s);
  if (close !== s.length - 1) giveUp(); // unclosed on this line, or text after it
  // JSON's escapes are YAML's too; YAML's others become JSON's first.
  const json = /\\[^"\\/bfnrtu]|\t/.test(s) ? s.replace(/\\(x[0-9a-fA-F]{2}|U[0-9a-fA-F]{8}|[0aevN_LP \t])|\\(.)|\t/g, yamlEscape) : s;
  try {
    return JSON.parse(json) as string;
  } catch {
    return giveUp();
  }
}

const YAML_ESCAPES: Record<string, string> = { '0': '\0', a: '\x07', e: '\x1b', v: '\x0b', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029', ' ': ' ', '\t': '\t' };

function yamlEscape(whole: string, yaml: string | undefined, other: string | undefined): string {
  if (whole === '\t') return '\\t';
  if (other !== undefined) return whole; // JSON's own (\n, \", \u…); JSON.parse rejects the rest
  const ch = yaml![0] === 'x' || yaml![0] === 'U' ? String.fromCodePoint(parseInt(yaml!.slice(1), 16)) : YAML_ESCAPES[yaml!]!;
  return JSON.stringify(ch).slice(1, -1);
}

function singleQuoted(s: string): string {
  const close = closingSingle(s);
  if (close !== s.length - 1) giveUp();
  return s.slice(1, -1).replace(/''/g, "'");
}

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** YAML 1.2 core schema, as the general parser resolves plain scalars. */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // Most values start with a letter and are strings: decide those in one look.
  if ((c >= 97 && c <= 122 && c !== 116 && c !== 102 && c !== 110) || (c >= 65 && c <= 90 && c !== 84 && c !== 70 && c !== 78)) return s;
  switch (s) {
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
    case '.inf':
    case '.Inf':
    case '.INF':
    case '+.inf':
    case '+.Inf':
    case '+.INF':
      return Infinity;
    case '-.inf':
    case '-.Inf':
    case '-.INF':
      return -Infinity;
    case '.nan':
    case '.NaN':
    case '.NAN':
      return NaN;
  }
  // Past the keywords, only a digit, sign or dot can start a number.
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) return s;
  if (INT.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT.test(s)) return Number(s);
  return s;
}

/** Every document of a `---` stream by the fast reader, or undefined when any one needs the general parser. */
export function parseFastStream(text: string): FastDoc[] | undefined {
  const tables = newTables();
  const out: FastDoc[] = [];
  let start = 0;
  let line = 1;
  for (;;) {
    // Each document is read in place; the reader stops at a "---" line and says where the next one starts.
    const reader = new Reader(text, start, text.length, line, tables);
    let doc: FastDoc | undefined;
    try {
      doc = reader.document();
    } catch (err) {
      if (err instanceof GiveUp) return undefined;
      throw err;
    }
    if (!doc) return undefined;
    const end = reader.marker < 0 ? text.length : reader.markerStart;
    if (doc.value !== null || end > start) out.push(doc);
    if (reader.marker < 0) return out;
    start = reader.marker;
    line = reader.line + 1;
  }
}
