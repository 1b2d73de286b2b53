// The ipvs mode's provenance face: each virtual server and real server, each ipset member, each address
// bound to kube-ipvs0, and each companion iptables rule, with the object field that made kube-proxy's ipvs
// proxier program it. Virtual servers carry their service port and kind from render; ipset members and
// addresses are tied back to a service port by the address and port they hold.
import { joinHostPort } from '../net/ip.js';
import type { ServicePort } from '../model/index.js';
import type { Reason, ReasonedItem, WhyInput } from '../why/types.js';
import { ReasonBook } from '../why/reasons.js';
import { restoreRuleText } from '../iptables/index.js';
import { DUMMY_DEVICE } from './names.js';
import type { IPSet, IpvsState, VirtualServer } from './types.js';

export function ipvsWhy(rendered: readonly IpvsState[], input: WhyInput): ReasonedItem[] {
  const out: ReasonedItem[] = [];
  for (const st of rendered) {
    const book = new ReasonBook(input, st.family);
    const item = (kind: ReasonedItem['kind'], table: string, chain: string, text: string, sp: ServicePort | undefined, reasons: Array<Reason | undefined>): void => {
      out.push({ family: st.family, kind, table, chain, text, ...(sp ? { servicePort: sp.key } : {}), reasons: reasons.filter((r): r is Reason => r !== undefined) });
    };
    for (const vs of st.virtualServers) {
      const sp = book.servicePort(vs.servicePort) ?? book.servicePortAt(vs.address, vs.port, vs.protocol);
      const chain = `${joinHostPort(vs.address, vs.port)}/${vs.protocol}`;
      const rs = sp ? vs.realServers.map((r) => (isLocalOnly(vs, sp) ? book.localEndpoint(sp, joinHostPort(r.address, r.port)) : book.endpoint(sp, joinHostPort(r.address, r.port)))) : [];
      const entry = sp ? virtualServerReasons(vs, sp, book) : [book.mode('ipvs', 'a virtual server')];
      const none = sp && vs.realServers.length === 0 ? (isLocalOnly(vs, sp) ? book.noLocalEndpoints(sp) : book.noEndpoints(sp)) : undefined;
      item('virtual server', 'ipvs', chain, `scheduler ${vs.scheduler}${vs.persistentTimeout !== null ? `, persistent ${vs.persistentTimeout}` : ''}`, sp, [
        none,
        ...entry,
        book.scheduler(vs.scheduler),
        vs.persistentTimeout !== null && sp ? book.affinity(sp) : undefined,
        ...rs,
      ]);
      vs.realServers.forEach((r, i) => item('real server', 'ipvs', chain, `-> ${joinHostPort(r.address, r.port)}`, sp, [rs[i]]));
    }
    for (const set of st.ipsets) for (const m of set.members) item('set element', 'ipset', set.name, m, ...memberReasons(set, m, book));
    for (const a of st.addresses) {
      const sp = book.servicePorts().find((s) => s.clusterIP === a || s.externalIPs.includes(a) || s.loadBalancerVIPs.includes(a));
      item('address', DUMMY_DEVICE, 'addresses', a, sp, [sp ? (sp.clusterIP === a ? book.clusterIP(sp) : sp.externalIPs.includes(a) ? book.externalIP(sp, a) : book.loadBalancerIP(sp, a)) : book.mode('ipvs', 'an address')]);
    }
    for (const j of st.jumps) item('rule', j.table, j.chain, restoreRuleText({ words: j.words }), undefined, [book.mode('ipvs', `a jump into ${j.target},`)]);
    for (const table of st.iptables.tables) {
      for (const chain of table.chains) {
        for (const rule of chain.rules) {
          const w = rule.words;
          const reasons =
            w.includes('KUBE-NODE-PORT') && w.includes('--dst-type') ? [book.nodePortAddresses()]
            : w.includes('KUBE-MARK-MASQ') && (w.includes('-s') || w.includes('-i')) ? [book.localTraffic()]
            : w.includes('KUBE-MARK-MASQ') && w.includes('KUBE-CLUSTER-IP') && book.config.iptables.masqueradeAll ? [book.masqueradeAll('iptables')]
            : [book.mode('ipvs')];
          item('rule', table.name, chain.name, restoreRuleText(rule), undefined, reasons);
        }
      }
    }
  }
  return out;
}

