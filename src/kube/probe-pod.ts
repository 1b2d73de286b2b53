// `get --probe`: kube-proxy answers GET /proxyMode only on its metrics address (127.0.0.1:10249 by default),
// so it is read from inside the node's network namespace by a short-lived probe pod per node: hostNetwork,
// pinned to the node, tolerating every taint, `wget` from a tiny image. Each pod is created (POST), its phase
// polled with bounded waits, its log read, and it is ALWAYS deleted, also on error or timeout. A refusal that
// holds for every node (RBAC on create pods, Pod Security admission refusing hostNetwork) is said once.
import { Agent as HttpAgent } from 'node:http';
import fetch, { type RequestInit } from 'node-fetch';
import { ProxymodeError } from '../core/errors.js';
import { cleanup } from './cleanup.js';
import { apiStatusOf, type KubeClient } from './client.js';
import { parseStatus } from './errors.js';
import type { RequestIntent } from './request.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export const PROBE_IMAGE = 'busybox:1.36';
export const PROBE_NAMESPACE = 'kube-system';
export const PROBE_LABEL = { 'app.kubernetes.io/name': 'kubectl-proxymode-probe' };
export const PROBE_DEADLINE_SECONDS = 30;
export const PROBE_CONCURRENCY = 8;
const MODES = new Set(['iptables', 'ipvs', 'nftables', 'kernelspace', 'userspace']);

export type ProxyModeAnswer = { mode: string; evidence: string } | { error: string };

export interface ProbePodOptions {
  image?: string;
  namespace?: string;
  /** kube-proxy's metricsBindAddress (host:port); default 127.0.0.1:10249. */
  metricsBindAddress?: string;
  concurrency?: number;
  /** Time between phase polls. */
  pollMs?: number;
  /** The longest wait for one pod to finish (its activeDeadlineSeconds plus a margin). */
  waitMs?: number;
  onProgress?: (done: number, total: number) => void;
  /** While pods start: one line on what the slowest wait is (phase, reason, seconds so far). */
  onWaiting?: (text: string) => void;
}

export interface ProbePodResult {
  /** Per node: the mode /proxyMode answered, or why it was not read. Nodes skipped after a cluster-wide refusal have no entry. */
  answers: Map<string, ProxyModeAnswer>;
  /** One note when creating probe pods is refused for every node (RBAC, Pod Security admission, no namespace). */
  refused?: string;
  /** Probe pods whose delete failed: each one sentence naming the pod and the command that removes it. */
  leftovers: string[];
}

