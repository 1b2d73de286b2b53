// `sync --all-nodes`: the `--on-node` pod's spec as a DaemonSet, so our proxier runs on every node through
// Kubernetes itself (it restarts, it follows new nodes), in a namespace of its own with its own RBAC; every
// object carries one label. It is long-lived by design: once the rollout is ready it stays until
// `sync --remove`. Before that (a refusal, a pod that cannot start, the timeout, Ctrl-C) everything created
// is deleted again, so a failed install leaves nothing behind.
import { ClusterError, ExitCode, ProxymodeError } from '../core/errors.js';
import { cleanup } from './cleanup.js';
import type { KubeClient } from './client.js';
import type { RequestIntent } from './request.js';
import { readLog, syncPodTemplateSpec } from './sync-pod.js';
import { createAll, KINDS, objectPath, removeAll, removeIfOurs, SYNC_LABEL, SYNC_LABEL_SELECTOR, syncRbacSpecs, collectionPath } from './sync-rbac.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export const ALL_NODES_NAMESPACE = 'kubectl-proxymode';
export const ALL_NODES_NAME = 'kubectl-proxymode-sync';

/** Pending reasons that waiting does not cure. */
const STUCK = /ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull|CreateContainerConfigError|CreateContainerError|CrashLoopBackOff/;

export interface AllNodesOptions {
  image: string;
  /** The sync arguments every pod runs (the node comes from the downward API). */
  args: string[];
  timeoutMs: number;
  pollMs?: number;
  onProgress?: (text: string) => void;
}

/** Namespace (Pod Security: privileged), ServiceAccount and RBAC, DaemonSet — in the order they are created. */
export function allNodesSpecs(opts: { image: string; args: string[]; server?: string }): Obj[] {
  const ns = ALL_NODES_NAMESPACE;
  const name = ALL_NODES_NAME;
  const template = syncPodTemplateSpec({ image: opts.image, args: [...opts.args, '--node', '$(NODE_NAME)'], serviceAccount: name, server: opts.server });
  template.containers[0].env = [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, ...(template.containers[0].env ?? [])];
  template.nodeSelector = { 'kubernetes.io/os': 'linux' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...SYNC_LABEL, 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    ...syncRbacSpecs(name, ns),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: ns, labels: { ...SYNC_LABEL } },
      spec: {
        selector: { matchLabels: { ...SYNC_LABEL } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: { metadata: { labels: { ...SYNC_LABEL } }, spec: template },
      },
    },
  ];
}

export interface AllNodesResult {
  /** Per node: its pod and the last lines of its log. */
  pods: Array<{ node: string; pod: string; log: string }>;
  interrupted: boolean;
}

/** Creates everything, waits for the rollout, and keeps it; on any failure before ready deletes what it created. */
export async function installAllNodes(client: KubeClient, opts: AllNodesOptions): Promise<AllNodesResult> {
  const ns = ALL_NODES_NAMESPACE;
  const dsPath = objectPath(KINDS.DaemonSet, ALL_NODES_NAME, ns);
  const existing = await client.get<Obj>(dsPath, { verb: 'get', resource: 'daemonsets', group: 'apps', namespace: ns, name: ALL_NODES_NAME }, { optional: true });
  if (existing) {
    throw new ProxymodeError(`sync already runs on every node (DaemonSet ${ns}/${ALL_NODES_NAME}); remove it first with: kubectl proxymode sync --remove`, ExitCode.PROBLEM);
  }
  const say = opts.onProgress ?? (() => {});
  const created = await createAll(client, allNodesSpecs({ ...opts, server: client.at.server }));
  if (cleanup.interrupted) return { pods: [], interrupted: true };
  say(`created ${created.map((c) => c.description).join(', ')}`);
  try {
    const ready = await waitReady(client, opts);
    if (ready === 'interrupted') return { pods: [], interrupted: true };
  } catch (e) {
    await removeAll(created).catch(() => {});
    throw e;
  }
  for (const c of created) c.keep();
  const pods = await listPods(client);
  const out: AllNodesResult['pods'] = [];
  for (const p of pods) {
    const log = await readLog(client, objectPath(KINDS.Pod, p.metadata.name, ns), 3);
    out.push({ node: p.spec?.nodeName ?? '', pod: p.metadata.name, log: log.trim() });
  }
  out.sort((a, b) => a.node.localeCompare(b.node));
  return { pods: out, interrupted: false };
}

