// Edits kube-proxy's config.conf in place: only `mode` (and `ipvs.scheduler`) change; every other byte —
// comments, key order, quoting, indentation, CRLF line ends, a config.conf written as JSON — stays as it was.
// The yaml Document API finds where each value sits (its source range); the text is spliced there, never
// re-serialised. Pure: text in, text out.
import { isMap, isScalar, parseDocument, Scalar, type Pair, type YAMLMap } from 'yaml';
import { InputError } from '../errors.js';

export interface ConfigEdit {
  mode: string;
  /** ipvs.scheduler to write, when given. */
  scheduler?: string;
}

export interface EditResult {
  text: string;
  /** What changed, in words ("mode: iptables -> ipvs"). */
  changes: string[];
}

interface Splice {
  at: number;
  end: number;
  text: string;
}

/** The new text of config.conf with `edit` applied; `source` names it in errors ("ConfigMap kube-system/kube-proxy config.conf"). */
export function editProxyConfig(text: string, edit: ConfigEdit, source: string): EditResult {
  const doc = parseDocument(text, { keepSourceTokens: true, uniqueKeys: false });
  if (doc.errors.length) throw new InputError(`${source} is not valid YAML (${doc.errors[0].message.split('\n')[0]}); fix it before switching modes.`);
  const root = doc.contents;
  if (!isMap(root)) throw new InputError(`${source} does not hold a KubeProxyConfiguration mapping; fix it before switching modes.`);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const splices: Splice[] = [];
  const changes: string[] = [];
  const modeBefore = setScalar(text, root, 'mode', edit.mode, eol, splices);
  if (modeBefore !== edit.mode) changes.push(`mode: ${JSON.stringify(modeBefore ?? '')} -> ${JSON.stringify(edit.mode)}`);
  if (edit.scheduler !== undefined) {
    const ipvs = lastPair(root, 'ipvs');
    if (ipvs && isMap(ipvs.value)) {
      const before = setScalar(text, ipvs.value, 'scheduler', edit.scheduler, eol, splices);
      if (before !== edit.scheduler) changes.push(`ipvs.scheduler: ${JSON.stringify(before ?? '')} -> ${JSON.stringify(edit.scheduler)}`);
    } else if (ipvs && !(isScalar(ipvs.value) && (ipvs.value.value === null || ipvs.value.value === undefined))) {
      throw new InputError(`${source}: ipvs is not a mapping; fix it before switching modes.`);
    } else {
      // No ipvs section (or `ipvs:` with nothing): add one holding only the scheduler.
      if (ipvs) splices.push(removePair(text, ipvs));
      splices.push(insertPair(text, root, 'ipvs', { scheduler: edit.scheduler }, eol));
      changes.push(`ipvs.scheduler: "" -> ${JSON.stringify(edit.scheduler)}`);
    }
  }
  splices.sort((a, b) => b.at - a.at);
  let out = text;
  for (const s of splices) out = out.slice(0, s.at) + s.text + out.slice(s.end);
  return { text: out, changes };
}

