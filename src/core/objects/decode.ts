// Text -> Kubernetes objects, as `kubectl apply -f` reads it: YAML or JSON, single documents,
// `---` streams and `kind: List`. A malformed document is an InputError naming source and line.
import { LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '../errors.js';
import { emptyClusterObjects, type ClusterObjects, type KubeObject } from './types.js';

export function decodeManifests(text: string, source: string): KubeObject[] {
  const json = tryJSON(text);
  const values: Array<{ value: unknown; line: number }> = json
    ? [{ value: json.value, line: 1 }]
    : parseYAMLStream(text, source);
  const out: KubeObject[] = [];
  for (const { value, line } of values) flatten(value, source, line, out);
  return out;
}

// JSON.parse is an order of magnitude faster than the YAML parser on large `-o json` dumps; when it
// fails we fall through to YAML, which also reports the failing line.
function tryJSON(text: string): { value: unknown } | undefined {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function parseYAMLStream(text: string, source: string): Array<{ value: unknown; line: number }> {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: Array<{ value: unknown; line: number }> = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      // An unclosed bracket is reported at the end of the input; point at the last line with text instead.
      const line = Math.min(error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line, lastTextLine(text));
      const what = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new InputError(`${source}:${line}: malformed YAML (${what}); fix the file and try again.`);
    }
    const start = doc.contents?.range?.[0] ?? 0;
    out.push({ value: doc.toJS({ maxAliasCount: 1000 }), line: lineCounter.linePos(start).line });
  }
  return out;
}

function lastTextLine(text: string): number {
  return text.trimEnd().split('\n').length;
}

function flatten(value: unknown, source: string, line: number, out: KubeObject[]): void {
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
    for (const item of obj.items as unknown[]) {
      if (itemKind && item && typeof item === 'object' && !('kind' in item)) {
        flatten({ apiVersion: obj.apiVersion, kind: itemKind, ...(item as object) }, source, line, out);
      } else {
        flatten(item, source, line, out);
      }
    }
    return;
  }
  out.push(obj);
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
