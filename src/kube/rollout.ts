// Follows a DaemonSet rollout as `kubectl rollout status` does (kubectl's DaemonSetStatusViewer: the
// controller has seen the new generation, every scheduled pod is updated, and every updated pod is
// available), then checks what each node's new kube-proxy pod says it started — its log's "Using …
// Proxier" line, read as `get` reads it.
import { ProxymodeError } from '../core/errors.js';
import { parseKubeProxyLog } from '../core/report/evidence.js';
import { KUBE_PROXY_SELECTORS, kubeProxyPodFrom } from '../core/report/objects.js';
import type { KubeProxyPod } from '../core/report/mode.js';
import type { KubeClient } from './client.js';
import { readKubeProxyLogs } from './logs.js';
import { readDaemonSet } from './set-mode-api.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/** How often the rollout and the pods are looked at again. */
export const POLL_MS = 1000;

export interface RolloutResult {
  done: boolean;
  /** kubectl's words for where it stands ("2 out of 3 new pods have been updated"). */
  status: string;
}

/** kubectl's rollout status of a DaemonSet, in its own words; done when the rollout finished. */
export function daemonSetRolloutStatus(ds: Obj): RolloutResult {
  const name = ds?.metadata?.name ?? 'kube-proxy';
  const st = ds?.status ?? {};
  if (ds?.spec?.updateStrategy?.type && ds.spec.updateStrategy.type !== 'RollingUpdate') {
    return { done: false, status: `daemon set "${name}" uses the ${ds.spec.updateStrategy.type} update strategy, so its pods are replaced only when deleted` };
  }
  if ((ds?.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) return { done: false, status: `waiting for daemon set "${name}" spec update to be observed` };
  const desired = st.desiredNumberScheduled ?? 0;
  if ((st.updatedNumberScheduled ?? 0) < desired) return { done: false, status: `${st.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated` };
  if ((st.numberAvailable ?? 0) < desired) return { done: false, status: `${st.numberAvailable ?? 0} of ${desired} updated pods are available` };
  return { done: true, status: `daemon set "${name}" successfully rolled out` };
}

export async function followRollout(client: KubeClient, namespace: string, name: string, deadline: number, onProgress: (text: string) => void, clock: Clock = realClock): Promise<RolloutResult> {
  let last: RolloutResult = { done: false, status: 'not read yet' };
  for (;;) {
    const ds = await readDaemonSet(client, namespace, name);
    last = daemonSetRolloutStatus(ds);
    onProgress(`rollout: ${last.status}`);
    if (last.done || clock.now() >= deadline) return last;
    await clock.sleep(Math.min(POLL_MS, Math.max(0, deadline - clock.now())));
  }
}

export interface NodeVerdict {
  node: string;
  ok: boolean;
  /** The mode the node's new pod says it runs, or null. */
  running: string | null;
  pod: string | null;
  /** Why it is not verified (one sentence), or the log line that verified it. */
  evidence: string;
}

/** Lists the kube-proxy pods (both labels kube-proxy pods carry), deduplicated. */
export async function kubeProxyPods(client: KubeClient, namespace = 'kube-system'): Promise<Array<KubeProxyPod & { uid: string }>> {
  const path = `/api/v1/namespaces/${namespace}/pods`;
  const out = new Map<string, KubeProxyPod & { uid: string }>();
  for (const sel of KUBE_PROXY_SELECTORS) {
    for (const p of await client.list<Obj>(path, { verb: 'list', resource: 'pods', namespace }, { labelSelector: sel })) {
      const kp = kubeProxyPodFrom(p);
      const uid = p?.metadata?.uid ?? p?.metadata?.name;
      if (kp && !p?.metadata?.deletionTimestamp) out.set(uid, { ...kp, uid });
    }
  }
  return [...out.values()];
}

/**
 * Until every node in `nodes` has a kube-proxy pod that was not there before (`oldPods`: uids) whose log
 * says it started `mode`, or until the deadline: each node's verdict.
 */
export async function verifyNodes(
  client: KubeClient,
  nodes: string[],
  mode: string,
  oldPods: Set<string>,
  deadline: number,
  onProgress: (text: string) => void,
  clock: Clock = realClock,
): Promise<NodeVerdict[]> {
  const verdicts = new Map<string, NodeVerdict>(nodes.map((n) => [n, { node: n, ok: false, running: null, pod: null, evidence: 'no new kube-proxy pod has started on this node' }]));
  for (;;) {
    const pending = nodes.filter((n) => !verdicts.get(n)!.ok);
    let pods: Array<KubeProxyPod & { uid: string }> = [];
    try {
      pods = (await kubeProxyPods(client)).filter((p) => !oldPods.has(p.uid) && pending.includes(p.node));
    } catch (err) {
      if (!(err instanceof ProxymodeError)) throw err;
      for (const n of pending) verdicts.get(n)!.evidence = err.message;
    }
    await readKubeProxyLogs(client, pods);
    for (const p of pods) {
      const v = verdicts.get(p.node)!;
      v.pod = `${p.namespace}/${p.name}`;
      if (p.log === undefined) {
        v.evidence = p.logNote ?? `kube-proxy pod ${p.name}'s log could not be read`;
        continue;
      }
      const said = parseKubeProxyLog(p.log);
      v.running = said.running ?? (said.crash ? 'none' : null);
      if (said.running === mode) Object.assign(v, { ok: true, evidence: said.line ?? `Using ${mode} Proxier` });
      else if (said.crash) v.evidence = `kube-proxy pod ${p.name} exits: ${said.crash} (${p.state}, ${p.restarts} restarts)`;
      else if (said.running) v.evidence = `kube-proxy pod ${p.name} started ${said.running}${said.fallbackReason ? ` (fell back: ${said.fallbackReason})` : ''}`;
      else v.evidence = `kube-proxy pod ${p.name} (${p.state}) has not said which proxier it started yet`;
    }
    const ok = nodes.filter((n) => verdicts.get(n)!.ok).length;
    onProgress(`verifying: ${ok} of ${nodes.length} nodes run ${mode}`);
    if (ok === nodes.length || clock.now() >= deadline) return nodes.map((n) => verdicts.get(n)!);
    await clock.sleep(Math.min(POLL_MS, Math.max(0, deadline - clock.now())));
  }
}