function lastPair(map: YAMLMap, key: string): Pair | undefined {
  // kube-proxy's lenient decoding keeps the last of duplicate keys: so do we.
  const pairs = map.items.filter((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
  return pairs[pairs.length - 1] as Pair | undefined;
}

/** Replaces the scalar at `key` keeping its quoting style, or adds the key; returns the old value. */
function setScalar(text: string, map: YAMLMap, key: string, value: string, eol: string, splices: Splice[]): string | undefined {
  const pair = lastPair(map, key);
  if (!pair) {
    splices.push(insertPair(text, map, key, value, eol));
    return undefined;
  }
  const node = pair.value;
  if (isScalar(node) && node.range) {
    const old = node.value === null || node.value === undefined ? '' : String(node.value);
    if (old === value) return old;
    const empty = node.range[0] === node.range[1];
    splices.push({ at: node.range[0], end: node.range[1], text: `${empty && text[node.range[0] - 1] === ':' ? ' ' : ''}${scalarText(value, empty ? undefined : node.type, isFlow(map))}` });
    return old;
  }
  if (node === null || node === undefined || (isScalar(node) && !node.range)) {
    // `mode:` with no value: write it after the colon.
    const keyNode = pair.key as Scalar;
    const end = keyNode.range![1];
    const colon = text.indexOf(':', end);
    splices.push({ at: colon + 1, end: colon + 1, text: ` ${scalarText(value, undefined, isFlow(map))}` });
    return '';
  }
  throw new InputError(`${key} is not a plain value in kube-proxy's configuration; fix it before switching modes.`);
}

function isFlow(map: YAMLMap): boolean {
  return map.flow === true;
}

function scalarText(value: string, type: Scalar['type'] | undefined, flow: boolean): string {
  if (type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (type === Scalar.QUOTE_DOUBLE || flow || !/^[a-z][a-z0-9]*$/.test(value)) return JSON.stringify(value);
  return value;
}

/** Adds `key: value` to a map: a new line after its last entry at the same indentation, or `, "key": value` in a flow map. */
function insertPair(text: string, map: YAMLMap, key: string, value: string | Record<string, string>, eol: string): Splice {
  if (isFlow(map)) {
    const close = map.range![1] - 1;
    const brace = text.lastIndexOf('}', close);
    const body = typeof value === 'string' ? JSON.stringify(value) : `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
    const empty = map.items.length === 0;
    // Keep the layout of the entries: one per line when they are.
    const last = map.items[map.items.length - 1];
    const lastEnd = last ? valueEnd(last) : brace;
    const between = last ? text.slice(lastEnd, brace) : '';
    const firstStart = map.items[0] ? (map.items[0].key as Scalar).range![0] : brace;
    const lineStart = text.lastIndexOf('\n', firstStart) + 1;
    const multiLine = !empty && text.slice(map.range![0], firstStart).includes('\n');
    const indent = multiLine ? text.slice(lineStart, firstStart) : '';
    const entry = `${JSON.stringify(key)}: ${body}`;
    if (empty) return { at: brace, end: brace, text: entry };
    const trailingComma = /^\s*,/.test(between);
    const at = trailingComma ? lastEnd + between.indexOf(',') + 1 : lastEnd;
    return { at, end: at, text: `${trailingComma ? '' : ','}${multiLine ? `${eol}${indent}` : ' '}${entry}${trailingComma ? ',' : ''}` };
  }
  const first = map.items[0];
  let indent = '';
  if (first) {
    const start = (first.key as Scalar).range![0];
    indent = text.slice(text.lastIndexOf('\n', start - 1) + 1, start);
    if (!/^ *$/.test(indent)) indent = ' '.repeat(indent.length);
  }
  const childIndent = `${indent}${detectStep(text)}`;
  const body = typeof value === 'string' ? ` ${scalarText(value, undefined, false)}` : Object.entries(value).map(([k, v]) => `${eol}${childIndent}${k}: ${scalarText(v, undefined, false)}`).join('');
  const line = `${indent}${key}:${body}`;
  const last = map.items[map.items.length - 1];
  if (!last) return { at: text.length, end: text.length, text: `${text.length && !text.endsWith('\n') ? eol : ''}${line}${eol}` };
  // After the last entry's line (its value may span lines); comments after it stay after it.
  const end = valueEnd(last);
  const nl = text.indexOf('\n', end - 1 < 0 ? 0 : end - 1);
  if (nl < 0) return { at: text.length, end: text.length, text: `${eol}${line}` };
  return { at: nl + 1, end: nl + 1, text: `${line}${eol}` };
}

function removePair(text: string, pair: Pair): Splice {
  const start = (pair.key as Scalar).range![0];
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const end = valueEnd(pair);
  const nl = text.indexOf('\n', end);
  return { at: lineStart, end: nl < 0 ? text.length : nl + 1, text: '' };
}

function valueEnd(pair: Pair): number {
  const v = pair.value as { range?: [number, number, number] } | null;
  if (v?.range) return v.range[1];
  return (pair.key as Scalar).range![2];
}

/** The indentation step the file uses (two spaces unless it shows another). */
function detectStep(text: string): string {
  const m = /\n( +)\S/.exec(text);
  return m ? m[1] : '  ';
}
