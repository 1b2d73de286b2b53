// The userspace mode's host side for `sync` (proxier.go syncProxyRules + ensurePortals, unmergeService):
// on each sync, a service port whose proxy stops (removed, or changed so it restarts) first loses its portal
// rules and only then its socket, as cleanupPortalAndProxy does (closePortal, then stopProxy): no rule ever
// points at a closed port. Then the proxy's sockets follow the service ports (new ones opened, endpoint
// lists handed to the balancer without touching open connections), the portal chains are written with the
// ports those sockets really got (iptables-restore --noflush) and iptablesInit's jumps ensured; a removed
// UDP service port's conntrack flows are cleared. The sockets live in this process,
// or, with --netns, in a child process inside the namespace (host/userspace/child.ts). close() removes
// the portal rules and then closes the sockets: the rules must never outlive the proxy they point at.
import type { KubeProxyConfiguration } from '../config/index.js';
import { parseDuration } from '../config/duration.js';
import { parsePortRange } from '../config/net.js';
import { detectIptablesKind } from '../host/detect.js';
import { IptablesCommandBackend } from '../host/iptables.js';
import { childProxier, clearUDPEntriesForIP, localProxier, stoppingServicePorts, type ProxierChildOptions, type ProxierHandle } from '../host/userspace/index.js';
import type { FamilyState, IPFamily, Plan, ProxyModeDefinition } from '../modes/types.js';
import { portalJumpRules, portalRemovalText, portalRules, portalRestoreText, servedProxies, type ProxiedServicePort, type UserspacePlan } from '../userspace/index.js';
import type { HostTarget, ModeHost } from './host.js';

/** The proxier's options from the configuration: portRange, udpIdleTimeout (250 ms by default), bindAddress. */
export function userspaceProxierOptions(config: KubeProxyConfiguration, listenIP: string): ProxierChildOptions {
  const range = parsePortRange(config.portRange ?? '');
  let udpIdleTimeoutMs = 250;
  try {
    if (config.udpIdleTimeout) udpIdleTimeoutMs = parseDuration(config.udpIdleTimeout);
  } catch {
    // validated when the configuration was loaded; keep the default
  }
  return { listenIP, udpIdleTimeoutMs, ...(range && range.size > 0 ? { portRange: range } : {}) };
}

/** The cluster IPs of UDP service ports served before and gone now (unmergeService's staleUDPServices). */
export function staleUDPClusterIPs(before: readonly ProxiedServicePort[], now: readonly ProxiedServicePort[]): string[] {
  const still = new Set(now.map((p) => p.servicePort));
  const ips = new Set<string>();
  for (const p of before) {
    if (p.protocol !== 'UDP' || still.has(p.servicePort)) continue;
    const ip = p.portals.find((x) => x.kind === 'cluster IP')?.ip;
    if (ip) ips.add(ip);
  }
  return [...ips];
}

export async function userspaceHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget, config: KubeProxyConfiguration): Promise<ModeHost> {
  const { run } = target;
  const log = target.log ?? (() => {});
  const kind = (await detectIptablesKind(run)).kind;
  const backend = new IptablesCommandBackend(kind, run);
  let proxier: ProxierHandle | undefined;
  let served: ProxiedServicePort[] = [];
  /** The service ports the written rules point at, with their proxy ports. */
  let live: ProxiedServicePort[] = [];
  let written: IPFamily | undefined;
  const where = target.netns ? `a child process in network namespace ${target.netns}` : 'this process';

  return {
    description: `${target.description} (iptables-${kind}, the userspace proxy in ${where})`,
    async read(family) {
      const text = await backend.save(family);
      return def.parse({ source: target.description, sections: [{ kind: 'iptables-save', text, family, line: 1 }] }, family);
    },
    async apply(plan: Plan) {
      const { proxies, address, family } = plan as UserspacePlan;
      if (!address) throw new Error('this userspace plan was read from a dump, not rendered: there is nothing to serve.');
      if (!proxier) {
        const opts = userspaceProxierOptions(config, address.listenIP);
        proxier = target.netns ? childProxier(target.netns, opts, log) : localProxier({ ...opts, log });
      }
      const write = (ports: ProxiedServicePort[]) =>
        backend.restore(family, portalRestoreText([{ family, rules: portalRules(family, ports, address), proxies: ports, rendered: false }]), { noflush: true });
      // closePortal before stopProxy: the rules of the proxies this sync stops go while their sockets still listen
      const stopping = stoppingServicePorts(served, proxies);
      if (written === family && live.some((p) => stopping.has(p.servicePort))) await write(live.filter((p) => !stopping.has(p.servicePort)));
      // then the sockets, and the rules with the ports they got: rules only ever point at open ports
      const synced = await proxier.sync(proxies);
      live = servedProxies(proxies, synced.ports, synced.open);
      await write(live);
      // iptablesInit, every sync as upstream: the jumps from the built-in chains into the portal chains
      for (const j of portalJumpRules()) await backend.ensureRule(family, j.table, j.chain, j.words, j.position);
      written = family;
      for (const ip of staleUDPClusterIPs(served, proxies)) {
        try {
          await clearUDPEntriesForIP(run, ip);
        } catch (e) {
          log(`failed to delete stale service IP ${ip} connections: ${(e as Error).message}`);
        }
      }
      served = [...proxies];
    },
    async close() {
      try {
        if (written) {
          for (const j of portalJumpRules()) await backend.deleteRule(written, j.table, j.chain, j.words);
          await backend.restore(written, portalRemovalText(), { noflush: true });
        }
      } finally {
        await proxier?.stop();
        proxier = undefined;
      }
    },
  };
}
