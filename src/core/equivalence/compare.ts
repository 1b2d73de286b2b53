// Equivalence before a switch: every service port, every way in (from a pod, from the node, from outside)
// to every address it is served on (cluster IP, node port, load-balancer IP, external IP), traced through
// the rules the current mode renders and through the rules the target mode renders — both found in the
// mode registry, so no mode is named here — and every difference in verdict, endpoints, odds or masquerade
// reported. Pure: a view and two configurations in, data out.
import type { KubeProxyConfiguration } from '../config/index.js';
import { modeFor } from '../modes/registry.js';
import type { FamilyState, ProxyModeDefinition } from '../modes/types.js';
import type { ProxyView } from '../proxy-view.js';
import { addressNearTop } from '../trace/addr.js';
import { EXTERNAL_SOURCE } from '../trace/resolve.js';
import type { ModeEvaluator, NodeContext, Packet, PacketEntry, TraceEndpoint, TraceResult } from '../trace/types.js';
import { ProxymodeError } from '../errors.js';
import { joinHostPort } from '../net/ip.js';
import { shareWith } from './same.js';

export type Aspect = 'verdict' | 'endpoints' | 'odds' | 'masquerade' | 'untraceable';

export interface PathDifference {
  node: string;
  servicePort: string;
  /** "cluster IP", "node port", "load-balancer IP", "external IP". */
  via: string;
  /** "10.96.0.10:53/UDP" */
  destination: string;
  /** "a pod", "the node", "outside". */
  from: string;
  aspect: Aspect;
  current: string;
  target: string;
}

export interface DifferenceGroup {
  aspect: Aspect;
  /** One sentence: what differs and what it means for traffic. */
  explanation: string;
  /** "current -> target" for every path of the group. */
  change: string;
  paths: PathDifference[];
}

export interface EquivalenceReport {
  current: string;
  target: string;
  /** False when the report could not be made (a mode with no definition); `unavailable` says why. */
  available: boolean;
  unavailable?: string;
  nodes: string[];
  /** How many (node, service port, destination, source) paths were traced through both. */
  pathsTraced: number;
  equivalent: boolean;
  groups: DifferenceGroup[];
}

export interface EquivalenceInput {
  /** One view per node to compare on (node-local policies differ per node). */
  views: ProxyView[];
  currentConfig: KubeProxyConfiguration;
  targetConfig: KubeProxyConfiguration;
}

const WHAT = 'an equivalence report';

export function compareModes(input: EquivalenceInput): EquivalenceReport {
  const current = input.currentConfig.mode || 'iptables';
  const target = input.targetConfig.mode || 'iptables';
  const base: EquivalenceReport = { current, target, available: true, nodes: input.views.map((v) => v.nodeName), pathsTraced: 0, equivalent: true, groups: [] };
  let from: ProxyModeDefinition<FamilyState>;
  let to: ProxyModeDefinition<FamilyState>;
  try {
    from = modeFor(current, WHAT);
    to = modeFor(target, WHAT);
  } catch (err) {
    if (!(err instanceof ProxymodeError)) throw err;
    const missing = registeredName(current) ? target : current;
    return { ...base, available: false, equivalent: false, unavailable: `${missing} mode has no definition in this version of kubectl proxymode yet, so its rules cannot be rendered and traced against ${missing === target ? current : target}'s: the switch is unproven.` };
  }
  const diffs: PathDifference[] = [];
  // Nodes whose rules came out alike share one tracer (compiled once); each node keeps its own context.
  const tracerA = sharedTracers(from, input.currentConfig);
  const tracerB = sharedTracers(to, input.targetConfig);
  for (const view of input.views) {
    const a = tracerA(view);
    const b = tracerB(view);
    for (const path of paths(view, input.currentConfig)) {
      base.pathsTraced++;
      const d = comparePath(view.nodeName, path, a, b);
      if (d) for (const x of d) diffs.push(x);
    }
  }
  const groups = group(diffs, current, target);
  return { ...base, equivalent: groups.length === 0, groups };
}

