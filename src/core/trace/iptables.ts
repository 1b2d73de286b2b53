// The iptables mode's evaluator: one packet through parsed rulesets in netfilter's hook order.
//
//   arriving on an interface (pod-local, pod-remote, external):
//     nat PREROUTING → routing (local address? filter INPUT : filter FORWARD → nat POSTROUTING)
//   from the node itself:
//     nat OUTPUT → filter OUTPUT → nat POSTROUTING → (local address? filter INPUT)
//
// Chains are indexed by name once per ruleset; a rule's structure (viewRule) is compiled the first time
// the tracer meets it and kept (shared by evaluators holding the same chain list; an endpoint chain's two
// rules are compiled without the general word reader); long chains (KUBE-SERVICES,
// KUBE-NODEPORTS: one rule per service port) get an index of their rules by exact destination address or
// port, so a packet only visits the rules that can match it, in the order an ordered walk would.
// `outcome` is a trace without hops; it reuses the path after the first nat hook between packets.
//
// The packet is a first packet of a new connection: conntrack state NEW (plus DNAT once DNAT happened),
// connection mark 0, no `recent` entry yet (affinity rcheck misses), not a fragment, TCP SYN.
// `statistic --mode random` forks the walk: each branch carries its share (the product of the
// probabilities taken and not taken along the way), so each endpoint's exact share comes out.
//
// Interface model (-i/-o): a pod on this node sends from a pod interface (bridges cni0, cbr0, docker0,
// kube-bridge, weave; veth/cali/azv/lxc/eni/gke-prefixed links); every other packet from off the node
// arrives on the uplink or an overlay device (eth*, ens*, enp*, eno*, bond*, flannel*, tunl*, vxlan*,
// genev*, cilium_*); docker's and libvirt's bridges (docker0, br-*, virbr*) carry no traced packet; the node's own packets have no input interface and leave on the uplink, or on the
// pod bridge when the destination is in this node's pod CIDR; `lo` carries packets to local addresses.
// Names of no class are not guessed: such a rule is reported as not evaluated.
//
// Bridge model (-m physdev, br_netfilter on): a pod on this node is a port of the pod bridge, so its packet
// arrives bridged in (its veth is the physdev-in; --physdev-is-in matches) and, being sent to a Service IP,
// is routed on, never bridged out (no physdev-out: --physdev-is-out and --physdev-is-bridged do not match).
// A packet from another node or from outside, and the node's own, never crossed a bridge port: as the kernel's
// xt_physdev, only the negated options match it. A --physdev-in/out name is compared by its class as -i/-o are.
//
// A rule the evaluator cannot evaluate is treated as not matching, shown as a hop that says so, and
// listed in the result's qualifications; an unknown non-terminating target is passed over the same way.
import { BUILTIN_CHAINS } from '../iptables/parse.js';
import { formatPercent } from '../net/percent.js';
import type { Rule, Ruleset, TableName } from '../iptables/types.js';
import { jumpRules } from '../iptables/render/jumps.js';
import { restoreRuleText } from '../iptables/serialize.js';
import { viewRule, viewWords, type Match, type ModuleMatch, type PortSpec, type RuleView, type Target } from '../iptables/words.js';
import { canonicalIP, formatIP, isLoopback, netContains, parseIPSloppy, parseNet, type IPBytes, type Net } from './addr.js';
import type { Affinity, Hop, ModeEvaluator, NodeContext, Packet, PacketEntry, TraceEndpoint, TraceResult, Verdict } from './types.js';

type IfClass = 'pod' | 'uplink' | 'lo' | 'other';
const POD_IF = /^(cni\d*|cbr\d*|kube-bridge|weave|cni-podman\d*|veth.*|cali.*|azv.*|lxc[0-9a-f].*|lxc|eni.*|gke.*)$/;
/** Interfaces no traced packet uses: docker's and libvirt's bridges, other local bridges. */
const OTHER_IF = /^(docker\d*|br-.*|virbr.*|lxcbr\d*|lxdbr\d*)$/;
const UPLINK_IF = /^(eth.*|ens.*|enp.*|eno.*|em\d.*|bond.*|flannel.*|tunl.*|vxlan.*|genev.*|cilium_.*)$/;

function ifaceClass(name: string): IfClass | null {
  const n = name.endsWith('+') ? name.slice(0, -1) : name;
  if (n === 'lo') return 'lo';
  if (POD_IF.test(n)) return 'pod';
  if (UPLINK_IF.test(n)) return 'uplink';
  if (OTHER_IF.test(n)) return 'other';
  return null;
}

const PROTO_NUM: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp' };

/** Result of one condition: true, false, or why it cannot be evaluated. */
type Cond = (b: Branch, e: Env) => boolean | string;

export interface CompiledRule {
  rule: Rule;
  chain: string;
  conds: Cond[];
  /** statistic --mode random: the branch forks. */
  probability?: number;
  /** recent --rcheck/--update: affinity. */
  affinity?: Affinity;
  target?: Target;
  /** The rule's comment; its structure (RuleView) is not kept: at 10,000 services it was half the heap. */
  comment?: string;
  /** What indexChain files the rule under (ruleKey), read when compiled. */
  key: string | number | null;
  text?: string;
}

interface ChainIndex {
  name: string;
  policy: string;
  builtin: boolean;
  rules: Rule[];
  compiled: Array<CompiledRule | undefined>;
  /** Each rule's target chain in this ruleset (null: none), found the first time the rule matches. */
  subs: Array<ChainIndex | null | undefined>;
  /** For long chains: indices of rules that cannot be keyed, and of those keyed by exact destination / port. */
  wild?: number[];
  byDst?: Map<string, number[]>;
  byDport?: Map<number, number[]>;
}

interface Frame {
  chain: ChainIndex;
  i: number;
}

interface Branch {
  share: number;
  src: IPBytes;
  srcText: string;
  dst: IPBytes;
  dstText: string;
  dport: number;
  sport: number;
  proto: string;
  entry: PacketEntry;
  iif: IfClass | null;
  oif: IfClass | null;
  mark: number;
  dnat: boolean;
  masq: boolean;
  markedBy?: string;
  masqBy?: string;
  via?: string;
  kubeAccept: boolean;
  hops: Hop[];
  qualifications: string[];
  affinity?: Affinity;
  /** Call depth of the chain being walked, for the hops' indentation. */
  depth: number;
  /** No hops kept: the outcome only (an equivalence report compares outcomes of many packets). */
  quiet: boolean;
  /** The routing decision after the first nat hook: local delivery (true), not (false), not known (null). */
  routed?: boolean | null;
}

interface Env {
  local: Net[] | undefined;
  localExact: Set<string>;
  localNets: Net[];
  podNets: Net[];
  ipsets?: Map<string, string[]>;
}

const BUILTIN: Readonly<Record<string, readonly string[]>> = BUILTIN_CHAINS;
const INDEX_MIN_RULES = 16;
const STEP_LIMIT = 200_000;

type HookVerdict = 'ACCEPT' | 'DROP' | 'REJECT';

class IndexedRuleset {
  readonly tables = new Map<string, Map<string, ChainIndex>>();
  /** Quiet walks' tails by node, then what no rule changes (see walk), then the branch's key (see reusedTail). */
  readonly tails = new WeakMap<Env, Map<string, TailMemo>>();
  /** Notes about the ruleset itself (jumps added for a rendered ruleset). */
  readonly notes: string[] = [];

