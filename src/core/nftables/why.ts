// The nftables mode's provenance face: each rule of kube-proxy's table and each element of its sets and
// verdict maps, with the object field that made the proxier write it. Per-service chains carry their
// service port in their names ("service-HASH-ns/name/tcp/port", "endpoint-HASH-…__ip/port"); elements are
// tied back by the address, protocol and port they hold or the chain they go to.
import type { ServicePort } from '../model/index.js';
import type { Reason, ReasonedItem, WhyInput } from '../why/types.js';
import { ReasonBook } from '../why/reasons.js';
import { effectiveNodePortAddresses, layoutById } from './layout.js';
import { CHAIN, PREFIX, SET, chainKind, endpointChainBase, servicePortOfName } from './names.js';
import { nftFamily, type NftElement, type NftTable } from './types.js';

type R = Reason | undefined;

export function nftablesWhy(rendered: readonly NftTable[], input: WhyInput): ReasonedItem[] {
  const out: ReasonedItem[] = [];
  for (const t of rendered) {
    // the nodePortAddresses this table's release worked with (1.29: unset = every local IP, not "primary")
    const layout = layoutById(t.layout);
    const config = { ...input.config, nodePortAddresses: effectiveNodePortAddresses(input.config.nodePortAddresses, layout) };
    const book = new ReasonBook({ ...input, config }, t.family);
    const table = `${nftFamily(t.family)} ${t.name}`;
    const push = (kind: ReasonedItem['kind'], chain: string, text: string, sp: ServicePort | undefined, reasons: R[]): void => {
      out.push({ family: t.family, kind, table, chain, text, ...(sp ? { servicePort: sp.key } : {}), reasons: reasons.filter((r): r is Reason => r !== undefined) });
    };
    for (const chain of t.chains) {
      const sp = book.servicePort(servicePortOfName(chain.name) ?? undefined);
      for (const rule of chain.rules) push('rule', chain.name, rule.rule, sp, ruleReasons(chain.name, rule.rule, sp, book));
    }
    for (const set of t.sets) {
      for (const el of set.elements) {
        const [sp, reasons] = elementReasons(set.name, el, book);
        push(set.map ? 'map element' : 'set element', set.name, elementText(el), sp, reasons);
      }
    }
  }
  return out;
}

function elementText(el: NftElement): string {
  return `${el.key.join(' . ')}${el.value ? ` : ${el.value.join(' ')}` : ''}`;
}

/** The endpoint ("ip:port") an endpoint chain is named after. */
function endpointOf(chain: string, sp: ServicePort, book: ReasonBook): string | undefined {
  const base = chain.slice(PREFIX.endpoint.length);
  const n = { namespace: sp.name.namespace, name: sp.name.name, port: sp.name.port };
  return book.endpoints(sp.key).find((e) => endpointChainBase(n, sp.protocol.toLowerCase(), e.endpoint) === base)?.endpoint;
}

/** The masquerade mark (a jump to mark-for-masquerade, or 1.36+'s inline `mark set`): the detector, or masqueradeAll. */
function masqueradeReason(rule: string, book: ReasonBook): Reason {
  return /saddr|iifname/.test(rule) ? book.localTraffic() : book.masqueradeAll('nftables');
}

/** "ip:port" ("[ip]:port" for IPv6) as the model spells an endpoint. */
function endpointString(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * 1.36+: the endpoints of `dnat ip addr . port to numgen random mod N map { 0 : IP . PORT , … }`, as the
 * model names them; undefined when the rule is no such DNAT.
 */
function numgenEndpoints(rule: string, sp: ServicePort, book: ReasonBook): string[] | undefined {
  const m = /\bdnat ip6? addr \. port to numgen \S+ mod \d+ map \{([^}]*)\}/.exec(rule);
  if (!m) return undefined;
  const known = book.endpoints(sp.key);
  return [...m[1]!.matchAll(/\d+\s*:\s*(\S+)\s*\.\s*(\d+)/g)].map(([, ip, port]) => {
    const ep = known.find((e) => e.ip === ip && String(e.port) === port) ?? known.find((e) => e.endpoint === endpointString(ip!, port!));
    return ep?.endpoint ?? endpointString(ip!, port!);
  });
}

/** 1.36+: the service ports a hairpin-connections element ("ip . ip . proto . port") is a local endpoint of. */
function hairpinOf(k: readonly string[], book: ReasonBook): Array<[ServicePort, string]> {
  const [ip, , proto, port] = k;
  const out: Array<[ServicePort, string]> = [];
  for (const sp of book.servicePorts()) {
    if (sp.protocol.toLowerCase() !== proto) continue;
    const ep = book.endpoints(sp.key).find((e) => e.ip === ip && String(e.port) === port);
    if (ep) out.push([sp, ep.endpoint]);
  }
  return out;
}

