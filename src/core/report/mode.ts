// The `mode` report: per node, the configured proxy mode beside the running one. The configured mode
// comes from kube-proxy's configuration, overridden by its command line (DaemonSet or static pod flags,
// k3s/RKE2 --kube-proxy-arg); the running mode from the node's kube-proxy pod (log lines, restarts), or
// from its live rules with --probe. Where nothing shows it, it stays unknown and a note says why.
import type { LoadedConfig } from '../config/index.js';
import { InputError } from '../errors.js';
import type { Node } from '../objects/types.js';
import { imageVersion, ipvsCause, minorVersion, nodeArgsProxyFlags, parseKubeProxyLog, parseProxyFlags, type ProxyFlags } from './evidence.js';

export interface NodeModeRow {
  node: string;
  /** The configured mode; null when it could not be read (configuredUnknown says why). */
  configured: string | null;
  configuredDefaulted: boolean;
  /** Why the configured mode is unknown (the configuration kube-proxy reads could not be read); else null. */
  configuredUnknown: string | null;
  /** True when the mode shown as configured is --mode's what-if, not the cluster's: never a mismatch. */
  configuredOverride: boolean;
  /** Where the configured mode came from for this node. */
  configuredFrom: string;
  /** What kube-proxy (or its replacement) on the node really runs; null when nothing on hand shows it. */
  running: string | null;
  /** What showed the running mode: "/proxyMode", "rules", "log", "replacement", or null. */
  runningFrom: string | null;
  scheduler: string | null;
  kubeProxyVersion: string | null;
  /** kube-proxy's state on the node: Running, CrashLoopBackOff, Mismatch, Fallback, Replaced, Missing, Unknown… */
  status: string;
  nodeStatus: string;
  pod: string | null;
  restarts: number | null;
  ready: boolean | null;
  /** True when configured and running disagree (what --check fails on). */
  mismatch: boolean;
  /** True when --check cannot pass this node: its running or configured mode is unknown. */
  unknown: boolean;
  notes: string[];
}

export interface ModeReport {
  source: string;
  configuration: {
    source: string;
    /** null when unknown (`unknown` says why). */
    mode: string | null;
    configuredMode: string;
    defaulted: boolean;
    scheduler: string | null;
    /** Why the configured mode is unknown, or null. */
    unknown: string | null;
    /** True when mode is --mode's override. */
    override: boolean;
    warnings: string[];
    /** What kube-proxy's validation refuses in this configuration (kube-proxy would not start). */
    problems: string[];
  };
  /** What replaced kube-proxy, when something did. */
  replacement: Replacement | null;
  nodes: NodeModeRow[];
  /** Notes that hold for the whole cluster (missing permissions, where logs live). */
  notes: string[];
}

/** A kube-proxy pod as the report needs it (from a Pod object). */
export interface KubeProxyPod {
  name: string;
  namespace: string;
  node: string;
  image: string;
  command: string[];
  ready: boolean;
  restarts: number;
  /** Running, or the container's waiting/terminated reason (CrashLoopBackOff, Error…). */
  state: string;
  staticPod: boolean;
  /** The start of its log (or of the previous container's, for a crash loop); undefined when not read. */
  log?: string;
  /** Why the log is not on hand (permission, not found, written to a file on the node). */
  logNote?: string;
}

export interface Replacement {
  /** cilium, calico-ebpf, kube-router, antrea, ovn-kubernetes. */
  name: string;
  /** The running-mode label shown per node, e.g. "cilium (eBPF)". */
  running: string;
  /** Which object said so. */
  evidence: string;
  /** false when the replacement runs beside kube-proxy (Cilium partial, Antrea without proxyAll). */
  full: boolean;
}