/** A mode's tracer for a node's view, reused from an earlier node whose rendered states are the same data. */
function sharedTracers(mode: ProxyModeDefinition<FamilyState>, config: KubeProxyConfiguration): (view: ProxyView) => ModeEvaluator {
  // Only the last distinct one is kept: nodes alike usually all are (a big cluster's tracers would not fit).
  let last: { states: FamilyState[]; tracer: ModeEvaluator } | undefined;
  return (view) => {
    const rendered = mode.render(view, config);
    // What is alike is shared with the last node's (all of it when all is alike: then so is the tracer);
    // a tracer for a state partly shared still finds the indexes it made of those parts for the last node.
    const states = last ? shareWith(last.states, rendered) : rendered;
    if (states === last?.states) return last.tracer;
    last = { states, tracer: mode.tracer(states, { rendered: true }) };
    return last.tracer;
  };
}

function registeredName(mode: string): boolean {
  try {
    modeFor(mode, WHAT);
    return true;
  } catch {
    return false;
  }
}

interface TracedPath {
  servicePort: string;
  via: string;
  from: string;
  packet: Packet;
  ctx: NodeContext;
}

/** Every (destination, source) pair a node's service ports are reached by, one at a time (each is garbage
 * once traced: a node's 20,000 paths held at once were copied by the garbage collector for nothing). */
function* paths(view: ProxyView, config: KubeProxyConfiguration): Generator<TracedPath> {
  for (const fam of view.families) {
    const ctx: NodeContext = { nodeName: view.nodeName || undefined, localAddresses: fam.nodeIPs.length ? fam.nodeIPs : undefined, podCIDRs: fam.podCIDRs };
    const clusterCIDR = (config.clusterCIDR ?? '').split(',').map((c) => c.trim()).find((c) => c && c.includes(':') === (fam.family === 'IPv6'));
    const podCIDR = fam.podCIDRs[0] ?? clusterCIDR;
    const podIP = podCIDR ? addressNearTop(podCIDR) : null;
    const sources: Array<{ ip: string; entry: PacketEntry; from: string }> = [];
    if (podIP) sources.push({ ip: podIP, entry: 'pod-local', from: 'a pod' });
    if (fam.nodeIPs[0]) sources.push({ ip: fam.nodeIPs[0], entry: 'node', from: 'the node' });
    sources.push({ ip: EXTERNAL_SOURCE[fam.family], entry: 'external', from: 'outside' });
    const services = [...fam.state.serviceMap.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const sp of services) {
      const dests: Array<{ via: string; ip: string; port: number }> = [];
      if (sp.clusterIP && sp.clusterIP !== 'None') dests.push({ via: 'cluster IP', ip: sp.clusterIP, port: sp.port });
      if (sp.nodePort && fam.nodeIPs[0]) dests.push({ via: 'node port', ip: fam.nodeIPs[0], port: sp.nodePort });
      for (const ip of sp.loadBalancerVIPs) dests.push({ via: 'load-balancer IP', ip, port: sp.port });
      for (const ip of sp.externalIPs) dests.push({ via: 'external IP', ip, port: sp.port });
      for (const d of dests) {
        for (const s of sources) {
          // A pod reaches a cluster IP; outside traffic reaches only what is exposed outside.
          if (d.via === 'cluster IP' && s.entry === 'external') continue;
          yield {
            servicePort: sp.key,
            via: d.via,
            from: s.from,
            packet: { src: s.ip, dst: d.ip, dport: d.port, protocol: sp.protocol, entry: s.entry },
            ctx,
          };
        }
      }
    }
  }
}

/** A tracer that can also give a trace's outcome without its hops: the report compares only outcomes, and
 * building and merging every branch's hops was most of the time at 10,000 services. */
type Outcomes = ModeEvaluator & { outcome?(packet: Packet, node: NodeContext): TraceResult };

function outcome(e: Outcomes, packet: Packet, node: NodeContext): TraceResult {
  return e.outcome ? e.outcome(packet, node) : e.trace(packet, node);
}