function ruleReasons(chain: string, rule: string, sp: ServicePort | undefined, book: ReasonBook): R[] {
  if (!sp) {
    if (chain === CHAIN.services && rule.includes(`@${SET.nodePortIPs}`)) return [book.nodePortAddresses()];
    // nodePortAddresses matching every local IP (1.29's unset default, or 0.0.0.0/0): the NodePort dispatch asks the routing table
    if (chain === CHAIN.services && rule.includes(`@${SET.serviceNodePorts}`) && rule.includes('fib daddr type local')) return [book.nodePortAddresses()];
    // 1.36+: ClusterIP masquerading is one rule on @cluster-ips (the element says which service)
    if (chain === CHAIN.services && rule.includes(`@${SET.clusterIPs}`) && /mark set mark or/.test(rule)) return [masqueradeReason(rule, book)];
    return [book.mode('nftables')];
  }
  const masq = (): Reason => masqueradeReason(rule, book);
  const goto = (verdicts: string): string[] => [...verdicts.matchAll(/goto (endpoint-\S+)/g)].map((m) => m[1]!);
  switch (chainKind(chain)) {
    case 'endpoint': {
      const ep = endpointOf(chain, sp, book) ?? /dnat to (\S+)/.exec(rule)?.[1] ?? '';
      return [rule.includes('@affinity-') ? book.affinity(sp) : undefined, book.endpoint(sp, ep)];
    }
    case 'cluster': {
      if (rule.includes('mark-for-masquerade')) return [book.clusterIP(sp), masq()];
      // 1.36+ without affinity: no endpoint chains, the service chain DNATs through a numgen map
      const mapped = numgenEndpoints(rule, sp, book);
      if (mapped) return mapped.length ? mapped.map((e) => book.endpoint(sp, e)) : [book.clusterIP(sp)];
      const eps = goto(rule).map((c) => endpointOf(c, sp, book)).filter((e): e is string => e !== undefined);
      return [rule.includes('@affinity-') ? book.affinity(sp) : undefined, ...eps.map((e) => book.endpoint(sp, e)), ...(eps.length ? [] : [book.clusterIP(sp)])];
    }
    case 'local': {
      const eps = numgenEndpoints(rule, sp, book) ?? goto(rule).map((c) => endpointOf(c, sp, book)).filter((e): e is string => e !== undefined);
      const policy = sp.externalPolicyLocal ? book.externalPolicy(sp) : book.internalPolicy(sp);
      return eps.length ? [policy, ...eps.map((e) => book.localEndpoint(sp, e))] : [book.noLocalEndpoints(sp)];
    }
    case 'external':
      return [book.externalPolicy(sp), /short-circuit pod|ip6? saddr \S+\/|iifname/.test(rule) && !rule.includes('fib saddr') ? book.localTraffic() : undefined];
    case 'firewall':
      return [book.sourceRanges(sp)];
    default:
      return [book.clusterIP(sp)];
  }
}

function elementReasons(set: string, el: NftElement, book: ReasonBook): [ServicePort | undefined, R[]] {
  const k = el.key;
  const value = el.value?.join(' ') ?? '';
  const target = /(?:goto|jump) (\S+)/.exec(value)?.[1];
  const named = target ? book.servicePort(servicePortOfName(target) ?? undefined) : undefined;
  // keys: "ip . proto . port", "proto . port", or "ip"; 1.29's firewall-allow: "ip . proto . port . source range"
  const withDst = k.length === 3 || set === SET.firewallAllow;
  const ip = withDst || k.length === 1 ? k[0]! : null;
  const proto = withDst ? k[1] : k.length === 2 ? k[0] : undefined;
  const port = Number(withDst ? k[2] : k.length === 2 ? k[1] : NaN);
  const sp = named ?? (Number.isNaN(port) ? book.servicePorts().find((s) => s.clusterIP === ip) : book.servicePortAt(ip, port, proto));
  if (set === SET.nodePortIPs) return [undefined, [book.nodePortAddresses()]];
  if (set === SET.hairpinConnections && k.length === 4) {
    // a local endpoint reaching itself through its service: the endpoint, on this node
    const of = hairpinOf(k, book);
    if (of.length) return [of[0]![0], of.map(([s, e]) => book.localEndpoint(s, e))];
  }
  if (!sp) return [undefined, [book.mode('nftables', `an element of ${set}`)]];
  const entry = (): Reason =>
    ip === null ? book.nodePort(sp) : ip === sp.clusterIP ? book.clusterIP(sp) : sp.externalIPs.includes(ip) ? book.externalIP(sp, ip) : book.loadBalancerIP(sp, ip);
  switch (set) {
    case SET.clusterIPs:
      return [sp, [book.clusterIP(sp)]];
    case SET.serviceIPs:
    case SET.serviceNodePorts:
      return [sp, [entry(), target?.startsWith(PREFIX.external) ? book.externalPolicy(sp) : undefined, target?.startsWith(PREFIX.firewall) ? book.sourceRanges(sp) : undefined]];
    case SET.noEndpointServices:
    case SET.noEndpointNodePorts:
      return [sp, [value === 'drop' ? book.noLocalEndpoints(sp) : book.noEndpoints(sp), entry()]];
    case SET.firewallIPs:
    case SET.firewall:
    case SET.firewallAllow:
      return [sp, [book.sourceRanges(sp), entry()]];
    default:
      return [sp, [entry()]];
  }
}
