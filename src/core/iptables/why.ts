// The iptables mode's provenance face: each rendered rule (and kube-proxy's jumps from the built-in chains)
// with the Service, EndpointSlice or configuration field that made the proxier write it. Rules are known
// by the identity the renderer gives them: their chain (per-service chains are named from the service
// port and endpoint), their comment ("ns/name:port cluster IP", "… has no endpoints") and their target.
import type { ServicePort } from '../model/index.js';
import type { Reason, ReasonedItem, WhyInput } from '../why/types.js';
import { ReasonBook } from '../why/reasons.js';
import { chainNames, endpointChainName, jumpRules, restoreRuleText, type Ruleset } from './index.js';

interface Owner {
  sp: ServicePort;
  endpoint?: string;
}

/** Per-service chain name -> the service port (and endpoint) it is named after. */
function chainOwners(book: ReasonBook): Map<string, Owner> {
  const out = new Map<string, Owner>();
  for (const sp of book.servicePorts()) {
    const n = chainNames(sp.key, sp.protocol);
    for (const c of [n.svc, n.svl, n.ext, n.fw]) out.set(c, { sp });
    for (const ep of book.endpoints(sp.key)) out.set(endpointChainName(sp.key, sp.protocol, ep.endpoint), { sp, endpoint: ep.endpoint });
  }
  return out;
}

function arg(words: readonly string[], flag: string): string | undefined {
  const i = words.indexOf(flag);
  return i >= 0 ? words[i + 1] : undefined;
}

export function iptablesWhy(rendered: readonly Ruleset[], input: WhyInput): ReasonedItem[] {
  const out: ReasonedItem[] = [];
  for (const rs of rendered) {
    const book = new ReasonBook(input, rs.family);
    const owners = chainOwners(book);
    for (const table of rs.tables) {
      for (const chain of table.chains) {
        for (const rule of chain.rules) {
          const r = ruleReasons(chain.name, rule.words, book, owners);
          out.push({ family: rs.family, kind: 'rule', table: table.name, chain: chain.name, text: restoreRuleText(rule), ...(r.sp ? { servicePort: r.sp.key } : {}), reasons: r.reasons });
        }
      }
    }
    for (const j of jumpRules(input.config, rs.family)) {
      out.push({ family: rs.family, kind: 'rule', table: j.table, chain: j.chain, text: restoreRuleText({ words: j.words }), reasons: [book.mode('iptables', `a jump into ${j.target},`)] });
    }
  }
  return out;
}

/** Why one rule is there, from its chain, comment, target and the words it matches on. */
export function ruleReasons(chain: string, words: readonly string[], book: ReasonBook, owners: Map<string, Owner>): { sp?: ServicePort; reasons: Reason[] } {
  const comment = arg(words, '--comment');
  const target = arg(words, '-j');
  const owner = owners.get(chain);
  const sp = owner?.sp ?? book.servicePort(comment?.split(' ')[0]);
  if (!sp) {
    if (chain === 'KUBE-SERVICES' && target === 'KUBE-NODEPORTS') return { reasons: [book.nodePortAddresses()] };
    return { reasons: [book.mode('iptables')] };
  }
  const reasons = serviceRuleReasons(chain, words, comment ?? '', target, sp, owner, book, owners);
  return { sp, reasons: reasons.filter((r): r is Reason => r !== undefined) };
}

function serviceRuleReasons(chain: string, words: readonly string[], comment: string, target: string | undefined, sp: ServicePort, owner: Owner | undefined, book: ReasonBook, owners: Map<string, Owner>): Array<Reason | undefined> {
  const dest = arg(words, '-d')?.replace(/\/(32|128)$/, '');
  const entry = (): Reason => {
    if (dest === sp.clusterIP) return book.clusterIP(sp);
    if (dest && sp.externalIPs.includes(dest)) return book.externalIP(sp, dest);
    if (dest && sp.loadBalancerVIPs.includes(dest)) return book.loadBalancerIP(sp, dest);
    return sp.nodePort ? book.nodePort(sp) : book.clusterIP(sp);
  };
  const masq = (): Reason => (words.includes('-s') || words.includes('-i') ? book.localTraffic() : book.masqueradeAll('iptables'));

  if (chain.startsWith('KUBE-SEP-')) {
    const ep = owner?.endpoint ?? arg(words, '--to-destination') ?? '';
    return [words.includes('--set') ? book.affinity(sp) : undefined, book.endpoint(sp, ep)];
  }
  if (chain.startsWith('KUBE-SVC-') || chain.startsWith('KUBE-SVL-')) {
    const local = chain.startsWith('KUBE-SVL-');
    // a local-endpoints chain serves internalTrafficPolicy Local (from KUBE-SERVICES) or externalTrafficPolicy Local (from KUBE-EXT)
    const policy = local ? (sp.internalPolicyLocal ? book.internalPolicy(sp) : book.externalPolicy(sp)) : undefined;
    if (target === 'KUBE-MARK-MASQ') return [book.clusterIP(sp), masq()];
    const ep = (target && owners.get(target)?.endpoint) ?? /-> (\S+)$/.exec(comment)?.[1];
    if (ep) return [words.includes('--rcheck') ? book.affinity(sp) : undefined, local ? book.localEndpoint(sp, ep) : book.endpoint(sp, ep), policy];
    return [policy ?? book.clusterIP(sp)];
  }
  if (chain.startsWith('KUBE-EXT-')) {
    if (comment.startsWith('pod traffic for')) return [book.externalPolicy(sp), book.localTraffic()];
    return [book.externalPolicy(sp)];
  }
  if (chain.startsWith('KUBE-FW-')) {
    const from = arg(words, '-s');
    return [from ? book.sourceRanges(sp, from) : book.sourceRanges(sp)];
  }
  // the top chains: KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL
  if (/ has no endpoints$/.test(comment)) return [book.noEndpoints(sp), entry()];
  if (/ has no local endpoints$/.test(comment)) return [book.noLocalEndpoints(sp), entry()];
  if (/ health check node port$/.test(comment)) return [book.healthCheckNodePort(sp)];
  if (/ traffic not accepted by /.test(comment)) return [book.sourceRanges(sp), entry()];
  if (chain === 'KUBE-NODEPORTS') return [book.nodePort(sp), dest?.startsWith('127.') ? book.localhostNodePorts() : undefined];
  if (/ cluster IP$/.test(comment)) return [book.clusterIP(sp), target?.startsWith('KUBE-SVL-') ? book.internalPolicy(sp) : undefined];
  if (/ loadbalancer IP$/.test(comment)) return [entry(), target?.startsWith('KUBE-FW-') ? book.sourceRanges(sp) : undefined];
  return [entry()];
}

