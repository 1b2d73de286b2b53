// Can this node run the ipvs proxier, and what does kube-proxy do when it cannot? A pure decision over
// the facts a host probe gathered (src/core/host/ipvs.ts probeIpvsSupport).
//
// kube-proxy's history (cmd/kube-proxy/app/server_others.go / server_linux.go, pkg/proxy/ipvs):
//  - up to 1.24: CanUseIPVSProxier checked that the modules ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh,
//    nf_conntrack (nf_conntrack_ipv4 before 4.19) and the scheduler's ip_vs_<name> are loaded or built in
//    (/proc/modules, /lib/modules/$(uname -r)/modules.builtin, after trying modprobe) and, when they are not,
//    logged "Can't use the IPVS proxier" and ran the iptables proxier instead.
//  - from 1.25: no fallback — kube-proxy exits with "can't use the IPVS proxier: <reason>". Since 1.26
//    the check tries to create a dummy virtual server (198.51.100.0:20000/TCP) with the configured scheduler
//    instead of reading module lists; the kernel loads modules on demand.

export interface IpvsProbe {
  /** `ipvsadm -Ln` worked (the kernel answers IPVS netlink / sockopt requests). */
  ipvsAvailable: boolean;
  /** Why not, in the kernel's words ("Protocol not available" when CONFIG_IP_VS is unset). */
  ipvsError?: string;
  /** A dummy virtual server with the scheduler could be created (null: not tried). */
  schedulerUsable: boolean | null;
  schedulerError?: string;
  /** Module names loaded (/proc/modules) or built in (modules.builtin), after modprobe attempts. */
  modules: string[];
  /** Whether module lists could be read at all (CONFIG_MODULES off and no /lib/modules: false). */
  moduleListsReadable: boolean;
  /** ipset's version ("7.17"), or null when ipset is missing. */
  ipsetVersion: string | null;
}

export type IpvsDecision =
  | { mode: 'ipvs' }
  | { mode: 'iptables'; fallback: true; reason: string; log: string }
  | { mode: 'none'; error: string; reason: string };

export const MIN_IPSET_VERSION = '6.0';

/** The modules kube-proxy needs for a scheduler (nf_conntrack_ipv4 counts for nf_conntrack on old kernels). */
export function requiredModules(scheduler: string): string[] {
  const s = scheduler === '' ? 'rr' : scheduler;
  return ['ip_vs', `ip_vs_${s}`, 'nf_conntrack'];
}

export function missingModules(modules: readonly string[], scheduler: string): string[] {
  const have = new Set(modules);
  if (have.has('nf_conntrack_ipv4')) have.add('nf_conntrack');
  return requiredModules(scheduler).filter((m) => !have.has(m));
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.replace(/^v/, '').split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 2; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Why the ipvs proxier cannot run here, or undefined when it can. */
export function ipvsUnusableReason(probe: IpvsProbe, scheduler: string): string | undefined {
  const sched = scheduler === '' ? 'rr' : scheduler;
  if (probe.ipsetVersion === null) return 'ipset is not installed';
  if (!versionAtLeast(probe.ipsetVersion, MIN_IPSET_VERSION)) return `ipset version: ${probe.ipsetVersion} is less than min required version: ${MIN_IPSET_VERSION}`;
  if (!probe.ipvsAvailable) return `the kernel has no IPVS (ipvsadm: ${probe.ipvsError ?? 'IPVS unavailable'}; module ip_vs missing)`;
  if (probe.schedulerUsable === false) return `the IPVS scheduler ${sched} is not available (${probe.schedulerError ?? `module ip_vs_${sched} missing`})`;
  if (probe.schedulerUsable === null && probe.moduleListsReadable) {
    const missing = missingModules(probe.modules, sched).filter((m) => m !== 'ip_vs');
    if (missing.length) return `required kernel modules are not loaded: ${missing.join(', ')}`;
  }
  return undefined;
}

/**
 * What a kube-proxy configured for ipvs does on this host: run ipvs; fall back to iptables (kube-proxy <= 1.24,
 * our default) logging why; or, with noFallback (kube-proxy >= 1.25), refuse with its one sentence.
 */
export function decideIpvs(probe: IpvsProbe, scheduler: string, opts: { noFallback: boolean }): IpvsDecision {
  const reason = ipvsUnusableReason(probe, scheduler);
  if (!reason) return { mode: 'ipvs' };
  if (opts.noFallback) return { mode: 'none', reason, error: `can't use the IPVS proxier: ${reason}.` };
  return { mode: 'iptables', fallback: true, reason, log: `Can't use the IPVS proxier, using the iptables proxier instead: ${reason}.` };
}
