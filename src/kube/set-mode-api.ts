// The writes `set-mode` makes, and the reads only it needs: PATCH with the resourceVersion read (the API
// server answers 409 when the object changed since), the kube-proxy DaemonSet and ConfigMap as objects,
// MetalLB's presence, and the backups kept before any write. KubeClient has GET/POST/DELETE; PATCH is here.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import fetch, { type RequestInit } from 'node-fetch';
import { ClusterError, InputError, ProxymodeError } from '../core/errors.js';
import type { KubeClient } from './client.js';
import { httpError, networkError } from './errors.js';
import type { RequestIntent } from './request.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

/** The object changed between our read and our write (409): re-read, re-apply, try again. */
export class ConflictError extends ClusterError {}

const keepAlive = new HttpAgent({ keepAlive: false });

/** PATCH `path` with `body` as `contentType` (merge-patch, strategic-merge-patch); resolves to the patched object. */
export async function patchObject<T = Obj>(client: KubeClient, path: string, body: unknown, contentType: string, intent: RequestIntent): Promise<T> {
  let init: RequestInit;
  try {
    init = (await client.kubeConfig.applyToFetchOptions({ method: 'PATCH', headers: { 'Content-Type': contentType } })) as unknown as RequestInit;
  } catch (err) {
    throw new ClusterError(`getting credentials for context "${client.at.context}" failed: ${String((err as Error).message ?? err).split('\n')[0]}; check the kubeconfig user's auth settings.`, { cause: err });
  }
  const headers = { ...(init.headers as Record<string, string> | undefined), 'Content-Type': contentType };
  let res: { status: number; body: string };
  try {
    const r = await fetch(client.at.server + path, { ...init, headers, method: 'PATCH', body: JSON.stringify(body), timeout: client.requestTimeoutMs, ...(client.at.server.startsWith('http:') ? { agent: keepAlive } : {}) });
    res = { status: r.status, body: await r.text() };
  } catch (err) {
    if (err instanceof ProxymodeError) throw err;
    throw networkError(err, intent, client.at, client.requestTimeoutMs);
  }
  if (res.status === 409) throw new ConflictError(`${intent.resource} "${intent.name}" changed while it was being written (409 Conflict).`);
  if (res.status >= 400) throw httpError(res.status, res.body, intent, client.at);
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new ClusterError(`the API server at ${client.at.server} sent a reply that is not JSON to ${intent.verb} ${intent.resource}; is the kubeconfig pointing at a Kubernetes API server?`);
  }
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export function configMapPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
}

export function daemonSetPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/daemonsets/${encodeURIComponent(name)}`;
}

export function readConfigMap(client: KubeClient, namespace: string, name: string): Promise<Obj> {
  return client.get<Obj>(configMapPath(namespace, name), { verb: 'get', resource: 'configmaps', namespace, name }) as Promise<Obj>;
}

export function readDaemonSet(client: KubeClient, namespace: string, name: string, optional = false): Promise<Obj | undefined> {
  return client.get<Obj>(daemonSetPath(namespace, name), { verb: 'get', resource: 'daemonsets', group: 'apps', namespace, name }, { optional });
}

/** Sets one key of a ConfigMap's data, only if it is still at `resourceVersion`. */
export function patchConfigMapKey(client: KubeClient, namespace: string, name: string, key: string, text: string, resourceVersion: string): Promise<Obj> {
  return patchObject(client, configMapPath(namespace, name), { metadata: { resourceVersion }, data: { [key]: text } }, MERGE_PATCH, { verb: 'patch', resource: 'configmaps', namespace, name });
}

/** Replaces a DaemonSet's containers (a merge patch replaces the list whole), only if it is still at `resourceVersion`. */
export function patchDaemonSetContainers(client: KubeClient, namespace: string, name: string, containers: Obj[], resourceVersion: string): Promise<Obj> {
  return patchObject(client, daemonSetPath(namespace, name), { metadata: { resourceVersion }, spec: { template: { spec: { containers } } } }, MERGE_PATCH, { verb: 'patch', resource: 'daemonsets', group: 'apps', namespace, name });
}

/** What `kubectl rollout restart` does: a new kubectl.kubernetes.io/restartedAt annotation on the pod template. */
export function restartDaemonSet(client: KubeClient, namespace: string, name: string, at: Date): Promise<Obj> {
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z');
  return patchObject(client, daemonSetPath(namespace, name), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': stamp } } } } }, STRATEGIC_MERGE_PATCH, { verb: 'patch', resource: 'daemonsets', group: 'apps', namespace, name });
}

/** MetalLB's evidence, when it is installed: its namespace, or its speaker DaemonSet. A refused read says nothing. */
export async function metallbEvidence(client: KubeClient): Promise<string | undefined> {
  try {
    const ns = await client.get<Obj>('/api/v1/namespaces/metallb-system', { verb: 'get', resource: 'namespaces', name: 'metallb-system' }, { optional: true });
    if (ns) return 'namespace metallb-system';
    const crd = await client.get<Obj>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ipaddresspools.metallb.io', { verb: 'get', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io', name: 'ipaddresspools.metallb.io' }, { optional: true });
    if (crd) return 'CRD ipaddresspools.metallb.io';
  } catch (err) {
    if (!(err instanceof ProxymodeError)) throw err;
  }
  return undefined;
}

// ---- backups ----

export interface Backup {
  version: 1;
  server: string;
  context: string;
  takenAt: string;
  /** The mode before the change, as written. */
  mode: string;
  kind: 'ConfigMap' | 'DaemonSet';
  namespace: string;
  name: string;
  /** ConfigMap: the key and its text as it was. */
  key?: string;
  text?: string;
  /** DaemonSet: its containers as they were. */
  containers?: Obj[];
  /** The whole object as it was read, for a person restoring by hand. */
  object: Obj;
}

export function defaultBackupDir(): string {
  return join(homedir(), '.kube', 'proxymode', 'backups');
}

/** Writes the backup before anything is changed; returns its path. A backup that cannot be written stops the switch. */
export function writeBackup(dir: string, backup: Backup): string {
  const stamp = backup.takenAt.replace(/[-:]/g, '').replace('.', '');
  const base = join(dir, `${backup.kind.toLowerCase()}-${backup.namespace}-${backup.name}-${stamp}`);
  for (let n = 0; ; n++) {
    const file = `${base}${n ? `-${n}` : ''}.json`;
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `${JSON.stringify(backup, null, 2)}\n`, { flag: 'wx' });
      return file;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && n < 100) continue;
      throw new InputError(`cannot write the backup ${file} (${code ?? (err as Error).message}); nothing was changed — give a writable --backup-dir.`);
    }
  }
}

/** The newest backup taken of this cluster (same API server), or undefined. */
export function latestBackup(dir: string, server: string): { file: string; backup: Backup } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return undefined;
  }
  const found: Array<{ file: string; backup: Backup }> = [];
  for (const n of names) {
    try {
      const b = JSON.parse(readFileSync(join(dir, n), 'utf8')) as Backup;
      if (b.version === 1 && b.server === server) found.push({ file: join(dir, n), backup: b });
    } catch {
      // not ours
    }
  }
  found.sort((a, b) => (a.backup.takenAt === b.backup.takenAt ? (a.file < b.file ? 1 : -1) : a.backup.takenAt < b.backup.takenAt ? 1 : -1));
  return found[0];
}
