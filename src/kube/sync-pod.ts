// `sync --on-node NODE`: the proxier runs on the node itself, in a pod of this tool's image: privileged,
// hostNetwork, pinned to the node, tolerating every taint, system-node-critical, with the xtables lock and
// /lib/modules (read-only) from the host, a ServiceAccount of its own with the least RBAC (sync-rbac.ts;
// or --service-account), and a deadline. The pod and its RBAC are registered with the cleanup registry
// from their create requests on, and deleted on every path: when it finishes, fails, cannot start, or on
// SIGINT/SIGTERM. It refuses to run beside a live kube-proxy (kubeProxyBeside) unless forced.
import { Agent as HttpAgent } from 'node:http';
import fetch, { type RequestInit } from 'node-fetch';
import { ClusterError } from '../core/errors.js';
import { cleanup } from './cleanup.js';
import type { KubeClient } from './client.js';
import type { RequestIntent } from './request.js';
import { createAll, removeAll, SYNC_LABEL, syncRbacSpecs, type Tracked } from './sync-rbac.js';
import { detectReplacement, isKubeProxyPod } from '../core/report/objects.js';
import { randomBytes } from 'node:crypto';
import { VERSION } from '../version.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

/** The image `sync --on-node/--all-nodes` and `set --cleanup` run: this tool's Dockerfile, this version. */
export const SYNC_IMAGE = `ghcr.io/kubectl-proxymode/kubectl-proxymode:${VERSION}`;
export const SYNC_POD_NAMESPACE = 'kube-system';
export const SYNC_POD_LABEL = SYNC_LABEL;

export interface SyncPodOptions {
  image: string;
  /** The sync arguments the pod runs (without --on-node). */
  args: string[];
  namespace?: string;
  /** An existing ServiceAccount to run as; without it one is created with the least RBAC and removed after. */
  serviceAccount?: string;
  /** activeDeadlineSeconds: the pod ends by itself after this long. */
  deadlineSeconds: number;
  pollMs?: number;
  /** The API server as this command reaches it; the pod is pointed there (apiServerEnv). */
  server?: string;
  /** Instead of `sync ARGS`: this command (e.g. `sh -c SCRIPT` for set --cleanup); the pod then reads no API. */
  command?: string[];
  /** The pod's name prefix (default proxymode-sync-). */
  generateName?: string;
  /** Each new log chunk of the pod, as it finishes. */
  onLog?: (text: string) => void;
  /** The pod's log as it is written (follow=true), from the moment it runs; the result's log is then what was streamed. */
  follow?: (text: string) => void;
}

/**
 * Where the pod reaches the API server: the address this command used, not the kubernetes Service's
 * ClusterIP — on a node where our proxier is to replace kube-proxy, nothing may program that ClusterIP
 * yet (kube-proxy's own DaemonSet reads a kubeconfig with the real address for the same reason).
 * Loopback addresses are left to the in-cluster default.
 */
export function apiServerEnv(server: string | undefined): Array<{ name: string; value: string }> {
  if (!server) return [];
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return [];
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'https:' || host === 'localhost' || /^127\./.test(host) || host === '::1') return [];
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: host },
    { name: 'KUBERNETES_SERVICE_PORT', value: url.port || '443' },
  ];
}

