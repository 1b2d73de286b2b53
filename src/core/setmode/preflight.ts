// Pre-flight: before anything is touched, whether every node's kube-proxy can run the target mode, and what
// happens on one that cannot. From kubernetes/kubernetes cmd/kube-proxy/app:
//   - nftables: added in 1.29 behind the NFTablesProxyMode feature gate (alpha, off), on by default from 1.31
//     (beta), GA in 1.33; kube-proxy refuses kernels older than 5.13 in nftables mode (kubernetes.io
//     "Virtual IPs and Service Proxies": "requires kernel 5.13 or later").
//   - ipvs: needs the ip_vs, ip_vs_<scheduler> and nf_conntrack modules and ipset; deprecated from 1.35.
//   - userspace: removed in 1.26.
//   - a node that cannot run the mode: since 1.25 kube-proxy exits ("Error running ProxyServer") and its pod
//     crash-loops, so that node's Services stop following changes; before 1.25 it fell back to iptables.
// Pure: the per-node facts come from Node objects and the kube-proxy pods `get` reads.
import type { KubeProxyConfiguration } from '../config/index.js';
import type { NodeModeRow } from '../report/mode.js';

/** Schedulers `--scheduler` accepts (IPVS's, as ipvsadm names them). */
export const SET_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh'] as const;

/** Why `--scheduler` cannot go with this switch, or undefined: only ipvs mode reads ipvs.scheduler. */
export function schedulerProblem(mode: string, scheduler: string): string | undefined {
  if (mode !== 'ipvs') return `--scheduler is for ipvs mode only; leave it out when switching to ${mode}.`;
  if (!(SET_SCHEDULERS as readonly string[]).includes(scheduler)) return `--scheduler "${scheduler}" is not an IPVS scheduler; use one of ${SET_SCHEDULERS.join(', ')}.`;
  return undefined;
}

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface NodeCheck {
  node: string;
  level: CheckLevel;
  kubeProxyVersion: string | null;
  kernelVersion: string | null;
  /** One sentence each; fails first. */
  findings: Array<{ level: Exclude<CheckLevel, 'ok'>; text: string }>;
}

export interface PreflightReport {
  mode: string;
  nodes: NodeCheck[];
  /** Cluster-wide findings (MetalLB with ipvs). */
  cluster: Array<{ level: Exclude<CheckLevel, 'ok'>; text: string }>;
  /** What happens on a node that fails, in one sentence per era. */
  onFailure: string;
  failed: boolean;
}

export interface PreflightInput {
  mode: string;
  scheduler?: string;
  rows: NodeModeRow[];
  /** kernelVersion per node (Node status.nodeInfo). */
  kernels: Map<string, string | undefined>;
  config: KubeProxyConfiguration;
  /** operatingSystem per node (Node status.nodeInfo); kernelspace is Windows's mode, the others Linux's. */
  os?: Map<string, string | undefined>;
  /** MetalLB's evidence ("namespace metallb-system"), when installed. */
  metallb?: string;
  /** Per node, what a pod found of the IPVS kernel modules (switching to ipvs), or why it could not look. */
  ipvsProbe?: Map<string, { kernel: string; modules: Record<string, string> } | { error: string }>;
  /** Why no node was probed (RBAC, Pod Security), when that held for all. */
  ipvsProbeRefused?: string;
}

/** The modules kube-proxy's ipvs mode needs for `scheduler`; nf_conntrack_ipv4 stands in for nf_conntrack before kernel 4.19. */
export function ipvsModules(scheduler: string): string[] {
  return ['ip_vs', `ip_vs_${scheduler}`, 'nf_conntrack', 'nf_conntrack_ipv4'];
}