export interface ModeEvidence {
  pods: KubeProxyPod[];
  /** The kube-proxy DaemonSet's container command + args, when there is one. */
  daemonSetCommand?: string[];
  replacement?: Replacement | null;
  /** Live-rules verdicts per node (--probe). */
  probes?: Map<string, { mode: string | null; evidence: string } | { error: string }>;
  /** --probe: what GET /proxyMode answered on each node, through a hostNetwork probe pod (the strongest evidence). */
  proxyModes?: Map<string, { mode: string; evidence: string } | { error: string }>;
  /** Cluster-wide notes gathered on the way (denied reads, not-served APIs). */
  notes?: string[];
  /** Set when kube-proxy's pods could not be listed at all: the running column stays unknown, for this reason. */
  unavailable?: string;
}

export interface ModeReportInput {
  source: string;
  nodes: Node[];
  config: LoadedConfig;
  only?: string[];
  /** Why there is no running evidence at all (e.g. the discovery was not run); used when `evidence` is absent. */
  runningEvidence?: string;
  evidence?: ModeEvidence;
  /** The mode was given with --mode: it wins over every command line. */
  modeOverridden?: boolean;
  /** Where a ConfigMap was looked for, for the unknown-configuration reason ("among the files", "in the cluster"). */
  configLookedIn?: string;
}

