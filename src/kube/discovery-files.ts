// The mode report's evidence from saved files (-f), with no cluster: kube-proxy Pod objects, DaemonSets,
// cilium-config / antrea-config ConfigMaps and FelixConfiguration among the objects, and kube-proxy's logs
// saved beside them. The convention (examples/README.md): for a folder given with -f, the file
// `kube-proxy-logs/<pod name>.log` (or `.txt`) in it holds `kubectl -n kube-system logs <pod name> -c kube-proxy`
// (for a crash-looping pod, `--previous`).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigMap, KubeObject } from '../core/objects/types.js';
import type { KubeProxyPod, ModeEvidence } from '../core/report/mode.js';
import { daemonSetCommand, detectReplacement, isKubeProxyPod, kubeProxyPodFrom } from '../core/report/objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export const LOGS_FOLDER = 'kube-proxy-logs';
const LOG_EXTENSIONS = ['.log', '.txt'];

export function fileModeEvidence(paths: string[], others: KubeObject[], configMaps: ConfigMap[]): ModeEvidence {
  const objs = others as Obj[];
  const pods: KubeProxyPod[] = [];
  for (const o of objs) {
    if (o?.kind !== 'Pod' || !isKubeProxyPod(o)) continue;
    const p = kubeProxyPodFrom(o);
    if (p) pods.push(p);
  }
  const folders = paths.filter((p) => p !== '-' && isDir(p));
  for (const pod of pods) {
    const file = folders.flatMap((f) => LOG_EXTENSIONS.map((ext) => join(f, LOGS_FOLDER, `${pod.name}${ext}`))).find((f) => existsSync(f));
    if (file) pod.log = readFileSync(file, 'utf8');
    else pod.logNote = `no saved log for kube-proxy pod ${pod.name} (expected ${LOGS_FOLDER}/${pod.name}.log beside the objects).`;
  }
  const daemonSets = objs.filter((o) => o?.kind === 'DaemonSet' && (o.metadata?.namespace ?? 'kube-system') === 'kube-system');
  const byName = (name: string) => (configMaps as Obj[]).find((c) => c?.metadata?.name === name);
  const kubeProxyDs = daemonSets.find((d) => d.metadata?.name === 'kube-proxy');
  return {
    pods,
    daemonSetCommand: kubeProxyDs ? daemonSetCommand(kubeProxyDs) : undefined,
    replacement: detectReplacement({
      daemonSets,
      ciliumConfig: byName('cilium-config'),
      antreaConfig: byName('antrea-config'),
      felixConfiguration: objs.find((o) => o?.kind === 'FelixConfiguration' && o.metadata?.name === 'default'),
      openshiftNetwork: objs.find((o) => o?.kind === 'Network' && /config\.openshift\.io/.test(o.apiVersion ?? '')),
    }),
    notes: [],
  };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
