// `set-mode` against a cluster: gather what the plan needs (as `get` does), then carry the plan out —
// back up, write with the resourceVersion read, restart kube-proxy as `kubectl rollout restart` does,
// follow the rollout, verify each node's new pod, and roll back when a node does not come up in the mode.
import type { LoadedConfig } from '../core/config/index.js';
import { ClusterError, ProxymodeError } from '../core/errors.js';
import { buildModeReport, type ModeEvidence } from '../core/report/mode.js';
import { KUBE_PROXY_SELECTORS } from '../core/report/objects.js';
import { configMapChange, type PlanInput, type SetModePlan } from '../core/setmode/plan.js';
import type { ModeLocation } from '../core/setmode/where.js';
import type { KubeClient } from './client.js';
import { discoverModeEvidence } from './discovery.js';
import { fileModeEvidence } from './discovery-files.js';
import { followRollout, kubeProxyPods, realClock, verifyNodes, type Clock, type NodeVerdict, type RolloutResult } from './rollout.js';
import {
  ConflictError,
  latestBackup,
  metallbEvidence,
  patchConfigMapKey,
  patchDaemonSetContainers,
  readConfigMap,
  readDaemonSet,
  restartDaemonSet,
  writeBackup,
  type Backup,
} from './set-mode-api.js';
import { ApiSource, type ClusterSource } from './source.js';
import { probeIpvsModules } from './probe-pod.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export type Gathered = Omit<PlanInput, 'source' | 'mode' | 'scheduler' | 'config'>;

/** Everything the plan needs, from the cluster or from -f files. */
export async function gather(source: ClusterSource, config: LoadedConfig, files: string[] | undefined, onProgress: (t: string) => void, probe?: { modules: string[] }): Promise<Gathered> {
  const [nodes, services, endpointSlices, configMaps] = await Promise.all([source.nodes(), source.services(), source.endpointSlices(), source.proxyConfigMaps()]);
  let evidence: ModeEvidence;
  let daemonSet: Obj | undefined;
  let metallb: string | undefined;
  if (source instanceof ApiSource) {
    const client = source.kubeClient;
    onProgress('reading kube-proxy pods, their logs and what may replace kube-proxy …');
    [evidence, daemonSet, metallb] = await Promise.all([discoverModeEvidence(client, { onProgress }), readDaemonSet(client, 'kube-system', 'kube-proxy', true), metallbEvidence(client)]);
  } else {
    const others = (await source.others()) as Obj[];
    evidence = fileModeEvidence(files ?? [], others, configMaps);
    daemonSet = others.find((o) => o?.kind === 'DaemonSet' && o.metadata?.name === 'kube-proxy');
    if (others.some((o) => (o?.kind === 'Namespace' && o.metadata?.name === 'metallb-system') || o?.metadata?.namespace === 'metallb-system')) metallb = 'namespace metallb-system';
  }
  const report = buildModeReport({ source: source.description, nodes, config, evidence, configLookedIn: source instanceof ApiSource ? 'in the cluster' : 'among the files' });
  let ipvsProbe: Gathered['ipvsProbe'];
  let ipvsProbeRefused: string | undefined;
  if (probe && source instanceof ApiSource) {
    // Switching to ipvs: a pod per Linux node looks for the modules, as kube-proxy will at start.
    const linux = nodes.filter((n) => ((n.status?.nodeInfo as { operatingSystem?: string } | undefined)?.operatingSystem ?? 'linux') === 'linux').map((n) => n.metadata?.name ?? '').filter(Boolean);
    onProgress(`probing the IPVS kernel modules on ${linux.length} node${linux.length === 1 ? '' : 's'} …`);
    const r = await probeIpvsModules(source.kubeClient, linux, probe.modules);
    ipvsProbe = r.answers;
    ipvsProbeRefused = r.refused;
    for (const l of r.leftovers) onProgress(l);
  }
  return { report, nodes, services, endpointSlices, configMaps, daemonSet, metallb, ipvsProbe, ipvsProbeRefused };
}

/** Whether the user may `verb` `resource` (SelfSubjectAccessReview); undefined when the review itself cannot be made. */
export async function mayI(client: KubeClient, verb: string, resource: string, group: string, namespace: string, name: string): Promise<boolean | undefined> {
  try {
    const r = await client.post<Obj>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, group, namespace, name } } }, { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' });
    return r?.status?.allowed === true ? true : r?.status?.allowed === false ? false : undefined;
  } catch (err) {
    if (err instanceof ProxymodeError) return undefined;
    throw err;
  }
}