export function preflight(i: PreflightInput): PreflightReport {
  const nodes = i.rows.map((row): NodeCheck => {
    const kernel = i.kernels.get(row.node) ?? null;
    const findings: NodeCheck['findings'] = [];
    const v = parseVersion(row.kubeProxyVersion);
    const ver = row.kubeProxyVersion ?? 'unknown';
    if (!v) findings.push({ level: 'warn', text: `kube-proxy's version is not known here (no image tag, no nodeInfo.kubeProxyVersion), so whether it supports ${i.mode} cannot be checked.` });
    const os = i.os?.get(row.node);
    if (os && (os === 'windows') !== (i.mode === 'kernelspace')) findings.push({ level: 'fail', text: `kube-proxy on ${os} has no ${i.mode} mode (kernelspace is Windows's only mode; iptables, ipvs and nftables are Linux's).` });
    if (i.mode === 'userspace' && v && v.minor >= 26) findings.push({ level: 'fail', text: `kube-proxy ${ver} has no userspace mode (removed in 1.26).` });
    if (i.mode === 'nftables') {
      if (v && v.minor < 29) findings.push({ level: 'fail', text: `kube-proxy ${ver} has no nftables mode (added in 1.29).` });
      else if (v && v.minor < 31 && i.config.featureGates?.NFTablesProxyMode !== true) {
        findings.push({ level: 'fail', text: `kube-proxy ${ver} runs nftables only with the NFTablesProxyMode feature gate, which is off before 1.31; add featureGates: {NFTablesProxyMode: true} to its configuration first.` });
      } else if (v && v.minor < 33) findings.push({ level: 'warn', text: `nftables mode is beta in kube-proxy ${ver} (GA from 1.33).` });
      const k = parseKernel(kernel);
      if (!k) findings.push({ level: 'warn', text: `the node's kernel version is not known (status.nodeInfo.kernelVersion), and nftables mode needs 5.13 or later.` });
      else if (k[0] < 5 || (k[0] === 5 && k[1] < 13)) findings.push({ level: 'fail', text: `kernel ${kernel} is older than 5.13, which kube-proxy's nftables mode requires.` });
    }
    if (i.mode === 'ipvs') {
      if (v && v.minor >= 35) findings.push({ level: 'warn', text: `ipvs mode is deprecated since kube-proxy 1.35 (${ver}); nftables is its successor.` });
      const refused = row.notes.find((n) => /IPVS modules missing|ipset missing|IPVS scheduler's module is missing/.test(n));
      const sched = i.scheduler || i.config.ipvs?.scheduler || 'rr';
      const probe = i.ipvsProbe?.get(row.node);
      if (refused) findings.push({ level: 'fail', text: `this node's kube-proxy already could not use IPVS: ${refused.replace(/\.$/, '')}.` });
      else if (probe && 'modules' in probe) {
        const has = (m: string) => probe.modules[m] !== undefined && probe.modules[m] !== 'missing';
        const missing = ['ip_vs', `ip_vs_${sched}`].filter((m) => !has(m));
        if (!has('nf_conntrack') && !has('nf_conntrack_ipv4')) missing.push('nf_conntrack');
        if (missing.length) findings.push({ level: 'fail', text: `the node has no ${missing.join(', ')} kernel module${missing.length === 1 ? '' : 's'} (a probe pod found ${missing.length === 1 ? 'it' : 'them'} neither loaded, built into kernel ${probe.kernel}, nor in its modules.dep), which kube-proxy's ipvs mode needs.` });
      } else if (row.running !== 'ipvs') {
        const why = probe ? `the probe pod could not tell (${probe.error.replace(/\.$/, '')})` : i.ipvsProbeRefused ? `no probe pod could run (${i.ipvsProbeRefused.replace(/\.$/, '')})` : 'it was not probed';
        findings.push({ level: 'warn', text: `whether the node has the IPVS kernel modules (ip_vs, ip_vs_${sched}, nf_conntrack) is not proven: ${why}; \`kubectl proxymode get --probe\` shows the mode after the switch.` });
      }
    }
    const level: CheckLevel = findings.some((f) => f.level === 'fail') ? 'fail' : findings.length ? 'warn' : 'ok';
    findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'fail' ? -1 : 1));
    return { node: row.node, level, kubeProxyVersion: row.kubeProxyVersion, kernelVersion: kernel, findings };
  });
  const cluster: PreflightReport['cluster'] = [];
  if (i.mode === 'ipvs' && i.metallb && i.config.ipvs?.strictARP !== true) {
    cluster.push({ level: 'warn', text: `MetalLB is installed (${i.metallb}) and needs ipvs.strictARP: true in kube-proxy's configuration in ipvs mode, or nodes answer ARP for every LoadBalancer IP; set it too.` });
  }
  const minors = nodes.map((n) => parseVersion(n.kubeProxyVersion)?.minor).filter((m): m is number => m !== undefined);
  const old = minors.some((m) => m < 25);
  const onFailure = i.mode === 'ipvs' && old
    ? 'a node whose kube-proxy cannot run ipvs: from 1.25 it exits and its pod crash-loops (CrashLoopBackOff), so Services there stop following changes; before 1.25 it falls back to iptables and says so in its log.'
    : `a node whose kube-proxy cannot run ${i.mode}: from 1.25 it exits and its pod crash-loops (CrashLoopBackOff), so Services there stop following changes${old ? '; before 1.25 it falls back to iptables' : ''}.`;
  return { mode: i.mode, nodes, cluster, onFailure, failed: nodes.some((n) => n.level === 'fail') || cluster.some((c) => c.level === 'fail') };
}

export function parseVersion(v: string | null | undefined): { major: number; minor: number } | null {
  const m = /^v?(\d+)\.(\d+)/.exec(v ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

function parseKernel(k: string | null): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(k ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}
