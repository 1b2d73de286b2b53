// Where a cluster's kube-proxy mode lives, and whether it can be changed through the API. Read from the
// same evidence `get` gathers (nodes, kube-proxy's ConfigMap, its DaemonSet's command line, what replaced
// kube-proxy). Where the API cannot change it (a managed add-on, a node's own flags, a cluster's creation
// config), the answer is what to run instead; nothing is changed. Pure.
import { CONFIG_MAP_KEYS } from '../config/index.js';
import type { ConfigMap, Node } from '../objects/types.js';
import { nodeArgsProxyFlags, parseProxyFlags } from '../report/evidence.js';
import type { Replacement } from '../report/mode.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export type ModeLocation =
  | { kind: 'configmap'; namespace: string; name: string; key: string; description: string; note?: string }
  | { kind: 'daemonset-flag'; namespace: string; name: string; container: string; field: 'command' | 'args'; index: number; description: string; note: string }
  | { kind: 'manual'; distribution: string; description: string; reason: string; commands: string[] };

export interface WhereInput {
  nodes: Node[];
  /** kube-system ConfigMaps that may hold kube-proxy's configuration (kube-proxy, kube-proxy-config). */
  configMaps: ConfigMap[];
  /** The kube-proxy DaemonSet, when there is one. */
  daemonSet?: Obj;
  replacement?: Replacement | null;
  mode: string;
  scheduler?: string;
}

