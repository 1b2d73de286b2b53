// Text -> Kubernetes objects, as `kubectl apply -f` reads it: YAML or JSON, single documents,
// `---` streams and `kind: List`. A malformed document is an InputError naming source and line.
// Like kubectl's YAML-or-JSON decoder, text that starts with `{` or `[` is JSON (one value or a stream
// of them) and is held to JSON's rules: a trailing comma is an error, not YAML. A key given twice in
// one mapping is an error in both (two `-o yaml` outputs appended without `---` collide this way).
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type YAMLMap } from 'yaml';
import { InputError } from '../errors.js';
import { parseFastStream } from './yaml-fast.js';
import { emptyClusterObjects, type ClusterObjects, type KubeObject } from './types.js';

/** An object and where it was read: "file:line" (the line of its document, or of its item in a List). */
export interface LocatedObject {
  object: KubeObject;
  where: string;
  /** A ConfigMap from YAML: the line of each data key written as a block literal (`config.conf: |-`), so
   * line N of that key's text is file line blockLines[key] + N. */
  blockLines?: Record<string, number>;
}

export function decodeManifests(text: string, source: string): KubeObject[] {
  return decodeLocated(text, source).map((o) => o.object);
}

export function decodeLocated(text: string, source: string): LocatedObject[] {
  const first = text.trimStart()[0];
  const values = first === '{' || first === '[' ? parseJSONStream(text, source) : (fastYAMLStream(text) ?? parseYAMLStream(text, source));
  const out: LocatedObject[] = [];
  for (const p of values) flatten(p.value, source, p.line, out, p);
  return out;
}

interface Parsed {
  value: unknown;
  line: number;
  /** For a List: the line of each item. */
  itemLines?: number[];
  blockLines?: Record<string, number>;
  /** For a List: each item's blockLines. */
  itemBlockLines?: Array<Record<string, number> | undefined>;
}

// JSON.parse is an order of magnitude faster than the YAML parser on large `-o json` dumps. One pass
// finds where each top-level value ends and any key repeated within an object (JSON.parse keeps the last).
function parseJSONStream(text: string, source: string): Parsed[] {
  const out: Parsed[] = [];
  const lineAt = lineOfOffset(text);
  const stack: Array<{ keys: Set<string> | null; expectKey: boolean }> = [];
  const special = /["{}[\],]/g;
  let start = -1;
  const finish = (end: number) => {
    const chunk = text.slice(start, end);
    try {
      out.push({ value: JSON.parse(chunk), line: lineAt(start) });
    } catch (err) {
      // Node names the position ("… in JSON at position 12"), or quotes the text ("… "xyz" is not valid JSON").
      const message = (err as Error).message.replace(/,?\s*"[\s\S]*" is not valid JSON$/, '');
      const m = /([\s\S]*?)(?: in JSON)? at position (\d+)/.exec(message);
      const at = m ? start + Number(m[2]) : /end of JSON/.test(message) ? end : start;
      throw new InputError(`${source}:${lineAt(at)}: malformed JSON (${(m?.[1] ?? message).split('\n')[0].trim()}); fix the file and try again.`);
    }
    start = -1;
  };
  let i = 0;
  while (i < text.length) {
    if (stack.length === 0) {
      // Between top-level values only whitespace may stand.
      const m = /\S/g;
      m.lastIndex = i;
      const hit = m.exec(text);
      if (!hit) break;
      i = hit.index;
      start = i;
      if (text[i] !== '{' && text[i] !== '[') {
        const next = text.slice(i).search(/[{[]/);
        const end = next < 0 ? text.length : i + next;
        finish(end); // JSON.parse names the stray text; a stray number or string fails as no object below
        i = end;
        continue;
      }
    }
    special.lastIndex = i;
    const hit = special.exec(text);
    if (!hit) break;
    i = hit.index;
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) throw new InputError(`${source}:${lineAt(i)}: malformed JSON (a string is not closed); fix the file and try again.`);
        let backslashes = 0;
        for (let k = j - 1; text[k] === '\\'; k--) backslashes++;
        if (backslashes % 2 === 0) break;
        j++;
      }
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = raw.includes('\\') ? safeJSONString(text.slice(i, j + 1)) : raw;
        if (top.keys.has(key)) {
          throw new InputError(`${source}:${lineAt(i)}: the key "${key}" appears twice in one object, so one of its values would be lost (two JSON outputs pasted into one?); remove the duplicate and try again.`);
        }
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ keys: null, expectKey: false });
    else if (c === ',') {
      if (top?.keys) top.expectKey = true;
    } else {
      stack.pop();
      if (stack.length === 0) finish(i + 1);
    }
    i++;
  }
  if (start >= 0) finish(text.length);
  return out;
}

