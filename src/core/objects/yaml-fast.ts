// A fast reader for the YAML `kubectl get -o yaml` prints (block style, as go-yaml writes it): mappings and
// sequences by indentation, plain, quoted and block-literal scalars, `{}`/`[]`, long plain scalars folded
// onto indented continuation lines. It gives the values the general parser gives (YAML 1.2 core schema) at a
// fraction of its time and memory. Anything outside that shape — comments, anchors, aliases, tags, flow
// collections, folded scalars, a key given twice, a malformed line — makes it give up on the document
// (returns undefined), and the caller reads that document with the general parser, which also words the error.

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

/** Reads one document (text between `---` lines); `firstLine` is the file line of text's first line. */
export function parseFastDocument(text: string, firstLine: number): FastDoc | undefined {
  try {
    return new Reader(text, firstLine).document();
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    throw err;
  }
}

class Reader {
  private pos = 0;
  private line: number;
  // The current line, decoded: its indent, and its text after the indent (no trailing \r).
  private indent = -1;
  private body = '';
  private commentSkipped = false;
  private readonly blockLines = new Map<object, Record<string, number>>();

  constructor(
    private readonly text: string,
    firstLine: number,
  ) {
    this.line = firstLine - 1;
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

  /** Moves to the next non-blank line; indent -1 at the end. */
  private next(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const end = t.indexOf('\n', this.pos);
      let stop = end < 0 ? t.length : end;
      const from = this.pos;
      this.line++;
      this.pos = stop + 1;
      if (stop > from && t.charCodeAt(stop - 1) === 13) stop--;
      let i = from;
      while (i < stop && t.charCodeAt(i) === 32) i++;
      if (i === stop) continue;
      const c = t.charCodeAt(i);
      if (c === 35) {
        this.commentSkipped = true; // a full-line comment
        continue;
      }
      if (c === 9) giveUp(); // a tab where indentation goes on
      this.indent = i - from;
      this.body = t.slice(i, stop);
      return;
    }
    this.indent = -1;
    this.body = '';
  }

  /** The node starting at the current line, whose lines are at `indent`. */
  private node(indent: number, onTopKey?: (key: string, seqLines?: number[]) => void): unknown {
    if (this.body === '-' || this.body.startsWith('- ')) return this.sequence(indent);
    return this.mapping(indent, onTopKey);
  }

  private sequence(indent: number, lines?: number[]): unknown[] {
    const out: unknown[] = [];
    while (this.indent === indent && (this.body === '-' || this.body.startsWith('- '))) {
      lines?.push(this.line);
      if (this.body === '-') {
        this.next();
        out.push(this.indent > indent ? this.node(this.indent) : null);
        continue;
      }
      // "- rest": rest is a scalar, or the first line of a mapping indented at indent + 2 (+ extra spaces).
      let k = 2;
      while (this.body.charCodeAt(k) === 32) k++;
      const rest = this.body.slice(k);
      const inner = indent + k;
      if (rest.startsWith('- ') || rest === '-') {
        this.indent = inner;
        this.body = rest;
        out.push(this.sequence(inner));
      } else if (keyEnd(rest) >= 0) {
        this.indent = inner;
        this.body = rest;
        out.push(this.mapping(inner));
      } else {
        out.push(this.inlineScalar(rest, indent));
      }
    }
    if (this.indent > indent) giveUp();
    return out;
  }

