// The one adapter between the proxier and a host's backends: it picks the host side of each mode (apply-*.ts:
// read what the mode holds on this host or network namespace, apply its Plan atomically). Every call into
// src/core/host/ from the sync path is in those files, so a backend's interface changing is one edit there;
// the commands and the proxier never know which backend serves which mode.
import type { KubeProxyConfiguration } from '../config/index.js';
import { NotImplementedError } from '../errors.js';
import type { FamilyState, Plan, ProxyModeDefinition } from '../modes/types.js';
import { iptablesHost } from './apply-iptables.js';
import { ipvsHost } from './apply-ipvs.js';
import { nftablesHost } from './apply-nftables.js';
import { userspaceHost } from './apply-userspace.js';
import type { HostTarget, ModeHost } from './host.js';

export type { HostTarget, ModeHost } from './host.js';
export { cleanupHost, isKubeProxyChain, isKubeProxySet } from './cleanup.js';

/** The host side of `def`: one sentence (NotImplementedError) when this adapter cannot apply that mode yet. */
export async function modeHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget, config: KubeProxyConfiguration): Promise<ModeHost> {
  if (def.mode === 'iptables') return iptablesHost(def, target, config);
  if (def.mode === 'nftables') return nftablesHost(def, target);
  if (def.mode === 'userspace') return userspaceHost(def, target, config);
  if (def.mode === 'ipvs') return ipvsHost(def, target, config);
  throw new NotImplementedError(`applying mode ${def.mode}'s plans to a host (\`kubectl proxymode sync\`)`);
}

/** Dry runs: the plan's text against what the host holds now. */
export async function planAgainstHost(def: ProxyModeDefinition<FamilyState>, host: ModeHost, next: FamilyState): Promise<Plan> {
  const previous = await host.read(next.family);
  return def.plan(previous, next, { full: true });
}