/** The pod spec `--on-node` and `--all-nodes` share: kube-proxy's privileges, mounts and tolerations. */
export function syncPodTemplateSpec(opts: { image: string; args: string[]; serviceAccount: string; server?: string }): Obj {
  const env = apiServerEnv(opts.server);
  return {
    hostNetwork: true,
    dnsPolicy: 'ClusterFirstWithHostNet',
    priorityClassName: 'system-node-critical',
    serviceAccountName: opts.serviceAccount,
    terminationGracePeriodSeconds: 5,
    tolerations: [{ operator: 'Exists' }],
    containers: [
      {
        name: 'sync',
        image: opts.image,
        args: ['sync', ...opts.args],
        ...(env.length ? { env } : {}),
        securityContext: { privileged: true },
        volumeMounts: [
          { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
          { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
      { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
    ],
  };
}

export function syncPodSpec(node: string, opts: SyncPodOptions & { serviceAccount: string }): Obj {
  const spec = syncPodTemplateSpec({ image: opts.image, args: [...opts.args, '--node', node], serviceAccount: opts.serviceAccount, server: opts.server });
  if (opts.command) {
    spec.containers[0].command = opts.command;
    delete spec.containers[0].args;
    spec.automountServiceAccountToken = false;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: opts.generateName ?? 'proxymode-sync-', namespace: opts.namespace ?? SYNC_POD_NAMESPACE, labels: { ...SYNC_POD_LABEL } },
    spec: { nodeName: node, restartPolicy: 'Never', activeDeadlineSeconds: opts.deadlineSeconds, ...spec },
  };
}

/** A name no other run picks: kubectl-proxymode-sync-x7k2p. */
export function runName(): string {
  return `kubectl-proxymode-sync-${randomBytes(4).toString('hex').slice(0, 5)}`;
}

/** Without --service-account: a ServiceAccount with the least RBAC, created now and removed after `body`. */
export async function withServiceAccount<T>(client: KubeClient, namespace: string, given: string | undefined, body: (serviceAccount: string) => Promise<T>): Promise<T> {
  if (given) return body(given);
  const name = runName();
  const rbac: Tracked[] = await createAll(client, syncRbacSpecs(name, namespace));
  try {
    return await body(name);
  } finally {
    await removeAll(rbac);
  }
}

/** Runs the pod to its end; resolves its phase and log; the pod is gone when this settles (or says what is left). */
export async function runSyncPod(client: KubeClient, node: string, opts: SyncPodOptions): Promise<{ phase: string; log: string }> {
  const ns = opts.namespace ?? SYNC_POD_NAMESPACE;
  return withServiceAccount(client, ns, opts.serviceAccount, (serviceAccount) => runPod(client, node, ns, { server: client.at.server, ...opts, serviceAccount }));
}

async function runPod(client: KubeClient, node: string, ns: string, opts: SyncPodOptions & { serviceAccount: string }): Promise<{ phase: string; log: string }> {
  const podsPath = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
  if (cleanup.interrupted) return { phase: 'Interrupted', log: '' };
  const created = await cleanup.creating(client.post<Obj>(podsPath, syncPodSpec(node, opts), { verb: 'create', resource: 'pods', namespace: ns }));
  const name: string = created?.metadata?.name;
  const podPath = `${podsPath}/${encodeURIComponent(name)}`;
  let removal: Promise<unknown> | undefined;
  const remove = () =>
    (removal ??= client.delete(podPath, { verb: 'delete', resource: 'pods', namespace: ns, name }, { gracePeriodSeconds: '5' }).catch((e) => {
      removal = undefined;
      throw e;
    }));
  const removeWith = `kubectl${client.at.context ? ` --context ${client.at.context}` : ''} -n ${ns} delete pod ${name}`;
  const release = cleanup.add({ description: `sync pod ${ns}/${name} on node ${node}`, removeWith, remove });
  let stream: ReturnType<typeof followLog> | undefined;
  try {
    const intent: RequestIntent = { verb: 'get', resource: 'pods', namespace: ns, name };
    const until = Date.now() + (opts.deadlineSeconds + 30) * 1000;
    for (;;) {
      if (cleanup.interrupted) return { phase: 'Interrupted', log: '' };
      const pod = await client.get<Obj>(podPath, intent, { optional: true });
      if (!pod) throw new ClusterError(`sync pod ${ns}/${name} on node ${node} was deleted before it finished.`);
      const phase: string = pod.status?.phase ?? 'Pending';
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainer/.test(waiting.reason)) {
        throw new ClusterError(`sync pod ${ns}/${name} on node ${node} cannot start: ${waiting.reason}; give an image the node can pull with --image.`);
      }
      if (opts.follow && !stream && phase !== 'Pending') stream = followLog(client, podPath, opts.follow);
      if (phase === 'Succeeded' || phase === 'Failed') {
        const streamed = stream ? await stream.done(5_000) : undefined;
        const log = streamed ?? (await readLog(client, podPath));
        if (streamed === undefined) opts.follow?.(log);
        opts.onLog?.(log);
        return { phase, log };
      }
      if (Date.now() > until) throw new ClusterError(`sync pod ${ns}/${name} on node ${node} did not finish within its deadline.`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  } finally {
    stream?.stop();
    await remove();
    release();
  }
}

/**
 * Follows the sync container's log (follow=true) and hands each chunk on as it arrives. done() resolves
 * what was streamed once the stream ends (the container exited), or undefined when it could not be
 * followed or did not end within `ms` — the caller then reads the whole log instead.
 */
function followLog(client: KubeClient, podPath: string, onChunk: (text: string) => void): { done: (ms: number) => Promise<string | undefined>; stop: () => void } {
  let text = '';
  let body: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
  let stopped = false;
  const ended = (async (): Promise<string | undefined> => {
    let init = (await client.kubeConfig.applyToFetchOptions({ method: 'GET' })) as unknown as RequestInit;
    if (client.at.server.startsWith('http:')) init = { ...init, agent: new HttpAgent() };
    const res = await fetch(`${client.at.server}${podPath}/log?container=sync&follow=true`, { ...init, method: 'GET' });
    if (res.status !== 200 || stopped) return undefined;
    body = res.body as typeof body;
    return new Promise<string | undefined>((resolve) => {
      body!.on('data', (c: Buffer) => {
        const t = c.toString('utf8');
        text += t;
        onChunk(t);
      });
      body!.on('end', () => resolve(text));
      body!.on('error', () => resolve(undefined));
    });
  })().catch(() => undefined);
  return {
    done: (ms) => Promise.race([ended, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]),
    stop: () => {
      stopped = true;
      body?.destroy?.();
    },
  };
}

/** The sync container's log (`tail` lines when given); a refusal is said in the text, not thrown. */
export async function readLog(client: KubeClient, podPath: string, tail?: number): Promise<string> {
  let init = (await client.kubeConfig.applyToFetchOptions({ method: 'GET' })) as unknown as RequestInit;
  if (client.at.server.startsWith('http:')) init = { ...init, agent: new HttpAgent() };
  const res = await fetch(`${client.at.server}${podPath}/log?container=sync${tail ? `&tailLines=${tail}` : ''}`, { ...init, method: 'GET', timeout: client.requestTimeoutMs });
  const body = await res.text();
  return res.status === 200 ? body : `(its log could not be read: HTTP ${res.status})`;
}

/** What already proxies Services on a node: kube-proxy pods (DaemonSet or static kube-proxy-NODE) and replacements. */
export interface Beside {
  /** "pod kube-system/kube-proxy-abcde on node worker-1" */
  pods: Array<{ node: string; text: string }>;
  /** "Cilium (ConfigMap kube-system/cilium-config kube-proxy-replacement=true)" */
  replacement?: string;
}

/** kube-proxy pods (all nodes, or `node`'s) that are not finished or being deleted, and a full replacement, as `get` finds them. */
export async function kubeProxyBeside(client: KubeClient, node?: string): Promise<Beside> {
  const ns = 'kube-system';
  const pods = await client.list<Obj>(`/api/v1/namespaces/${ns}/pods`, { verb: 'list', resource: 'pods', namespace: ns }, node ? { fieldSelector: `spec.nodeName=${node}` } : {});
  const found: Beside['pods'] = [];
  for (const p of pods) {
    const name: string = p?.metadata?.name ?? '';
    const on: string = p?.spec?.nodeName ?? '';
    const ours = Object.entries(SYNC_LABEL).every(([k, v]) => p?.metadata?.labels?.[k] === v);
    const kubeProxy = isKubeProxyPod(p) || (on !== '' && name === `kube-proxy-${on}`) || (/^kube-proxy-[a-z0-9]{5}$/.test(name) && p?.metadata?.ownerReferences?.some((o: Obj) => o.kind === 'DaemonSet'));
    if (ours || !kubeProxy || p?.metadata?.deletionTimestamp) continue;
    if (p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed') continue;
    found.push({ node: on, text: `pod ${ns}/${name} on node ${on}` });
  }
  let replacement: string | undefined;
  try {
    const [daemonSets, ciliumConfig] = await Promise.all([
      client.list<Obj>(`/apis/apps/v1/namespaces/${ns}/daemonsets`, { verb: 'list', resource: 'daemonsets', group: 'apps', namespace: ns }),
      client.get<Obj>(`/api/v1/namespaces/${ns}/configmaps/cilium-config`, { verb: 'get', resource: 'configmaps', namespace: ns, name: 'cilium-config' }, { optional: true }),
    ]);
    const r = detectReplacement({ daemonSets, ciliumConfig });
    if (r?.full) replacement = `${r.name} (${r.evidence})`;
  } catch {
    // a replacement that cannot be read is not claimed
  }
  return { pods: found, replacement };
}

/** One sentence why sync does not run beside what `beside` found, or undefined when nothing is there. */
export function besideRefusal(beside: Beside, where: string): string | undefined {
  const what = beside.pods.length
    ? `kube-proxy runs ${where === 'every node' ? 'in the cluster' : `on ${where}`} (${beside.pods.slice(0, 3).map((p) => p.text).join(', ')}${beside.pods.length > 3 ? ` and ${beside.pods.length - 3} more` : ''})`
    : beside.replacement
      ? `${beside.replacement} replaces kube-proxy in this cluster`
      : undefined;
  if (!what) return undefined;
  return `refusing to sync on ${where}: ${what}, and both would own the same chains and tables and undo each other's rules; stop it first, or add --force to run beside it anyway.`;
}