/** Refuses before anything is written when RBAC would refuse a write the switch needs. */
export async function checkPermissions(client: KubeClient, where: ModeLocation): Promise<void> {
  const needs: Array<[string, string, string, string, string]> = [];
  if (where.kind === 'configmap') needs.push(['patch', 'configmaps', '', where.namespace, where.name]);
  needs.push(['patch', 'daemonsets', 'apps', where.kind === 'manual' ? 'kube-system' : where.namespace, where.kind === 'daemonset-flag' ? where.name : 'kube-proxy']);
  for (const [verb, resource, group, namespace, name] of needs) {
    if ((await mayI(client, verb, resource, group, namespace, name)) === false) {
      throw new ClusterError(`forbidden: you may not ${verb} ${resource} "${name}" in namespace "${namespace}" (RBAC), which switching the mode needs; nothing was changed — ask a cluster admin to grant "${verb}" on "${resource}" in "${namespace}".`);
    }
  }
}

export interface ApplyOptions {
  backupDir: string;
  timeoutMs: number;
  rollback: boolean;
  onProgress: (text: string) => void;
  /** Called once the cluster has been changed, with what to say if the command is interrupted from then on. */
  onState: (state: string | null) => void;
  clock?: Clock;
}

export interface ApplyResult {
  backup: string;
  written: string;
  rollout: RolloutResult;
  nodes: NodeVerdict[];
  verified: boolean;
  rolledBack: null | { done: boolean; rollout: RolloutResult | null; text: string };
}

export async function applyPlan(client: KubeClient, plan: SetModePlan, opts: ApplyOptions): Promise<ApplyResult> {
  const clock = opts.clock ?? realClock;
  const where = plan.where;
  if (where.kind === 'manual') throw new Error('a manual location has nothing to apply');
  const dsName = where.kind === 'daemonset-flag' ? where.name : 'kube-proxy';
  const dsNs = where.namespace;
  // The pods running now: each node's new pod is told from them, so a node is verified only by a pod
  // started after the change. Without them nothing could be verified, so nothing is changed.
  const before = await kubeProxyPods(client);
  const oldPods = new Set(before.map((p) => p.uid));
  const nodes = [...new Set(before.filter((p) => !p.staticPod).map((p) => p.node))].sort();
  if (nodes.length === 0) {
    throw new ClusterError(`no kube-proxy pod of DaemonSet ${dsNs}/${dsName} runs in namespace ${dsNs} (labels ${KUBE_PROXY_SELECTORS.join(' or ')}), so no node could be verified after the switch; nothing was changed.`);
  }
  const server = client.at.server;
  const context = client.at.context;

  // Write, with the resourceVersion read; on a conflict, read again and try once more.
  let backupFile = '';
  const written = await withOneRetry(async () => {
    const takenAt = new Date(clock.now()).toISOString();
    if (where.kind === 'configmap') {
      const cm = await readConfigMap(client, where.namespace, where.name);
      const text = String(cm?.data?.[where.key] ?? '');
      const change = configMapChange(where, text, plan.mode, plan.scheduler ?? undefined);
      backupFile = writeBackup(opts.backupDir, { version: 1, server, context, takenAt, mode: plan.current.mode ?? '', kind: 'ConfigMap', namespace: where.namespace, name: where.name, key: where.key, text, object: cm });
      opts.onProgress(`backed up ConfigMap ${where.namespace}/${where.name} to ${backupFile}`);
      await patchConfigMapKey(client, where.namespace, where.name, where.key, change.after, cm.metadata.resourceVersion);
      return `ConfigMap ${where.namespace}/${where.name} ${where.key}: ${change.changes.join(', ') || 'unchanged'}`;
    }
    const ds = await readDaemonSet(client, where.namespace, where.name);
    const containers: Obj[] = ds.spec.template.spec.containers;
    const next = JSON.parse(JSON.stringify(containers)) as Obj[];
    const c = next.find((x) => x.name === where.container);
    const want = plan.change!.after.trimEnd().split('\n');
    c[where.field] = want;
    backupFile = writeBackup(opts.backupDir, { version: 1, server, context, takenAt, mode: plan.current.mode ?? '', kind: 'DaemonSet', namespace: where.namespace, name: where.name, containers, object: ds });
    opts.onProgress(`backed up DaemonSet ${where.namespace}/${where.name} to ${backupFile}`);
    await patchDaemonSetContainers(client, where.namespace, where.name, next, ds.metadata.resourceVersion);
    return `DaemonSet ${where.namespace}/${where.name} ${where.field}: ${plan.change!.changes.join(', ')}`;
  }, where);
  opts.onProgress(`wrote ${written}`);
  const undo = `kubectl proxymode set --rollback --backup-dir ${opts.backupDir}`;
  opts.onState(`${written.split(':')[0]} already holds mode ${plan.mode} (backup: ${backupFile}) and kube-proxy is restarting, so some nodes may still run ${plan.current.mode ?? 'the old mode'}; to finish, run kubectl -n ${dsNs} rollout status ds/${dsName} and then kubectl proxymode get; to undo, run ${undo}.`);

  if (where.kind === 'configmap') {
    try {
      await restartDaemonSet(client, dsNs, dsName, new Date(clock.now()));
    } catch (err) {
      // The ConfigMap is written but kube-proxy was not restarted: put it back, so nothing is half done.
      const taken = latestBackup(opts.backupDir, server)?.backup;
      const restored = taken ? await restore(client, taken).then(() => true, () => false) : false;
      opts.onState(null);
      const msg = err instanceof ProxymodeError ? err.message.replace(/\.$/, '') : String(err);
      throw new ClusterError(`${msg}; ${restored ? `the ConfigMap was restored, so nothing was changed` : `the ConfigMap could not be restored: restore it from ${backupFile} (${undo})`}.`);
    }
    opts.onProgress(`restarted DaemonSet ${dsNs}/${dsName} (kubectl.kubernetes.io/restartedAt)`);
  }
  const deadline = clock.now() + opts.timeoutMs;
  const rollout = await followRollout(client, dsNs, dsName, deadline, opts.onProgress, clock);
  const verdicts = await verifyNodes(client, nodes, plan.mode, oldPods, deadline, opts.onProgress, clock);
  const verified = verdicts.every((v) => v.ok);
  let rolledBack: ApplyResult['rolledBack'] = null;
  if (!verified && opts.rollback) {
    opts.onProgress(`rolling back: ${verdicts.filter((v) => !v.ok).map((v) => v.node).join(', ')} did not come up in ${plan.mode}`);
    rolledBack = await rollBackTo(client, latestBackup(opts.backupDir, server)?.backup ?? undefined, dsNs, dsName, opts, clock);
  }
  opts.onState(null);
  return { backup: backupFile, written, rollout, nodes: verdicts, verified, rolledBack };
}

