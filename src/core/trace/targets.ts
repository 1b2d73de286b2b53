// Which address and port a Service target means, read from the model (cluster, -f) or, with nothing
// but a dump, from kube-proxy's own rules (the comments on its KUBE-SERVICES rules name each port).
import type { Ruleset } from '../iptables/types.js';
import { viewRule } from '../iptables/words.js';
import type { ProxyState } from '../model/index.js';
import { canonicalIP } from './addr.js';

export interface ServicePortTarget {
  /** "ns/name". */
  service: string;
  /** The port's name ("" when it has none). */
  portName: string;
  ip: string;
  port: number;
  protocol: string;
}

export function targetsFromState(states: ProxyState[]): ServicePortTarget[] {
  const out: ServicePortTarget[] = [];
  for (const s of states) {
    for (const sp of s.serviceMap.values()) {
      if (!sp.clusterIP || sp.clusterIP === 'None') continue;
      out.push({ service: `${sp.name.namespace}/${sp.name.name}`, portName: sp.name.port, ip: sp.clusterIP, port: sp.port, protocol: sp.protocol });
    }
  }
  return out;
}

const COMMENT = /^(\S+?\/\S+?)(?::(\S+))? (?:cluster IP|has no endpoints)$/;

/** Cluster IPs named by kube-proxy's comments in nat and filter KUBE-SERVICES (a service without endpoints has only the REJECT). */
export function targetsFromRules(rulesets: Ruleset[]): ServicePortTarget[] {
  const out = new Map<string, ServicePortTarget>();
  for (const rs of rulesets) {
    for (const t of rs.tables) {
      if (t.name !== 'nat' && t.name !== 'filter') continue;
      const chain = t.chains.find((c) => c.name === 'KUBE-SERVICES');
      for (const rule of chain?.rules ?? []) {
        if (!rule.words.includes('--comment')) continue;
        const v = viewRule(rule);
        const m = v.comment ? COMMENT.exec(v.comment) : null;
        if (!m) continue;
        const dst = v.matches.find((x) => x.kind === 'address' && x.dir === 'dst');
        const proto = v.matches.find((x) => x.kind === 'protocol');
        let port: number | undefined;
        for (const x of v.matches) if (x.kind === 'module') port ??= (x.ports?.dport ?? x.multiport?.dports)?.ranges[0]?.from;
        if (!dst || dst.kind !== 'address' || port === undefined) continue;
        const ip = canonicalIP(dst.addresses[0]!.ip);
        if (!ip) continue;
        const target = { service: m[1]!, portName: m[2] ?? '', ip, port, protocol: proto && proto.kind === 'protocol' ? proto.protocol.toUpperCase() : 'TCP' };
        out.set(`${target.service}|${target.portName}|${ip}|${target.protocol}`, target);
      }
    }
  }
  return [...out.values()];
}

/** The pod CIDR kube-proxy's local-traffic rules name (`! -s CIDR … -j KUBE-MARK-MASQ`), if any. */
export function clusterCIDRFromRules(rs: Ruleset): string | undefined {
  const nat = rs.tables.find((t) => t.name === 'nat');
  for (const c of nat?.chains ?? []) {
    if (!c.name.startsWith('KUBE-SVC-') && c.name !== 'KUBE-SERVICES') continue;
    for (const r of c.rules) {
      const w = r.words;
      const i = w.indexOf('-s');
      if (i > 0 && w[i - 1] === '!' && w.includes('KUBE-MARK-MASQ')) return w[i + 1];
    }
  }
  return undefined;
}
