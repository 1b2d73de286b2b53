// core/trace, ipvs mode: one packet through kube-proxy's ipvs-mode node state, in the kernel's order.
//
//  1. netfilter before IPVS: nat PREROUTING (or nat OUTPUT from the node itself) → KUBE-SERVICES, whose
//     rules match the ipsets (KUBE-CLUSTER-IP dst,dst, KUBE-NODE-PORT-TCP dst …) and mark for masquerade;
//     the virtual addresses are bound to kube-ipvs0, so the routing decision delivers locally and filter
//     INPUT runs (KUBE-IPVS-FILTER rejects a bound address's unserved ports). This reuses the iptables
//     walker, with the ipsets' members and the kube-ipvs0 addresses passed in.
//  2. IPVS (ip_vs_in at LOCAL_IN, ip_vs_local_request at LOCAL_OUT for the node's own packets): the virtual
//     server lookup by address:port/protocol, then the scheduler's meaning for this packet (core/ipvs
//     scheduleOne). A virtual server whose scheduler finds no destination (no real servers, or only
//     weight 0 ones) answers through ip_vs_leave: ICMP port unreachable, so the client is refused (rejected).
//  3. netfilter after IPVS: the NAT'ed packet is sent on through LOCAL_OUT and POSTROUTING (filter OUTPUT
//     → KUBE-IPVS-OUT-FILTER, nat POSTROUTING → KUBE-POSTROUTING), carrying the mark set in step 1, so
//     masquerade follows KUBE-MARK-MASQ / KUBE-POSTROUTING (and KUBE-LOOP-BACK for hairpin) as the kernel does.
import { BUILTIN_CHAINS } from '../iptables/parse.js';
import { joinHostPort } from '../net/ip.js';
import { formatPercent } from '../net/percent.js';
import { IptablesEvaluator } from './iptables.js';
import { canonicalIP } from './addr.js';
import type { Chain, Ruleset, Rule, Table, TableName } from '../iptables/types.js';
import { dhHashKey, scheduleOne, shHashKey, type ScheduleResult } from '../ipvs/schedule.js';
import type { IpvsState, RealServer, VirtualServer } from '../ipvs/types.js';
import type { Affinity, Hop, ModeEvaluator, NodeContext, Packet, TraceEndpoint, TraceResult, Verdict } from './types.js';

export interface IpvsTraceOptions {
  /** Rendered by our engine (the real servers' order is ours, not the node's; built-in chains implied). */
  rendered?: boolean;
}

const BUILTIN: Readonly<Record<string, readonly string[]>> = BUILTIN_CHAINS;
const CARRIED = 'ipvs-trace: mark carried from before IPVS';
const LABEL: Record<string, string> = {
  rr: 'round robin',
  wrr: 'weighted round robin',
  lc: 'least connections',
  wlc: 'weighted least connections',
  sed: 'shortest expected delay',
  nq: 'never queue',
  lblc: 'locality-based least connections',
  lblcr: 'locality-based least connections with replication',
  sh: 'source hashing',
  dh: 'destination hashing',
  mh: 'Maglev hashing',
};
const COUNTED = new Set(['lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr']);



/** A table with every built-in chain present (kube-proxy's jumps prepended), or as dumped. */
function withBuiltins(state: IpvsState, assume: boolean): { ruleset: Ruleset; assumed: string[] } {
  const assumed: string[] = [];
  const tables: Table[] = [];
  const names = new Set<TableName>(['nat', 'filter']);
  for (const t of state.iptables.tables) names.add(t.name);
  for (const name of names) {
    const orig = state.iptables.tables.find((t) => t.name === name);
    const chains: Chain[] = orig ? orig.chains.map((c) => ({ ...c })) : [];
    for (const b of BUILTIN[name] ?? []) {
      if (chains.some((c) => c.name === b)) continue;
      // kube-proxy prepends each jump: on a fresh node they end up in reverse order.
      const jumps = state.jumps.filter((j) => j.table === name && j.chain === b && chains.some((c) => c.name === j.target)).reverse();
      chains.push({ name: b, policy: 'ACCEPT', rules: jumps.map((j) => ({ words: [...j.words] })) });
      if (assume && jumps.length) assumed.push(`${name} ${b}`);
    }
    tables.push({ name, chains });
  }
  return { ruleset: { family: state.family, tables }, assumed };
}