/** Where to reach /proxyMode from the node's network namespace: an unspecified host (0.0.0.0, ::) is reached on loopback. */
export function proxyModeUrl(metricsBindAddress: string | undefined): string {
  const raw = (metricsBindAddress ?? '').trim() || '127.0.0.1:10249';
  let host = raw;
  let port = '10249';
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(raw);
  if (bracketed) [host, port] = [bracketed[1], bracketed[2] || port];
  else if ((raw.match(/:/g) ?? []).length === 1) [host, port] = [raw.split(':')[0], raw.split(':')[1] || port];
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/proxyMode`;
}

export function probePodSpec(node: string, opts: { image?: string; namespace?: string; url: string }): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'proxymode-probe-', namespace: opts.namespace ?? PROBE_NAMESPACE, labels: { ...PROBE_LABEL } },
    spec: {
      nodeName: node,
      hostNetwork: true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: PROBE_DEADLINE_SECONDS,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'probe',
          image: opts.image ?? PROBE_IMAGE,
          command: ['wget', '-qO-', '-T', '2', opts.url],
          resources: { requests: { cpu: '10m', memory: '8Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
        },
      ],
    },
  };
}

/** Pending reasons that will not resolve by waiting: reported at once. */
const STUCK = /ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull|CreateContainerConfigError|CreateContainerError/;

export async function probeProxyModes(client: KubeClient, nodes: string[], opts: ProbePodOptions = {}): Promise<ProbePodResult> {
  const ns = opts.namespace ?? PROBE_NAMESPACE;
  const url = proxyModeUrl(opts.metricsBindAddress);
  const answers = new Map<string, ProxyModeAnswer>();
  let refused: string | undefined;
  const leftovers: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    // After Ctrl-C no new pod is started; the interrupt handler deletes the ones already created.
    while (next < nodes.length && !refused && !cleanup.interrupted) {
      const node = nodes[next++];
      const r = await probeOne(client, node, ns, url, opts, leftovers);
      if ('refused' in r) refused ??= r.refused;
      else answers.set(node, r);
      opts.onProgress?.(++done, nodes.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? PROBE_CONCURRENCY, nodes.length) }, worker));
  return { answers, refused, leftovers };
}

async function probeOne(client: KubeClient, node: string, ns: string, url: string, opts: ProbePodOptions, leftovers: string[]): Promise<ProxyModeAnswer | { refused: string }> {
  return probeWith(client, node, ns, probePodSpec(node, { image: opts.image, namespace: ns, url }), opts, leftovers, (phase, text) => {
    const word = text.trim().split('\n')[0]?.trim() ?? '';
    if (phase === 'Succeeded' && MODES.has(word)) return { mode: word, evidence: `GET ${url} on the node answered "${word}"` };
    if (phase === 'Succeeded') return { error: `${url} answered "${word.slice(0, 80)}", not a proxy mode.` };
    return { error: `nothing answered ${url} on the node (${word.slice(0, 120) || `the probe ${phase.toLowerCase()}`}): kube-proxy does not run there, or listens on another metricsBindAddress.` };
  }, GET_PROBE);
}

/** One probe pod: created, awaited, its log read and judged by `judge`, and ALWAYS deleted. */
async function probeWith<T extends object>(
  client: KubeClient,
  node: string,
  ns: string,
  spec: Obj,
  opts: ProbePodOptions,
  leftovers: string[],
  judge: (phase: 'Succeeded' | 'Failed', log: string) => T | { error: string },
  who: ProbeWho,
): Promise<T | { error: string } | { refused: string }> {
  const { flag } = who;
  const podsPath = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
  const createIntent: RequestIntent = { verb: 'create', resource: 'pods', namespace: ns };
  let created: Obj;
  try {
    created = await cleanup.creating(client.post<Obj>(podsPath, spec, createIntent));
  } catch (err) {
    if (!(err instanceof ProxymodeError)) throw err;
    return createRefusal(err, ns, who);
  }
  const name: string = created?.metadata?.name;
  if (!name) return { error: `the API server answered the create of a pod in namespace "${ns}" without the pod's name, so it cannot be followed or deleted.` };
  const podPath = `${podsPath}/${encodeURIComponent(name)}`;
  const where = `probe pod ${ns}/${name} on node ${node}`;
  let removal: Promise<unknown> | undefined;
  // One DELETE at a time, whichever asks first (the finally below or an interrupt); a failed one may be tried again.
  const remove = () =>
    (removal ??= client.delete(podPath, { verb: 'delete', resource: 'pods', namespace: ns, name }, { gracePeriodSeconds: '0' }).catch((err) => {
      removal = undefined;
      throw err;
    }));
  const context = client.at.context ? ` --context ${client.at.context}` : '';
  const removeWith = `kubectl${context} -n ${ns} delete pod ${name}`;
  const release = cleanup.add({ description: where, removeWith, remove });
  try {
    const phase = await waitForPod(client, podPath, ns, name, node, opts, who.fix);
    if ('error' in phase) return { error: `${where}: ${phase.error}` };
    const log = await readLog(client, podPath);
    if ('error' in log) return { error: `${where} finished (${phase.phase}) but its log could not be read: ${log.error}` };
    return judge(phase.phase, log.text);
  } catch (err) {
    if (!(err instanceof ProxymodeError)) throw err;
    return { error: `${where}: ${err.message}` };
  } finally {
    // Always removed, whatever happened above. A failed delete does not fail the report, but is said (and the
    // pod stays registered, so an interrupt tries again and names it if it is still left).
    try {
      await remove();
      release();
    } catch (err) {
      leftovers.push(`${flag}: ${where} could not be deleted (${String((err as Error).message ?? err).replace(/\.$/, '')}), so it is still there; remove it with: ${removeWith}`);
    }
  }
}

function createRefusal(err: ProxymodeError, ns: string, who: ProbeWho): { refused: string } | { error: string } {
  const { flag, suffix, fix } = who;
  const status = apiStatusOf(err);
  if (status?.code === 403 && /PodSecurity/.test(status.message)) {
    return {
      refused: `${flag}: Pod Security admission in namespace "${ns}" refuses the ${who.pod} (${status.message.replace(/^.*?(violates PodSecurity)/, '$1')}), ${suffix}; ${fix.admission}.`,
    };
  }
  if (status?.code === 403) {
    const user = /User "([^"]+)"/.exec(status.message)?.[1];
    return {
      refused: `${flag}: ${user ? `user "${user}"` : 'you'} may not create pods in namespace "${ns}" (RBAC), ${suffix}; ask a cluster admin to grant "create", "get" and "delete" on "pods" and "get" on "pods/log" in "${ns}", ${fix.rbac}.`,
    };
  }
  if (status?.code === 404) return { refused: `${flag}: the API server answered 404 to create pods in namespace "${ns}" (${status.message}), ${suffix}; ${fix.missing}.` };
  return { error: `creating a probe pod failed: ${err.message}` };
}