  private mapping(indent: number, onTopKey?: (key: string, seqLines?: number[]) => void): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let blocks: Record<string, number> | undefined;
    while (this.indent === indent) {
      const b = this.body;
      if (b === '-' || b.startsWith('- ')) giveUp();
      const end = keyEnd(b);
      if (end < 0) giveUp();
      const key = readKey(b.slice(0, end));
      if (Object.prototype.hasOwnProperty.call(out, key) || key === '__proto__') giveUp();
      const rest = end + 1 === b.length ? '' : b.charCodeAt(end + 2) === 32 ? b.slice(end + 2).trimStart() : b.slice(end + 2);
      const keyLine = this.line;
      if (rest === '') {
        this.next();
        if (this.indent > indent) {
          const lines: number[] | undefined = onTopKey && key === 'items' ? [] : undefined;
          out[key] = this.body === '-' || this.body.startsWith('- ') ? this.sequence(this.indent, lines) : this.mapping(this.indent);
          onTopKey?.(key, lines);
        } else if (this.indent === indent && (this.body === '-' || this.body.startsWith('- '))) {
          const lines: number[] | undefined = onTopKey && key === 'items' ? [] : undefined;
          out[key] = this.sequence(indent, lines);
          onTopKey?.(key, lines);
        } else {
          out[key] = null;
        }
        continue;
      }
      if (rest[0] === '|') {
        out[key] = this.blockLiteral(rest, indent);
        (blocks ??= {})[key] = keyLine;
        continue;
      }
      out[key] = this.inlineScalar(rest, indent);
    }
    if (this.indent > indent) giveUp();
    // A mapping's own block-literal keys are recorded on it; the holder of `data` gets data's (a ConfigMap).
    if (blocks) this.blockLines.set(out, blocks);
    const data = out.data;
    if (data && typeof data === 'object' && this.blockLines.has(data)) this.blockLines.set(out, this.blockLines.get(data)!);
    return out;
  }

  /** A scalar after "key: " or "- "; a plain one may go on over more-indented lines (folded with spaces). */
  private inlineScalar(rest: string, indent: number): unknown {
    const c = rest[0];
    if (c === '"') {
      const v = doubleQuoted(rest);
      this.next();
      return v;
    }
    if (c === "'") {
      const v = singleQuoted(rest);
      this.next();
      return v;
    }
    if (rest === '{}' || rest === '[]') {
      this.next();
      return rest === '{}' ? {} : [];
    }
    if (c === '{' || c === '[' || c === '>' || c === '|' || c === '&' || c === '*' || c === '!' || c === '#') giveUp();
    if (rest.includes(': ') || rest.endsWith(':') || rest.endsWith(' ')) giveUp();
    if (rest.includes(' #')) giveUp();
    let text = rest;
    this.commentSkipped = false;
    this.next();
    let continued = false;
    while (this.indent > indent) {
      if (this.commentSkipped || this.body.includes(': ') || this.body.endsWith(':') || this.body.includes(' #')) giveUp();
      text += ` ${this.body}`;
      continued = true;
      this.next();
    }
    return continued ? text : resolvePlain(text);
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
      if (this.pos >= t.length) break;
      const end = t.indexOf('\n', this.pos);
      const stop = end < 0 ? t.length : end;
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

/** Where a line's key ends (its ':'), or -1 when the line is not `key:` / `key: value`. */
function keyEnd(b: string): number {
  const c = b[0];
  if (c === '"' || c === "'") {
    const close = c === '"' ? closingDouble(b) : closingSingle(b);
    if (close < 0) return -1;
    return b[close + 1] === ':' && (close + 2 === b.length || b[close + 2] === ' ') ? close + 1 : -1;
  }
  if (c === undefined || '-?:,[]{}#&*!|>%@`'.includes(c)) return -1;
  const i = b.indexOf(': ');
  const end = i >= 0 ? i : b.endsWith(':') ? b.length - 1 : -1;
  if (end <= 0) return -1;
  const key = b.slice(0, end);
  if (key.includes(' #') || key.endsWith(' ')) return -1;
  return end;
}

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
  if (INT.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT.test(s)) return Number(s);
  return s;
}

/** Every document of a `---` stream by the fast reader, or undefined when any one needs the general parser. */
export function parseFastStream(text: string): FastDoc[] | undefined {
  if (/^(?:%|---[ \t]*\S)/m.test(text)) return undefined;
  const out: FastDoc[] = [];
  const sep = /^---[ \t]*\r?$/gm;
  let start = 0;
  let line = 1;
  const countLines = (a: number, b: number) => {
    let n = 0;
    for (let i = text.indexOf('\n', a); i >= 0 && i < b; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };
  const take = (end: number): boolean => {
    const doc = parseFastDocument(text.slice(start, end), line);
    if (!doc) return false;
    if (doc.value !== null || end > start) out.push(doc);
    return true;
  };
  for (let m = sep.exec(text); m; m = sep.exec(text)) {
    if (!take(m.index)) return undefined;
    line += countLines(start, m.index + m[0].length) + 1;
    start = m.index + m[0].length + 1;
  }
  if (start < text.length && !take(text.length)) return undefined;
  return out;
}
