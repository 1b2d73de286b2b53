// Gathers what the mode report needs from the cluster in a constant number of calls, whatever the node
// count: kube-proxy pods by label (two lists), kube-system DaemonSets (one list), and the few objects
// replacements keep their switch in (cilium-config, antrea-config, FelixConfiguration default, OpenShift's
// Network). Then the logs (bounded concurrency, see logs.ts) and, with --probe, the live rules (exec).
// A refused or unserved read becomes a note, never a failure: the configured view still stands.
import { ClusterError, ProxymodeError } from '../core/errors.js';
import { classifyRules } from '../core/report/evidence.js';
import type { KubeProxyPod, ModeEvidence } from '../core/report/mode.js';
import { daemonSetCommand, detectReplacement, KUBE_PROXY_SELECTORS, kubeProxyPodFrom } from '../core/report/objects.js';
import type { KubeClient } from './client.js';
import { execInPod } from './exec.js';
import { readKubeProxyLogs } from './logs.js';
import { PROBE_NAMESPACE, probeProxyModes, type ProbePodOptions } from './probe-pod.js';
import type { RequestIntent } from './request.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export interface DiscoveryOptions {
  /** Only these nodes' logs are read (pods are still listed once). */
  nodes?: string[];
  probe?: boolean;
  /** --probe: the nodes to start a /proxyMode probe pod on (default: the nodes of the kube-proxy pods). */
  probeNodes?: string[];
  /** --probe: the probe pod's image, namespace and kube-proxy's metricsBindAddress. */
  probePod?: Omit<ProbePodOptions, 'onProgress'>;
  readLogs?: boolean;
  /** `lasting`: a long wait (probe pods starting), worth a line even where there is no terminal. */
  onProgress?: (text: string, lasting?: boolean) => void;
  concurrency?: number;
}

export async function discoverModeEvidence(client: KubeClient, opts: DiscoveryOptions = {}): Promise<ModeEvidence> {
  const notes: string[] = [];
  const soft = async <T>(what: Promise<T>): Promise<T | undefined> => {
    try {
      return await what;
    } catch (err) {
      if (err instanceof ProxymodeError) {
        notes.push(`${err.message.replace(/\.$/, '')} — shown without it.`);
        return undefined;
      }
      throw err;
    }
  };
  const ns = 'kube-system';
  const podPath = `/api/v1/namespaces/${ns}/pods`;
  const podIntent: RequestIntent = { verb: 'list', resource: 'pods', namespace: ns };
  const get = (path: string, intent: RequestIntent) => soft(client.get<Obj>(path, intent, { optional: true }).catch(notServed));
  const [byApp, byComponent, daemonSets, ciliumConfig, antreaConfig, felix, openshiftNetwork] = await Promise.all([
    soft(client.list<Obj>(podPath, podIntent, { labelSelector: KUBE_PROXY_SELECTORS[0] })),
    soft(client.list<Obj>(podPath, podIntent, { labelSelector: KUBE_PROXY_SELECTORS[1] })),
    soft(client.list<Obj>(`/apis/apps/v1/namespaces/${ns}/daemonsets`, { verb: 'list', resource: 'daemonsets', group: 'apps', namespace: ns })),
    get(`/api/v1/namespaces/${ns}/configmaps/cilium-config`, { verb: 'get', resource: 'configmaps', namespace: ns, name: 'cilium-config' }),
    get(`/api/v1/namespaces/${ns}/configmaps/antrea-config`, { verb: 'get', resource: 'configmaps', namespace: ns, name: 'antrea-config' }),
    get('/apis/crd.projectcalico.org/v1/felixconfigurations/default', { verb: 'get', resource: 'felixconfigurations', group: 'crd.projectcalico.org', name: 'default' }),
    get('/apis/config.openshift.io/v1/networks/cluster', { verb: 'get', resource: 'networks', group: 'config.openshift.io', name: 'cluster' }),
  ]);
  if (!byApp || !byComponent) return { pods: [], notes, unavailable: notes[0] ?? 'kube-proxy pods could not be listed' };
  const seen = new Set<string>();
  const pods: KubeProxyPod[] = [];
  for (const p of [...byApp, ...byComponent]) {
    const uid = p?.metadata?.uid ?? p?.metadata?.name;
    if (seen.has(uid)) continue;
    seen.add(uid);
    const kp = kubeProxyPodFrom(p);
    if (kp) pods.push(kp);
  }
  const kubeProxyDs = (daemonSets ?? []).find((d: Obj) => d?.metadata?.name === 'kube-proxy');
  const evidence: ModeEvidence = {
    pods,
    daemonSetCommand: kubeProxyDs ? daemonSetCommand(kubeProxyDs) : undefined,
    replacement: detectReplacement({ daemonSets: daemonSets ?? [], ciliumConfig, antreaConfig, felixConfiguration: felix, openshiftNetwork }),
    notes,
  };
  const wanted = opts.nodes?.length ? new Set(opts.nodes) : undefined;
  const targets = pods.filter((p) => !wanted || wanted.has(p.node));
  if (opts.readLogs !== false) {
    // GKE's static pod writes its log to a file on the node; the API has nothing to read there.
    const readable = targets.filter((p) => {
      const file = /(?:^|\s)\d?>>?\s*(\/\S+\.log)/.exec(p.command.join(' '))?.[1];
      if (file) p.logNote = `kube-proxy on this node logs to ${file} on the node (its static pod redirects it), not to the API; use --probe to read the node's rules.`;
      return !file;
    });
    const { denied } = await readKubeProxyLogs(client, readable, {
      concurrency: opts.concurrency,
      onProgress: (done, total) => opts.onProgress?.(`reading kube-proxy logs ${done}/${total} …`),
    });
    if (denied) notes.push(denied);
  }
  if (opts.probe) {
    // /proxyMode first (the strongest evidence); the rules by exec only where it gave no answer.
    const full = evidence.replacement?.full === true;
    const podNodes = new Set(pods.map((p) => p.node));
    const probeNodes = (opts.probeNodes ?? targets.map((p) => p.node)).filter((n) => (!wanted || wanted.has(n)) && (!full || podNodes.has(n)));
    const probeSet = [...new Set(probeNodes)];
    const ns = opts.probePod?.namespace ?? PROBE_NAMESPACE;
    if (probeSet.length) opts.onProgress?.(`--probe: starting ${probeSet.length} probe pod${probeSet.length === 1 ? '' : 's'} in namespace ${ns} (each deleted when done, also on Ctrl-C) …`, true);
    const { answers, refused, leftovers } = await probeProxyModes(client, probeSet, {
      ...opts.probePod,
      onProgress: (done, total) => opts.onProgress?.(`--probe: ${done}/${total} probe pods done …`, true),
      onWaiting: (text) => opts.onProgress?.(`--probe: waiting for ${text}`, true),
    });
    evidence.proxyModes = answers;
    if (refused) notes.push(refused);
    notes.push(...leftovers);
    const unanswered = targets.filter((p) => { const a = answers.get(p.node); return !a || 'error' in a; });
    if (unanswered.length) {
      evidence.probes = await probeRules(client, unanswered, opts);
      if (!answers.size || [...answers.values()].every((a) => 'error' in a)) notes.push(PROXY_MODE_ENDPOINT_NOTE);
    }
  }
  return evidence;
}