/** Which probe this is, for messages: its flag, what its failure leaves unknown, and what the user can change. */
interface ProbeWho {
  flag: string;
  pod: string;
  suffix: string;
  fix: { admission: string; rbac: string; missing: string; image: string };
}

const GET_PROBE: ProbeWho = {
  flag: '--probe',
  pod: 'hostNetwork probe pod',
  suffix: 'so /proxyMode was not read',
  fix: {
    admission: 'run with --probe-namespace set to a namespace whose pod-security.kubernetes.io/enforce level is privileged (kube-system usually is)',
    rbac: 'or pick another with --probe-namespace',
    missing: 'check --probe-namespace',
    image: 'use --probe-image with an image the nodes can pull',
  },
};

// `set ipvs` has no probe-namespace or probe-image flags of its own: its way out is to skip the probe
const IPVS_PROBE: ProbeWho = {
  flag: 'the IPVS probe',
  pod: 'probe pod (it mounts /lib/modules from the host)',
  suffix: 'so the IPVS modules were not probed',
  fix: {
    admission: 'let that namespace admit privileged pods, or run with --no-probe (the pre-flight then only warns)',
    rbac: 'or run with --no-probe (the pre-flight then only warns)',
    missing: 'run with --no-probe (the pre-flight then only warns)',
    image: 'make the image pullable on the nodes, or run with --no-probe (the pre-flight then only warns)',
  },
};

