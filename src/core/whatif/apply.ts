// Applies what-if edits to the objects as read, in memory: copies of the edited objects replace them, every
// other object is kept as it is (same identity). Each edit gives one line saying what it changed.
import { InputError } from '../errors.js';
import { checkObjects } from '../objects/check.js';
import type { ConfigMap, EndpointSlice, KubeObject, Node, Service } from '../objects/types.js';
import { closeNames } from '../suggest.js';
import { editConfigMap } from './config-map.js';
import { drainNode, scaleEndpoints } from './endpoints.js';
import { fieldAt, fitValue, SCHEMAS } from './schema.js';
import { pathString, type Edit, type ObjectRef, type PathStep } from './spec.js';

export interface WhatIfObjects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
  configMaps: ConfigMap[];
}

/** What one edit did, for the stderr line and -o json's `edits`. */
export interface AppliedEdit {
  /** The flag as typed: "--set svc/web:spec.externalTrafficPolicy=Local". */
  flag: string;
  /** "Service shop/web". */
  object: string;
  /** What changed: "spec.externalTrafficPolicy: Cluster → Local". */
  change: string;
}

export interface ApplyOptions {
  /** Where a namespaced name without a namespace is looked up (-n, else the context's namespace). */
  namespace: string;
  /** -n was given: no other namespace is tried. Without it, a name found in exactly one namespace is taken. */
  namespaceExplicit: boolean;
  /** For messages: "files examples/". */
  where: string;
}

export function applyEdits(input: WhatIfObjects, edits: readonly Edit[], opts: ApplyOptions): { objects: WhatIfObjects; applied: AppliedEdit[] } {
  const objects: WhatIfObjects = {
    services: [...input.services],
    endpointSlices: [...input.endpointSlices],
    nodes: [...input.nodes],
    configMaps: [...input.configMaps],
  };
  const applied: AppliedEdit[] = [];
  for (const edit of edits) {
    if (edit.kind === 'set' && edit.ref.kind === 'ConfigMap') {
      const i = findIndex(objects.configMaps, edit, opts, (cm) => ['kube-proxy', 'kube-proxy-config'].includes(cm.metadata?.name ?? ''));
      const { configMap, change } = editConfigMap(objects.configMaps[i]!, edit);
      objects.configMaps[i] = configMap;
      applied.push({ flag: edit.flag, object: describe(configMap, 'ConfigMap'), change });
    } else if (edit.kind === 'set') {
      const list = listOf(objects, edit.ref.kind as Exclude<ObjectRef['kind'], 'ConfigMap'>);
      const i = findIndex(list, edit, opts);
      const { object, change } = setField(list[i]!, edit);
      list[i] = object;
      applied.push({ flag: edit.flag, object: describe(object, edit.ref.kind), change });
    } else if (edit.kind === 'scale') {
      const svc = objects.services[findIndex(objects.services, edit, opts)]!;
      const r = scaleEndpoints(objects, svc, edit.replicas, edit.flag);
      objects.endpointSlices = r.endpointSlices;
      applied.push({ flag: edit.flag, object: describe(svc, 'Service'), change: r.change });
    } else {
      const i = findIndex(objects.nodes, edit, opts);
      const r = drainNode(objects, objects.nodes[i]!);
      objects.nodes[i] = r.node;
      objects.endpointSlices = r.endpointSlices;
      applied.push({ flag: edit.flag, object: describe(r.node, 'Node'), change: r.change });
    }
  }
  return { objects, applied };
}

function listOf(objects: WhatIfObjects, kind: 'Service' | 'Node' | 'EndpointSlice'): KubeObject[] {
  return kind === 'Service' ? objects.services : kind === 'Node' ? objects.nodes : objects.endpointSlices;
}