  constructor(readonly ruleset: Ruleset, private readonly ordered = false) {
    for (const t of ruleset.tables) {
      const chains = new Map<string, ChainIndex>();
      for (const c of t.chains) {
        chains.set(c.name, { name: c.name, policy: c.policy, builtin: c.policy !== '-', rules: c.rules, compiled: compiledFor(c.rules, c.name), subs: new Array(c.rules.length) });
      }
      this.tables.set(t.name, chains);
    }
    // A rendered ruleset holds only kube-proxy's own chains: add the jumps kube-proxy ensures in the
    // built-in chains (each prepended, so on a fresh node they end up in reverse order).
    const added: string[] = [];
    const synthesized = new Set<ChainIndex>();
    for (const j of [...jumpRules()].reverse()) {
      const chains = this.tables.get(j.table);
      if (!chains || !chains.has(j.target)) continue;
      let builtin = chains.get(j.chain);
      if (!builtin) {
        builtin = { name: j.chain, policy: 'ACCEPT', builtin: true, rules: [], compiled: [], subs: [] };
        chains.set(j.chain, builtin);
        synthesized.add(builtin);
      } else if (!synthesized.has(builtin)) {
        // A dump with its own built-in chains: trust them and add nothing.
        continue;
      }
      builtin.rules = [...builtin.rules, { words: j.words }];
      builtin.compiled.push(undefined);
      builtin.subs.push(undefined);
      added.push(`${j.table} ${j.chain}`);
    }
    if (added.length) this.notes.push(`the ruleset has no built-in chains: kube-proxy's jumps into its chains were assumed (${[...new Set(added)].join(', ')})`);
  }

  chain(table: string, name: string): ChainIndex | undefined {
    const c = this.tables.get(table)?.get(name);
    if (c && !this.ordered && c.rules.length >= INDEX_MIN_RULES && !c.byDst) indexChain(c);
    return c;
  }
}

/**
 * Index a long chain's rules by what they need to match: an exact destination address, else an exact
 * destination port. A rule is indexed only when skipping it is the same as evaluating it: every match
 * before its key can only say yes or no (no "cannot evaluate" that would show as a hop), and it carries no
 * affinity (a `recent --rcheck` rule names the affinity even when it does not match). Every other rule —
 * no -d, a negation, a range, a set — stays in the ordered fallback list, merged with the keyed lists by
 * position, so the first match is the one an ordered walk finds.
 */
function indexChain(c: ChainIndex): void {
  const wild: number[] = [];
  const byDst = new Map<string, number[]>();
  const byDport = new Map<number, number[]>();
  const add = <K>(m: Map<K, number[]>, k: K, i: number) => {
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(i);
  };
  c.rules.forEach((r, i) => {
    const cr = (c.compiled[i] ??= compile(r, c.name));
    const key = cr.affinity ? null : cr.key;
    if (key === null) wild.push(i);
    else if (typeof key === 'string') add(byDst, key, i);
    else add(byDport, key, i);
  });
  c.wild = wild;
  c.byDst = byDst;
  c.byDport = byDport;
}

/** The rule's exact destination (canonical address) or destination port, found before any match that is not
 * a plain yes/no; null when there is none. */
