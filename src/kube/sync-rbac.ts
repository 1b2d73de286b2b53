// What `sync --on-node` and `sync --all-nodes` create besides their pods: a ServiceAccount with the least
// RBAC the proxier needs (list/watch Services, EndpointSlices and Nodes cluster-wide, as kube-proxy's
// informers do; get kube-proxy's own ConfigMap in kube-system, for its configuration), every object
// carrying one label so that `sync --remove` deletes only ours. Creating goes through the clean-up
// registry, so Ctrl-C deletes what was created; a refusal names the verb and resource (client.ts).
import { CONFIG_MAP_NAMES } from '../core/config/index.js';
import { cleanup } from './cleanup.js';
import type { KubeClient } from './client.js';
import type { RequestIntent } from './request.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

/** The one label on everything sync creates in a cluster. */
export const SYNC_LABEL = { 'app.kubernetes.io/name': 'kubectl-proxymode-sync' };
export const SYNC_LABEL_SELECTOR = Object.entries(SYNC_LABEL).map(([k, v]) => `${k}=${v}`).join(',');
const RBAC = 'rbac.authorization.k8s.io';

/** Where an object of a kind lives in the API, and how a refusal names it. */
export interface Kind {
  kind: string;
  apiVersion: string;
  resource: string;
  group: string;
  namespaced: boolean;
}

export const KINDS = {
  Namespace: { kind: 'Namespace', apiVersion: 'v1', resource: 'namespaces', group: '', namespaced: false },
  ServiceAccount: { kind: 'ServiceAccount', apiVersion: 'v1', resource: 'serviceaccounts', group: '', namespaced: true },
  ClusterRole: { kind: 'ClusterRole', apiVersion: `${RBAC}/v1`, resource: 'clusterroles', group: RBAC, namespaced: false },
  ClusterRoleBinding: { kind: 'ClusterRoleBinding', apiVersion: `${RBAC}/v1`, resource: 'clusterrolebindings', group: RBAC, namespaced: false },
  Role: { kind: 'Role', apiVersion: `${RBAC}/v1`, resource: 'roles', group: RBAC, namespaced: true },
  RoleBinding: { kind: 'RoleBinding', apiVersion: `${RBAC}/v1`, resource: 'rolebindings', group: RBAC, namespaced: true },
  DaemonSet: { kind: 'DaemonSet', apiVersion: 'apps/v1', resource: 'daemonsets', group: 'apps', namespaced: true },
  Pod: { kind: 'Pod', apiVersion: 'v1', resource: 'pods', group: '', namespaced: true },
} satisfies Record<string, Kind>;

export function collectionPath(k: Kind, namespace?: string): string {
  const base = k.group ? `/apis/${k.apiVersion}` : '/api/v1';
  return `${base}${k.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : ''}/${k.resource}`;
}

export function objectPath(k: Kind, name: string, namespace?: string): string {
  return `${collectionPath(k, namespace)}/${encodeURIComponent(name)}`;
}

function kindOf(obj: Obj): Kind {
  const k = (KINDS as Record<string, Kind>)[obj.kind];
  if (!k) throw new Error(`no API path for kind ${obj.kind}`);
  return k;
}

function meta(name: string, namespace?: string): Obj {
  return { name, ...(namespace ? { namespace } : {}), labels: { ...SYNC_LABEL } };
}

/** The ServiceAccount, its ClusterRole and ClusterRoleBinding, and the Role and RoleBinding for kube-proxy's ConfigMap. */
export function syncRbacSpecs(name: string, namespace: string): Obj[] {
  const subject = [{ kind: 'ServiceAccount', name, namespace }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, namespace) },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: meta(name),
      rules: [
        { apiGroups: [''], resources: ['services', 'nodes'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(name), roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name }, subjects: subject },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: meta(name, 'kube-system'),
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [...CONFIG_MAP_NAMES], verbs: ['get'] }],
    },
    { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: meta(name, 'kube-system'), roleRef: { apiGroup: RBAC, kind: 'Role', name }, subjects: subject },
  ];
}

function intent(verb: RequestIntent['verb'], k: Kind, name?: string, namespace?: string): RequestIntent {
  return { verb, resource: k.resource, ...(k.group ? { group: k.group } : {}), ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
}

export interface Tracked {
  kind: string;
  name: string;
  namespace?: string;
  /** "ClusterRole kubectl-proxymode-sync" */
  description: string;
  /** Deletes it (a 404 is fine); safe to call more than once. */
  remove: () => Promise<unknown>;
  /** Unregisters it from the clean-up registry (it stays in the cluster). */
  keep: () => void;
}

/** Creates `obj`, registered for deletion on Ctrl-C from the request on; the created object's name may be generated. */
export async function createTracked(client: KubeClient, obj: Obj): Promise<Tracked & { object: Obj }> {
  const k = kindOf(obj);
  const ns: string | undefined = obj.metadata?.namespace;
  const created = await cleanup.creating(client.post<Obj>(collectionPath(k, ns), obj, intent('create', k, undefined, ns)));
  const name: string = created?.metadata?.name ?? obj.metadata?.name;
  const description = `${k.kind} ${ns ? `${ns}/` : ''}${name}`;
  let removal: Promise<unknown> | undefined;
  const remove = () =>
    (removal ??= client.delete(objectPath(k, name, ns), intent('delete', k, name, ns), k.kind === 'Pod' ? { gracePeriodSeconds: '5' } : { propagationPolicy: 'Background' }).catch((e) => {
      removal = undefined;
      throw e;
    }));
  const context = client.at.context ? ` --context ${client.at.context}` : '';
  const removeWith = `kubectl${context} delete ${k.resource}${k.group ? `.${k.group}` : ''} ${name}${ns ? ` -n ${ns}` : ''}`;
  const release = cleanup.add({ description, removeWith, remove });
  return { kind: k.kind, name, namespace: ns, description, remove, keep: release, object: created };
}

/** Creates the objects in order; when one is refused, deletes those already created (in reverse) and rethrows. */
export async function createAll(client: KubeClient, objs: Obj[]): Promise<Tracked[]> {
  const done: Tracked[] = [];
  try {
    for (const o of objs) {
      if (cleanup.interrupted) break;
      done.push(await createTracked(client, o));
    }
    return done;
  } catch (e) {
    await removeAll(done);
    throw e;
  }
}

/** Deletes in reverse order of creation; every one is tried; the first failure is rethrown after. */
export async function removeAll(items: Tracked[]): Promise<void> {
  let first: unknown;
  for (const t of [...items].reverse()) {
    try {
      await t.remove();
      t.keep();
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/**
 * Deletes the named object only when it carries our label: resolves "deleted", "absent" (404), or
 * "not ours" (it exists without the label: left alone).
 */
export async function removeIfOurs(client: KubeClient, k: Kind, name: string, namespace?: string): Promise<'deleted' | 'absent' | 'not ours'> {
  const got = await client.get<Obj>(objectPath(k, name, namespace), intent('get', k, name, namespace), { optional: true });
  if (!got) return 'absent';
  const labels = got.metadata?.labels ?? {};
  if (!Object.entries(SYNC_LABEL).every(([key, v]) => labels[key] === v)) return 'not ours';
  const gone = await client.delete(objectPath(k, name, namespace), intent('delete', k, name, namespace), { propagationPolicy: 'Background' });
  return gone ? 'deleted' : 'absent';
}