/** The ruleset with some built-in chains emptied (their hooks are not on this part of the path). */
function emptied(rs: Ruleset, drop: Array<[TableName, string]>, replace?: { table: TableName; chain: string; rules: Rule[] }): Ruleset {
  return {
    family: rs.family,
    tables: rs.tables.map((t) => ({
      name: t.name,
      chains: t.chains.map((c) => {
        if (replace && replace.table === t.name && replace.chain === c.name) return { ...c, policy: 'ACCEPT', rules: replace.rules };
        return drop.some(([tn, cn]) => tn === t.name && cn === c.name) ? { ...c, policy: 'ACCEPT', rules: [] } : c;
      }),
    })),
  };
}

interface FamilyState {
  state: IpvsState;
  before: { pod: IptablesEvaluator; node: IptablesEvaluator } | null;
  base: Ruleset | null;
  /** Virtual servers by "PROTO addr port". */
  vs: Map<string, VirtualServer>;
  local: string[];
  localSet: Set<string>;
  ipsets: Map<string, string[]>;
  notes: string[];
}

const vsKey = (proto: string, ip: string, port: number) => `${proto.toUpperCase()} ${ip} ${port}`;

export class IpvsEvaluator implements ModeEvaluator {
  readonly mode = 'ipvs';
  private readonly byFamily = new Map<string, FamilyState>();
  private readonly afterCache = new Map<string, IptablesEvaluator>();

  constructor(states: IpvsState[], private readonly opts: IpvsTraceOptions = {}) {
    for (const state of states) {
      const notes: string[] = [];
      const hasRules = state.iptables.tables.some((t) => t.chains.length > 0);
      let before: FamilyState['before'] = null;
      let base: Ruleset | null = null;
      if (hasRules) {
        const { ruleset, assumed } = withBuiltins(state, !opts.rendered);
        base = ruleset;
        if (assumed.length) notes.push(`the iptables part has no built-in chains: kube-proxy's jumps into its chains were assumed (${assumed.join(', ')})`);
        // Before IPVS: from outside, PREROUTING + filter INPUT (the walker stops there for a local address);
        // from the node, only nat OUTPUT (IPVS takes the packet at LOCAL_OUT, before filter OUTPUT).
        before = {
          pod: new IptablesEvaluator(ruleset, { mode: 'ipvs' }),
          node: new IptablesEvaluator(emptied(ruleset, [['filter', 'OUTPUT'], ['nat', 'POSTROUTING'], ['filter', 'INPUT']]), { mode: 'ipvs' }),
        };
      } else {
        notes.push('the dump has no iptables-save part: kube-proxy\'s companion rules (masquerade marks, filters) were not evaluated');
      }
      const vs = new Map<string, VirtualServer>();
      const local = new Set<string>(state.addresses.map((a) => canonicalIP(a) ?? a));
      for (const v of state.virtualServers) {
        const ip = canonicalIP(v.address) ?? v.address;
        // A dump may list a virtual server twice (`ipvsadm -Ln` then `-Ln --stats`): keep the one with a scheduler.
        const k = vsKey(v.protocol, ip, v.port);
        if (!vs.get(k)?.scheduler) vs.set(k, v);
        // Every virtual address is local on its node: bound to kube-ipvs0, or one of the node's own (node ports).
        local.add(ip);
      }
      const ipsets = new Map(state.ipsets.map((s) => [s.name, s.members]));
      this.byFamily.set(state.family, { state, before, base, vs, local: [...local], localSet: local, ipsets, notes });
    }
  }

  trace(packet: Packet, node: NodeContext): TraceResult {
    return this.run(packet, node, false);
  }

  /** The trace without its hops (`hops` is empty; everything else as trace gives it): for comparing many packets. */
  outcome(packet: Packet, node: NodeContext): TraceResult {
    return { ...this.run(packet, node, true), hops: [] };
  }