export function buildModeReport(args: ModeReportInput): ModeReport {
  const { config } = args;
  const byName = new Map(args.nodes.map((n) => [n.metadata?.name ?? '', n]));
  if (args.only?.length) {
    const missing = args.only.filter((name) => !byName.has(name));
    if (missing.length) {
      const known = [...byName.keys()].sort();
      throw new InputError(
        `node${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not found in ${args.source}${known.length ? ` (nodes: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''})` : ''}; check the name.`,
      );
    }
  }
  const ev = args.evidence;
  const podsByNode = new Map<string, KubeProxyPod>();
  for (const p of ev?.pods ?? []) {
    const prev = podsByNode.get(p.node);
    // Prefer a running pod over a leftover one on the same node.
    if (!prev || (prev.state !== 'Running' && p.state === 'Running')) podsByNode.set(p.node, p);
  }
  const dsFlags = ev?.daemonSetCommand ? parseProxyFlags(ev.daemonSetCommand) : undefined;
  const ctx: ConfiguredContext = { config, overridden: !!args.modeOverridden, lookedIn: args.configLookedIn ?? 'in the cluster' };
  const clusterConfigured = configuredFrom(ctx, dsFlags, ev?.daemonSetCommand ? 'DaemonSet kube-system/kube-proxy' : '');
  const replacement = ev?.replacement ?? null;
  const clusterNotes = [...(ev?.notes ?? [])];

  const names = args.only?.length ? args.only : [...byName.keys()].sort();
  const nodes = names.map((name): NodeModeRow => {
    const node = byName.get(name)!;
    const notes: string[] = [];
    const pod = podsByNode.get(name);
    const nodeArgs = nodeArgsProxyFlags(node.metadata?.annotations as Record<string, string> | undefined);
    // Configured: the cluster's configuration, then this node's own command line.
    let conf = clusterConfigured;
    if (pod) conf = configuredFrom(ctx, mergeFlags(dsFlags, parseProxyFlags(pod.command)), pod.staticPod ? `static pod ${pod.namespace}/${pod.name}` : conf.from, conf);
    else if (nodeArgs) conf = configuredFrom(ctx, nodeArgs.flags, `${nodeArgs.distribution}.io/node-args annotation`);
    const nodeStatus = nodeReady(node);
    const row: NodeModeRow = {
      node: name,
      configured: conf.unknown ? null : conf.mode,
      configuredDefaulted: conf.defaulted,
      configuredUnknown: conf.unknown ?? null,
      configuredOverride: conf.override,
      configuredFrom: conf.from,
      running: null,
      runningFrom: null,
      scheduler: conf.mode === 'ipvs' ? conf.scheduler : null,
      kubeProxyVersion: (pod && imageVersion(pod.image)) || node.status?.nodeInfo?.kubeProxyVersion || null,
      status: 'Unknown',
      nodeStatus,
      pod: pod ? `${pod.namespace}/${pod.name}` : null,
      restarts: pod ? pod.restarts : null,
      ready: pod ? pod.ready : null,
      mismatch: false,
      unknown: false,
      notes,
    };
    if (conf.unknown) notes.push(`configured mode unknown: ${conf.unknown}.`);
    const probe = ev?.probes?.get(name);

    if (!ev || ev.unavailable) {
      if (!ev) notes.push(`running mode not observed: ${args.runningEvidence ?? 'no evidence was read'}`);
    } else if (pod) {
      row.status = pod.state === 'Running' ? (pod.ready ? 'Running' : 'NotReady') : pod.state;
      if (pod.log !== undefined) {
        const v = parseKubeProxyLog(pod.log);
        if (v.running) {
          row.running = v.running;
          row.runningFrom = 'log';
        }
        if (v.unknownMode) notes.push(`kube-proxy did not know proxy mode "${v.unknownMode}" and assumed iptables; use one of iptables, ipvs, nftables.`);
        if (v.fallbackReason !== undefined && v.running === 'iptables') {
          row.status = 'Fallback';
          notes.push(`configured ipvs, running iptables: ${ipvsCause(v.fallbackReason)} (kube-proxy ${row.kubeProxyVersion ?? '≤ 1.24'} fell back: ${v.fallbackReason})`);
        } else if (v.crash) {
          row.running = 'none';
          row.runningFrom = 'log';
          row.status = pod.state === 'Running' ? 'Error' : pod.state;
          notes.push(`${conf.unknown || conf.override ? 'kube-proxy tried ipvs' : `configured ${conf.mode}`}, running none: ${ipvsCause(v.crash.replace(/^can't use the IPVS proxier:\s*/i, ''))}; kube-proxy ${row.kubeProxyVersion ?? '≥ 1.25'} exits with "${v.crash}" (${pod.restarts} restarts) — load the ip_vs modules or configure another mode.`);
        } else if (!v.running) {
          notes.push(pod.log === '' ? `kube-proxy pod ${pod.name} has an empty log (it may log to a file on the node); use --probe to read the node's rules.` : `kube-proxy pod ${pod.name}'s log does not say which proxier started (the start-up lines may have been rotated away); use --probe to read the node's rules.`);
        }
      } else if (pod.logNote && !clusterNotes.includes(pod.logNote)) {
        // A refusal that holds for every pod (RBAC) is a cluster note, said once.
        notes.push(pod.logNote);
      }
      if (pod.restarts > 0 && pod.state === 'Running' && !row.notes.some((n) => n.includes('restarts'))) notes.push(`kube-proxy pod ${pod.name} restarted ${pod.restarts} times.`);
      if (replacement?.full) notes.push(`stale leftover: kube-proxy pod ${pod.name} still runs although ${replacement.name} replaces kube-proxy (${replacement.evidence}); remove the kube-proxy DaemonSet and its rules.`);
    } else if (replacement) {
      row.running = replacement.running;
      row.runningFrom = 'replacement';
      row.configured = replacement.full ? '-' : row.configured;
      row.configuredDefaulted = replacement.full ? false : row.configuredDefaulted;
      row.configuredFrom = replacement.full ? replacement.evidence : row.configuredFrom;
      row.scheduler = replacement.full ? null : row.scheduler;
      // nodeInfo.kubeProxyVersion is only the kubelet's version (deprecated); with no kube-proxy it means nothing.
      if (replacement.full) row.kubeProxyVersion = null;
      row.status = 'Replaced';
      if (!replacement.full) notes.push(`${replacement.name} handles only part of Service traffic (${replacement.evidence}) and no kube-proxy pod runs on this node.`);
    } else if (nodeArgs) {
      row.status = nodeStatus === 'Ready' ? 'Embedded' : nodeStatus;
      notes.push(`${nodeArgs.distribution} runs kube-proxy inside its own process (no pod): the log is on the node (journalctl -u ${nodeArgs.distribution}${nodeArgs.distribution === 'k3s' ? ' or -u k3s-agent' : '-server or -u rke2-agent'}, look for "Using … Proxier"); --probe reads its /proxyMode through a probe pod.`);
    } else if (isMicroK8s(node)) {
      row.status = nodeStatus === 'Ready' ? 'Embedded' : nodeStatus;
      notes.push(`MicroK8s runs kube-proxy inside kubelite (no pod): its flags are in /var/snap/microk8s/current/args/kube-proxy on the node (iptables unless --proxy-mode is set there) and its log in journalctl -u snap.microk8s.daemon-kubelite; --probe reads its /proxyMode through a probe pod.`);
    } else {
      row.status = 'Missing';
      notes.push(`no kube-proxy pod runs on this node and nothing replacing kube-proxy was found; Services may not work here.`);
    }

    if (probe) {
      if ('error' in probe) notes.push(`--probe: ${probe.error}`);
      else if (probe.mode) {
        if (row.running && row.running !== probe.mode && row.running !== 'none') notes.push(`the log says ${row.running} but the rules show ${probe.mode} (${probe.evidence}); the rules win.`);
        row.running = probe.mode;
        row.runningFrom = 'rules';
      } else notes.push(`--probe: ${probe.evidence}`);
    }

    const answered = ev?.proxyModes?.get(name);
    if (answered) {
      if ('error' in answered) notes.push(`--probe: ${answered.error}`);
      else {
        if (row.running && row.running !== answered.mode && row.running !== 'none' && row.runningFrom !== 'replacement') {
          notes.push(`the ${row.runningFrom === 'rules' ? 'rules show' : 'log says'} ${row.running} but /proxyMode answers ${answered.mode} (${answered.evidence}); /proxyMode wins.`);
        }
        if (row.status === 'Missing') {
          row.status = 'Running';
          notes.splice(0, notes.length, ...notes.filter((n) => !n.startsWith('no kube-proxy pod runs on this node')));
          notes.push(`kube-proxy runs on this node outside any pod (a system service or embedded in another process): /proxyMode answers ${answered.mode}.`);
        }
        if (row.runningFrom !== 'replacement') {
          row.running = answered.mode;
          row.runningFrom = '/proxyMode';
        } else notes.push(`a kube-proxy still answers /proxyMode (${answered.mode}) on this node although ${replacement?.name} replaces it.`);
      }
    }

    // A mismatch needs a configured mode that was read: an unknown one, or --mode's what-if, is never one.
    if (row.running && row.configured !== null && !row.configuredOverride && row.configured !== '-' && row.running !== row.configured && !row.runningFrom?.startsWith('replacement')) {
      row.mismatch = true;
      if (row.status === 'Running' || row.status === 'Unknown') row.status = 'Mismatch';
      if (!notes.some((n) => n.startsWith(`configured ${row.configured}, running ${row.running}`))) {
        notes.unshift(`configured ${row.configured}, running ${row.running}: ${mismatchCause(row, pod)}`);
      }
    }
    if (row.status === 'Fallback') row.mismatch = true;
    if (row.configuredOverride && row.running && row.configured !== '-' && row.running !== row.configured && row.running !== 'none') {
      notes.push(`runs ${row.running}; ${row.configured} is --mode's what-if, not the cluster's configuration, so nothing is compared.`);
    }
    // --check cannot pass a node whose running or configured mode it does not know; --mode's what-if is no configuration.
    row.unknown = !row.mismatch && (row.running === null || ((row.configured === null || row.configuredOverride) && row.status !== 'Replaced'));
    if (nodeStatus !== 'Ready') notes.push(`node is ${nodeStatus}.`);
    return row;
  });
  // Every node's configuration unknown (each pod reads a file not at hand): so is the cluster's.
  const allUnknown = nodes.length > 0 && nodes.every((n) => n.configuredUnknown !== null) ? nodes[0].configuredUnknown : null;
  if (allUnknown && !clusterConfigured.unknown) Object.assign(clusterConfigured, { unknown: allUnknown });
  return {
    source: args.source,
    configuration: {
      source: clusterConfigured.from,
      mode: replacement?.full && !(ev?.pods.length) ? '-' : clusterConfigured.unknown ? null : clusterConfigured.mode,
      configuredMode: clusterConfigured.written,
      defaulted: clusterConfigured.defaulted,
      scheduler: clusterConfigured.mode === 'ipvs' && !clusterConfigured.unknown ? clusterConfigured.scheduler : null,
      unknown: clusterConfigured.unknown ?? null,
      override: clusterConfigured.override,
      warnings: config.warnings,
      problems: config.problems,
    },
    replacement,
    nodes,
    notes: clusterNotes,
  };
}