/** 404 "page not found" (API group not served: no Calico, not OpenShift) is the same as absent. */
function notServed(err: unknown): undefined {
  if (err instanceof ProxymodeError && / not found on the cluster/.test(err.message)) return undefined;
  throw err;
}

/** The script run in each kube-proxy pod: the three views of the node's rules, separated by markers. */
export const PROBE_SCRIPT =
  'echo "### nft"; nft list tables 2>/dev/null; echo "### iptables"; iptables-save -t nat 2>/dev/null | grep -E "^:KUBE-(SERVICES|SVC-)|match-set KUBE-CLUSTER-IP" | head -200; echo "### ipvsadm"; ipvsadm -Ln 2>/dev/null | head -50; true';

export function splitProbeOutput(stdout: string): { nftTables: string; iptablesNat: string; ipvsadm: string } {
  const part = (name: string) => new RegExp(`### ${name}\\n([\\s\\S]*?)(?=\\n?### |$)`).exec(stdout)?.[1] ?? '';
  return { nftTables: part('nft'), iptablesNat: part('iptables'), ipvsadm: part('ipvsadm') };
}

async function probeRules(client: KubeClient, pods: KubeProxyPod[], opts: DiscoveryOptions): Promise<NonNullable<ModeEvidence['probes']>> {
  const out: NonNullable<ModeEvidence['probes']> = new Map();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < pods.length) {
      const p = pods[next++];
      if (p.state !== 'Running') {
        out.set(p.node, { error: `kube-proxy pod ${p.name} is ${p.state}; nothing to exec into.` });
      } else {
        try {
          const r = await execInPod(client, { namespace: p.namespace, pod: p.name, container: 'kube-proxy' }, ['sh', '-c', PROBE_SCRIPT]);
          out.set(p.node, classifyRules(splitProbeOutput(r.stdout)));
        } catch (err) {
          if (!(err instanceof ClusterError)) throw err;
          out.set(p.node, { error: err.message });
        }
      }
      opts.onProgress?.(`probing rules ${++done}/${pods.length} …`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, pods.length) }, worker));
  return out;
}

/** The note --probe adds when no probe pod read /proxyMode: the exec-read rules are the evidence instead. */
export const PROXY_MODE_ENDPOINT_NOTE =
  'kube-proxy serves /proxyMode only on 127.0.0.1:10249 by default and no probe pod could read it there, so the rules read through each kube-proxy pod are the evidence instead.';