  private run(packet: Packet, node: NodeContext, quiet: boolean): TraceResult {
    const dst = canonicalIP(packet.dst);
    if (!dst) throw new Error(`not an IP address: ${packet.dst}`);
    const family = dst.includes(':') ? 'IPv6' : 'IPv4';
    const fs = this.byFamily.get(family);
    if (!fs) {
      return { mode: this.mode, verdict: 'not-matched', endpoints: [], masquerade: false, masqueradeReason: 'no rule marked the packet for masquerade: the source address is kept', hops: [], qualifications: [`no ${family} IPVS state to trace through`] };
    }
    const ctx = this.context(node, fs);
    const qualifications = [...fs.notes];
    const hops: Hop[] = [];
    const fromNode = packet.entry === 'node';
    // the node's own addresses, read only to word a trace's routing hop (an outcome has none)
    let nodeOwn: Set<string> | undefined;

    // 1. netfilter before IPVS.
    let mark = 0;
    let markedBy: string | undefined;
    let local = true;
    if (fs.before) {
      const ev = fromNode ? fs.before.node : fs.before.pod;
      // An outcome needs no hops: the mark and the routing decision are read from the walk's one end.
      const brief = quiet ? ev.brief(packet, ctx) : null;
      const r = brief ? brief.result : ev.trace(packet, ctx);
      if (brief) {
        mark = brief.mark;
        local = brief.routed === undefined ? true : brief.routed === true;
      }
      for (const h of brief ? [] : r.hops) {
        if (fromNode && h.rule === 'policy ACCEPT' && ((h.table === 'filter' && (h.chain === 'OUTPUT' || h.chain === 'INPUT')) || (h.table === 'nat' && h.chain === 'POSTROUTING'))) continue;
        nodeOwn ??= new Set((node.localAddresses ?? []).map((a) => canonicalIP(a) ?? a));
        if (h.table === 'routing' && !nodeOwn.has(dst) && fs.localSet.has(dst)) {
          hops.push({ ...h, rule: `${dst} is bound to kube-ipvs0 (a local address)`, action: fromNode ? 'local address: IPVS takes it at LOCAL_OUT' : h.action });
          continue;
        }
        if (h.table === 'routing' && fromNode) {
          hops.push({ ...h, action: /deliver|local/.test(h.action) ? 'local address: IPVS takes it at LOCAL_OUT' : h.action });
          continue;
        }
        hops.push(h);
        const m = /^mark 0x([0-9a-f]+) → 0x([0-9a-f]+)$/.exec(h.action);
        if (m) mark = parseInt(m[2]!, 16);
      }
      qualifications.push(...r.qualifications.filter((q) => !qualifications.includes(q)));
      const marked = /^marked by (.*) but no MASQUERADE rule applied$/.exec(r.masqueradeReason);
      if (marked) markedBy = marked[1];
      if (!brief) {
        const routing = r.hops.find((h) => h.table === 'routing');
        local = routing ? /deliver|local/.test(routing.action) : true;
      }
      if (r.verdict === 'rejected' || r.verdict === 'dropped') return { ...r, mode: this.mode, hops, qualifications };
      if (!local) {
        // IPVS schedules new connections only to local addresses; a forwarded packet never meets it.
        return { ...r, mode: this.mode, hops, qualifications };
      }
    }

    // 2. IPVS.
    const proto = packet.protocol.toUpperCase();
    const v = fs.vs.get(vsKey(proto, dst, packet.dport));
    const chain = `${joinHostPort(dst, packet.dport)}/${proto}`;
    if (!v) {
      // whether a KUBE-* filter chain accepted it (a health check node port) is read from the hops, which a
      // brief walk did not keep: walk again with them (rare: a packet to no virtual server)
      if (quiet && fs.before) return { ...this.run(packet, node, false), hops: [] };
      hops.push({ table: 'ipvs', chain, rule: 'virtual server lookup', action: `no virtual server for ${chain}: IPVS passes the packet on` });
      const accepted = hops.some((h) => h.action === 'ACCEPT' && /^KUBE-/.test(h.chain) && h.table === 'filter');
      return {
        mode: this.mode,
        verdict: accepted ? 'accepted' : 'not-matched',
        endpoints: [],
        masquerade: false,
        masqueradeReason: accepted ? 'delivered to the node itself: the source address is kept' : 'no rule marked the packet for masquerade: the source address is kept',
        hops,
        qualifications,
      };
    }
    const sched = this.schedule(v, packet, dst, qualifications);
    const rule = `scheduler ${v.scheduler}${v.schedFlags.length ? ` (${v.schedFlags.join(',')})` : ''}${v.persistentTimeout !== null ? `, persistent ${v.persistentTimeout}` : ''}`;
    const affinity: Affinity | undefined = v.persistentTimeout !== null ? { seconds: v.persistentTimeout, name: `ipvs persistence of ${chain}` } : undefined;
    if (sched.endpoints.length === 0) {
      const why = v.realServers.length === 0 ? 'no real servers' : 'the scheduler finds no real server with weight > 0';
      hops.push({ table: 'ipvs', chain, rule, action: `REJECT: ${why}; IPVS answers ICMP port unreachable (ip_vs_leave)` });
      const r: TraceResult = { mode: this.mode, verdict: 'rejected', endpoints: [], masquerade: false, masqueradeReason: 'the packet is rejected by IPVS before POSTROUTING', hops, qualifications };
      if (affinity) r.affinity = affinity;
      return r;
    }
    // (an outcome's hops are dropped: the scheduler's hop, the longest to word, is not made for one)
    if (!quiet) hops.push({ table: 'ipvs', chain, rule, action: `to ${sched.endpoints.map((e) => `${joinHostPort(e.address, e.port)} (${formatPercent(e.probability)})`).join(', ')} — ${sched.note}` });

    // 3. netfilter after IPVS, per real server.
    const endpoints: TraceEndpoint[] = [];
    const shares = new Map<Verdict, number>();
    const afterHops: Hop[] = [];
    const seen = new Set<string>();
    let routing: Hop | undefined;
    let masqReason: string | undefined;
    let masqFor: string[] = [];
    // The same for every real server: the evaluator after IPVS (by mark) and the client's part of the key.
    const after = fs.base ? this.after(fs, mark) : null;
    const memo = quiet && after ? this.afterMemo(after, ctx, `${packet.src}|${packet.sport}|${packet.protocol}`) : null;
    const via = `ipvs ${chain}`;
    for (const e of sched.endpoints) {
      const ep: TraceEndpoint = { ip: e.address, port: e.port, probability: e.probability, via, masquerade: false };
      let verdict: Verdict = 'forwarded';
      if (after) {
        const out: Packet = { src: packet.src, sport: packet.sport, dst: e.address, dport: e.port, protocol: packet.protocol, entry: 'node' };
        const r = memo ? afterOutcome(memo, after, out, ctx) : after.trace(out, ctx);
        for (const h of r.hops) {
          if (h.table === 'nat' && h.chain === 'OUTPUT') continue;
          if (h.table === 'routing') {
            // One routing hop for all real servers, placed first.
            if (!routing) afterHops.unshift((routing = { ...h, chain: 'after IPVS', rule: h.rule }));
            else if (!routing.rule.includes(h.rule)) routing.rule += `; ${h.rule}`;
            continue;
          }
          const hh = h;
          const k = `${hh.table}\u0000${hh.chain}\u0000${hh.rule}\u0000${hh.action}`;
          if (seen.has(k)) continue;
          seen.add(k);
          afterHops.push(hh);
        }
        for (const q of r.qualifications) if (!q.includes('not known to be a node address') && !qualifications.includes(q)) qualifications.push(q);
        if (r.verdict === 'rejected' || r.verdict === 'dropped') verdict = r.verdict;
        if (r.masquerade) {
          ep.masquerade = true;
          masqFor.push(joinHostPort(e.address, e.port));
          masqReason ??= r.masqueradeReason.replace(`OUTPUT ("${CARRIED}")`, markedBy ?? 'the mark set before IPVS');
        }
      }
      shares.set(verdict, (shares.get(verdict) ?? 0) + e.probability);
      if (verdict === 'forwarded') endpoints.push(ep);
    }
    hops.push(...afterHops);
    let verdict: Verdict = 'forwarded';
    let best = shares.get('forwarded') ?? 0;
    for (const [k, s] of shares) if (s > best + 1e-12) [verdict, best] = [k, s];
    const masquerade = endpoints.some((e) => e.masquerade);
    if (masqFor.length && masqFor.length < sched.endpoints.length) masqReason = `only for ${masqFor.join(', ')}: ${masqReason}`;
    const result: TraceResult = {
      mode: this.mode,
      verdict,
      endpoints: verdict === 'forwarded' ? endpoints : [],
      masquerade: masquerade || fs.base ? masquerade : null,
      masqueradeReason: masquerade
        ? masqReason!
        : !fs.base
          ? 'not known: the dump has no iptables-save part (kube-proxy masquerades in KUBE-POSTROUTING)'
          : markedBy
            ? `marked by ${markedBy} but no MASQUERADE rule applied`
            : 'no rule marked the packet for masquerade: the source address is kept',
      hops,
      qualifications,
    };
    if (affinity) result.affinity = affinity;
    const others = [...shares].filter(([k, s]) => k !== verdict && s > 1e-12);
    if (others.length) result.otherVerdicts = Object.fromEntries(others.map(([k, s]) => [k, Math.round(s * 1e10) / 1e10]));
    return result;
  }

