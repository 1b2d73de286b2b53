// core/why: provenance for every mode. A mode's `why` face lists its rendered items with their reasons; this
// file builds the index the commands ask (trace hops, the REASON column, drift), whatever the mode.
import type { Drift, FamilyState, ProxyModeDefinition } from '../modes/types.js';
import { ReasonIndex, type HopLike, type PacketLike } from './match.js';
import { NO_MATCH, NOT_EXPECTED, ReasonBook, reasonText } from './reasons.js';
import type { Reason, WhyInput } from './types.js';

export type { ConfigPlace, ItemKind, Reason, ReasonedItem, WhyInput } from './types.js';
export { NO_MATCH, ReasonBook, reasonText } from './reasons.js';
export { ReasonIndex, type HopLike, type PacketLike } from './match.js';

/**
 * The reasons of what `def` renders for the view: `rendered` are its states (rendered from input.view and
 * input.config). Undefined when the mode has no why face.
 */
export function provenance<S extends FamilyState>(def: ProxyModeDefinition<S>, rendered: readonly S[], input: WhyInput): ReasonIndex | undefined {
  if (!def.why) return undefined;
  return new ReasonIndex(def.why(rendered, input), (family) => new ReasonBook(input, family).routing());
}

/** Each hop's reasons; without an index (a mode with no why face), none. */
export function becauseOfHops<H extends HopLike>(index: ReasonIndex | undefined, hops: readonly H[], packet?: PacketLike): Array<H & { because?: Reason[] }> {
  if (!index) return [...hops];
  return hops.map((h) => ({ ...h, because: index.forHop(h, packet) }));
}

/**
 * Why a packet to a node port met no rule: the address is not one nodePortAddresses names. A hop of its own
 * (no rule stands for an absence), added after the trace's hops; undefined when that is not why.
 */
export function nodePortNotHere(input: WhyInput, packet: PacketLike & { protocol: string; src?: string }, verdict: string): (HopLike & { because: Reason[] }) | undefined {
  if (verdict !== 'not-matched') return undefined;
  const family = packet.dst.includes(':') ? 'IPv6' : 'IPv4';
  const fam = [...input.view.families, ...(input.view.otherFamilies ?? [])].find((f) => f.family === family);
  const local = packet.dst.startsWith('127.') || packet.dst === '::1' || (fam?.nodeIPs ?? []).includes(packet.dst);
  if (!local) return undefined;
  const book = new ReasonBook(input, family);
  const sp = book.servicePorts().find((s) => s.nodePort === packet.dport && s.protocol === packet.protocol.toUpperCase());
  if (!sp) return undefined;
  return {
    table: 'node ports',
    chain: `${packet.dst.includes(':') ? `[${packet.dst}]` : packet.dst}:${packet.dport}/${sp.protocol}`,
    rule: `no NodePort rule on ${packet.dst}`,
    action: `not matched: ${sp.key}'s node port is not answered on this address`,
    because: [book.nodePortAddresses(), book.nodePort(sp)],
  };
}

/** Fields that say more than "the Service exists", in the order the REASON column shows them. */
const TELLING = [/TrafficPolicy/, /sessionAffinity/, /conditions|no EndpointSlice/, /loadBalancerSourceRanges/, /healthCheckNodePort/, /nodePort$/, /externalIPs/, /ingress/, /nodePortAddresses/, /masqueradeAll/];
const rank = (r: Reason) => TELLING.findIndex((t) => t.test(r.field));

/** The REASON column of one service port: its telling fields (one value each), short; NO_MATCH's sentence when none. */
export function servicePortReasonText(index: ReasonIndex, servicePort: string): string {
  const all = index.forServicePort(servicePort);
  if (all.length === 0) return NO_MATCH.sentence;
  // a ready endpoint is what every service has; its absence (endpoints[]) or a terminating one tells
  const telling = all.filter((r) => rank(r) >= 0 && !/^endpoints\[[^\]]+\]\.conditions\.ready$/.test(r.field));
  const chosen = telling.length ? telling.sort((a, b) => rank(a) - rank(b)) : [all.find((r) => r.field === 'spec.clusterIP') ?? all[0]!];
  const byField = new Map<string, Reason>();
  for (const r of chosen) if (!byField.has(r.field)) byField.set(r.field, r);
  return [...byField.values()].map((r) => `${r.object.startsWith('Service ') ? '' : `${r.object} `}${r.field}=${r.value}`).join(', ');
}

const BY_KIND: Partial<Record<Drift['kind'], RegExp>> = {
  affinity: /sessionAffinity/,
  'missing endpoint': /^endpoints\[/,
  'extra endpoint': /^endpoints\[/,
  probability: /^endpoints\[/,
  weight: /^endpoints\[/,
  verdict: /conditions|no EndpointSlice|loadBalancerSourceRanges|TrafficPolicy/,
  masquerade: /clusterCIDR|masqueradeAll|detectLocal|podCIDRs|externalTrafficPolicy/,
  scheduler: /ipvs\.scheduler/,
  'missing entry': /clusterIP|externalIPs|ingress|nodePort|healthCheckNodePort/,
  'extra entry': /clusterIP|externalIPs|ingress|nodePort|healthCheckNodePort/,
  'missing service': /clusterIP/,
  'missing set member': /./,
};

const ONLY_ON_NODE = new Set<Drift['kind']>(['extra service', 'extra entry', 'extra endpoint', 'extra set member', 'stale object']);

/** The object field the expected side of a drift comes from; NO_MATCH when nothing rendered stands behind it. */
export function driftReason(index: ReasonIndex, d: Drift): Reason {
  const ofObject = d.object ? index.forChain(d.object).flatMap((i) => i.reasons) : [];
  const candidates = ofObject.length ? ofObject : d.servicePort ? index.forServicePort(d.servicePort) : [];
  if (candidates.length === 0) return ONLY_ON_NODE.has(d.kind) ? NOT_EXPECTED : NO_MATCH;
  const want = BY_KIND[d.kind];
  const detailIP = /\b(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:]+)\b/.exec(d.detail)?.[1];
  // "10.96.0.10:53/UDP" in the detail: the reason of that very port and protocol, not the first of the address
  const detailPort = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):\d+\/(?:TCP|UDP|SCTP)\b/.exec(d.detail)?.[0];
  const fit = want ? candidates.filter((r) => want.test(r.field)) : candidates;
  const byPort = detailPort ? fit.find((r) => r.value.includes(detailPort)) : undefined;
  const byIP = detailIP ? fit.find((r) => r.field.includes(detailIP) || r.value.includes(detailIP)) : undefined;
  return byPort ?? byIP ?? fit[0] ?? candidates[0]!;
}

export { reasonText as whyText };