/** The path's differences, or null when there is none (most paths: nothing is made for them). */
function comparePath(node: string, p: TracedPath, a: Outcomes, b: Outcomes): PathDifference[] | null {
  let ra: TraceResult;
  let rb: TraceResult;
  try {
    ra = outcome(a, p.packet, p.ctx);
    rb = outcome(b, p.packet, p.ctx);
  } catch (err) {
    return [{ ...baseOf(node, p), aspect: 'untraceable', current: '', target: String((err as Error).message ?? err).split('\n')[0] }];
  }
  // The same verdict and endpoint list, element by element (the tracers mostly list them alike), has the
  // same set and odds: nothing else is looked at unless the masquerade differs.
  const sameList = sameEndpoints(ra.endpoints, rb.endpoints);
  const masqDiffers = ra.verdict === 'forwarded' && rb.verdict === 'forwarded' && ra.masquerade !== rb.masquerade;
  if (sameList && ra.verdict === rb.verdict && !masqDiffers) return null;
  const base = baseOf(node, p);
  const out: PathDifference[] = [];
  if (ra.verdict !== rb.verdict) out.push({ ...base, aspect: 'verdict', current: ra.verdict, target: rb.verdict });
  // the strings below are made only when the lists differ
  if (!sameList) {
    const ea = endpointSet(ra);
    const eb = endpointSet(rb);
    if (ea.join(',') !== eb.join(',')) out.push({ ...base, aspect: 'endpoints', current: ea.join(', ') || 'none', target: eb.join(', ') || 'none' });
    else if (ea.length) {
      const oa = odds(ra);
      const ob = odds(rb);
      if (oa !== ob) out.push({ ...base, aspect: 'odds', current: oa, target: ob });
    }
  }
  if (masqDiffers) out.push({ ...base, aspect: 'masquerade', current: masq(ra.masquerade), target: masq(rb.masquerade) });
  return out;
}

function baseOf(node: string, p: TracedPath): Pick<PathDifference, 'node' | 'servicePort' | 'via' | 'destination' | 'from'> {
  // "10.96.0.10:53/UDP": made only for a path that differs, once
  return { node, servicePort: p.servicePort, via: p.via, destination: `${joinHostPort(p.packet.dst, p.packet.dport)}/${p.packet.protocol}`, from: p.from };
}

function sameEndpoints(x: TraceEndpoint[], y: TraceEndpoint[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a.ip !== b.ip || a.port !== b.port || a.probability !== b.probability) return false;
  }
  return true;
}

function endpointSet(r: TraceResult): string[] {
  const set = new Set<string>();
  for (const e of r.endpoints) if (e.probability > 0) set.add(joinHostPort(e.ip, e.port));
  return [...set].sort();
}

function odds(r: TraceResult): string {
  const by = new Map<string, number>();
  for (const e of r.endpoints) {
    const k = joinHostPort(e.ip, e.port);
    by.set(k, (by.get(k) ?? 0) + e.probability);
  }
  return [...by.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k} ${(Math.round(v * 1000) / 10).toString()}%`).join(', ');
}

function masq(m: boolean | null): string {
  return m === null ? 'unknown' : m ? 'masqueraded' : 'source kept';
}

const EXPLAIN: Record<Aspect, (c: string, t: string) => string> = {
  verdict: (c, t) => `these packets end ${t} after the switch instead of ${c}: traffic that works today would ${t === 'forwarded' || t === 'accepted' ? 'start to pass' : 'stop reaching its endpoints'}.`,
  endpoints: () => 'the target mode\'s rules send these packets to another set of endpoints (each path below names both sets).',
  odds: () => 'the same endpoints are reached with other shares of new connections (the target mode balances differently, e.g. by scheduler instead of random odds).',
  masquerade: (c, t) => `the source address is ${t === 'masqueraded' ? 'rewritten' : 'kept'} after the switch (today: ${c}): endpoints see ${t === 'masqueraded' ? 'the node\'s address instead of the client\'s' : 'the client\'s address instead of the node\'s'}, and replies return ${t === 'masqueraded' ? 'through the node' : 'directly'}.`,
  untraceable: () => 'these packets could not be traced through both modes\' rules, so nothing is known of them.',
};

function group(diffs: PathDifference[], current: string, target: string): DifferenceGroup[] {
  const groups = new Map<string, DifferenceGroup>();
  for (const d of diffs) {
    const change = d.aspect === 'endpoints' || d.aspect === 'odds' ? `${current} -> ${target}` : `${d.current} -> ${d.target}`;
    const key = `${d.aspect}|${change}`;
    let g = groups.get(key);
    if (!g) {
      g = { aspect: d.aspect, explanation: EXPLAIN[d.aspect](d.current, d.target), change, paths: [] };
      groups.set(key, g);
    }
    g.paths.push(d);
  }
  const order: Aspect[] = ['verdict', 'endpoints', 'masquerade', 'odds', 'untraceable'];
  return [...groups.values()].sort((x, y) => order.indexOf(x.aspect) - order.indexOf(y.aspect));
}
