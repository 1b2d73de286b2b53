// The userspace mode's texts: its portal chains as iptables-restore input, the jumps into them as the
// iptables commands upstream's EnsureRule amounts to, and which proxy port serves which service port.
import { restoreText } from '../iptables/mode.js';
import { planIptables } from '../iptables/plan.js';
import type { Ruleset } from '../iptables/index.js';
import type { Plan, PlanOptions } from '../modes/types.js';
import { jumpRuleArgv, portalJumpRules, USERSPACE_CHAINS } from './names.js';
import type { ProxyAddress } from './portals.js';
import type { ProxiedServicePort, UserspaceState } from './types.js';

const OURS = new Set(USERSPACE_CHAINS.map((c) => c.chain));

/** Only the five userspace chains (a parsed state also holds the built-in chains' jumps). */
export function portalChains(rs: Ruleset): Ruleset {
  return { family: rs.family, tables: rs.tables.map((t) => ({ ...t, chains: t.chains.filter((c) => OURS.has(c.name)) })).filter((t) => t.chains.length > 0) };
}

/** iptables-restore input for the portal chains (apply with --noflush: they share nat and filter with others). */
export function portalRestoreText(states: readonly UserspaceState[]): string {
  return restoreText(states.map((s) => portalChains(s.rules)));
}

/** The jumps from PREROUTING, OUTPUT and INPUT, as iptables commands (upstream ensures them one by one, not in a restore). */
export function jumpCommandsText(states: readonly UserspaceState[]): string {
  return states
    .map((s) => portalJumpRules().map((j) => [s.family === 'IPv4' ? 'iptables' : 'ip6tables', ...jumpRuleArgv(j)].map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ')).join('\n') + '\n')
    .join('');
}

/** One line per service port: its proxy port, portals, and the balancer behind it. */
export function proxyTableText(states: readonly UserspaceState[]): string {
  const lines: string[] = [];
  for (const s of states) {
    for (const p of s.proxies) {
      const at = p.portals.map((x) => `${x.kind} ${x.ip === null ? '*' : x.ip.includes(':') ? `[${x.ip}]` : x.ip}:${x.port}`).join(', ');
      const eps = p.endpoints === null ? 'endpoints unknown' : p.endpoints.length ? `round robin ${p.endpoints.join(' ')}` : 'no endpoints';
      const aff = p.affinitySeconds !== null ? `, ClientIP affinity ${p.affinitySeconds}s` : '';
      lines.push(`${p.servicePort} ${p.protocol} proxy port ${p.proxyPort}${s.rendered ? ' (stand-in)' : ''} <- ${at} -> ${eps}${aff}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/**
 * A userspace plan is a restore plan of the portal chains plus what the proxy process must serve: its
 * text carries the stand-in proxy ports; `sync` opens the sockets first and writes the rules with the
 * ports they really got (core/proxier/apply-userspace.ts).
 */
export interface UserspacePlan extends Plan {
  proxies: readonly ProxiedServicePort[];
  /** Undefined for a state read from a dump (nothing to serve). */
  address: ProxyAddress | undefined;
}

/** The portal chains rewritten whole (userspace syncs have no partial form), as a restore plan. */
export function planUserspace(_previous: UserspaceState | undefined, next: UserspaceState, opts: PlanOptions = {}): UserspacePlan {
  const plan = planIptables(undefined, portalChains(next.rules), { ...opts, full: true });
  return { ...plan, mode: 'userspace', proxies: next.proxies, address: next.address };
}

/** The script that takes the portal chains away (CleanupLeftovers after the jumps are deleted): flush, then delete. */
export function portalRemovalText(): string {
  const tables = ['filter', 'nat'].map((t) => USERSPACE_CHAINS.filter((c) => c.table === t).map((c) => c.chain));
  return ['filter', 'nat'].map((t, i) => [`*${t}`, ...tables[i]!.map((c) => `:${c} - [0:0]`), ...tables[i]!.map((c) => `-X ${c}`), 'COMMIT'].join('\n')).join('\n') + '\n';
}