/** What `get --check` passes: every node's running and configured mode read and agreeing, and a configuration
 * kube-proxy accepts. Unknown is not OK. */
export function checkPasses(report: ModeReport): boolean {
  return report.configuration.problems.length === 0 && !report.nodes.some((n) => n.mismatch || n.unknown);
}

interface Configured {
  mode: string;
  written: string;
  defaulted: boolean;
  scheduler: string;
  from: string;
  /** Why the mode is not known (the configuration kube-proxy reads was not read). */
  unknown?: string;
  /** The mode is --mode's override. */
  override: boolean;
}

interface ConfiguredContext {
  config: LoadedConfig;
  /** --mode was given. */
  overridden: boolean;
  lookedIn: string;
}

/** The configured mode after command-line flags, which override the file (kube-proxy's own precedence). */
function configuredFrom(ctx: ConfiguredContext, flags: ProxyFlags | undefined, flagSource: string, base?: Configured): Configured {
  const { config, overridden } = ctx;
  const fromFile: Configured = base ?? {
    mode: config.effectiveMode,
    written: config.configuredMode,
    defaulted: config.modeDefaulted,
    scheduler: config.config.ipvs?.scheduler || 'rr',
    from: overridden ? '--mode' : config.source,
    override: overridden,
    // Defaults stand in for a configuration that could not be read: that is not what the cluster configured.
    unknown: overridden ? undefined : config.unavailable,
  };
  if (!flags || (flags.mode === undefined && !flags.scheduler && flags.config === undefined)) return fromFile;
  const out = { ...fromFile };
  if (flags.mode !== undefined && !overridden) {
    out.written = flags.mode;
    out.mode = flags.mode === '' ? 'iptables' : flags.mode;
    out.defaulted = flags.mode === '';
    out.from = `${flagSource} --proxy-mode`;
    out.unknown = undefined;
  } else if (flags.config !== undefined && config.origin.kind === 'defaults' && !overridden && !out.unknown && flags.mode === undefined) {
    // kube-proxy reads a file (the DaemonSet mounts kube-proxy's ConfigMap) that is not at hand: its mode is not known.
    out.unknown = `kube-proxy runs with --config ${flags.config}, but no kube-proxy ConfigMap (kube-system/kube-proxy or kube-proxy-config) was found ${ctx.lookedIn}`;
  }
  if (flags.scheduler) out.scheduler = flags.scheduler;
  return out;
}