  /** The scheduler's answer for this packet; qualifies what is not exact. */
  private schedule(v: VirtualServer, packet: Packet, dst: string, qualifications: string[]): ScheduleResult {
    const p = { source: canonicalIP(packet.src) ?? packet.src, sourcePort: packet.sport ?? 40000, destination: dst };
    const s = v.scheduler;
    const label = LABEL[s] ?? `scheduler ${s}`;
    const order = this.opts.rendered
      ? 'real servers taken in the order rendered here; on a node the order is the one ipvsadm lists (kube-proxy adds them in random order, the kernel lists the newest first)'
      : 'real servers in the order ipvsadm lists them';
    if (COUNTED.has(s)) {
      const live = v.realServers.filter((r) => r.weight > 0);
      const counted = live.length > 0 && live.every((r) => r.activeConns !== undefined && r.inactiveConns !== undefined);
      if (counted) {
        const r = scheduleOne(v, p);
        return { ...r, note: `${label}: depends on live connection counts; with the counts given (${live.map((x) => `${joinHostPort(x.address, x.port)} ${x.activeConns}/${x.inactiveConns} active/inactive`).join(', ')}) the next connection goes to the one shown` };
      }
      const idle: VirtualServer = { ...v, realServers: v.realServers.map((r): RealServer => ({ ...r, activeConns: 0, inactiveConns: 0 })) };
      const r = scheduleOne(idle, p);
      const q = `ipvs ${joinHostPort(v.address, v.port)}/${v.protocol}: ${label} depends on live connection counts, which were not given (trace a live \`ipvsadm -Ln --stats\` dump for them); shown is the pick for an idle server set (all counts 0)`;
      if (!qualifications.includes(q)) qualifications.push(q);
      const tie = r.endpoints.length > 1 ? `: a tie between ${r.endpoints.map((e) => joinHostPort(e.address, e.port)).join(', ')}, which the kernel breaks by its own list order (not the ${order}), so each is shown as equally likely` : ` (${order})`;
      return { ...r, deterministic: false, note: `${label}: depends on live connection counts (unknown here); with every real server idle the kernel picks the ${s === 'sed' ? 'highest-weight' : 'first'} one${tie}, and later connections spread by their live counts` };
    }
    const r = scheduleOne(v, p);
    if (s === 'sh' || s === 'dh') {
      if (this.opts.rendered && v.realServers.length > 1) {
        const q = `ipvs ${joinHostPort(v.address, v.port)}/${v.protocol}: ${label} is exact for the order of the real servers, which on a node is the order kube-proxy added them (random); trace a saved \`ipvsadm -Sn\` dump for the node's exact pick`;
        if (!qualifications.includes(q)) qualifications.push(q);
      }
      const e = r.endpoints[0];
      if (!e) return r;
      const shPort = v.schedFlags.includes('sh-port') ? p.sourcePort : 0;
      const bucket = s === 'sh' ? shHashKey(p.source, shPort) : dhHashKey(dst);
      const key = s === 'sh' ? `source ${p.source}${shPort ? ` port ${shPort}` : ''}` : `destination ${dst}`;
      return { ...r, note: `deterministic: ${label} hashes the ${key} to bucket ${bucket} of 256, which always holds ${joinHostPort(e.address, e.port)} (the kernel deals the buckets to the real servers in list order${s === 'sh' ? ', by weight' : ''}; ${order})` };
    }
    if (s === 'rr') return { ...r, note: `round robin: each new connection takes the next of the ${r.endpoints.length} real server${r.endpoints.length === 1 ? '' : 's'} with weight > 0 (weight 0 gets none); one whose turn is unknown has these shares` };
    if (s === 'wrr') return { ...r, note: 'weighted round robin: shares in proportion to weight (weight 0 gets none)' };
    return { ...r, note: r.note.replace(/\s*Persistent.*$/, '') };
  }

