// A switch of the cluster's proxy mode, planned before anything is touched: where the mode lives, each
// node's pre-flight, the equivalence of the two modes' rules, and the exact edit. Pure: the objects and the
// mode report come in, data goes out; src/kube/set-mode.ts carries it out.
import { createTwoFilesPatch } from 'diff';
import type { KubeProxyConfiguration, LoadedConfig } from '../config/index.js';
import { compareModes, type EquivalenceReport } from '../equivalence/compare.js';
import { nodeViews } from '../equivalence/views.js';
import type { ConfigMap, EndpointSlice, Node, Service } from '../objects/types.js';
import type { ModeReport } from '../report/mode.js';
import { editProxyConfig } from './edit.js';
import { preflight, type PreflightInput, type PreflightReport } from './preflight.js';
import { locateMode, withProxyModeFlag, type ModeLocation } from './where.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export interface ObjectChange {
  /** "ConfigMap kube-system/kube-proxy config.conf" */
  object: string;
  before: string;
  after: string;
  /** What changed, in words. */
  changes: string[];
  /** A unified diff of before and after. */
  diff: string;
}

export interface SetModePlan {
  source: string;
  mode: string;
  scheduler: string | null;
  current: { mode: string | null; scheduler: string | null; from: string };
  where: ModeLocation;
  /** The cluster already runs the target everywhere: nothing to do. */
  already: boolean;
  preflight: PreflightReport;
  equivalence: EquivalenceReport;
  change: ObjectChange | null;
}

export interface PlanInput {
  source: string;
  mode: string;
  scheduler?: string;
  report: ModeReport;
  config: LoadedConfig;
  nodes: Node[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  configMaps: ConfigMap[];
  daemonSet?: Obj;
  metallb?: string;
  ipvsProbe?: PreflightInput['ipvsProbe'];
  ipvsProbeRefused?: string;
}

export function planSetMode(i: PlanInput): SetModePlan {
  const where = locateMode({ nodes: i.nodes, configMaps: i.configMaps, daemonSet: i.daemonSet, replacement: i.report.replacement, mode: i.mode, scheduler: i.scheduler });
  const currentMode = i.report.configuration.mode;
  const current = { mode: currentMode, scheduler: i.report.configuration.scheduler, from: i.report.configuration.source };
  const kernels = new Map(i.nodes.map((n) => [n.metadata?.name ?? '', (n.status?.nodeInfo as { kernelVersion?: string } | undefined)?.kernelVersion]));
  const os = new Map(i.nodes.map((n) => [n.metadata?.name ?? '', (n.status?.nodeInfo as { operatingSystem?: string } | undefined)?.operatingSystem]));
  const pre = preflight({ mode: i.mode, scheduler: i.scheduler, rows: i.report.nodes, kernels, os, config: i.config.config, metallb: i.metallb, ipvsProbe: i.ipvsProbe, ipvsProbeRefused: i.ipvsProbeRefused });
  const currentConfig: KubeProxyConfiguration = { ...i.config.config, mode: (currentMode ?? i.config.effectiveMode) as KubeProxyConfiguration['mode'] };
  const targetConfig: KubeProxyConfiguration = {
    ...i.config.config,
    mode: i.mode as KubeProxyConfiguration['mode'],
    ipvs: { ...i.config.config.ipvs, scheduler: i.scheduler ?? i.config.config.ipvs.scheduler },
  };
  const views = where.kind === 'manual' && i.report.replacement?.full ? [] : nodeViews({ services: i.services, endpointSlices: i.endpointSlices, nodes: i.nodes }, i.config.config, i.source);
  const equivalence = compareModes({ views, currentConfig, targetConfig });
  const change = planChange(where, i);
  const sameScheduler = !i.scheduler || i.scheduler === current.scheduler;
  const already = currentMode === i.mode && sameScheduler && i.report.nodes.every((n) => n.running === null || n.running === i.mode) && (!change || change.changes.length === 0);
  return { source: i.source, mode: i.mode, scheduler: i.scheduler ?? null, current, where, already, preflight: pre, equivalence, change };
}

function planChange(where: ModeLocation, i: PlanInput): ObjectChange | null {
  if (where.kind === 'configmap') {
    const cm = i.configMaps.find((c) => c.metadata?.name === where.name)!;
    return configMapChange(where, cm.data![where.key]!, i.mode, i.scheduler);
  }
  if (where.kind === 'daemonset-flag') {
    const containers: Obj[] = i.daemonSet.spec.template.spec.containers;
    const c = containers.find((x) => x.name === where.container);
    const before: string[] = c[where.field];
    const after = withProxyModeFlag(before, where.index, i.mode);
    if (i.scheduler) {
      const at = after.findIndex((a) => /^--?ipvs-scheduler(=|$)/.test(a));
      if (at >= 0) after.splice(at, 1, ...withProxyModeFlag([after[at].replace('ipvs-scheduler', 'proxy-mode')], 0, i.scheduler).map((a) => a.replace('proxy-mode', 'ipvs-scheduler')));
      else after.push(`--ipvs-scheduler=${i.scheduler}`);
    }
    const object = `DaemonSet ${where.namespace}/${where.name} container ${where.container} ${where.field}`;
    const changes = before.join('\n') === after.join('\n') ? [] : [`${before[where.index]} -> ${after[where.index]}`];
    return { object, before: before.join('\n') + '\n', after: after.join('\n') + '\n', changes, diff: diffText(object, before.join('\n') + '\n', after.join('\n') + '\n') };
  }
  return null;
}

/** The ConfigMap key's new text and its diff. */
export function configMapChange(where: Extract<ModeLocation, { kind: 'configmap' }>, text: string, mode: string, scheduler: string | undefined): ObjectChange {
  const object = `ConfigMap ${where.namespace}/${where.name} ${where.key}`;
  const r = editProxyConfig(text, { mode, scheduler }, object);
  return { object, before: text, after: r.text, changes: r.changes, diff: diffText(object, text, r.text) };
}

function diffText(object: string, before: string, after: string): string {
  if (before === after) return '';
  const norm = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  return createTwoFilesPatch(`${object} (now)`, `${object} (after)`, norm(before), norm(after), '', '', { context: 2 })
    .split('\n')
    .filter((l) => !/^=+$/.test(l))
    .join('\n')
    .trimEnd();
}
