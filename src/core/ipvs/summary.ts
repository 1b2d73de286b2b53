// What an ipvs-mode state does per service port, for the human view and --diff: the virtual servers (with
// scheduler, persistence and real servers with weights) and the ipsets each address:port is a member of.
// A parsed dump has no service names: its virtual servers are named by the cluster-IP virtual server that
// shares their real servers when one does, else by address:port/protocol.
import { joinHostPort } from '../net/ip.js';
import type { ServicePortSummary } from '../modes/types.js';
import { canonicalKubeRules } from '../iptables/canonical.js';
import { sortVirtualServers} from './serialize.js';
import { companionChains } from './base-drift.js';
import type { IPSet, IpvsState, VirtualServer } from './types.js';

export interface VirtualServerRow {
  servicePort: string;
  kind: string;
  virtualServer: string;
  scheduler: string;
  realServers: string[];
  ipsets: string[];
}

function vsName(v: VirtualServer): string {
  return `${joinHostPort(v.address, v.port)}/${v.protocol}`;
}

/** ipset members that name this virtual server's address and port (hash:ip,port[,…] by ip,proto:port; bitmap:port by port). */
function memberships(v: VirtualServer, sets: readonly IPSet[], nodePort: boolean): string[] {
  const proto = v.protocol.toLowerCase();
  const prefix = `${v.address},${proto}:${v.port}`;
  const out: string[] = [];
  for (const s of sets) {
    if (s.type === 'bitmap:port') {
      if (nodePort && (s.name.includes(v.protocol) || s.name.includes('HEALTH')) && s.members.includes(String(v.port))) out.push(s.name);
    } else if (s.type === 'hash:ip') {
      if (s.members.includes(v.address)) out.push(s.name);
    } else if (s.members.some((m) => m === prefix || m.startsWith(prefix + ','))) out.push(s.name);
  }
  return out;
}

export function summarizeIpvs(st: IpvsState): VirtualServerRow[] {
  return sortVirtualServers(st.virtualServers)
    .map((v) => ({
      servicePort: v.servicePort ?? vsName(v),
      kind: v.kind ?? '',
      virtualServer: vsName(v),
      scheduler: [v.scheduler, ...(v.schedFlags.length ? [`(${v.schedFlags.join(',')})`] : []), ...(v.persistentTimeout !== null ? [`persistent ${v.persistentTimeout}s`] : [])].join(' '),
      realServers: v.realServers.map((r) => `${joinHostPort(r.address, r.port)} w${r.weight}${r.activeConns !== undefined ? ` (${r.activeConns} active, ${r.inactiveConns ?? 0} inactive)` : ''}`),
      ipsets: memberships(v, st.ipsets, v.kind === 'nodePort' || v.kind === undefined),
    }))
    .sort((a, b) => (a.servicePort < b.servicePort ? -1 : a.servicePort > b.servicePort ? 1 : 0));
}

/**
 * The mode-neutral summary: one per service port, its virtual servers as entries and balancers. Real servers'
 * shares are their weights' shares (what rr and wrr give; lc and the others weigh by connections too, which a
 * dump cannot know). Masquerading is the companion rules' business: not known from the virtual servers alone.
 */
export function ipvsSummaries(st: IpvsState): ServicePortSummary[] {
  const byPort = new Map<string, ServicePortSummary>();
  for (const r of summarizeIpvs(st)) {
    const v = st.virtualServers.find((x) => vsName(x) === r.virtualServer)!;
    let s = byPort.get(r.servicePort);
    if (!s) byPort.set(r.servicePort, (s = { servicePort: r.servicePort, entries: [], balancers: [], verdicts: [], setMembers: [] }));
    s.entries.push({ kind: v.kind ?? 'virtual server', protocol: v.protocol, address: v.address, port: v.port, target: r.virtualServer, masquerade: [] });
    const total = v.realServers.reduce((n, x) => n + x.weight, 0);
    s.balancers.push({
      name: r.virtualServer,
      scheduler: r.scheduler,
      endpoints: v.realServers.map((x) => ({ endpoint: joinHostPort(x.address, x.port), via: r.virtualServer, probability: total ? x.weight / total : 0, weight: x.weight })),
      affinitySeconds: v.persistentTimeout,
      fallThrough: 0,
    });
    for (const set of r.ipsets) if (!s.setMembers!.includes(set)) s.setMembers!.push(set);
  }
  return [...byPort.values()];
}

/** Keeps only what belongs to service ports under the prefix ("ns", "ns/name", "ns/name:port"). */
export function narrowIpvs(st: IpvsState, prefix: string): IpvsState {
  const keep = (sp: string | undefined) => sp !== undefined && (sp === prefix || sp.startsWith(prefix + (prefix.includes('/') ? ':' : '/')));
  const vss = st.virtualServers.filter((v) => keep(v.servicePort));
  const addrs = new Set(vss.map((v) => v.address));
  const ports = new Set(vss.map((v) => String(v.port)));
  const ipsets = st.ipsets.map((s) => ({
    ...s,
    members: s.members.filter((m) => (s.type === 'bitmap:port' ? ports.has(m) : addrs.has(m.split(',')[0]!))),
  }));
  return { ...st, virtualServers: vss, ipsets, addresses: st.addresses.filter((a) => addrs.has(a)) };
}

/** Lines that compare equal when two states do the same (for a unified diff). */
export function ipvsCanonicalLines(st: IpvsState): string[] {
  const lines: string[] = [];
  for (const v of sortVirtualServers(st.virtualServers)) {
    lines.push(`VS ${vsName(v)} ${v.scheduler}${v.schedFlags.length ? ` ${v.schedFlags.join(',')}` : ''}${v.persistentTimeout !== null ? ` persistent ${v.persistentTimeout}` : ''}`);
    for (const r of [...v.realServers].sort((a, b) => (joinHostPort(a.address, a.port) < joinHostPort(b.address, b.port) ? -1 : 1))) lines.push(`VS ${vsName(v)} -> ${joinHostPort(r.address, r.port)} weight ${r.weight}`);
  }
  for (const s of st.ipsets) for (const m of s.members) lines.push(`SET ${s.name} ${m}`);
  for (const a of [...st.addresses].sort()) lines.push(`ADDR ${a}`);
  if (st.iptables.tables.length) lines.push(...canonicalKubeRules(companionChains(st.iptables)));
  return lines;
}

/** Copies service-port names and kinds from the rendered state onto the live virtual servers with the same address, port and protocol. */
export function annotateIpvs(actual: IpvsState, expected: IpvsState): IpvsState {
  const names = new Map(expected.virtualServers.map((v) => [vsName(v), v]));
  return {
    ...actual,
    virtualServers: actual.virtualServers.map((v) => {
      const e = names.get(vsName(v));
      return e && v.servicePort === undefined ? { ...v, ...(e.servicePort !== undefined ? { servicePort: e.servicePort } : {}), ...(e.kind !== undefined ? { kind: e.kind } : {}) } : v;
    }),
  };
}
