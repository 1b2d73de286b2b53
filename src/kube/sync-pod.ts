// `sync --on-node NODE`: the proxier runs on the node itself, in a pod of this tool's image: privileged,
// hostNetwork, pinned to the node, tolerating every taint, system-node-critical, with the xtables lock and
// /lib/modules (read-only) from the host, kube-proxy's service account (whose RBAC lists and watches what
// the proxier reads), and a deadline. The pod is registered with the cleanup registry from its create
// request on, and deleted on every path: when it finishes, fails, cannot start, or on SIGINT/SIGTERM.
import { Agent as HttpAgent } from 'node:http';
import fetch, { type RequestInit } from 'node-fetch';
import { ClusterError } from '../core/errors.js';
import { cleanup } from './cleanup.js';
import type { KubeClient } from './client.js';
import type { RequestIntent } from './request.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export const SYNC_POD_NAMESPACE = 'kube-system';
export const SYNC_POD_SERVICE_ACCOUNT = 'kube-proxy';
export const SYNC_POD_LABEL = { 'app.kubernetes.io/name': 'kubectl-proxymode-sync' };

export interface SyncPodOptions {
  image: string;
  /** The sync arguments the pod runs (without --on-node). */
  args: string[];
  namespace?: string;
  serviceAccount?: string;
  /** activeDeadlineSeconds: the pod ends by itself after this long. */
  deadlineSeconds: number;
  pollMs?: number;
  /** Each new log chunk of the pod, as it finishes. */
  onLog?: (text: string) => void;
}

export function syncPodSpec(node: string, opts: SyncPodOptions): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'proxymode-sync-', namespace: opts.namespace ?? SYNC_POD_NAMESPACE, labels: { ...SYNC_POD_LABEL } },
    spec: {
      nodeName: node,
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      priorityClassName: 'system-node-critical',
      serviceAccountName: opts.serviceAccount ?? SYNC_POD_SERVICE_ACCOUNT,
      activeDeadlineSeconds: opts.deadlineSeconds,
      terminationGracePeriodSeconds: 5,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'sync',
          image: opts.image,
          args: ['sync', ...opts.args, '--node', node],
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
    },
  };
}

/** Runs the pod to its end; resolves its phase and log; the pod is gone when this settles (or says what is left). */
export async function runSyncPod(client: KubeClient, node: string, opts: SyncPodOptions): Promise<{ phase: string; log: string }> {
  const ns = opts.namespace ?? SYNC_POD_NAMESPACE;
  const podsPath = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
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
      if (phase === 'Succeeded' || phase === 'Failed') {
        const log = await readLog(client, podPath);
        opts.onLog?.(log);
        return { phase, log };
      }
      if (Date.now() > until) throw new ClusterError(`sync pod ${ns}/${name} on node ${node} did not finish within its deadline.`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  } finally {
    await remove();
    release();
  }
}

async function readLog(client: KubeClient, podPath: string): Promise<string> {
  let init = (await client.kubeConfig.applyToFetchOptions({ method: 'GET' })) as unknown as RequestInit;
  if (client.at.server.startsWith('http:')) init = { ...init, agent: new HttpAgent() };
  const res = await fetch(`${client.at.server}${podPath}/log?container=sync`, { ...init, method: 'GET', timeout: client.requestTimeoutMs });
  const body = await res.text();
  return res.status === 200 ? body : `(its log could not be read: HTTP ${res.status})`;
}
