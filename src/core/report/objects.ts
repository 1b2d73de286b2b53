// Turns cluster objects (Pods, DaemonSets, CNI configuration) into the mode report's evidence. Pure: the
// objects come from the API, from -f files, or from a benchmark alike.
import type { KubeProxyPod, Replacement } from './mode.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

/** Labels kube-proxy pods carry: k8s-app=kube-proxy (kubeadm, kind, EKS DaemonSets), component=kube-proxy (AKS, GKE and RKE2 static pods). */
export const KUBE_PROXY_SELECTORS = ['k8s-app=kube-proxy', 'component=kube-proxy'];

export function isKubeProxyPod(pod: Obj): boolean {
  const l = pod?.metadata?.labels ?? {};
  return pod?.kind !== undefined && pod.kind !== 'Pod' ? false : l['k8s-app'] === 'kube-proxy' || l.component === 'kube-proxy';
}

export function kubeProxyPodFrom(pod: Obj): KubeProxyPod | undefined {
  const node = pod?.spec?.nodeName;
  const name = pod?.metadata?.name;
  if (!node || !name) return undefined;
  const containers: Obj[] = pod.spec?.containers ?? [];
  const c = containers.find((x) => x.name === 'kube-proxy') ?? containers[0] ?? {};
  const cs = (pod.status?.containerStatuses ?? []).find((x: Obj) => x.name === c.name) ?? {};
  let state = pod.status?.phase ?? 'Unknown';
  if (cs.state?.waiting) state = cs.state.waiting.reason ?? 'Waiting';
  else if (cs.state?.terminated) state = cs.state.terminated.reason ?? 'Terminated';
  else if (cs.state?.running) state = 'Running';
  const annotations = pod.metadata?.annotations ?? {};
  return {
    name,
    namespace: pod.metadata?.namespace ?? 'kube-system',
    node,
    image: cs.image ?? c.image ?? '',
    command: [...(c.command ?? []), ...(c.args ?? [])],
    ready: cs.ready === true,
    restarts: cs.restartCount ?? 0,
    state,
    staticPod: annotations['kubernetes.io/config.source'] === 'file' || annotations['kubernetes.io/config.mirror'] !== undefined,
  };
}

/** The container whose name is kube-proxy (or the first) of a DaemonSet: its command + args. */
export function daemonSetCommand(ds: Obj): string[] | undefined {
  const containers: Obj[] = ds?.spec?.template?.spec?.containers ?? [];
  const c = containers.find((x) => x.name === 'kube-proxy') ?? containers[0];
  return c ? [...(c.command ?? []), ...(c.args ?? [])] : undefined;
}

export interface ReplacementInputs {
  /** DaemonSets in kube-system (names matter: cilium, anetd, kube-router, antrea-agent, calico-node). */
  daemonSets: Obj[];
  ciliumConfig?: Obj;
  antreaConfig?: Obj;
  /** FelixConfiguration "default" (crd.projectcalico.org/v1 or projectcalico.org/v3). */
  felixConfiguration?: Obj;
  /** OpenShift's cluster Network config (config.openshift.io/v1 Network "cluster"). */
  openshiftNetwork?: Obj;
}

/** What replaces kube-proxy, if anything does, from the objects each replacement keeps its switch in. */
export function detectReplacement(i: ReplacementInputs): Replacement | null {
  const ds = new Map(i.daemonSets.map((d) => [d?.metadata?.name as string, d]));
  if (i.ciliumConfig || ds.has('cilium') || ds.has('anetd')) {
    const data = i.ciliumConfig?.data ?? {};
    const kpr = String(data['kube-proxy-replacement'] ?? '').toLowerCase();
    const where = `ConfigMap ${i.ciliumConfig?.metadata?.namespace ?? 'kube-system'}/${i.ciliumConfig?.metadata?.name ?? 'cilium-config'} kube-proxy-replacement=${kpr || '<unset>'}`;
    if (ds.has('anetd') && !i.ciliumConfig) return { name: 'GKE Dataplane V2 (Cilium)', running: 'cilium (eBPF)', evidence: 'DaemonSet kube-system/anetd', full: true };
    if (kpr === 'true' || kpr === 'strict') return { name: ds.has('anetd') ? 'GKE Dataplane V2 (Cilium)' : 'Cilium', running: 'cilium (eBPF)', evidence: where, full: true };
    if (kpr === 'partial' || kpr === 'probe') return { name: 'Cilium', running: 'cilium (partial eBPF)', evidence: where, full: false };
  }
  const felix = i.felixConfiguration?.spec;
  if (felix && (felix.bpfEnabled === true || felix.bpfEnabled === 'true')) {
    return {
      name: 'Calico eBPF',
      running: 'calico (eBPF)',
      evidence: `FelixConfiguration default bpfEnabled=true${felix.bpfKubeProxyIptablesCleanupEnabled === false ? ', bpfKubeProxyIptablesCleanupEnabled=false' : ''}`,
      full: true,
    };
  }
  const kr = ds.get('kube-router');
  if (kr) {
    const args = daemonSetCommand(kr) ?? [];
    const off = args.some((a) => /^--run-service-proxy=false$/.test(a));
    if (!off) return { name: 'kube-router', running: 'kube-router (ipvs)', evidence: 'DaemonSet kube-system/kube-router --run-service-proxy', full: true };
  }
  if (i.antreaConfig) {
    const conf = String(i.antreaConfig.data?.['antrea-agent.conf'] ?? '');
    const proxyAll = /^\s*proxyAll:\s*true\b/m.test(conf);
    if (proxyAll) return { name: 'Antrea', running: 'antrea (ovs)', evidence: 'ConfigMap kube-system/antrea-config antreaProxy.proxyAll=true', full: true };
  }
  const net = i.openshiftNetwork;
  const type = net?.status?.networkType ?? net?.spec?.networkType;
  if (type === 'OVNKubernetes') return { name: 'OVN-Kubernetes', running: 'ovn-kubernetes (ovs)', evidence: 'Network.config.openshift.io cluster networkType=OVNKubernetes', full: true };
  return null;
}
