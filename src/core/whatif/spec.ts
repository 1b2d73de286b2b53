// The what-if edits as data, parsed from the flags' text: --set KIND/NAME:PATH=VALUE,
// --scale-endpoints svc/NAME=N and --drain node/NAME. Pure: text in, edits out, one sentence on bad input.
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';

export type ObjectKind = 'Service' | 'Node' | 'EndpointSlice' | 'ConfigMap';

/** A named object, as kubectl names one: svc/web, node/worker-1, cm/kube-proxy (NAMESPACE/NAME allowed too). */
export interface ObjectRef {
  kind: ObjectKind;
  /** As typed: "svc/web", for messages. */
  text: string;
  name: string;
  /** Given in the reference (svc/shop/web); otherwise the command's namespace applies. */
  namespace?: string;
}

/** One step of a field path: a map key, or a list index ("ports[0]"). */
export type PathStep = string | number;

export type Edit =
  | { kind: 'set'; flag: string; ref: ObjectRef; path: PathStep[]; pathText: string; valueText: string; value: unknown }
  | { kind: 'scale'; flag: string; ref: ObjectRef; replicas: number }
  | { kind: 'drain'; flag: string; ref: ObjectRef };

const KINDS: Record<string, ObjectKind> = {
  svc: 'Service', service: 'Service', services: 'Service',
  node: 'Node', nodes: 'Node', no: 'Node',
  endpointslice: 'EndpointSlice', endpointslices: 'EndpointSlice',
  cm: 'ConfigMap', configmap: 'ConfigMap', configmaps: 'ConfigMap',
};

export interface EditFlags {
  set?: string[];
  'scale-endpoints'?: string[];
  drain?: string[];
}

/** Every edit the flags name, in the order they are applied: each --set, then --scale-endpoints, then --drain. */
export function parseEdits(flags: EditFlags): Edit[] {
  return [
    ...(flags.set ?? []).map(parseSet),
    ...(flags['scale-endpoints'] ?? []).map(parseScale),
    ...(flags.drain ?? []).map(parseDrain),
  ];
}

export function parseSet(text: string): Edit {
  const flag = `--set ${text}`;
  const colon = text.indexOf(':');
  const eq = text.indexOf('=', colon + 1);
  if (colon < 0 || eq < 0) throw new InputError(`${flag}: expected KIND/NAME:PATH=VALUE, e.g. --set svc/web:spec.externalTrafficPolicy=Local.`);
  const ref = parseRef(text.slice(0, colon), flag, ['Service', 'Node', 'EndpointSlice', 'ConfigMap']);
  const pathText = text.slice(colon + 1, eq);
  const valueText = text.slice(eq + 1);
  return { kind: 'set', flag, ref, path: parsePath(pathText, flag), pathText, valueText, value: parseValue(valueText, flag) };
}

export function parseScale(text: string): Edit {
  const flag = `--scale-endpoints ${text}`;
  const m = /^(.+)=(.*)$/.exec(text);
  if (!m) throw new InputError(`${flag}: expected svc/NAME=N, e.g. --scale-endpoints svc/web=0.`);
  const ref = parseRef(m[1]!, flag, ['Service']);
  if (!/^\d{1,4}$/.test(m[2]!)) throw new InputError(`${flag}: ${JSON.stringify(m[2])} is not a number of endpoints (0 to 9999).`);
  return { kind: 'scale', flag, ref, replicas: Number(m[2]) };
}

export function parseDrain(text: string): Edit {
  const flag = `--drain ${text}`;
  const ref = parseRef(text.includes('/') ? text : `node/${text}`, flag, ['Node']);
  return { kind: 'drain', flag, ref };
}

function parseRef(text: string, flag: string, allowed: ObjectKind[]): ObjectRef {
  const parts = text.split('/');
  const kind = KINDS[parts[0]!.toLowerCase()];
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '') || !kind) {
    throw new InputError(`${flag}: "${text}" does not name an object; write KIND/NAME with KIND one of ${allowed.map(shortKind).join(', ')}.`);
  }
  if (!allowed.includes(kind)) throw new InputError(`${flag}: a ${kind} cannot be edited this way; name ${allowed.map((k) => `${shortKind(k)}/NAME`).join(' or ')}.`);
  if (parts.length === 3 && kind === 'Node') throw new InputError(`${flag}: a Node has no namespace; write node/NAME.`);
  return parts.length === 3 ? { kind, text, namespace: parts[1], name: parts[2]! } : { kind, text, name: parts[1]! };
}

export function shortKind(kind: ObjectKind): string {
  return { Service: 'svc', Node: 'node', EndpointSlice: 'endpointslice', ConfigMap: 'cm' }[kind];
}

/**
 * A field path as kubectl's jsonpath writes one: dots between keys, `\.` for a dot inside a key
 * (metadata.labels.topology\.kubernetes\.io/zone), [N] for a list index.
 */
export function parsePath(text: string, flag: string): PathStep[] {
  const steps: PathStep[] = [];
  let key = '';
  let keyOpen = true; // a key is expected (start, or after a dot)
  const bad = (why: string) => new InputError(`${flag}: the path "${text}" ${why}.`);
  const endKey = () => {
    if (keyOpen && key === '') throw bad('has an empty key');
    if (key !== '') steps.push(key);
    key = '';
    keyOpen = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) key += text[++i];
    else if (c === '.') {
      endKey();
      keyOpen = true;
    } else if (c === '[') {
      const close = text.indexOf(']', i);
      const index = text.slice(i + 1, close);
      if (close < 0 || !/^\d+$/.test(index)) throw bad('has an index that is not [N]');
      if (key !== '') endKey();
      else if (steps.length === 0) throw bad('starts with an index');
      steps.push(Number(index));
      keyOpen = false;
      i = close;
    } else key += c;
  }
  if (keyOpen || key !== '') endKey();
  if (steps.length === 0) throw bad('is empty');
  return steps;
}

/** A value as a YAML scalar (8080, true, Local) or a flow list ([a,b]); "null" removes the field. */
export function parseValue(text: string, flag: string): unknown {
  try {
    const v: unknown = parseYaml(text === '' ? '""' : text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) throw new Error('a mapping');
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) throw new Error('nested');
    return v;
  } catch {
    throw new InputError(`${flag}: the value "${text}" is not a scalar (8080, true, Local) or a list ([a,b]).`);
  }
}

export function pathString(path: readonly PathStep[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i ? '.' : ''}${s.replace(/\./g, '\\.')}`)).join('');
}