/** Only this node's endpoints serve it: an external address of an externalTrafficPolicy Local service port. */
function isLocalOnly(vs: VirtualServer, sp: ServicePort): boolean {
  return (vs.kind !== 'cluster IP' && sp.externalPolicyLocal) || (vs.kind === 'cluster IP' && sp.internalPolicyLocal);
}

function virtualServerReasons(vs: VirtualServer, sp: ServicePort, book: ReasonBook): Reason[] {
  switch (vs.kind) {
    case 'external IP':
      return [book.externalIP(sp, vs.address), book.externalPolicy(sp)];
    case 'loadbalancer IP':
      return [book.loadBalancerIP(sp, vs.address), book.externalPolicy(sp), ...(sp.loadBalancerSourceRanges.length ? [book.sourceRanges(sp)] : [])];
    case 'nodePort':
      return [book.nodePort(sp), book.nodePortAddresses(), book.externalPolicy(sp)];
    default:
      return [book.clusterIP(sp), ...(sp.internalPolicyLocal ? [book.internalPolicy(sp)] : [])];
  }
}

/** "10.96.0.10,udp:53", "10.244.1.5,tcp:80,10.244.1.5", "192.168.10.240,tcp:80,203.0.113.0/24", "30080". */
function parseMember(m: string): { ip: string | null; proto?: string; port: number; third?: string } {
  const parts = m.split(',');
  if (parts.length === 1) return { ip: null, port: Number(parts[0]) };
  const [proto, port] = (parts[1] ?? '').split(':');
  return { ip: parts[0]!, proto, port: Number(port), third: parts[2] };
}

function memberReasons(set: IPSet, member: string, book: ReasonBook): [ServicePort | undefined, Array<Reason | undefined>] {
  const base = set.name.replace(/^KUBE-6-/, 'KUBE-');
  const m = parseMember(member);
  if (base === 'KUBE-LOOP-BACK') {
    const ep = joinHostPort(m.ip ?? '', m.port);
    const sp = book.servicePorts().find((s) => s.protocol === m.proto?.toUpperCase() && book.endpoints(s.key).some((e) => e.endpoint === ep));
    return [sp, [sp ? book.endpoint(sp, ep) : book.mode('ipvs', 'a hairpin entry')]];
  }
  const sp = book.servicePortAt(m.ip, m.port, base.includes('SCTP') ? 'SCTP' : base.includes('UDP') ? 'UDP' : base.includes('TCP') ? 'TCP' : m.proto);
  if (!sp) return [undefined, [book.mode('ipvs', `a member of ${set.name}`)]];
  switch (base) {
    case 'KUBE-CLUSTER-IP':
      return [sp, [book.clusterIP(sp)]];
    case 'KUBE-EXTERNAL-IP':
      return [sp, [book.externalIP(sp, m.ip ?? undefined)]];
    case 'KUBE-EXTERNAL-IP-LOCAL':
      return [sp, [book.externalIP(sp, m.ip ?? undefined), book.externalPolicy(sp)]];
    case 'KUBE-LOAD-BALANCER':
      return [sp, [book.loadBalancerIP(sp, m.ip ?? undefined)]];
    case 'KUBE-LOAD-BALANCER-LOCAL':
      return [sp, [book.loadBalancerIP(sp, m.ip ?? undefined), book.externalPolicy(sp)]];
    case 'KUBE-LOAD-BALANCER-FW':
      return [sp, [book.sourceRanges(sp), book.loadBalancerIP(sp, m.ip ?? undefined)]];
    case 'KUBE-LOAD-BALANCER-SOURCE-IP':
    case 'KUBE-LOAD-BALANCER-SOURCE-CIDR':
      return [sp, [book.sourceRanges(sp, m.third)]];
    case 'KUBE-HEALTH-CHECK-NODE-PORT':
      return [sp, [book.healthCheckNodePort(sp)]];
    default:
      if (base.startsWith('KUBE-NODE-PORT')) return [sp, [book.nodePort(sp), base.includes('LOCAL') ? book.externalPolicy(sp) : undefined]];
      return [sp, [book.clusterIP(sp)]];
  }
}
