// An in-process API server that keeps objects: POST creates (generateName too; 409 when the name is taken),
// GET reads an object or lists a collection (labelSelector k=v, fieldSelector spec.nodeName=), DELETE
// removes. Hooks shape status (a pod's phase, a DaemonSet's rollout), refuse as RBAC would, and answer
// pods/log. Every request is recorded. Over a real socket, for kube/ and cli/ tests alike.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

const RESOURCES = new Set(['namespaces', 'pods', 'serviceaccounts', 'clusterroles', 'clusterrolebindings', 'roles', 'rolebindings', 'daemonsets', 'configmaps', 'nodes', 'services', 'endpointslices', 'selfsubjectaccessreviews']);

export interface ObjectServerOptions {
  /** Objects present at start, as the API returns them (kind, metadata.namespace, metadata.name). */
  seed?: Obj[];
  /** A 403 for this request, as RBAC refuses. */
  forbid?: (method: string, path: string) => boolean;
  /** Shapes an object as it is read (its status); `n` counts reads of that path. */
  status?: (path: string, obj: Obj, n: number) => Obj;
  /** Called after an object is created (e.g. a DaemonSet's pods appear). */
  created?: (path: string, obj: Obj, store: Map<string, Obj>) => void;
  /** pods/log text. */
  log?: (podPath: string) => string;
  /** pods/exec over WebSocket (see test/cli/fake-exec.ts). */
  upgrade?: (server: http.Server) => void;
}

export interface ObjectServer {
  url: string;
  kubeconfig: string;
  store: Map<string, Obj>;
  requests: string[];
  close(): void;
}

let serial = 0;

/** The API path of an object. */
export function pathOf(o: Obj): string {
  const plural = `${String(o.kind).toLowerCase()}s`.replace(/ys$/, 'ies').replace(/sss$/, 'sses');
  const group = String(o.apiVersion ?? 'v1').includes('/') ? `/apis/${o.apiVersion}` : '/api/v1';
  const ns = o.metadata?.namespace && o.kind !== 'Namespace' ? `/namespaces/${o.metadata.namespace}` : '';
  return `${group}${ns}/${plural}/${o.metadata.name}`;
}

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

function matches(o: Obj, q: URLSearchParams): boolean {
  for (const term of (q.get('labelSelector') ?? '').split(',').filter(Boolean)) {
    const [k, v] = term.split('=');
    if (o.metadata?.labels?.[k] !== v) return false;
  }
  for (const term of (q.get('fieldSelector') ?? '').split(',').filter(Boolean)) {
    const [k, v] = term.split('=');
    if (k === 'spec.nodeName' && o.spec?.nodeName !== v) return false;
  }
  return true;
}

export async function objectServer(opts: ObjectServerOptions = {}): Promise<ObjectServer> {
  const store = new Map<string, Obj>();
  for (const o of opts.seed ?? []) store.set(pathOf(o), o);
  const reads = new Map<string, number>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const path = url.pathname;
      requests.push(`${req.method} ${path}`);
      res.setHeader('Content-Type', 'application/json');
      const verb = req.method === 'POST' ? 'create' : req.method === 'DELETE' ? 'delete' : req.method === 'PATCH' ? 'patch' : RESOURCES.has(path.split('/').pop()!) ? 'list' : 'get';
      if (opts.forbid?.(req.method!, path)) {
        const resource = (req.method === 'POST' || verb === 'list' ? path.split('/').pop() : path.split('/').slice(-2)[0]) ?? '';
        res.statusCode = 403;
        res.end(status(403, 'Forbidden', `${resource} is forbidden: User "tester" cannot ${verb} resource "${resource}" in API group ""`));
        return;
      }
      if (path.endsWith('/log')) {
        res.setHeader('Content-Type', 'text/plain');
        res.end(opts.log?.(path.slice(0, -4)) ?? '');
        return;
      }
      if (req.method === 'POST') {
        const o = JSON.parse(body);
        if (path.endsWith('/selfsubjectaccessreviews')) {
          res.statusCode = 201;
          res.end(JSON.stringify({ ...o, status: { allowed: true } }));
          return;
        }
        const name = o.metadata?.name ?? `${o.metadata?.generateName ?? 'x-'}${String(serial++).padStart(5, 'a')}`;
        const key = `${path}/${name}`;
        if (store.has(key)) {
          res.statusCode = 409;
          res.end(status(409, 'AlreadyExists', `${path.split('/').pop()} "${name}" already exists`));
          return;
        }
        const made = { ...o, metadata: { ...o.metadata, name, uid: `uid-${serial++}`, generation: 1, resourceVersion: '1' } };
        store.set(key, made);
        opts.created?.(key, made, store);
        res.statusCode = 201;
        res.end(JSON.stringify(made));
        return;
      }
      if (req.method === 'DELETE') {
        if (!store.delete(path)) {
          res.statusCode = 404;
          res.end(status(404, 'NotFound', `"${path.split('/').pop()}" not found`));
          return;
        }
        // a namespace takes what is in it
        if (/^\/api\/v1\/namespaces\/[^/]+$/.test(path)) for (const k of [...store.keys()]) if (k.includes(`/namespaces/${path.split('/').pop()}/`)) store.delete(k);
        res.end(JSON.stringify({ kind: 'Status', status: 'Success' }));
        return;
      }
      if (verb === 'list') {
        const items = [...store.entries()].filter(([k]) => k.slice(0, k.lastIndexOf('/')) === path).map(([, o]) => o).filter((o) => matches(o, url.searchParams));
        res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '1' }, items }));
        return;
      }
      const o = store.get(path);
      if (!o) {
        res.statusCode = 404;
        res.end(status(404, 'NotFound', `"${path.split('/').pop()}" not found`));
        return;
      }
      const n = (reads.get(path) ?? 0) + 1;
      reads.set(path, n);
      res.end(JSON.stringify(opts.status ? opts.status(path, o, n) : o));
    });
  });
  opts.upgrade?.(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pm-objects-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  return {
    url,
    kubeconfig,
    store,
    requests,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The objects in the store that carry sync's label. */
export function ours(store: Map<string, Obj>): string[] {
  return [...store.entries()].filter(([, o]) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'kubectl-proxymode-sync').map(([k]) => k).sort();
}