function listPods(client: KubeClient): Promise<Obj[]> {
  const ns = ALL_NODES_NAMESPACE;
  return client.list<Obj>(collectionPath(KINDS.Pod, ns), { verb: 'list', resource: 'pods', namespace: ns }, { labelSelector: SYNC_LABEL_SELECTOR });
}

/** Until every scheduled pod of the DaemonSet is updated and ready; throws on a stuck pod or the timeout. */
async function waitReady(client: KubeClient, opts: AllNodesOptions): Promise<'ready' | 'interrupted'> {
  const ns = ALL_NODES_NAMESPACE;
  const until = Date.now() + opts.timeoutMs;
  const intent: RequestIntent = { verb: 'get', resource: 'daemonsets', group: 'apps', namespace: ns, name: ALL_NODES_NAME };
  for (;;) {
    if (cleanup.interrupted) return 'interrupted';
    const ds = await client.get<Obj>(objectPath(KINDS.DaemonSet, ALL_NODES_NAME, ns), intent, { optional: true });
    if (!ds) throw new ClusterError(`DaemonSet ${ns}/${ALL_NODES_NAME} was deleted while its rollout was awaited.`);
    const st = ds.status ?? {};
    const desired = st.desiredNumberScheduled ?? 0;
    const observed = (st.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 1);
    opts.onProgress?.(`DaemonSet ${ns}/${ALL_NODES_NAME}: ${st.numberReady ?? 0}/${desired} pods ready`);
    if (observed && desired > 0 && (st.numberReady ?? 0) >= desired && (st.updatedNumberScheduled ?? desired) >= desired) return 'ready';
    for (const p of await listPods(client)) {
      const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && STUCK.test(waiting.reason)) {
        throw new ClusterError(`the sync pod ${ns}/${p.metadata.name} on node ${p.spec?.nodeName ?? '?'} cannot run: ${waiting.reason}${waiting.message ? ` (${String(waiting.message).split('\n')[0]})` : ''}; everything --all-nodes created was deleted — give an image the nodes can pull with --image.`);
      }
    }
    if (Date.now() > until) {
      throw new ClusterError(`DaemonSet ${ns}/${ALL_NODES_NAME} was not ready within the timeout (${st.numberReady ?? 0} of ${desired} pods ready); everything --all-nodes created was deleted.`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}

/** `sync --remove`: the DaemonSet, its RBAC and its namespace, each only when it carries our label. */
export async function removeAllNodes(client: KubeClient): Promise<Array<{ object: string; result: 'deleted' | 'absent' | 'not ours' }>> {
  const ns = ALL_NODES_NAMESPACE;
  const name = ALL_NODES_NAME;
  const order: Array<[keyof typeof KINDS, string | undefined]> = [
    ['DaemonSet', ns],
    ['ClusterRoleBinding', undefined],
    ['ClusterRole', undefined],
    ['RoleBinding', 'kube-system'],
    ['Role', 'kube-system'],
    ['ServiceAccount', ns],
  ];
  const out: Array<{ object: string; result: 'deleted' | 'absent' | 'not ours' }> = [];
  for (const [kind, where] of order) {
    out.push({ object: `${kind} ${where ? `${where}/` : ''}${name}`, result: await removeIfOurs(client, KINDS[kind], name, where) });
  }
  out.push({ object: `Namespace ${ns}`, result: await removeIfOurs(client, KINDS.Namespace, ns) });
  return out;
}