function ruleKey(view: RuleView): string | number | null {
  let dport: number | null = null;
  for (const m of view.matches) {
    if (m.kind === 'address') {
      if (m.addresses.some((a) => parseNet(a.mask !== undefined ? `${a.ip}/${a.mask}` : a.ip) === null)) break;
      if (m.dir !== 'dst' || m.negated || m.addresses.length !== 1) continue;
      const a = m.addresses[0]!;
      const canon = canonicalIP(a.ip);
      if (canon && (a.mask === undefined || a.mask === (canon.includes(':') ? '128' : '32'))) return canon;
      continue;
    }
    if (m.kind === 'protocol' || m.kind === 'fragment') continue;
    if (m.kind !== 'module') break;
    if (m.module === 'comment') continue;
    if (m.module !== 'tcp' && m.module !== 'udp' && m.module !== 'sctp') break;
    const p = m.ports;
    const known = new Set(['--sport', '--source-port', '--dport', '--destination-port', '--syn']);
    if (!p || p.tcpFlags || m.options.some((o) => !known.has(o.name))) break;
    if (p.sport && p.sport.ranges.length === 0) break;
    if (p.dport) {
      if (p.dport.ranges.length === 0) break;
      const r = p.dport.ranges;
      if (dport === null && !p.dport.negated && r.length === 1 && r[0]!.from === r[0]!.to) dport = r[0]!.from;
    }
  }
  return dport;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The next rule at or after i that may match a packet to dst:dport, or -1. */
function nextCandidate(c: ChainIndex, i: number, dst: string, dport: number): number {
  if (!c.byDst) return i < c.rules.length ? i : -1;
  let next = after(c.wild!, i);
  const d = c.byDst.get(dst);
  if (d) next = earlier(next, after(d, i));
  const p = c.byDport!.get(dport);
  if (p) next = earlier(next, after(p, i));
  return next;
}

function after(list: number[], i: number): number {
  const k = lowerBound(list, i);
  return k < list.length ? list[k]! : -1;
}

function earlier(a: number, b: number): number {
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

// ---- compiling a rule's matches ------------------------------------------------------------------------

/**
 * A chain's compiled rules, shared by every evaluator holding that very rule list under that chain name:
 * the nodes of one cluster share their alike chains (equivalence/same.ts), and a mode's evaluators before
 * and after IPVS hold the same lists. A compiled rule depends only on its words and its chain's name. Kept
 * by list, not by rule (a weak entry per rule made the garbage collector's work grow with the rules), and
 * weakly, so a report's rules go with its rulesets.
 */
const compiledLists = new WeakMap<Rule[], { chain: string; compiled: Array<CompiledRule | undefined> }>();

function compiledFor(rules: Rule[], chain: string): Array<CompiledRule | undefined> {
  const had = compiledLists.get(rules);
  if (had && had.chain === chain) return had.compiled;
  const compiled = new Array<CompiledRule | undefined>(rules.length);
  if (!had) compiledLists.set(rules, { chain, compiled });
  return compiled;
}

function compile(rule: Rule, chain: string): CompiledRule {
  return compileEndpointRule(rule, chain) ?? compileRule(rule, chain);
}

/**
 * The two rules of every endpoint chain (KUBE-SEP-…, two thirds of a big ruleset), compiled without reading
 * their words in general: `-s ADDRESS -j KUBE-MARK-MASQ` and `-m P -p P -j DNAT --to-destination HOST:PORT`
 * (P tcp, udp or sctp), each maybe after `-m comment --comment TEXT`. What comes out is what compileRule makes of them (test/unit/equivalence/endpoint-rules.test.ts
 * holds the two to each other); any other words, or an address with a mask or a list, go through compileRule.
 * null when the rule is not of these two shapes.
 */
export function compileEndpointRule(rule: Rule, chain: string): CompiledRule | null {
  const w = rule.words;
  // kube-proxy comments endpoint rules in smaller clusters: `-m comment --comment TEXT` first
  const o = w[0] === '-m' && w[1] === 'comment' && w[2] === '--comment' && w.length > 4 ? 4 : 0;
  let cr: CompiledRule | null = null;
  if (w.length === o + 4 && w[o] === '-s' && w[o + 2] === '-j' && w[o + 3] === 'KUBE-MARK-MASQ') {
    const a = w[o + 1]!;
    if (a.includes('/') || a.includes(',') || a === '!') return null;
    const net = parseNet(a);
    if (net === null) return null;
    const t = (markMasqTarget ??= viewWords(['-j', 'KUBE-MARK-MASQ']).target!);
    cr = { rule, chain, conds: [(b) => netContains(net, b.src)], target: t, key: null };
  } else if (w.length === o + 8 && w[o] === '-m' && w[o + 2] === '-p' && w[o + 1] === w[o + 3] && w[o + 4] === '-j' && w[o + 5] === 'DNAT' && w[o + 6] === '--to-destination') {
    const p = w[o + 1]!;
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') return null;
    const to = w[o + 7]!;
    if (to.startsWith('-') || to === '!') return null;
    cr = { rule, chain, conds: [(b) => b.proto === p], target: dnatTarget(to), key: null };
  }
  if (cr && o) cr.comment = w[3]!;
  return cr;
}

let markMasqTarget: Target | undefined;
let dnatTemplate: { to: string; target: Target } | undefined;

/** `-j DNAT --to-destination TO` as viewWords reads it: its reading of one such target, with TO in its places. */
function dnatTarget(to: string): Target {
  if (!dnatTemplate) {
    const probe = '192.0.2.1:1';
    dnatTemplate = { to: probe, target: viewWords(['-j', 'DNAT', '--to-destination', probe]).target! };
  }
  const { to: was, target: t } = dnatTemplate;
  const swap = (x: string[]) => x.map((v) => (v === was ? to : v));
  return { ...t, args: swap(t.args), options: t.options.map((o) => ({ ...o, args: swap(o.args) })), toDestination: to };
}

export function compileRule(rule: Rule, chain: string): CompiledRule {
  const view = viewRule(rule);
  const conds: Cond[] = [];
  const out: CompiledRule = { rule, chain, conds, target: view.target, key: ruleKey(view) };
  if (view.comment !== undefined) out.comment = view.comment;
  for (const m of view.matches) compileMatch(m, out);
  if (view.unknown.length) {
    const why = `cannot evaluate ${view.unknown.join(' ')}`;
    conds.push(() => why);
  }
  return out;
}

function compileMatch(m: Match, out: CompiledRule): void {
  const conds = out.conds;
  switch (m.kind) {
    case 'address': {
      const nets = m.addresses.map((a) => parseNet(a.mask !== undefined ? `${a.ip}/${a.mask}` : a.ip));
      if (nets.some((n) => n === null)) {
        const why = `cannot read address ${m.value}`;
        conds.push(() => why);
        return;
      }
      const ns = nets as Net[];
      const neg = m.negated;
      conds.push(m.dir === 'src' ? (b) => ns.some((n) => netContains(n, b.src)) !== neg : (b) => ns.some((n) => netContains(n, b.dst)) !== neg);
      return;
    }
    case 'protocol': {
      const p = PROTO_NUM[m.protocol] ?? m.protocol.toLowerCase();
      if (p === 'all' || p === '0') {
        if (m.negated) conds.push(() => false);
        return;
      }
      const neg = m.negated;
      conds.push((b) => (b.proto === p) !== neg);
      return;
    }
    case 'interface': {
      const name = m.name;
      const cls = ifaceClass(name);
      const neg = m.negated;
      const dir = m.dir;
      conds.push((b) => {
        const have = dir === 'in' ? b.iif : b.oif;
        if (have === null) return dir === 'in' ? (b.entry === 'node' ? neg : `-i ${name}: the input interface is not known here`) : `-o ${name}: the output interface is not known here`;
        if (cls === null) return `${dir === 'in' ? '-i' : '-o'} ${name}: interface not in the tracer's model (pod bridge/veth, uplink/overlay, lo)`;
        return (have === cls) !== neg;
      });
      return;
    }
    case 'fragment': {
      // A first packet is not a fragment.
      const neg = m.negated;
      conds.push(() => neg);
      return;
    }
    case 'module':
      compileModule(m, out);
      return;
  }
}

function pushUnknown(conds: Cond[], what: string): void {
  conds.push(() => `cannot evaluate ${what}`);
}

function portsMatch(spec: PortSpec, port: number): boolean | string {
  if (spec.ranges.length === 0) return `cannot read port ${spec.value}`;
  return spec.ranges.some((r) => port >= r.from && port <= r.to) !== spec.negated;
}

function compileModule(m: ModuleMatch, out: CompiledRule): void {
  const conds = out.conds;
  switch (m.module) {
    case 'comment':
    case 'nfacct':
    case 'limit': // a first packet is within any limit
      return;
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'udplite':
    case 'dccp': {
      const p = m.ports;
      if (p?.sport) {
        const s = p.sport;
        conds.push((b) => portsMatch(s, b.sport));
      }
      if (p?.dport) {
        const d = p.dport;
        conds.push((b) => portsMatch(d, b.dport));
      }
      if (p?.syn) {
        const neg = p.syn.negated;
        conds.push((b) => (b.proto === 'tcp') !== neg);
      }
      if (p?.tcpFlags) pushUnknown(conds, `--tcp-flags ${p.tcpFlags.mask.join(',')} ${p.tcpFlags.comp.join(',')}`);
      const known = new Set(['--sport', '--source-port', '--dport', '--destination-port', '--syn', '--tcp-flags']);
      const other = m.options.filter((o) => !known.has(o.name));
      if (other.length) pushUnknown(conds, other.map((o) => o.name).join(' '));
      return;
    }
    case 'multiport': {
      const mp = m.multiport ?? {};
      if (mp.sports) {
        const s = mp.sports;
        conds.push((b) => portsMatch(s, b.sport));
      }
      if (mp.dports) {
        const d = mp.dports;
        conds.push((b) => portsMatch(d, b.dport));
      }
      if (mp.ports) {
        const s = mp.ports;
        conds.push((b) => {
          if (s.ranges.length === 0) return `cannot read ports ${s.value}`;
          const hit = s.ranges.some((r) => (b.sport >= r.from && b.sport <= r.to) || (b.dport >= r.from && b.dport <= r.to));
          return hit !== s.negated;
        });
      }
      return;
    }
    case 'statistic': {
      const st = m.statistic;
      if (st?.mode === 'random' && st.probability !== undefined && !st.negated) out.probability = st.probability;
      else if (st?.mode === 'random' && st.probability !== undefined) out.probability = 1 - st.probability;
      else pushUnknown(conds, m.words.join(' '));
      return;
    }
    case 'recent': {
      const r = m.recent;
      if (!r) return pushUnknown(conds, m.words.join(' '));
      if (r.command === 'set' || r.command === undefined) {
        // --set always matches (it records the source); negated, never.
        if (r.negated) conds.push(() => false);
        return;
      }
      if (r.command === 'rcheck' || r.command === 'update') out.affinity = { seconds: r.seconds ?? 0, name: r.name };
      // A first packet has no entry in the list: rcheck/update/remove miss.
      const neg = r.negated;
      conds.push(() => neg);
      return;
    }
    case 'addrtype': {
      const a = m.addrtype;
      if (!a) return pushUnknown(conds, m.words.join(' '));
      for (const [dir, spec] of [['src', a.srcType], ['dst', a.dstType]] as const) {
        if (!spec) continue;
        const types = spec.value.map((t) => t.toUpperCase());
        if (types.some((t) => t !== 'LOCAL')) {
          pushUnknown(conds, `--${dir}-type ${spec.value.join(',')}`);
          continue;
        }
        const neg = spec.negated;
        conds.push((b, e) => {
          const ip = dir === 'src' ? b.src : b.dst;
          const local = isLocal(ip, e);
          if (local === null) return `--${dir}-type LOCAL: the node's addresses are not known (give --node-ip)`;
          return local !== neg;
        });
      }
      return;
    }
    case 'mark': {
      const mk = m.mark;
      if (!mk) return pushUnknown(conds, m.words.join(' '));
      conds.push((b) => (((b.mark & mk.mask) >>> 0) === mk.value >>> 0) !== mk.negated);
      return;
    }
    case 'connmark': {
      const mk = m.mark;
      if (!mk) return pushUnknown(conds, m.words.join(' '));
      // A new connection's mark is 0.
      conds.push(() => (0 === mk.value >>> 0) !== mk.negated);
      return;
    }
    case 'conntrack':
    case 'state': {
      const ct = m.conntrack;
      if (!ct) return pushUnknown(conds, m.words.join(' '));
      if (ct.ctstate) {
        const states = ct.ctstate.value.map((s) => s.toUpperCase());
        const neg = ct.ctstate.negated;
        conds.push((b) => states.some((s) => s === 'NEW' || (s === 'DNAT' && b.dnat)) !== neg);
      }
      const other = Object.keys(ct).filter((k) => k !== 'ctstate');
      if (other.length) pushUnknown(conds, other.map((k) => `--${k}`).join(' '));
      return;
    }
    case 'set': {
      const s = m.set;
      if (!s) return pushUnknown(conds, m.words.join(' '));
      conds.push((b, e) => {
        const members = e.ipsets?.get(s.name);
        if (!members) return `--match-set ${s.name}: the ipset's contents are not known`;
        return setHas(members, s.flags, b) !== s.negated;
      });
      return;
    }
    case 'icmp':
    case 'icmp6':
    case 'icmpv6': {
      const why = `cannot evaluate ${m.words.join(' ')}`;
      conds.push((b) => (b.proto === 'icmp' || b.proto === 'ipv6-icmp' ? why : false));
      return;
    }
    case 'physdev':
      if (!m.physdev) return pushUnknown(conds, m.words.join(' '));
      compilePhysdev(m.physdev, conds);
      return;
    case 'pkttype': {
      // A packet to a unicast address.
      const unicast = m.options.some((o) => o.args[0] === 'unicast') ? !m.options[0]!.negated : m.options[0]?.negated ?? false;
      conds.push(() => unicast);
      return;
    }
    default:
      pushUnknown(conds, m.words.join(' '));
  }
}

/** -m physdev under the bridge model above (the kernel's xt_physdev logic, with port names by class). */
function compilePhysdev(p: NonNullable<ModuleMatch['physdev']>, conds: CompiledRule['conds']): void {
  conds.push((b) => {
    const bridgedIn = b.entry === 'pod-local';
    if (!bridgedIn) {
      // Not a bridged packet: a match only when every option given is negated.
      return [p.in, p.out, p.isIn, p.isOut, p.isBridged].every((o) => o === undefined || o.negated);
    }
    if (p.isBridged && !p.isBridged.negated) return false;
    if (p.isIn && p.isIn.negated) return false;
    if (p.isOut && !p.isOut.negated) return false;
    if (p.out && !p.out.negated) return false;
    if (p.in) {
      const cls = ifaceClass(p.in.value);
      if (cls === null) return `--physdev-in ${p.in.value}: bridge port not in the tracer's model (pod veth on the pod bridge)`;
      if ((cls === 'pod') === p.in.negated) return false;
    }
    return true;
  });
}

function isLocal(ip: IPBytes, e: Env): boolean | null {
  if (isLoopback(ip)) return true;
  if (!e.local) return null;
  return e.localExact.has(formatIP(ip)) || e.localNets.some((n) => netContains(n, ip));
}

/** ipset membership: each member's comma-separated parts against src/dst address or port per flag. */
function setHas(members: string[], flags: string[], b: Branch): boolean {
  const want = flags.map((f) => (f === 'src' ? { ip: b.src, port: b.sport } : { ip: b.dst, port: b.dport }));
  // Exact members (addresses and ports, the bulk of kube-proxy's sets) are looked up; the rest are scanned.
  const index = memberIndex(members);
  for (const [pattern, keys] of index.exact) {
    if (pattern.length !== want.length) continue;
    let key = '';
    for (let i = 0; i < pattern.length; i++) key += `${i ? ',' : ''}${pattern[i] === 'i' ? formatIP(want[i]!.ip) : `${pattern[i] === 'p' ? b.proto : ''}:${want[i]!.port}`}`;
    if (keys.has(key)) return true;
  }
  for (const member of index.rest) {
    const parts = member.split(',');
    if (parts.length !== want.length) continue;
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const p = parts[i]!;
      const w = want[i]!;
      const pp = /^(?:(tcp|udp|sctp):)?(\d+)$/.exec(p);
      if (pp && !p.includes('.')) {
        ok = Number(pp[2]) === w.port && (pp[1] === undefined || pp[1] === b.proto);
      } else {
        const n = parseNet(p);
        ok = n !== null && netContains(n, w.ip);
      }
    }
    if (ok) return true;
  }
  return false;
}

/** A set's members by pattern of parts (i address, p proto:port, P port) as exact keys, and the others. */
interface MemberIndex {
  exact: Map<string, Set<string>>;
  rest: string[];
}
const memberIndexes = new WeakMap<string[], MemberIndex>();

function memberIndex(members: string[]): MemberIndex {
  let index = memberIndexes.get(members);
  if (index) return index;
  index = { exact: new Map(), rest: [] };
  for (const member of members) {
    const text = member.split(/\s+/)[0]!;
    let pattern = '';
    const keys: string[] = [];
    for (const part of text.split(',')) {
      const pp = /^(?:(tcp|udp|sctp):)?(\d+)$/.exec(part);
      const ip = pp || part.includes('/') ? null : parseIPSloppy(part);
      if (pp) {
        pattern += pp[1] === undefined ? 'P' : 'p';
        keys.push(`${pp[1] ?? ''}:${Number(pp[2])}`);
      } else if (ip) {
        pattern += 'i';
        keys.push(formatIP(ip));
      } else {
        pattern = '';
        break;
      }
    }
    if (!pattern) index.rest.push(text);
    else {
      let set = index.exact.get(pattern);
      if (!set) index.exact.set(pattern, (set = new Set()));
      set.add(keys.join(','));
    }
  }
  memberIndexes.set(members, index);
  return index;
}

// ---- walking -------------------------------------------------------------------------------------------

function cloneBranch(b: Branch): Branch {
  // A quiet branch never records a hop: its (empty) list is shared.
  return copyBranch(b, b.share, b.quiet ? b.hops : [...b.hops], b.qualifications.length ? [...b.qualifications] : NO_QUALIFICATIONS);
}

/** The qualifications of a branch that has none, shared: never added to (qualify gives the branch its own list). */
const NO_QUALIFICATIONS: string[] = [];

function qualify(b: Branch, q: string): void {
  if (b.qualifications === NO_QUALIFICATIONS) b.qualifications = [q];
  else b.qualifications.push(q);
}

/**
 * b with another share, hop list and qualifications; every field written in one order, the optional ones
 * too, so all branches have one object shape (spreading branches of varied shapes was slow).
 */
function copyBranch(b: Branch, share: number, hops: Hop[], qualifications: string[]): Branch {
  return {
    share,
    src: b.src,
    srcText: b.srcText,
    dst: b.dst,
    dstText: b.dstText,
    dport: b.dport,
    sport: b.sport,
    proto: b.proto,
    entry: b.entry,
    iif: b.iif,
    oif: b.oif,
    mark: b.mark,
    dnat: b.dnat,
    masq: b.masq,
    markedBy: b.markedBy,
    masqBy: b.masqBy,
    via: b.via,
    kubeAccept: b.kubeAccept,
    hops,
    qualifications,
    affinity: b.affinity,
    depth: b.depth,
    quiet: b.quiet,
    routed: b.routed,
  };
}

function ruleText(r: CompiledRule): string {
  return (r.text ??= restoreRuleText(r.rule));
}


function hop(b: Branch, table: string, chain: string, rule: string, action: string, unevaluated = false): void {
  if (b.quiet) return;
  const h: Hop = { table, chain, rule, action, depth: b.depth };
  if (b.share < 1 - 1e-12) h.share = b.share;
  if (unevaluated) h.unevaluated = true;
  b.hops.push(h);
}

function parseDestination(to: string, b: Branch): { ip: IPBytes; text: string; port: number } | null {
  let d = destinations.get(to);
  if (d === undefined) {
    if (destinations.size >= COMPILED_MAX) destinations.clear();
    destinations.set(to, (d = readDestination(to)));
  }
  return d && { ip: d.ip, text: d.text, port: d.port ?? b.dport };
}

/** --to-destination values read once (the address bytes are never changed in place); cleared at this size. */
const COMPILED_MAX = 1 << 20;
const destinations = new Map<string, { ip: IPBytes; text: string; port: number | null } | null>();

function readDestination(to: string): { ip: IPBytes; text: string; port: number | null } | null {
  let host = to;
  let port: number | null = null;
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(to);
  if (m6) {
    host = m6[1]!;
    if (m6[2]) port = Number(m6[2]);
  } else if ((to.match(/:/g) ?? []).length === 1) {
    const [h, p] = to.split(':');
    host = h!;
    port = Number(p!.split('-')[0]);
  }
  host = host.split('-')[0]!;
  const ip = parseIPSloppy(host);
  return ip ? { ip, text: formatIP(ip), port } : null;
}

/** Runs one hook's built-in chain of `table` for a branch; forks on statistic rules. */
function runHook(rs: IndexedRuleset, table: TableName, chainName: string, start: Branch, env: Env): Array<{ b: Branch; v: HookVerdict }> {
  const root = rs.chain(table, chainName);
  if (!root) return [{ b: start, v: 'ACCEPT' }];
  const done: Array<{ b: Branch; v: HookVerdict }> = [];
  const work: Array<{ b: Branch; frames: Frame[] }> = [{ b: start, frames: [{ chain: root, i: 0 }] }];
  let steps = 0;
  while (work.length) {
    const item = work.pop()!;
    const { b, frames } = item;
    let verdict: HookVerdict | null = null;
    while (verdict === null) {
      if (++steps > STEP_LIMIT) {
        qualify(b, `${table} ${chainName}: the walk went on for ${STEP_LIMIT} rules (a loop?); stopped there`);
        hop(b, table, chainName, '-', 'stopped: too many rules visited', true);
        verdict = 'ACCEPT';
        break;
      }
      const top = frames[frames.length - 1];
      b.depth = Math.max(0, frames.length - 1);
      if (!top) {
        const p = root.policy === '-' ? 'ACCEPT' : root.policy;
        hop(b, table, root.name, `policy ${p}`, p);
        verdict = p === 'DROP' ? 'DROP' : 'ACCEPT';
        break;
      }
      const idx = nextCandidate(top.chain, top.i, b.dstText, b.dport);
      if (idx < 0) {
        frames.pop();
        continue;
      }
      top.i = idx + 1;
      let cr = top.chain.compiled[idx];
      if (!cr) cr = top.chain.compiled[idx] = compile(top.chain.rules[idx]!, top.chain.name);
      let unevaluable: string | null = null;
      let matched = true;
      for (const c of cr.conds) {
        const r = c(b, env);
        if (r === true) continue;
        matched = false;
        if (typeof r === 'string') unevaluable = r;
        break;
      }
      if (cr.affinity && !b.affinity) b.affinity = cr.affinity;
      if (!matched) {
        if (unevaluable) {
          const q = `${table} ${top.chain.name}: ${unevaluable}; assumed not to match`;
          if (!b.qualifications.includes(q)) qualify(b, q);
          hop(b, table, top.chain.name, ruleText(cr), `not evaluated (${unevaluable}): assumed not to match`, true);
        } else if (cr.affinity && cr.target) {
          hop(b, table, top.chain.name, ruleText(cr), `no match for a first packet (ClientIP affinity: later connections from ${b.srcText} stay on the endpoint chosen now for ${cr.affinity.seconds}s)`);
        }
        continue;
      }
      if (cr.probability !== undefined && cr.probability < 1) {
        const p = cr.probability;
        if (p <= 0) continue;
        const other = cloneBranch(b);
        other.share = b.share * (1 - p);
        const copy: Frame[] = new Array(frames.length);
        for (let k = 0; k < frames.length; k++) copy[k] = { chain: frames[k]!.chain, i: frames[k]!.i };
        work.push({ b: other, frames: copy });
        b.share *= p;
      }
      const t = cr.target;
      const chainNow = top.chain.name;
      if (!t) continue;
      const text = b.quiet ? '' : ruleText(cr);
      let sub = top.chain.subs[idx];
      if (sub === undefined) sub = top.chain.subs[idx] = rs.chain(table, t.name) ?? null;
      if (sub && !BUILTIN[table]?.includes(t.name)) {
        if (!b.quiet) hop(b, table, chainNow, text, `${t.kind === 'goto' ? 'goto' : 'jump'} ${t.name}${cr.probability !== undefined ? ` (probability ${cr.probability}: ${formatPercent(b.share)} of new connections)` : b.share < 1 - 1e-12 && /^KUBE-SEP-/.test(t.name) ? ` (the rest: ${formatPercent(b.share)} of new connections)` : ''}`);
        if (t.kind === 'goto') frames[frames.length - 1] = { chain: sub, i: 0 };
        else frames.push({ chain: sub, i: 0 });
        continue;
      }
      switch (t.name) {
        case 'RETURN':
          hop(b, table, chainNow, text, 'RETURN');
          frames.pop();
          continue;
        case 'ACCEPT':
          hop(b, table, chainNow, text, 'ACCEPT');
          if (/^KUBE-/.test(chainNow) || cr.comment) b.kubeAccept = true;
          verdict = 'ACCEPT';
          continue;
        case 'DROP':
          hop(b, table, chainNow, text, 'DROP');
          verdict = 'DROP';
          continue;
        case 'REJECT':
          hop(b, table, chainNow, text, `REJECT${t.rejectWith ? ` (${t.rejectWith})` : ''}`);
          verdict = 'REJECT';
          continue;
        case 'DNAT': {
          const d = t.toDestination ? parseDestination(t.toDestination, b) : null;
          if (!d) {
            qualify(b, `${table} ${chainNow}: cannot read DNAT target ${t.toDestination ?? '(none)'}`);
            hop(b, table, chainNow, text, 'DNAT to an unreadable address', true);
            verdict = 'ACCEPT';
            continue;
          }
          b.dst = d.ip;
          b.dstText = d.text;
          b.dport = d.port;
          b.dnat = true;
          b.via = chainNow;
          if (!b.quiet) hop(b, table, chainNow, text, `DNAT to ${d.text.includes(':') ? `[${d.text}]` : d.text}:${d.port}${b.share < 1 - 1e-12 ? ` (${formatPercent(b.share)})` : ''}`);
          verdict = 'ACCEPT';
          continue;
        }
        case 'REDIRECT':
          hop(b, table, chainNow, text, 'REDIRECT to the node itself');
          b.dnat = true;
          b.via = chainNow;
          verdict = 'ACCEPT';
          continue;
        case 'MASQUERADE':
        case 'SNAT':
          b.masq = true;
          b.masqBy = `${chainNow}`;
          hop(b, table, chainNow, text, t.name === 'SNAT' ? `SNAT to ${t.toSource ?? '?'}` : 'MASQUERADE (source rewritten to the node\'s address)');
          verdict = 'ACCEPT';
          continue;
        case 'MARK': {
          const mk = t.mark;
          if (!mk || mk.op === 'save-mark' || mk.op === 'restore-mark') {
            qualify(b, `${table} ${chainNow}: cannot evaluate ${t.args.join(' ')}`);
            hop(b, table, chainNow, text, `not evaluated (MARK ${t.args.join(' ')})`, true);
            continue;
          }
          const before = b.mark;
          b.mark = ((b.mark & ~mk.xmark.mask) ^ mk.xmark.value) >>> 0;
          if ((b.mark & ~before) !== 0) b.markedBy = markReason(frames, cr);
          if (!b.quiet) hop(b, table, chainNow, text, `mark 0x${before.toString(16)} → 0x${b.mark.toString(16)}`);
          continue;
        }
        case 'LOG':
        case 'NFLOG':
        case 'TRACE':
        case 'CT':
        case 'NOTRACK':
          hop(b, table, chainNow, text, `${t.name} (no effect on the path)`);
          continue;
        default: {
          const known = sub !== null;
          const why = known ? `jump to built-in chain ${t.name}` : /^[A-Z0-9][A-Z0-9_-]*$/.test(t.name) && !/^[A-Z]+$/.test(t.name) ? `chain ${t.name} is not in the ruleset` : `target ${t.name}`;
          const q = `${table} ${chainNow}: cannot evaluate ${why}; passed over`;
          if (!b.qualifications.includes(q)) qualify(b, q);
          hop(b, table, chainNow, text, `not evaluated (${why}): passed over`, true);
          continue;
        }
      }
    }
    done.push({ b, v: verdict });
  }
  return done;
}

/** Who asked for masquerade: the chain that jumped to KUBE-MARK-MASQ (its comment says why), else this rule. */
function markReason(frames: Frame[], cr: CompiledRule): string {
  const caller = frames.length >= 2 ? frames[frames.length - 2]! : undefined;
  if (caller && frames[frames.length - 1]!.chain.name === 'KUBE-MARK-MASQ') {
    const r = caller.chain.compiled[caller.i - 1];
    const why = r?.comment;
    return `${caller.chain.name}${why ? ` ("${why}")` : ''}`;
  }
  return `${cr.chain}${cr.comment ? ` ("${cr.comment}")` : ''}`;
}

// ---- the evaluator --------------------------------------------------------------------------------------

export interface IptablesTraceOptions {
  /** Name for results (default "iptables"). */
  mode?: string;
  /**
   * The rulesets were rendered by our engine (kube-proxy's restore input, without the built-in chains):
   * kube-proxy's jumps into its chains are added without qualifying the verdict. For a dump without
   * built-in chains they are added too, and the verdict says it assumed them.
   */
  rendered?: boolean;
  /** Walk every chain rule by rule, without the index (the reference the index is tested against). */
  ordered?: boolean;
}

export class IptablesEvaluator implements ModeEvaluator {
  readonly mode: string;
  private readonly byFamily = new Map<string, IndexedRuleset>();

  constructor(rulesets: Ruleset[] | Ruleset, opts: IptablesTraceOptions = {}) {
    this.mode = opts.mode ?? 'iptables';
    for (const rs of Array.isArray(rulesets) ? rulesets : [rulesets]) {
      const indexed = new IndexedRuleset(rs, opts.ordered);
      if (opts.rendered) indexed.notes.length = 0;
      this.byFamily.set(rs.family, indexed);
    }
  }

  /** The node's addresses and pod CIDRs parsed once per node context (under IPVS every service address is one). */
  private readonly envs = new WeakMap<NodeContext, Env>();
  private env(node: NodeContext): Env {
    let env = this.envs.get(node);
    if (!env) {
      const local = node.localAddresses?.map((a) => parseNet(a)).filter((n): n is Net => n !== null);
      // Whole addresses (the bulk) are looked up by their bytes; networks are scanned.
      env = {
        local,
        localExact: new Set(local?.filter((n) => n.bits === 128).map((n) => formatIP(n.bytes))),
        localNets: local?.filter((n) => n.bits !== 128) ?? [],
        podNets: (node.podCIDRs ?? []).map((c) => parseNet(c)).filter((n): n is Net => n !== null),
        ipsets: node.ipsets,
      };
      this.envs.set(node, env);
    }
    return env;
  }

  trace(packet: Packet, node: NodeContext): TraceResult {
    return this.run(packet, node, false);
  }

  /** The trace without its hops (`hops` is empty; everything else as trace gives it): for comparing many packets. */
  outcome(packet: Packet, node: NodeContext): TraceResult {
    return this.run(packet, node, true);
  }

  /**
   * The outcome of a walk that did not fork, with the mark it ends with and its routing decision (what the
   * ipvs tracer reads of the path before IPVS); null when the walk forked.
   */
  brief(packet: Packet, node: NodeContext): { result: TraceResult; mark: number; routed: boolean | null | undefined } | null {
    let end: Branch | undefined;
    const result = this.run(packet, node, true, (ends) => {
      if (ends.length === 1) end = ends[0]!.b;
    });
    return end ? { result, mark: end.mark, routed: end.routed } : null;
  }

  private run(packet: Packet, node: NodeContext, quiet: boolean, seen?: (ends: Array<{ b: Branch; end: End }>) => void): TraceResult {
    const srcAddr = packetAddress(packet.src);
    const dstAddr = packetAddress(packet.dst);
    if (!srcAddr || !dstAddr) throw new Error(`not an IP address: ${!srcAddr ? packet.src : packet.dst}`);
    const src = srcAddr.bytes;
    const dst = dstAddr.bytes;
    const family = dstAddr.text.includes(':') ? 'IPv6' : 'IPv4';
    const rs = this.byFamily.get(family);
    const env = this.env(node);
    const start: Branch = {
      share: 1,
      src,
      srcText: srcAddr.text,
      dst,
      dstText: dstAddr.text,
      dport: packet.dport,
      sport: packet.sport ?? 40000,
      proto: packet.protocol.toLowerCase(),
      entry: packet.entry,
      iif: packet.entry === 'node' ? null : packet.entry === 'pod-local' ? 'pod' : 'uplink',
      oif: null,
      mark: 0,
      dnat: false,
      masq: false,
      markedBy: undefined,
      masqBy: undefined,
      via: undefined,
      kubeAccept: false,
      hops: [],
      qualifications: [],
      affinity: undefined,
      depth: 0,
      quiet,
      routed: undefined,
    };
    if (!rs) {
      qualify(start, `no ${family} rules to trace through`);
      return summarize(this.mode, [{ b: start, end: 'not-matched' }], quiet);
    }
    for (const q of rs.notes) qualify(start, q);
    const ends = walk(rs, start, env);
    seen?.(ends);
    return summarize(this.mode, ends, quiet);
  }
}

/** A packet's address read once per text (the bytes are never changed in place: branches share them). */
const packetAddresses = new Map<string, { bytes: IPBytes; text: string } | null>();
function packetAddress(s: string): { bytes: IPBytes; text: string } | null {
  let a = packetAddresses.get(s);
  if (a === undefined) {
    const bytes = parseIPSloppy(s);
    a = bytes ? { bytes, text: formatIP(bytes) } : null;
    if (packetAddresses.size >= COMPILED_MAX) packetAddresses.clear();
    packetAddresses.set(s, a);
  }
  return a;
}

function routeHop(b: Branch, env: Env, afterNat: string): boolean | null {
  b.depth = 0;
  const local = isLocal(b.dst, env);
  b.routed = local;
  const podLocal = env.podNets.some((n) => netContains(n, b.dst));
  b.oif = local ? 'lo' : podLocal ? 'pod' : env.podNets.length || env.local ? 'uplink' : null;
  if (!b.quiet) {
    const where = local === null ? `${b.dstText} is not known to be a node address (assumed remote)` : local ? `${b.dstText} is a node address` : `${b.dstText} is ${podLocal ? 'a pod on this node' : 'not on this node'}`;
    hop(b, 'routing', afterNat, where, local ? (b.entry === 'node' ? 'deliver locally: filter INPUT' : 'local delivery: filter INPUT') : b.entry === 'node' ? 'send: filter OUTPUT' : 'forward: filter FORWARD');
  }
  if (local === null) {
    const q = `the node's addresses are not known: ${b.dstText} was taken for a remote address (give --node-ip)`;
    if (!b.qualifications.includes(q)) qualify(b, q);
  }
  return local;
}

type End = Verdict;

function walk(rs: IndexedRuleset, start: Branch, env: Env): Array<{ b: Branch; end: End }> {
  const out: Array<{ b: Branch; end: End }> = [];
  const fromNode = start.entry === 'node';
  let memo: TailMemo | undefined;
  for (const n of runHook(rs, 'nat', fromNode ? 'OUTPUT' : 'PREROUTING', start, env)) {
    if (n.v !== 'ACCEPT') out.push({ b: n.b, end: n.v === 'DROP' ? 'dropped' : 'rejected' });
    else if (n.b.quiet) {
      const t = reusedTail(rs, n.b, env, (memo ??= tailMemo(rs, start, env)));
      if (Array.isArray(t)) out.push(...t);
      else out.push(t);
    }
    else tail(rs, n.b, env, out);
  }
  return out;
}

/** The path after the first nat hook: routing, then the filter hooks and nat POSTROUTING. */
function tail(rs: IndexedRuleset, n: Branch, env: Env, out: Array<{ b: Branch; end: End }>): void {
  if (n.entry === 'node') {
    const local = routeHop(n, env, 'after nat OUTPUT');
    for (const f of runHook(rs, 'filter', 'OUTPUT', n, env)) {
      if (f.v !== 'ACCEPT') { stopAt(out, f.b, f.v); continue; }
      for (const p of runHook(rs, 'nat', 'POSTROUTING', f.b, env)) {
        if (p.v !== 'ACCEPT') { stopAt(out, p.b, p.v); continue; }
        if (!local) { finishAt(out, p.b, local); continue; }
        p.b.iif = 'lo';
        for (const i of runHook(rs, 'filter', 'INPUT', p.b, env)) {
          if (i.v !== 'ACCEPT') stopAt(out, i.b, i.v);
          else finishAt(out, i.b, local);
        }
      }
    }
    return;
  }
  const local = routeHop(n, env, 'after nat PREROUTING');
  if (local) {
    for (const i of runHook(rs, 'filter', 'INPUT', n, env)) {
      if (i.v !== 'ACCEPT') stopAt(out, i.b, i.v);
      else finishAt(out, i.b, local);
    }
    return;
  }
  for (const f of runHook(rs, 'filter', 'FORWARD', n, env)) {
    if (f.v !== 'ACCEPT') { stopAt(out, f.b, f.v); continue; }
    for (const p of runHook(rs, 'nat', 'POSTROUTING', f.b, env)) {
      if (p.v !== 'ACCEPT') stopAt(out, p.b, p.v);
      else finishAt(out, p.b, local);
    }
  }
}

function stopAt(out: Array<{ b: Branch; end: End }>, b: Branch, v: HookVerdict): void {
  out.push({ b, end: v === 'DROP' ? 'dropped' : 'rejected' });
}

function finishAt(out: Array<{ b: Branch; end: End }>, b: Branch, local: boolean | null): void {
  out.push({ b, end: b.dnat ? 'forwarded' : b.kubeAccept && local ? 'accepted' : 'not-matched' });
}

/**
 * The tail of a quiet walk, reused: after the first nat hook a branch's fate depends only on what the rules
 * can read of it (addresses, ports, protocol, entry, input interface, mark, DNAT done) and on what decides
 * its end (kubeAccept), and the many services DNAT'ed to the same endpoints share it. It is walked once per
 * such key from a fresh branch; its changes are laid onto each branch that has the key. A tail that forks
 * is not reused (the shares would be multiplied in another order).
 */
function reusedTail(rs: IndexedRuleset, b: Branch, env: Env, memo: TailMemo): { b: Branch; end: End } | Array<{ b: Branch; end: End }> {
  let byPort = memo.get(b.dstText);
  if (!byPort) memo.set(b.dstText, (byPort = new Map()));
  let byState = byPort.get(b.dport);
  if (!byState) byPort.set(b.dport, (byState = new Map()));
  // mark (32 bits), input interface, DNAT done, accepted by kube-proxy: one exact number
  const key = ((b.mark >>> 0) * 8 + IIF_CODE[b.iif ?? 'null']!) * 4 + (b.dnat ? 2 : 0) + (b.kubeAccept ? 1 : 0);
  let t = byState.get(key);
  if (t === undefined) {
    const fresh = copyBranch(b, 1, [], []);
    fresh.markedBy = undefined;
    fresh.masqBy = undefined;
    fresh.via = undefined;
    fresh.affinity = undefined;
    fresh.masq = false;
    const ends: Array<{ b: Branch; end: End }> = [];
    tail(rs, fresh, env, ends);
    t = ends.length === 1 && ends[0]!.b.share === 1 ? ends[0]! : null;
    byState.set(key, t);
  }
  if (t === null) {
    const ends: Array<{ b: Branch; end: End }> = [];
    tail(rs, b, env, ends);
    return ends;
  }
  const r = t.b;
  const nb: Branch = {
    share: b.share,
    src: b.src,
    srcText: b.srcText,
    dst: r.dst,
    dstText: r.dstText,
    dport: r.dport,
    sport: b.sport,
    proto: b.proto,
    entry: b.entry,
    iif: r.iif,
    oif: r.oif,
    mark: r.mark,
    dnat: r.dnat,
    masq: b.masq || r.masq,
    markedBy: r.markedBy ?? b.markedBy,
    masqBy: r.masqBy ?? b.masqBy,
    via: r.via ?? b.via,
    kubeAccept: r.kubeAccept,
    hops: b.hops,
    qualifications: r.qualifications.length ? [...b.qualifications, ...r.qualifications] : b.qualifications,
    affinity: b.affinity ?? r.affinity,
    depth: r.depth,
    quiet: true,
    routed: r.routed,
  };
  // The end is read from what the key holds (dnat, kubeAccept) and what the tail did: the same for every branch.
  return { b: nb, end: t.end };
}

/** Reused tails of one node's quiet walks that share what no rule changes (source, source port, protocol,
 * entry), by the branch's destination address, then port, then the rest of its key. */
type TailMemo = Map<string, Map<number, Map<number, { b: Branch; end: End } | null>>>;
const IIF_CODE: Record<string, number> = { null: 0, pod: 1, uplink: 2, lo: 3, other: 4 };

function tailMemo(rs: IndexedRuleset, start: Branch, env: Env): TailMemo {
  let byEnv = rs.tails.get(env);
  if (!byEnv) rs.tails.set(env, (byEnv = new Map()));
  const prefix = `${start.srcText}|${start.sport}|${start.proto}|${start.entry}`;
  let memo = byEnv.get(prefix);
  if (!memo) byEnv.set(prefix, (memo = new Map()));
  return memo;
}

/**
 * Merge the branches' hop lists into one path: shared hops once (their shares summed), each branch's own
 * hops where it diverges, placed after the earlier branches' own hops and before the next shared hop.
 */
function mergeHops(lists: Hop[][]): Hop[] {
  let merged: Hop[] = [];
  let keys: string[] = [];
  for (const list of lists) {
    const pos = new Map<string, number>();
    for (let i = keys.length - 1; i >= 0; i--) pos.set(keys[i]!, i);
    const next: Hop[] = [];
    const nextKeys: string[] = [];
    let cursor = 0;
    let pending: Hop[] = [];
    let pendingKeys: string[] = [];
    for (const h of list) {
      const k = hopKey(h);
      const at = pos.get(k);
      if (at === undefined || at < cursor) {
        pending.push({ ...h });
        pendingKeys.push(k);
        continue;
      }
      for (let j = cursor; j < at; j++) {
        next.push(merged[j]!);
        nextKeys.push(keys[j]!);
      }
      next.push(...pending);
      nextKeys.push(...pendingKeys);
      pending = [];
      pendingKeys = [];
      // Every merged hop is this function's own copy: the share is summed in place.
      const m = merged[at]!;
      if (m.share !== undefined) {
        const s = m.share + (h.share ?? 1);
        if (s >= 1 - 1e-9) delete m.share;
        else m.share = s;
      }
      next.push(m);
      nextKeys.push(k);
      cursor = at + 1;
    }
    for (let j = cursor; j < merged.length; j++) {
      next.push(merged[j]!);
      nextKeys.push(keys[j]!);
    }
    next.push(...pending);
    nextKeys.push(...pendingKeys);
    merged = next;
    keys = nextKeys;
  }
  return merged;
}

/** A hop's identity for merging, made once per hop (branches forked from one share their earlier hops). */
const hopKeys = new WeakMap<Hop, string>();
function hopKey(h: Hop): string {
  let k = hopKeys.get(h);
  if (k === undefined) hopKeys.set(h, (k = `${h.table}\u0000${h.chain}\u0000${h.rule}\u0000${h.action}`));
  return k;
}

function round(p: number): number {
  return Math.round(p * 1e10) / 1e10;
}

const VERDICT_ORDER: Verdict[] = ['forwarded', 'accepted', 'rejected', 'dropped', 'not-matched'];

function summarize(mode: string, ends: Array<{ b: Branch; end: End }>, quiet: boolean): TraceResult {
  // Shares by verdict, in VERDICT_ORDER's places (a branch list is short: loops, not maps).
  const shares = [0, 0, 0, 0, 0];
  const seen = [false, false, false, false, false];
  for (const e of ends) {
    const k = VERDICT_ORDER.indexOf(e.end);
    shares[k] += e.b.share;
    seen[k] = true;
  }
  // The verdict is that of the largest share (forwarded wins a tie).
  let verdict: Verdict = 'not-matched';
  let best = -1;
  for (let k = 0; k < 5; k++) {
    if (shares[k]! > best + 1e-12) {
      best = shares[k]!;
      verdict = VERDICT_ORDER[k]!;
    }
  }
  const endpoints: TraceEndpoint[] = [];
  let mainCount = 0;
  let masqFirst: Branch | undefined;
  let masqCount = 0;
  let marked: Branch | undefined;
  for (const e of ends) {
    if (e.end === 'forwarded') {
      const ip = e.b.dstText;
      const port = e.b.dport;
      let ep: TraceEndpoint | undefined;
      for (const x of endpoints) {
        if (x.ip === ip && x.port === port) {
          ep = x;
          break;
        }
      }
      if (ep) {
        ep.probability += e.b.share;
        ep.masquerade ||= e.b.masq;
      } else endpoints.push({ ip, port, probability: e.b.share, via: e.b.via, masquerade: e.b.masq });
    }
    if (e.end !== verdict) continue;
    mainCount++;
    if (e.b.masq) {
      masqFirst ??= e.b;
      masqCount++;
    }
    if (!marked && e.b.markedBy) marked = e.b;
  }
  for (const ep of endpoints) ep.probability = round(ep.probability);
  const masquerade = masqCount > 0;
  let masqueradeReason: string;
  if (masquerade) {
    const b = masqFirst!;
    const some = masqCount < mainCount ? `only for ${ends.filter((e) => e.end === verdict && e.b.masq).map((e) => e.b.dstText).join(', ')}: ` : '';
    masqueradeReason = `${some}${b.markedBy ? `marked for masquerade by ${b.markedBy}, ` : ''}masqueraded in ${b.masqBy ?? 'POSTROUTING'}`;
  } else if (verdict === 'rejected' || verdict === 'dropped') {
    masqueradeReason = `the packet is ${verdict} before POSTROUTING`;
  } else {
    masqueradeReason = marked ? `marked by ${marked.markedBy} but no MASQUERADE rule applied` : 'no rule marked the packet for masquerade: the source address is kept';
  }
  // The branches' qualifications, each once, in order (most branches have none).
  let qualifications: string[] = [];
  let qset: Set<string> | undefined;
  for (const e of ends) {
    const qs = e.b.qualifications;
    if (qs.length === 0) continue;
    qset ??= new Set();
    for (const q of qs) qset.add(q);
  }
  if (qset) qualifications = [...qset];
  const result: TraceResult = {
    mode,
    verdict,
    endpoints,
    masquerade,
    masqueradeReason,
    hops: quiet ? [] : mergeHops(ends.map((e) => e.b.hops)),
    qualifications,
  };
  let affinity: Affinity | undefined;
  for (const e of ends) {
    if (e.b.affinity) {
      affinity = e.b.affinity;
      break;
    }
  }
  if (affinity) result.affinity = affinity;
  // Other verdicts in the order they first ended a branch (as a Map of them would list them).
  let others: Partial<Record<Verdict, number>> | undefined;
  for (const e of ends) {
    const v = e.end;
    if (v === verdict || others?.[v] !== undefined) continue;
    const sh = shares[VERDICT_ORDER.indexOf(v)]!;
    if (sh > 1e-12) (others ??= {})[v] = round(sh);
  }
  if (others) result.otherVerdicts = others;
  return result;
}

export function iptablesEvaluator(rulesets: Ruleset[] | Ruleset, opts?: IptablesTraceOptions): IptablesEvaluator {
  return new IptablesEvaluator(rulesets, opts);
}
