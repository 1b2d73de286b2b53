// Reads the start of kube-proxy pods' logs (pods/log), many at once with a bounded number in flight.
// kube-proxy says which proxier it started ("Using iptables Proxier") in its first lines, so each read asks
// for the first `limitBytes` of the log rather than a tail: a long-running pod's tail holds only sync chatter.
// A crash-looping pod's current container has not logged yet, so its previous container's log is read.
import { Agent as HttpAgent } from 'node:http';
import fetch, { type RequestInit } from 'node-fetch';
import type { KubeClient } from './client.js';
import type { KubeProxyPod } from '../core/report/mode.js';
import { parseStatus } from './errors.js';

/** Bytes read from the start of each log: kube-proxy's start-up lines at --v=4 fit in a few KiB. */
export const LOG_LIMIT_BYTES = 16 * 1024;
/** Log reads in flight at once: enough to read 5,000 logs in about a second, few enough to spare the API server. */
export const LOG_CONCURRENCY = 32;

export interface LogReadResult {
  /** Set on each pod: `log`, or `logNote` saying why there is none. */
  pods: KubeProxyPod[];
  /** A cluster-wide note when reading logs is refused (RBAC), once instead of per node. */
  denied?: string;
}

export async function readKubeProxyLogs(
  client: KubeClient,
  pods: KubeProxyPod[],
  opts: { concurrency?: number; limitBytes?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<LogReadResult> {
  let init: RequestInit;
  try {
    init = (await client.kubeConfig.applyToFetchOptions({ method: 'GET' })) as unknown as RequestInit;
  } catch (err) {
    for (const p of pods) p.logNote = `kube-proxy's log was not read: getting credentials failed (${String((err as Error).message ?? err).split('\n')[0]}).`;
    return { pods };
  }
  if (client.at.server.startsWith('http:')) init = { ...init, agent: new HttpAgent({ keepAlive: true, maxSockets: opts.concurrency ?? LOG_CONCURRENCY }) };
  const limit = opts.limitBytes ?? LOG_LIMIT_BYTES;
  let denied: string | undefined;
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < pods.length) {
      const pod = pods[next++];
      if (denied) {
        pod.logNote = denied;
      } else {
        await readOne(client, init, pod, limit).then((d) => {
          if (d && !denied) denied = d;
        });
      }
      opts.onProgress?.(++done, pods.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? LOG_CONCURRENCY, pods.length) }, worker));
  if (denied) for (const p of pods) if (p.log === undefined) p.logNote = denied;
  return { pods, denied };
}

/** Reads one log into pod.log (or pod.logNote); returns the refusal sentence when RBAC denied it. */
async function readOne(client: KubeClient, init: RequestInit, pod: KubeProxyPod, limit: number): Promise<string | undefined> {
  const container = 'kube-proxy';
  const url = new URL(`${client.at.server}/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/log`);
  url.searchParams.set('container', container);
  url.searchParams.set('limitBytes', String(limit));
  if (pod.state !== 'Running' && pod.restarts > 0) url.searchParams.set('previous', 'true');
  let status: number;
  let body: string;
  try {
    const res = await fetch(url.toString(), { ...init, method: 'GET', timeout: client.requestTimeoutMs });
    status = res.status;
    body = await res.text();
  } catch (err) {
    pod.logNote = `kube-proxy pod ${pod.name}'s log could not be read: ${String((err as Error).message ?? err).split('\n')[0]}.`;
    return undefined;
  }
  if (status === 200) {
    pod.log = body;
    return undefined;
  }
  const message = parseStatus(body)?.message ?? body.trim().split('\n')[0];
  if (status === 403) {
    const user = /User "([^"]+)"/.exec(message)?.[1];
    return `running mode not read: ${user ? `user "${user}"` : 'you'} may not get pods/log in namespace "${pod.namespace}" (RBAC), so only the configured mode is shown; ask a cluster admin to grant "get" on "pods/log" in "${pod.namespace}", or use --probe.`;
  }
  if (status === 404) pod.logNote = `kube-proxy pod ${pod.name} is gone (404); run again to read its replacement.`;
  else if (status === 400) pod.logNote = `kube-proxy pod ${pod.name}'s log is not available yet: ${message}.`;
  else pod.logNote = `kube-proxy pod ${pod.name}'s log could not be read (${status}): ${message}.`;
  return undefined;
}