async function waitForPod(
  client: KubeClient,
  podPath: string,
  ns: string,
  name: string,
  node: string,
  opts: ProbePodOptions,
  fix: ProbeWho['fix'],
): Promise<{ phase: 'Succeeded' | 'Failed' } | { error: string }> {
  const pollMs = opts.pollMs ?? 1000;
  const waitMs = opts.waitMs ?? (PROBE_DEADLINE_SECONDS + 10) * 1000;
  const started = Date.now();
  const until = started + waitMs;
  const intent: RequestIntent = { verb: 'get', resource: 'pods', namespace: ns, name };
  for (;;) {
    const pod = await client.get<Obj>(podPath, intent, { optional: true });
    if (!pod) return { error: 'it was deleted before it finished (404).' };
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (phase === 'Failed' && pod.status?.reason === 'DeadlineExceeded') return { error: `it did not finish within activeDeadlineSeconds ${PROBE_DEADLINE_SECONDS}.` };
      return { phase };
    }
    const waiting = (pod.status?.containerStatuses ?? [])[0]?.state?.waiting;
    if (waiting?.reason && STUCK.test(waiting.reason)) {
      return { error: `it cannot start: ${waiting.reason}${waiting.message ? ` (${String(waiting.message).split('\n')[0]})` : ''}; ${fix.image}.` };
    }
    const scheduled = (pod.status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason) return { error: `it cannot be scheduled: ${scheduled.reason}${scheduled.message ? ` (${scheduled.message})` : ''}.` };
    opts.onWaiting?.(`probe pod ${ns}/${name} on node ${node}: ${phase ?? 'Pending'}${waiting?.reason ? ` (${waiting.reason})` : ''}, ${Math.round((Date.now() - started) / 1000)}s of at most ${Math.round(waitMs / 1000)}s …`);
    if (Date.now() + pollMs > until) return { error: `it did not finish within ${Math.round(waitMs / 1000)}s (still ${phase ?? 'Pending'}${waiting?.reason ? `: ${waiting.reason}` : ''}).` };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function readLog(client: KubeClient, podPath: string): Promise<{ text: string } | { error: string }> {
  let init: RequestInit;
  try {
    init = (await client.kubeConfig.applyToFetchOptions({ method: 'GET' })) as unknown as RequestInit;
  } catch (err) {
    return { error: `getting credentials failed (${String((err as Error).message ?? err).split('\n')[0]})` };
  }
  if (client.at.server.startsWith('http:')) init = { ...init, agent: new HttpAgent() };
  try {
    const res = await fetch(`${client.at.server}${podPath}/log?container=probe&limitBytes=4096`, { ...init, method: 'GET', timeout: client.requestTimeoutMs });
    const body = await res.text();
    if (res.status === 200) return { text: body };
    const message = parseStatus(body)?.message ?? body.trim().split('\n')[0];
    if (res.status === 403) return { error: `forbidden (RBAC): grant "get" on "pods/log" (${message})` };
    return { error: `${res.status}: ${message}` };
  } catch (err) {
    return { error: String((err as Error).message ?? err).split('\n')[0] };
  }
}

// ---- set ipvs: the IPVS kernel modules on each node, before the switch ----

/** Per node: the modules ipvs mode needs and where each was found, or why it was not probed. */
export type IpvsModulesAnswer = { kernel: string; modules: Record<string, 'loaded' | 'builtin' | 'available' | 'missing'> } | { error: string };

/**
 * What kube-proxy's ipvs mode checks at start (pkg/proxy/ipvs/util: the loaded modules in /proc/modules and
 * the built-in ones in /lib/modules/KERNEL/modules.builtin; one it can modprobe from modules.dep counts
 * too): ip_vs, ip_vs_SCHEDULER and nf_conntrack (nf_conntrack_ipv4 before kernel 4.19).
 */
export function ipvsProbeScript(modules: readonly string[]): string {
  return [
    'k=$(uname -r); echo "kernel $k"',
    `for m in ${modules.join(' ')}; do`,
    '  if grep -q "^$m " /proc/modules; then echo "$m loaded";',
    '  elif grep -q "/$m.ko" "/lib/modules/$k/modules.builtin" 2>/dev/null; then echo "$m builtin";',
    '  elif grep -q "/$m.ko" "/lib/modules/$k/modules.dep" 2>/dev/null; then echo "$m available";',
    '  else echo "$m missing"; fi',
    'done',
  ].join('\n');
}

export function ipvsProbePodSpec(node: string, opts: { image?: string; namespace?: string; modules: readonly string[] }): Obj {
  const spec = probePodSpec(node, { image: opts.image, namespace: opts.namespace, url: '' });
  spec.metadata.generateName = 'proxymode-ipvs-probe-';
  delete spec.spec.hostNetwork;
  spec.spec.containers[0].command = ['sh', '-c', ipvsProbeScript(opts.modules)];
  spec.spec.containers[0].volumeMounts = [{ name: 'lib-modules', mountPath: '/lib/modules', readOnly: true }];
  spec.spec.volumes = [{ name: 'lib-modules', hostPath: { path: '/lib/modules' } }];
  return spec;
}

/** Reads the probe's lines back. */
export function parseIpvsProbe(text: string): IpvsModulesAnswer {
  const kernel = /^kernel (\S+)/m.exec(text)?.[1];
  const modules: Record<string, 'loaded' | 'builtin' | 'available' | 'missing'> = {};
  for (const m of text.matchAll(/^(\S+) (loaded|builtin|available|missing)$/gm)) modules[m[1]] = m[2] as 'loaded';
  if (!kernel || Object.keys(modules).length === 0) return { error: `the probe printed no module list (${text.trim().split('\n')[0]?.slice(0, 80) || 'nothing'})` };
  return { kernel, modules };
}

export async function probeIpvsModules(client: KubeClient, nodes: string[], modules: readonly string[], opts: ProbePodOptions = {}): Promise<{ answers: Map<string, IpvsModulesAnswer>; refused?: string; leftovers: string[] }> {
  const ns = opts.namespace ?? PROBE_NAMESPACE;
  const answers = new Map<string, IpvsModulesAnswer>();
  const leftovers: string[] = [];
  let refused: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < nodes.length && !refused && !cleanup.interrupted) {
      const node = nodes[next++];
      const r = await probeWith(client, node, ns, ipvsProbePodSpec(node, { image: opts.image, namespace: ns, modules }), opts, leftovers, (phase, text) =>
        phase === 'Succeeded' ? parseIpvsProbe(text) : { error: `the probe ${phase.toLowerCase()}: ${text.trim().split('\n')[0]?.slice(0, 120) || 'no output'}` }, IPVS_PROBE);
      if ('refused' in r) refused ??= r.refused;
      else answers.set(node, r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? PROBE_CONCURRENCY, nodes.length) }, worker));
  return { answers, refused, leftovers };
}