  /** After IPVS: the NAT'ed packet from LOCAL_OUT on, carrying the mark set before IPVS. */
  /** The node's context with this family's IPVS addresses and ipsets added, made once per node context: every
   * service address is local under IPVS, so rebuilding it per packet made tracing all services quadratic. */
  private readonly contexts = new WeakMap<NodeContext, Map<FamilyState, NodeContext>>();
  private context(node: NodeContext, fs: FamilyState): NodeContext {
    let byState = this.contexts.get(node);
    if (!byState) this.contexts.set(node, (byState = new Map()));
    let ctx = byState.get(fs);
    if (!ctx) {
      const ipsets = new Map([...(node.ipsets ?? new Map<string, string[]>()), ...fs.ipsets]);
      ctx = { ...node, ipsets, localAddresses: [...new Set([...(node.localAddresses ?? []), ...fs.local])] };
      byState.set(fs, ctx);
    }
    return ctx;
  }

  /** After IPVS the path depends only on the real server, the client and the mark: the many virtual servers
   * sharing real servers (node ports, load-balancer IPs of one service) reuse one outcome. */
  private readonly afterOutcomes = new WeakMap<IptablesEvaluator, WeakMap<NodeContext, Map<string, AfterMemo>>>();
  /** The reused outcomes after IPVS of one evaluator, node and client (source, source port, protocol). */
  private afterMemo(after: IptablesEvaluator, ctx: NodeContext, client: string): AfterMemo {
    let byCtx = this.afterOutcomes.get(after);
    if (!byCtx) this.afterOutcomes.set(after, (byCtx = new WeakMap()));
    let byClient = byCtx.get(ctx);
    if (!byClient) byCtx.set(ctx, (byClient = new Map()));
    let memo = byClient.get(client);
    if (!memo) byClient.set(client, (memo = new Map()));
    return memo;
  }