function mergeFlags(a: ProxyFlags | undefined, b: ProxyFlags): ProxyFlags {
  return { ...a, ...Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) };
}

function mismatchCause(row: NodeModeRow, pod: KubeProxyPod | undefined): string {
  const minor = minorVersion(row.kubeProxyVersion);
  if (row.configured === 'ipvs' && row.running === 'iptables') {
    return minor !== null && minor <= 24 ? 'IPVS modules missing on this node (kube-proxy ≤ 1.24 falls back silently)' : 'kube-proxy has not restarted since the configuration changed, or IPVS is missing on this node';
  }
  if (pod && row.runningFrom === 'log') return `kube-proxy pod ${pod.name} started before the configuration changed; restart it (kubectl -n ${pod.namespace} delete pod ${pod.name}).`;
  return 'the node runs another mode than configured.';
}

/** MicroK8s's kubelet registers every node with the label microk8s.io/cluster=true (canonical/microk8s#308, #314). */
export function isMicroK8s(node: Node): boolean {
  return (node.metadata?.labels as Record<string, string> | undefined)?.['microk8s.io/cluster'] === 'true';
}

function nodeReady(node: Node): string {
  const conditions = (node.status?.conditions ?? []) as Array<{ type?: string; status?: string }>;
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return 'Unknown';
  return ready.status === 'True' ? 'Ready' : 'NotReady';
}