/** Where the mode lives; `manual` when the API cannot change it, with exactly what to run. */
export function locateMode(i: WhereInput): ModeLocation {
  const providers = i.nodes.map((n) => String(n.spec?.providerID ?? ''));
  const labels = i.nodes.map((n) => (n.metadata?.labels ?? {}) as Record<string, string>);
  const has = (prefix: string) => providers.some((p) => p.startsWith(prefix));
  const label = (key: string) => labels.map((l) => l[key]).find((v) => v !== undefined);
  const mode = i.mode;
  if (i.replacement?.full) {
    return manual(i.replacement.name, `${i.replacement.name} replaces kube-proxy (${i.replacement.evidence}): there is no kube-proxy whose mode could be switched`, [
      `# Service traffic is handled by ${i.replacement.name}; to run kube-proxy in ${mode} mode instead, turn off its kube-proxy replacement and install kube-proxy.`,
    ]);
  }
  if (has('gce://') || label('cloud.google.com/gke-nodepool') !== undefined) {
    return manual('GKE', 'GKE runs kube-proxy as a static pod whose mode is not configurable, and Dataplane V2 clusters have no kube-proxy at all', [
      '# GKE does not offer a kube-proxy mode setting; for an eBPF dataplane without kube-proxy, create a cluster with --enable-dataplane-v2.',
    ]);
  }
  const eksConfig = i.configMaps.find((c) => c.metadata?.name === 'kube-proxy-config');
  if (has('aws://') && (eksConfig || label('eks.amazonaws.com/nodegroup') !== undefined || label('eks.amazonaws.com/compute-type') !== undefined)) {
    const cluster = label('alpha.eksctl.io/cluster-name') ?? 'CLUSTER';
    const values: Record<string, unknown> = { mode };
    if (i.scheduler) values.ipvs = { scheduler: i.scheduler };
    return manual('EKS', 'EKS manages kube-proxy as an add-on, which overwrites edits of its ConfigMap kube-system/kube-proxy-config', [
      `aws eks update-addon --cluster-name ${cluster} --addon-name kube-proxy --configuration-values '${JSON.stringify(values)}' --resolve-conflicts OVERWRITE`,
    ]);
  }
  if (has('azure://') || label('kubernetes.azure.com/cluster') !== undefined) {
    const conf: Record<string, unknown> = { enabled: true, mode: mode.toUpperCase() };
    if (i.scheduler) conf.ipvsConfig = { scheduler: schedulerName(i.scheduler) };
    return manual('AKS', 'AKS manages kube-proxy\'s DaemonSet and resets edits of it; its mode is set through the AKS API', [
      `echo '${JSON.stringify(conf)}' > kube-proxy.json`,
      'az aks update --resource-group RESOURCE_GROUP --name CLUSTER --kube-proxy-config kube-proxy.json',
    ]);
  }
  const k3s = i.nodes.map((n) => nodeArgsProxyFlags(n.metadata?.annotations as Record<string, string> | undefined)).find(Boolean);
  if (k3s || has('k3s://')) {
    const dist = k3s?.distribution ?? 'k3s';
    const extra = i.scheduler ? ` --kube-proxy-arg=ipvs-scheduler=${i.scheduler}` : '';
    return manual(dist === 'k3s' ? 'k3s' : 'RKE2', `${dist === 'k3s' ? 'k3s' : 'RKE2'} runs kube-proxy inside its own process with flags from each node's command line, which the API cannot change`, [
      `# on every server and agent, add to its flags (or to /etc/rancher/${dist}/config.yaml as kube-proxy-arg):`,
      `--kube-proxy-arg=proxy-mode=${mode}${extra}`,
      `systemctl restart ${dist === 'k3s' ? 'k3s  # k3s-agent on agents' : 'rke2-server  # rke2-agent on agents'}`,
    ]);
  }
  if (has('kind://')) {
    return manual('kind', 'kind sets kube-proxy\'s mode when it creates a cluster (networking.kubeProxyMode); a running kind cluster keeps it', [
      '# in the kind cluster config (kind-config.yaml):',
      `#   networking:`,
      `#     kubeProxyMode: "${mode}"`,
      'kind delete cluster --name NAME && kind create cluster --name NAME --config kind-config.yaml',
    ]);
  }
  const ds = i.daemonSet;
  if (ds) {
    const containers: Obj[] = ds.spec?.template?.spec?.containers ?? [];
    const c = containers.find((x) => x.name === 'kube-proxy') ?? containers[0];
    if (c) {
      for (const field of ['command', 'args'] as const) {
        const list: string[] = c[field] ?? [];
        const index = list.findIndex((a) => /^--?proxy-mode(=|$)/.test(a) || (/\s/.test(a) && /--?proxy-mode/.test(a)));
        if (index >= 0) {
          const flags = parseProxyFlags(list);
          const ns = ds.metadata?.namespace ?? 'kube-system';
          const name = ds.metadata?.name ?? 'kube-proxy';
          return {
            kind: 'daemonset-flag',
            namespace: ns,
            name,
            container: c.name,
            field,
            index,
            description: `DaemonSet ${ns}/${name} flag --proxy-mode=${flags.mode ?? ''}`,
            note: `the DaemonSet's --proxy-mode flag overrides the mode in kube-proxy's configuration file, so the flag is changed there instead`,
          };
        }
      }
    }
  }
  const cm = i.configMaps.find((c) => c.metadata?.name === 'kube-proxy' && CONFIG_MAP_KEYS.some((k) => typeof c.data?.[k] === 'string' && /KubeProxyConfiguration/.test(c.data[k])));
  if (cm) {
    const key = CONFIG_MAP_KEYS.find((k) => typeof cm.data?.[k] === 'string' && /KubeProxyConfiguration/.test(cm.data![k]))!;
    return { kind: 'configmap', namespace: cm.metadata?.namespace ?? 'kube-system', name: cm.metadata?.name ?? 'kube-proxy', key, description: `ConfigMap ${cm.metadata?.namespace ?? 'kube-system'}/${cm.metadata?.name} ${key}` };
  }
  return manual('unknown', 'no kube-proxy ConfigMap (kube-system/kube-proxy with config.conf) and no DaemonSet --proxy-mode flag was found, so there is nothing the API can change', [
    `# set mode: "${mode}" wherever this cluster's kube-proxy reads its configuration (its --config file or --proxy-mode flag), then restart kube-proxy on every node.`,
  ]);
}

function manual(distribution: string, reason: string, commands: string[]): ModeLocation {
  return { kind: 'manual', distribution, description: distribution, reason, commands };
}

/** AKS spells schedulers as RoundRobin / LeastConnection. */
function schedulerName(s: string): string {
  return ({ rr: 'RoundRobin', lc: 'LeastConnection' } as Record<string, string>)[s] ?? s;
}

/** The DaemonSet command line with --proxy-mode set to `mode` (one word or `--proxy-mode VALUE`). */
export function withProxyModeFlag(list: string[], index: number, mode: string): string[] {
  const out = [...list];
  const word = out[index];
  if (/\s/.test(word)) out[index] = word.replace(/(--?proxy-mode)(?:=|\s+)\S*/, `$1=${mode}`);
  else if (word.includes('=')) out[index] = word.replace(/=.*$/, `=${mode}`);
  else if (index + 1 < out.length && !out[index + 1].startsWith('-')) out[index + 1] = mode;
  else out[index] = `${word}=${mode}`;
  return out;
}
