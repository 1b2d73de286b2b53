// The ipvs mode on a host, for the proxier: probe IPVS as kube-proxy does, then either program it, fall back
// to the iptables proxier, or refuse — by the configured kube-proxy version:
//   - up to 1.24 (cmd/kube-proxy/app/server_others.go newProxyServer / getProxyMode / tryIPVSProxy;
//     read at 0064875e50353d07fd7f62b42841b11931fd013c and in a 1.24-era copy): kube-proxy logs the reason
//     ("Can't use the IPVS proxier" with the error), then "Can't use ipvs proxier, trying iptables proxier",
//     and runs the iptables proxier;
//   - from 1.25 (server_others.go, later server_linux.go createProxier): newProxyServer fails with
//     "can't use the IPVS proxier: <reason>" and kube-proxy exits.
// A sync runs as upstream's ipvs syncProxyRules does: kube-ipvs0 ensured first, then the ipsets, the
// service addresses bound to kube-ipvs0, the virtual and real servers, the companion iptables rules and
// their jumps; stale servers, addresses and set members last. Unlike iptables-restore this is not one
// transaction: a failure names the step, and the steps before it stay (host/ipvs.ts IpvsApplyError).
import type { KubeProxyConfiguration } from '../config/index.js';
import { effectiveIPVSScheduler } from '../config/index.js';
import { ClusterError } from '../errors.js';
import { detectIptablesKind } from '../host/detect.js';
import { IptablesCommandBackend } from '../host/iptables.js';
import { IpvsCommandBackend, applyIpvsPlan, probeIpvsSupport, readIpvsState } from '../host/ipvs.js';
import { ConntrackCommandBackend } from '../host/conntrack.js';
import { decideIpvs } from '../ipvs/fallback.js';
import type { IpvsPart, IpvsPlan } from '../ipvs/plan.js';
import { modeFor } from '../modes/registry.js';
import type { FamilyState, ProxyModeDefinition } from '../modes/types.js';
import { iptablesHost } from './apply-iptables.js';
import type { HostTarget, ModeHost } from './host.js';

/** The order of upstream's ipvs syncProxyRules (the plan's own order binds addresses after the servers). */
export const UPSTREAM_IPVS_ORDER: readonly IpvsPart[] = ['ipsets', 'addresses', 'ipvs', 'iptables', 'cleanup'];

/** kube-proxy 1.25 made IPVS being unusable fatal; earlier versions fell back. No version: the newest (refuse). */
export function ipvsFallsBack(kubeProxyVersion: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(kubeProxyVersion ?? '');
  if (!m) return false;
  return Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) <= 24);
}

export async function ipvsHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget, config: KubeProxyConfiguration): Promise<ModeHost> {
  const { run } = target;
  const scheduler = effectiveIPVSScheduler(config);
  const probe = await probeIpvsSupport(run, scheduler);
  const decision = decideIpvs(probe, scheduler, { noFallback: !ipvsFallsBack(target.kubeProxyVersion) });
  if (decision.mode === 'none') throw new ClusterError(`can't use the IPVS proxier: ${decision.reason}; kube-proxy ${target.kubeProxyVersion ?? '1.25 and newer'} exits here (1.24 and older fell back to iptables).`);
  if (decision.mode === 'iptables') {
    target.log?.(`Can't use the IPVS proxier: ${decision.reason}`);
    target.log?.(`Can't use ipvs proxier, trying iptables proxier`);
    const iptables = modeFor('iptables', '`kubectl proxymode sync`');
    return { ...(await iptablesHost(iptables, target, config)), def: iptables };
  }
  const kind = (await detectIptablesKind(run)).kind;
  const opts = { ipvs: new IpvsCommandBackend(run), iptables: new IptablesCommandBackend(kind, run), order: UPSTREAM_IPVS_ORDER };
  return {
    description: `${target.description} (ipvs, iptables-${kind})`,
    conntrack: new ConntrackCommandBackend(run),
    async read(family) {
      return (await readIpvsState(family, run, opts)).state as unknown as FamilyState;
    },
    async apply(plan) {
      await opts.ipvs.ensureDevice();
      // the ipvs mode's plans are IpvsPlans (ipvs/plan.ts); their 'create device' step is not needed here
      await applyIpvsPlan(plan as unknown as IpvsPlan, run, opts);
    },
  };
}
