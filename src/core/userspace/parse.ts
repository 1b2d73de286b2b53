// An iptables-save dump -> the userspace state it shows. The rules are all a dump holds: the endpoints
// and the balancer's order live in kube-proxy's memory, so a parsed state's endpoints are unknown (null).
//
// Dump kind: an iptables-save dump is the userspace proxier's when nat PREROUTING or OUTPUT jumps to
// KUBE-PORTALS-* (iptablesInit's jumps; a node that left userspace mode had them removed with the chains by
// CleanupLeftovers). That jump starts a section of this kind inside the iptables-save text; reading it, the
// sections are joined back in line order into the iptables-save text they were cut from.
import { IPTABLES_SAVE, iptablesMode } from '../iptables/mode.js';
import type { Chain, Ruleset } from '../iptables/index.js';
import type { Dump, DumpKind, DumpSection, IPFamily } from '../modes/types.js';
import { CONTAINER_NODEPORT_CHAIN, HOST_PORTAL_CHAIN, CONTAINER_PORTAL_CHAIN, USERSPACE_CHAINS } from './names.js';
import { PORTAL_CHAINS, readPortalRule } from './read-rules.js';
import type { Portal, PortalKind, ProxiedServicePort, UserspaceState } from './types.js';

export const USERSPACE_IPTABLES_SAVE: DumpKind = {
  name: 'iptables-save-userspace',
  command: 'iptables-save (a userspace-mode node)',
  startsSection: (line) => /^-A (PREROUTING|OUTPUT) (.* )?-j KUBE-PORTALS-(CONTAINER|HOST)(\s|$)/.test(line),
};

/** The dump with each userspace section glued back onto the iptables-save section it was cut from. */
export function rejoinedDump(dump: Dump): Dump {
  const sections: DumpSection[] = [];
  for (const s of [...dump.sections].sort((a, b) => a.line - b.line)) {
    const last = sections[sections.length - 1];
    if (s.kind === USERSPACE_IPTABLES_SAVE.name) {
      if (last && last.kind === IPTABLES_SAVE.name) sections[sections.length - 1] = { ...last, text: last.text + s.text };
      else sections.push({ ...s, kind: IPTABLES_SAVE.name });
    } else if (s.kind === IPTABLES_SAVE.name) sections.push({ ...s });
  }
  return { source: dump.source, sections };
}

/** Only what the userspace proxier owns: its five chains, and the built-in chains' rules that jump to them. */
export function userspaceRules(rs: Ruleset): Ruleset {
  const ours = new Set(USERSPACE_CHAINS.map((c) => c.chain));
  const tables = rs.tables
    .filter((t) => t.name === 'nat' || t.name === 'filter')
    .map((t) => ({
      name: t.name,
      chains: t.chains
        .map((c): Chain | null => {
          if (ours.has(c.name)) return c;
          const jumps = c.rules.filter((r) => r.words.some((w, i) => ours.has(w) && (r.words[i - 1] === '-j' || r.words[i - 1] === '-g')));
          return jumps.length && c.policy !== '-' ? { ...c, rules: jumps } : null;
        })
        .filter((c): c is Chain => c !== null),
    }));
  return { family: rs.family, tables };
}

function portalKind(chain: string, physdevOrLocal: boolean): PortalKind {
  if (chain === CONTAINER_NODEPORT_CHAIN || chain.startsWith('KUBE-NODEPORT')) return 'nodePort';
  return physdevOrLocal ? 'external IP' : 'cluster IP';
}

/** Service ports read from the rules: the first proxy port each names, its portals in rule order. */
export function proxiesFromRules(rs: Ruleset): ProxiedServicePort[] {
  const out = new Map<string, ProxiedServicePort>();
  for (const t of rs.tables) {
    for (const c of t.chains) {
      if (!PORTAL_CHAINS.includes(c.name)) continue;
      for (const r of c.rules) {
        const p = readPortalRule(c.name, r);
        if (!p.servicePort) continue;
        let sp = out.get(p.servicePort);
        if (!sp) {
          sp = { servicePort: p.servicePort, protocol: p.protocol, proxyPort: p.proxyPort ?? 0, portals: [], endpoints: null, affinitySeconds: null };
          out.set(p.servicePort, sp);
        }
        if (c.name !== CONTAINER_PORTAL_CHAIN && c.name !== HOST_PORTAL_CHAIN && c.name !== CONTAINER_NODEPORT_CHAIN) continue;
        // a load-balancer IP's rules look like a cluster IP's; the first plain portal is the cluster IP
        const plain = !p.physdevNotIn && !p.dstLocal && c.name === CONTAINER_PORTAL_CHAIN;
        const kind: PortalKind = plain && sp.portals.some((x) => x.kind === 'cluster IP') ? 'loadbalancer IP' : portalKind(c.name, p.physdevNotIn || p.dstLocal);
        const portal: Portal = { kind, ip: p.ip, port: p.port ?? 0 };
        if (!sp.portals.some((x) => x.ip === portal.ip && x.port === portal.port)) sp.portals.push(portal);
      }
    }
  }
  const rank: PortalKind[] = ['cluster IP', 'external IP', 'loadbalancer IP', 'nodePort'];
  for (const sp of out.values()) sp.portals.sort((a, b) => rank.indexOf(a.kind) - rank.indexOf(b.kind));
  return [...out.values()].sort((a, b) => (a.servicePort < b.servicePort ? -1 : a.servicePort > b.servicePort ? 1 : 0));
}

export function parseUserspace(dump: Dump, family: IPFamily): UserspaceState {
  const rs = iptablesMode.parse(rejoinedDump(dump), family);
  const rules = userspaceRules(rs);
  return { family, rules, proxies: proxiesFromRules(rules), rendered: false };
}