async function withOneRetry<T>(write: () => Promise<T>, where: ModeLocation): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    throw new ClusterError(`${where.kind === 'manual' ? 'kube-proxy\'s configuration' : where.description} changed again while it was being written (409 Conflict twice: someone else is editing it); nothing was changed — run the command again once they are done.`);
  }
}

/** Puts a backup back (with the resourceVersion read now). */
async function restore(client: KubeClient, b: Backup): Promise<void> {
  if (b.kind === 'ConfigMap') {
    const cm = await readConfigMap(client, b.namespace, b.name);
    await patchConfigMapKey(client, b.namespace, b.name, b.key!, b.text!, cm.metadata.resourceVersion);
  } else {
    const ds = await readDaemonSet(client, b.namespace, b.name);
    await patchDaemonSetContainers(client, b.namespace, b.name, b.containers!, ds.metadata.resourceVersion);
  }
}

/** Restores a backup, restarts kube-proxy and follows the rollout. */
export async function rollBackTo(client: KubeClient, b: Backup | undefined, dsNs: string, dsName: string, opts: Pick<ApplyOptions, 'timeoutMs' | 'onProgress' | 'backupDir'>, clock: Clock = realClock): Promise<NonNullable<ApplyResult['rolledBack']>> {
  if (!b) return { done: false, rollout: null, text: `no backup of this cluster was found in ${opts.backupDir}, so nothing was rolled back` };
  try {
    await restore(client, b);
    if (b.kind === 'ConfigMap') await restartDaemonSet(client, dsNs, dsName, new Date(clock.now()));
    const rollout = await followRollout(client, b.kind === 'DaemonSet' ? b.namespace : dsNs, b.kind === 'DaemonSet' ? b.name : dsName, clock.now() + opts.timeoutMs, opts.onProgress, clock);
    const what = `${b.kind} ${b.namespace}/${b.name}${b.key ? ` ${b.key}` : ''}`;
    return { done: true, rollout, text: `restored ${what} from the backup taken ${b.takenAt} (mode ${b.mode || '"" (iptables)'}) and restarted kube-proxy; ${rollout.done ? 'the rollout finished' : `the rollout has not finished (${rollout.status})`}` };
  } catch (err) {
    if (!(err instanceof ProxymodeError)) throw err;
    return { done: false, rollout: null, text: `the rollback failed: ${err.message.replace(/\.$/, '')}` };
  }
}