  private after(fs: FamilyState, mark: number): IptablesEvaluator {
    const key = `${fs.state.family}|${mark}`;
    let ev = this.afterCache.get(key);
    if (!ev) {
      const rules: Rule[] = mark ? [{ words: ['-m', 'comment', '--comment', CARRIED, '-j', 'MARK', '--set-xmark', `0x${mark.toString(16)}/0xffffffff`] }] : [];
      ev = new IptablesEvaluator(emptied(fs.base!, [['nat', 'PREROUTING']], { table: 'nat', chain: 'OUTPUT', rules }), { mode: 'ipvs' });
      this.afterCache.set(key, ev);
    }
    return ev;
  }
}

/** Outcomes after IPVS by real server address, then port. */
type AfterMemo = Map<string, Map<number, TraceResult>>;

/** After IPVS the path depends only on the real server, the client and the mark: the many virtual servers
 * sharing real servers (node ports, load-balancer IPs of one service) reuse one outcome. */
function afterOutcome(memo: AfterMemo, after: IptablesEvaluator, packet: Packet, ctx: NodeContext): TraceResult {
  let byPort = memo.get(packet.dst);
  if (!byPort) memo.set(packet.dst, (byPort = new Map()));
  let r = byPort.get(packet.dport);
  if (!r) byPort.set(packet.dport, (r = after.outcome(packet, ctx)));
  return r;
}

export function ipvsEvaluator(states: IpvsState[], opts?: IpvsTraceOptions): IpvsEvaluator {
  return new IpvsEvaluator(states, opts);
}