function safeJSONString(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

function lineOfOffset(text: string): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

// The shape `kubectl get -o yaml` prints, read by the fast reader; undefined sends the whole text to the
// general parser (comments, anchors, flow style, a duplicate key or an error: it reports those with their line).
function fastYAMLStream(text: string): Parsed[] | undefined {
  const docs = parseFastStream(text);
  if (!docs) return undefined;
  return docs.map((d) => {
    const v = d.value as { kind?: unknown; items?: unknown } | null;
    const blocks = (o: unknown) => (o && typeof o === 'object' && (o as { kind?: unknown }).kind === 'ConfigMap' ? d.blockLines.get(o) : undefined);
    const items = v && typeof v === 'object' && Array.isArray(v.items) ? (v.items as unknown[]) : undefined;
    return {
      value: d.value,
      line: d.line,
      itemLines: d.itemLines,
      blockLines: blocks(v),
      itemBlockLines: items?.map(blocks),
    };
  });
}

function parseYAMLStream(text: string, source: string): Parsed[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: Parsed[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      // An unclosed bracket is reported at the end of the input; point at the last line with text instead.
      const line = Math.min(error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line, lastTextLine(text));
      if (error.code === 'DUPLICATE_KEY') {
        const key = /^[^:\n]*/.exec(text.slice(error.pos[0]))![0].trim();
        throw new InputError(`${source}:${line}: the key "${key}" appears twice in one mapping, so one of its values would be lost (two outputs appended without a --- line between them?); separate the documents with --- or remove the duplicate.`);
      }
      const what = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new InputError(`${source}:${line}: malformed YAML (${what}); fix the file and try again.`);
    }
    const start = doc.contents?.range?.[0] ?? 0;
    const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
    const itemLines = isSeq(items) ? items.items.map((it) => lineCounter.linePos((it as { range?: [number] }).range?.[0] ?? start).line) : undefined;
    const lineOf = (offset: number) => lineCounter.linePos(offset).line;
    out.push({
      value: doc.toJS({ maxAliasCount: 1000 }),
      line: lineOf(start),
      itemLines,
      blockLines: isMap(doc.contents) ? blockLinesOf(doc.contents, lineOf) : undefined,
      itemBlockLines: isSeq(items) ? items.items.map((it) => (isMap(it) ? blockLinesOf(it, lineOf) : undefined)) : undefined,
    });
  }
  return out;
}

// A ConfigMap's data keys written as block literals, by the line of their header (as load.ts counts them).
function blockLinesOf(map: YAMLMap, lineOf: (offset: number) => number): Record<string, number> | undefined {
  const kind = map.get('kind', true);
  if (!isScalar(kind) || kind.value !== 'ConfigMap') return undefined;
  const data = map.get('data', true);
  if (!isMap(data)) return undefined;
  const out: Record<string, number> = {};
  for (const pair of data.items) {
    if (isScalar(pair.key) && isScalar(pair.value) && pair.value.type === 'BLOCK_LITERAL' && pair.value.range) out[String(pair.key.value)] = lineOf(pair.value.range[0]);
  }
  return out;
}

function lastTextLine(text: string): number {
  return text.trimEnd().split('\n').length;
}

function flatten(value: unknown, source: string, line: number, out: LocatedObject[], at?: Omit<Parsed, 'value' | 'line'>): void {
  if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${source}:${line}: expected a Kubernetes object (a mapping with apiVersion and kind); fix the file and try again.`);
  }
  const obj = value as KubeObject;
  if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string') {
    throw new InputError(`${source}:${line}: object has no ${typeof obj.kind !== 'string' ? 'kind' : 'apiVersion'}; every document must name its apiVersion and kind.`);
  }
  if (obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    // Items of an API list carry no kind of their own; kubectl's List items always do.
    const itemKind = obj.kind === 'List' ? undefined : obj.kind.slice(0, -'List'.length);
    (obj.items as unknown[]).forEach((item, i) => {
      const itemLine = at?.itemLines?.[i] ?? line;
      const itemAt = { blockLines: at?.itemBlockLines?.[i] };
      if (itemKind && item && typeof item === 'object' && !('kind' in item)) {
        flatten({ apiVersion: obj.apiVersion, kind: itemKind, ...(item as object) }, source, itemLine, out, itemAt);
      } else {
        flatten(item, source, itemLine, out, itemAt);
      }
    });
    return;
  }
  out.push(at?.blockLines ? { object: obj, where: `${source}:${line}`, blockLines: at.blockLines } : { object: obj, where: `${source}:${line}` });
}

/** Sorts objects into the kinds kube-proxy reads; kinds we do not use are kept aside, unread. */
export function classifyObjects(objects: KubeObject[]): ClusterObjects {
  const out = emptyClusterObjects();
  for (const obj of objects) {
    const group = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/')[0] : '';
    if (obj.kind === 'Service' && group === '') out.services.push(obj as never);
    else if (obj.kind === 'EndpointSlice' && group === 'discovery.k8s.io') out.endpointSlices.push(obj as never);
    else if (obj.kind === 'Node' && group === '') out.nodes.push(obj as never);
    else if (obj.kind === 'ConfigMap' && group === '') out.configMaps.push(obj as never);
    else out.others.push(obj);
  }
  return out;
}