/** The object an edit names, in the namespace it resolves to; one sentence when there is none. */
function findIndex<T extends KubeObject>(list: T[], edit: Edit, opts: ApplyOptions, only?: (o: T) => boolean): number {
  const { ref } = edit;
  const namespaced = ref.kind !== 'Node';
  const named = list.map((o, i) => [o, i] as const).filter(([o]) => o.metadata?.name === ref.name && (!only || only(o)));
  const kube = ref.kind === 'ConfigMap' ? 'kube-system' : opts.namespace;
  const ns = ref.namespace ?? (ref.kind === 'ConfigMap' ? undefined : kube);
  let hit = named.filter(([o]) => !namespaced || ns === undefined || (o.metadata?.namespace ?? 'default') === ns);
  // kube-proxy's ConfigMap is found in kube-system first, as the configuration loader finds it
  if (ref.kind === 'ConfigMap' && hit.length > 1) hit = hit.filter(([o]) => o.metadata?.namespace === 'kube-system');
  // without -n, a name that exists in one namespace only is that object
  if (hit.length === 0 && namespaced && !ref.namespace && !opts.namespaceExplicit && named.length === 1) hit = named;
  if (hit.length === 1) return hit[0]![1];
  const kind = ref.kind;
  const where = namespaced && ns !== undefined ? ` in namespace ${ns}` : '';
  if (hit.length > 1) throw new InputError(`${edit.flag}: ${named.length} ${kind}s are named ${ref.name} (in ${hit.map(([o]) => o.metadata?.namespace).join(', ')}); name one as ${ref.text.split('/')[0]}/NAMESPACE/NAME.`);
  const others = named.map(([o]) => o.metadata?.namespace ?? 'default');
  const close = closeNames(ref.name, list.filter((o) => !only || only(o)).map((o) => o.metadata?.name ?? ''));
  const hint = others.length ? `; there is one in ${others.join(', ')} (-n, or ${ref.text.split('/')[0]}/NAMESPACE/NAME)` : close.length ? `; did you mean ${close.join(', ')}?` : ref.kind === 'ConfigMap' ? '; give its ConfigMap with -f, or use --mode/--config instead' : '';
  throw new InputError(`${edit.flag}: there is no ${kind} ${ref.name}${where} in ${opts.where}${hint}${hint.endsWith('?') ? '' : '.'}`);
}

/** --set on a Service, Node or EndpointSlice: the path checked against the kind's fields, the value against its type. */
function setField<T extends KubeObject>(obj: T, edit: Extract<Edit, { kind: 'set' }>): { object: T; change: string } {
  const schema = SCHEMAS[edit.ref.kind as keyof typeof SCHEMAS];
  const found = fieldAt(schema, edit.path);
  const name = String([...edit.path].reverse().find((s) => typeof s === 'string'));
  if ('error' in found) throw new InputError(`${edit.flag}: ${edit.pathText} is not a field this tool can set on a ${edit.ref.kind}: ${found.error}.`);
  const fit = fitValue(found.field, edit.value, edit.valueText, name);
  if ('error' in fit) throw new InputError(`${edit.flag}: ${fit.error}.`);
  const copy = structuredClone(obj);
  const before = setIn(copy as Record<string, unknown>, edit.path, fit.value, edit.flag);
  // the model's own check: what kube-proxy would skip in the edited object is refused here
  // (API list items carry no kind or apiVersion: the check is told them)
  const probe = { apiVersion: edit.ref.kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : 'v1', kind: edit.ref.kind, ...copy };
  const checked = checkObjects([{ object: probe, where: 'as edited' }]);
  if (checked.warnings.length) throw new InputError(`${edit.flag}: ${checked.warnings[0]!.replace(/; kube-proxy skips (it|these).*$/, '; kube-proxy would skip $1, so the edit is refused.')}`);
  const show = (v: unknown) => (v === undefined ? '(unset)' : v === null ? '(removed)' : typeof v === 'string' ? v : JSON.stringify(v));
  return { object: copy, change: `${pathString(edit.path)}: ${show(before)} → ${show(fit.value)}` };
}

/** Sets (or, for null, removes) the value at a path, creating maps on the way; returns the old value. */
function setIn(root: Record<string, unknown>, path: readonly PathStep[], value: unknown, flag: string): unknown {
  let cur: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i]!;
    const holder = cur as Record<string | number, unknown>;
    let next = holder[step];
    if (next === undefined || next === null) {
      if (value === null) return undefined;
      if (typeof step === 'number') checkIndex(holder as unknown as unknown[], step, path, i, flag);
      next = typeof path[i + 1] === 'number' ? [] : {};
      holder[step] = next;
    } else if (typeof step === 'number') checkIndex(holder as unknown as unknown[], step, path, i, flag);
    cur = next;
  }
  const last = path[path.length - 1]!;
  const holder = cur as Record<string | number, unknown>;
  if (typeof last === 'number') checkIndex(holder as unknown as unknown[], last, path, path.length - 1, flag);
  const before = holder[last];
  if (value === null) {
    if (Array.isArray(holder) && typeof last === 'number') holder.splice(last, 1);
    else delete holder[last];
  } else holder[last] = value;
  return before;
}

/** An index must name an item, or the one after the last (which appends). */
function checkIndex(list: unknown[], index: number, path: readonly PathStep[], at: number, flag: string): void {
  if (index <= list.length) return;
  throw new InputError(`${flag}: ${pathString(path.slice(0, at))} has ${list.length} item${list.length === 1 ? '' : 's'}, so [${index}] is past its end (use [${list.length}] to add one).`);
}

/** "Service shop/web", "Node worker-2": the kind from the edit, since API list items carry none. */
export function describe(o: KubeObject, kind: ObjectRef['kind']): string {
  const ns = kind === 'Node' ? '' : `${o.metadata?.namespace ?? 'default'}/`;
  return `${kind} ${ns}${o.metadata?.name ?? ''}`;
}
