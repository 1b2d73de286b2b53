// One new connection through kube-proxy's nftables table: the hooks in the order the kernel runs them,
// base chains by priority inside a hook, verdict maps and sets looked up, `numgen random mod N` split
// into its branches with their odds, the DNAT applied before routing picks input or forward, and the
// masquerade mark read back in postrouting.
import type { Hop, ModeEvaluator, NodeContext, Packet, TraceEndpoint, TraceResult, Verdict } from '../trace/types.js';
import { formatIP, isIPv4Bytes, parseCIDRSloppy, parseIPSloppy } from '../net/ip.js';
import { type Match, type Operand, type ParsedRule, type Selector, type Statement, parseRule } from './rule.js';
import { splitHostPort } from './names.js';
import type { NftChain, NftHook, NftSet, NftTable } from './types.js';

interface Indexed {
  table: NftTable;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  parsed: Map<NftChain, ParsedRule[]>;
  /** Base chains per hook, by priority. */
  hooks: Map<NftHook, NftChain[]>;
  /** Quiet traces' tails by node, then packet (source, ports, protocol, entry), then branch (see tailOf). */
  tails: WeakMap<NodeContext, Map<string, TailMemo>>;
}

/** Tails by the branch's destination address, port, mark, and the DNAT it carries. */
type TailMemo = Map<string, Map<number, Map<bigint, Map<string, Tail | null>>>>;

/** What the hooks after the first did to a branch that did not fork. */
interface Tail {
  b: Branch;
  dead: boolean;
  /** The tail DNAT'ed (else the branch keeps its own DNAT, whose chain the key leaves out). */
  dnatChanged: boolean;
  qualifications: string[];
  markChain?: string;
}

// A chain's rules parsed once, for every table holding that very chain (nodes' tables share alike parts).
const parsedChains = new WeakMap<NftChain, ParsedRule[]>();

function index(t: NftTable): Indexed {
  const chains = new Map(t.chains.map((c) => [c.name, c]));
  const sets = new Map(t.sets.map((s) => [s.name, s]));
  const parsed = new Map<NftChain, ParsedRule[]>();
  for (const c of t.chains) {
    let p = parsedChains.get(c);
    if (!p) parsedChains.set(c, (p = c.rules.map((r) => parseRule(r.rule))));
    parsed.set(c, p);
  }
  return { table: t, chains, sets, parsed, hooks: new Map(), tails: new WeakMap() };
}

/** One branch of the packet's fate. */
interface Branch {
  p: number;
  dst: string;
  dport: number;
  mark: bigint;
  dnat?: { ip: string; port: number; via: string };
  masqueraded: boolean;
  verdict?: 'accept' | 'drop' | 'reject';
  affinity?: { set: string; seconds: number };
}

type Outcome = { b: Branch; end: 'fallthrough' | 'return' | 'terminal' };

/** A branch with every field in one order (one object shape: spreading branches of varied shapes was slow). */
function branch(p: number, dst: string, dport: number, mark: bigint, dnat: Branch['dnat'], masqueraded: boolean, verdict: Branch['verdict'], affinity: Branch['affinity']): Branch {
  return { p, dst, dport, mark, dnat, masqueraded, verdict, affinity };
}

const MAX_DEPTH = 32;

class Run {
  hops: Hop[] = [];
  qualifications = new Set<string>();
  /** The chain of the first hop that set the masquerade mark (kept even when hops are not). */
  markChain?: string;
  constructor(
    private readonly ix: Indexed,
    private readonly pkt: Packet & { proto: string; sport: number },
    private readonly node: NodeContext,
    /** No hops kept: the outcome only. */
    readonly quiet = false,
  ) {}

  /** Runs `fn` for each branch with the hops it adds kept apart: one list per branch, in order. */
  branchHops(branches: Branch[], fn: (b: Branch) => void): Hop[][] {
    const saved = this.hops;
    const lists: Hop[][] = [];
    try {
      for (const b of branches) {
        this.hops = [];
        fn(b);
        lists.push(this.hops);
      }
    } finally {
      this.hops = saved;
    }
    return lists;
  }

  get fromNode(): boolean {
    return this.pkt.entry === 'node';
  }

  isLocal(ip: string): boolean {
    const s = canonIP(ip);
    if (s === null) return false;
    if (s === '::1' || s.startsWith('127.')) return true;
    if (this.node.localAddresses === undefined) {
      this.qualifications.add('the node\'s own addresses are not known: "fib … type local" was taken as not local');
      return false;
    }
    return localSet(this.node).has(s);
  }

  private value(sel: Selector, b: Branch): string | null {
    switch (sel.kind) {
      case 'addr':
        return sel.field === 'saddr' ? this.pkt.src : b.dst;
      case 'l4proto':
        return this.pkt.proto;
      case 'port':
        if (sel.proto && sel.proto !== this.pkt.proto) return null;
        return String(sel.field === 'dport' ? b.dport : this.pkt.sport);
      case 'fib':
        return this.isLocal(sel.field === 'saddr' ? this.pkt.src : b.dst) ? 'local' : 'unicast';
      case 'ctstate':
        return 'new';
      case 'ctstatus':
        // by postrouting a DNATed connection has the dnat status bit
        return b.dnat ? 'dnat' : 'none';
      case 'iface':
        // Only the local-traffic detector looks at interfaces: a pod on this node arrives on its bridge/veth.
        this.qualifications.add('interface names are not known: a pod on this node was taken to arrive on the local-traffic interface');
        return this.pkt.entry === 'pod-local' ? '*local-pod-interface*' : '*other-interface*';
      case 'numgen':
        return null;
    }
  }

  private elementMatches(sel: Selector, have: string, want: string): boolean {
    if (sel.kind === 'addr') return want.includes('/') ? inCIDR(want, have) : normIP(want) === normIP(have);
    if (sel.kind === 'l4proto') return protoName(want) === have;
    if (sel.kind === 'port') {
      const m = /^(\d+)-(\d+)$/.exec(want);
      return m ? Number(have) >= Number(m[1]) && Number(have) <= Number(m[2]) : Number(want) === Number(have);
    }
    if (sel.kind === 'ctstate' || sel.kind === 'ctstatus') return want.split(',').includes(have);
    if (sel.kind === 'iface') {
      if (have === '*local-pod-interface*') return true;
      return false;
    }
    return have === want;
  }

  private keyMatches(sels: Selector[], key: string[], b: Branch): boolean {
    if (key.length !== sels.length) return false;
    for (let i = 0; i < sels.length; i++) {
      const have = this.value(sels[i]!, b);
      if (have === null || !this.elementMatches(sels[i]!, have, key[i]!)) return false;
    }
    return true;
  }

  /** The first element whose key the packet matches: looked up when every key is exact (kube-proxy's service
   * sets and maps, one element per service), else found by scanning. */
  private first<E extends { key: string[] }>(sels: Selector[], elements: E[], b: Branch): E | undefined {
    const index = elementIndex(sels, elements);
    if (!index) return elements.find((e) => this.keyMatches(sels, e.key, b));
    let key = '';
    for (let i = 0; i < sels.length; i++) {
      const v = this.value(sels[i]!, b);
      if (v === null) return undefined;
      const k = exactKey(sels[i]!, v, true) ?? '';
      key = i === 0 ? k : `${key}\u0000${k}`;
    }
    return index.get(key);
  }

  private operandMatches(sels: Selector[], op: Operand, b: Branch): boolean {
    if (op.kind === 'literal') {
      const k = literalKeys(op);
      return this.keyMatches(sels, k.whole, b) || this.keyMatches(sels, k.parts, b);
    }
    if (op.kind === 'anon') return op.elements.some((k) => this.keyMatches(sels, k, b));
    const set = this.ix.sets.get(op.name);
    if (!set) {
      this.qualifications.add(`set @${op.name} is not in the table: lookups in it were taken as not matching`);
      return false;
    }
    // affinity sets start empty for a client's first connection (what a trace models)
    return this.first(sels, set.elements, b) !== undefined;
  }

  private matches(m: Match, b: Branch, ruleText: string): boolean {
    if (m.kind === 'unknown') {
      this.qualifications.add(`could not evaluate "${ruleText}" (taken as not matching)`);
      return false;
    }
    if (m.kind === 'mark') {
      const v = (b.mark & BigInt(m.mask)) === BigInt(m.value);
      return m.op === '==' ? v : !v;
    }
    const ok = this.operandMatches(m.selectors, m.operand, b);
    return m.negate ? !ok : ok;
  }

  /** Runs chain `name` from rule `from` on branch b. */
  runChain(name: string, b: Branch, depth: number, from = 0): Outcome[] {
    const chain = this.ix.chains.get(name);
    if (!chain) {
      this.qualifications.add(`chain ${name} is not in the table`);
      return [{ b, end: 'fallthrough' }];
    }
    if (depth > MAX_DEPTH) {
      this.qualifications.add(`jumps nest deeper than ${MAX_DEPTH}`);
      return [{ b, end: 'terminal' }];
    }
    const rules = this.ix.parsed.get(chain)!;
    for (let i = from; i < rules.length; i++) {
      const r = rules[i]!;
      const text = chain.rules[i]!.rule;
      let all = true;
      for (const m of r.matches) {
        if (this.matches(m, b, text)) continue;
        all = false;
        break;
      }
      if (!all) continue;
      const res = this.statements(chain, i, r.statements, b, depth, text);
      if (Array.isArray(res)) return res;
      b = res;
    }
    return [{ b, end: 'fallthrough' }];
  }

  private hop(chain: string, rule: string, action: string, b: Branch, depth: number): void {
    if (this.markChain === undefined && action.startsWith('mark or')) this.markChain = chain;
    if (this.quiet) return;
    const h: Hop = { table: `${this.ix.table.family === 'IPv6' ? 'ip6' : 'ip'} ${this.ix.table.name}`, chain, rule, action, depth };
    if (b.p < 1) h.share = b.p;
    this.hops.push(h);
  }

  /** Runs a matched rule's statements; a Branch back means "go on with the next rule" in that state. */
  private statements(chain: NftChain, i: number, stmts: Statement[], b: Branch, depth: number, text: string): Outcome[] | Branch {
    for (let k = 0; k < stmts.length; k++) {
      const s = stmts[k]!;
      switch (s.kind) {
        case 'none':
          break;
        case 'mark-set': {
          const v = BigInt(s.value);
          b = branch(b.p, b.dst, b.dport, s.op === 'or' ? b.mark | v : s.op === 'xor' ? b.mark ^ v : v, b.dnat, b.masqueraded, b.verdict, b.affinity);
          this.hop(chain.name, text, `mark ${s.op} ${s.value}`, b, depth);
          break;
        }
        case 'update': {
          const set = this.ix.sets.get(s.set);
          b = branch(b.p, b.dst, b.dport, b.mark, b.dnat, b.masqueraded, b.verdict, { set: s.set, seconds: set?.timeout ?? 0 });
          this.hop(chain.name, text, `remember the client in @${s.set}`, b, depth);
          break;
        }
        case 'verdict':
          this.hop(chain.name, text, s.verdict.toUpperCase(), b, depth);
          if (s.verdict === 'return') return [{ b, end: 'return' }];
          return [{ b: branch(b.p, b.dst, b.dport, b.mark, b.dnat, b.masqueraded, s.verdict, b.affinity), end: 'terminal' }];
        case 'masquerade':
          this.hop(chain.name, text, 'masquerade', b, depth);
          return [{ b: branch(b.p, b.dst, b.dport, b.mark, b.dnat, true, 'accept', b.affinity), end: 'terminal' }];
        case 'dnat': {
          const { ip, port } = splitHostPort(s.to);
          if (!this.quiet) this.hop(chain.name, text, `DNAT to ${s.to}`, b, depth);
          return [{ b: branch(b.p, ip, Number(port), b.mark, { ip, port: Number(port), via: chain.name }, b.masqueraded, 'accept', b.affinity), end: 'terminal' }];
        }
        case 'dnat-map': {
          const out: Outcome[] = [];
          const n = s.entries.length;
          for (const e of dnatTargets(s.entries)) {
            const p = b.p / n;
            if (!this.quiet) this.hop(chain.name, text, `DNAT to ${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.portText}`, branch(p, b.dst, b.dport, b.mark, b.dnat, b.masqueraded, b.verdict, b.affinity), depth);
            out.push({ b: branch(p, e.ip, e.port, b.mark, { ip: e.ip, port: e.port, via: chain.name }, b.masqueraded, 'accept', b.affinity), end: 'terminal' });
          }
          return out;
        }
        case 'jump':
        case 'goto':
          return this.transfer(chain, i, s.kind, s.chain, b, depth, text);
        case 'vmap': {
          if (s.selectors.length === 1 && s.selectors[0]!.kind === 'numgen' && s.target.kind === 'anon') {
            const entries = s.target.entries;
            const out: Outcome[] = [];
            for (const e of entries) {
              const nb = branch(b.p / s.selectors[0]!.mod, b.dst, b.dport, b.mark, b.dnat, b.masqueraded, b.verdict, b.affinity);
              out.push(...this.verdictString(chain, i, e.verdict, nb, depth, text));
            }
            return out;
          }
          let verdict: string | undefined;
          if (s.target.kind === 'named') {
            const map = this.ix.sets.get(s.target.name);
            if (!map) this.qualifications.add(`map @${s.target.name} is not in the table`);
            verdict = map && this.first(s.selectors, map.elements, b)?.value?.join(' ');
          } else {
            verdict = s.target.entries.find((e) => this.keyMatches(s.selectors, e.key, b))?.verdict;
          }
          if (verdict === undefined) return b; // no element: the rule does not match
          return this.verdictString(chain, i, verdict, b, depth, text);
        }
      }
    }
    return b;
  }

  private verdictString(chain: NftChain, i: number, v: string, b: Branch, depth: number, text: string): Outcome[] {
    const [word, target] = verdictWords(v);
    if (word === 'goto' || word === 'jump') return this.transfer(chain, i, word, target!, b, depth, text);
    if (word === 'drop' || word === 'reject' || word === 'accept' || word === 'return') return this.statements(chain, i, [{ kind: 'verdict', verdict: word }], b, depth, text) as Outcome[];
    this.qualifications.add(`verdict "${v}" not understood`);
    return [{ b, end: 'fallthrough' }];
  }

  private transfer(chain: NftChain, i: number, kind: 'jump' | 'goto', target: string, b: Branch, depth: number, text: string): Outcome[] {
    if (!this.quiet) this.hop(chain.name, text, `${kind} ${target}`, b, depth);
    const out: Outcome[] = [];
    for (const o of this.runChain(target, b, depth + 1)) {
      if (o.end === 'terminal') out.push(o);
      else if (kind === 'goto') out.push({ b: o.b, end: 'return' });
      else out.push(...this.runChain(chain.name, o.b, depth, i + 1));
    }
    return out;
  }
}

// A literal operand as one key and as its comma-separated parts, made once per parsed operand.
const literalKeysOf = new WeakMap<object, { whole: string[]; parts: string[] }>();
function literalKeys(op: { value: string }): { whole: string[]; parts: string[] } {
  let k = literalKeysOf.get(op);
  if (!k) literalKeysOf.set(op, (k = { whole: [op.value], parts: op.value.split(',') }));
  return k;
}

// A DNAT map's targets read once per map (the statement is the parsed chain's, kept for the table).
const dnatTargetsOf = new WeakMap<object, Array<{ ip: string; port: number; portText: string }>>();
function dnatTargets(entries: Array<{ key: string[]; to: string }>): Array<{ ip: string; port: number; portText: string }> {
  let t = dnatTargetsOf.get(entries);
  if (!t) {
    t = entries.map((e) => {
      const { ip, port } = splitHostPort(e.to.replace(' . ', ':'));
      return { ip, port: Number(port), portText: port };
    });
    dnatTargetsOf.set(entries, t);
  }
  return t;
}

// A verdict's words ("goto", "service-…"), split once per distinct verdict text.
const verdictSplits = new Map<string, string[]>();
function verdictWords(v: string): string[] {
  let w = verdictSplits.get(v);
  if (!w) {
    if (verdictSplits.size >= MEMO_MAX) verdictSplits.clear();
    verdictSplits.set(v, (w = v.trim().split(/\s+/)));
  }
  return w;
}

/** Bound of the module's memos of strings (cleared when reached). */
const MEMO_MAX = 1 << 18;

// The node's addresses in canonical form, once per node context (not per packet and lookup).
const localSets = new WeakMap<NodeContext, Set<string>>();
function localSet(node: NodeContext): Set<string> {
  let set = localSets.get(node);
  if (!set) {
    set = new Set();
    for (const a of node.localAddresses ?? []) {
      const x = parseIPSloppy(a);
      if (x !== null) set.add(formatIP(x));
    }
    localSets.set(node, set);
  }
  return set;
}

/** An element's (or, with `packet`, the packet's) value for one selector as a key equal for equal matches;
 * undefined when the element is a range or network, or the selector is not one of exact values. */
function exactKey(sel: Selector, v: string, packet = false): string | undefined {
  if (sel.kind === 'addr') return v.includes('/') ? undefined : normIP(v);
  if (sel.kind === 'l4proto') return packet ? v : protoName(v);
  if (sel.kind === 'port') return /^\d+$/.test(v) ? String(Number(v)) : undefined;
  return undefined;
}

const elementIndexes = new WeakMap<object, Map<Selector[], Map<string, { key: string[] }> | null>>();

/** elements by exact key for these selectors (the first of equal keys), or null when some key is not exact. */
function elementIndex<E extends { key: string[] }>(sels: Selector[], elements: E[]): Map<string, E> | null {
  let bySels = elementIndexes.get(elements);
  if (!bySels) elementIndexes.set(elements, (bySels = new Map()));
  let index = bySels.get(sels) as Map<string, E> | null | undefined;
  if (index !== undefined) return index;
  index = new Map<string, E>();
  for (const e of elements) {
    if (e.key.length !== sels.length) continue;
    const parts = e.key.map((k, i) => exactKey(sels[i]!, k));
    if (parts.some((p) => p === undefined)) {
      index = null;
      break;
    }
    const k = parts.join('\u0000');
    if (!index.has(k)) index.set(k, e);
  }
  bySels.set(sels, index as Map<string, { key: string[] }> | null);
  return index;
}

/** Canonical address text (null: not an address), memoized: every set lookup and address match reads one. */
const canonIPs = new Map<string, string | null>();
function canonIP(s: string): string | null {
  let n = canonIPs.get(s);
  if (n === undefined) {
    const b = parseIPSloppy(s);
    n = b ? formatIP(b) : null;
    if (canonIPs.size >= MEMO_MAX) canonIPs.clear();
    canonIPs.set(s, n);
  }
  return n;
}

function normIP(s: string): string {
  return canonIP(s) ?? s;
}

/** cidrContains with the network read once per network text. */
const nets = new Map<string, { bytes: Uint8Array; v4: boolean; prefix: number } | null>();
function inCIDR(cidr: string, ip: string): boolean {
  let net = nets.get(cidr);
  if (net === undefined) {
    const c = parseCIDRSloppy(cidr);
    net = c ? { bytes: parseIPSloppy(c.cidr.slice(0, c.cidr.indexOf('/')))!, v4: c.family === 'IPv4', prefix: c.prefix } : null;
    if (nets.size >= MEMO_MAX) nets.clear();
    nets.set(cidr, net);
  }
  if (net === null) return false;
  const addr = parseIPSloppy(ip);
  if (addr === null || net.v4 !== isIPv4Bytes(addr)) return false;
  let i = net.v4 ? 12 : 0;
  let left = net.prefix;
  while (left >= 8) {
    if (net.bytes[i] !== addr[i]) return false;
    i++;
    left -= 8;
  }
  if (left === 0) return true;
  const mask = (0xff << (8 - left)) & 0xff;
  return (net.bytes[i]! & mask) === (addr[i]! & mask);
}

function protoName(p: string): string {
  return p === '6' ? 'tcp' : p === '17' ? 'udp' : p === '132' ? 'sctp' : p;
}

const HOOK_ORDER: Record<'forward' | 'local' | 'output-forward' | 'output-local', NftHook[]> = {
  forward: ['prerouting', 'forward', 'postrouting'],
  local: ['prerouting', 'input'],
  'output-forward': ['output', 'postrouting'],
  'output-local': ['output', 'input'],
};

function baseChains(ix: Indexed, hook: NftHook): NftChain[] {
  let list = ix.hooks.get(hook);
  if (!list) ix.hooks.set(hook, (list = ix.table.chains.filter((c) => c.base?.hook === hook).sort((a, b) => a.base!.priority - b.base!.priority)));
  return list;
}

/** One branch through one base chain: those it ends go to dead, the others on to next (verdict cleared). */
function walkBase(run: Run, c: NftChain, b: Branch, next: Branch[], dead: Branch[]): void {
  for (const o of run.runChain(c.name, b, 0)) {
    const v = o.b.verdict;
    if (o.end === 'terminal' && (v === 'drop' || v === 'reject')) dead.push(o.b);
    else next.push(branch(o.b.p, o.b.dst, o.b.dport, o.b.mark, o.b.dnat, o.b.masqueraded, undefined, o.b.affinity));
  }
}

/** Runs every base chain of one hook, by priority; returns the branches still alive and those that ended. */
function runHook(run: Run, ix: Indexed, hook: NftHook, live: Branch[]): { live: Branch[]; dead: Branch[] } {
  const dead: Branch[] = [];
  for (const c of baseChains(ix, hook)) {
    // nat chains see only the first packet of a connection; a trace is of that first packet
    const next: Branch[] = [];
    // the branches a DNAT forked walk a later chain apart, and mostly alike: their hops are merged
    if (run.quiet) for (const b of live) walkBase(run, c, b, next, dead);
    else run.hops.push(...mergeHops(run.branchHops(live, (b) => walkBase(run, c, b, next, dead))));
    live = next;
  }
  return { live, dead };
}

/**
 * The branches' hop lists as one path: a hop every branch took shows once with the shares summed (none
 * when they make the whole), a branch's own hops stay where it left the others, in the branches' order.
 * No hop is lost: each hop of each branch is in the path, alone or summed with its equals.
 */
export function mergeHops(lists: Hop[][]): Hop[] {
  if (lists.length === 1) return lists[0]!;
  let path: Hop[] = [];
  for (const list of lists) {
    const keys = path.map(hopKey);
    const out: Hop[] = [];
    let from = 0; // path[from…] not yet copied
    let own: Hop[] = []; // this branch's hops not in the path (yet)
    for (const h of list) {
      const at = keys.indexOf(hopKey(h), from);
      if (at < 0) {
        own.push({ ...h });
        continue;
      }
      out.push(...path.slice(from, at), ...own);
      own = [];
      const same = { ...path[at]! };
      const share = (same.share ?? 1) + (h.share ?? 1);
      if (same.share === undefined || share >= 1 - 1e-9) delete same.share;
      else same.share = share;
      out.push(same);
      from = at + 1;
    }
    out.push(...path.slice(from), ...own);
    path = out;
  }
  return path;
}

function hopKey(h: Hop): string {
  return `${h.table}\u0000${h.chain}\u0000${h.depth ?? 0}\u0000${h.rule}\u0000${h.action}`;
}

// A table's rules are parsed once, not per packet (tracing every service port would otherwise be quadratic).
const indexes = new WeakMap<NftTable, Indexed>();

export function traceTable(table: NftTable, packet: Packet, node: NodeContext, quiet = false): TraceResult {
  let ix = indexes.get(table);
  if (!ix) indexes.set(table, (ix = index(table)));
  const proto = packet.protocol.toLowerCase();
  const pkt = { src: packet.src, dst: packet.dst, dport: packet.dport, sport: packet.sport ?? 40000, protocol: packet.protocol, entry: packet.entry, proto };
  const run = new Run(ix, pkt, node, quiet);
  const start = branch(1, packet.dst, packet.dport, 0n, undefined, false, undefined, undefined);
  let live: Branch[] = [start];
  const dead: Branch[] = [];

  const first: NftHook = packet.entry === 'node' ? 'output' : 'prerouting';
  const r = runHook(run, ix, first, live);
  dead.push(...r.dead);
  const after: Branch[] = [];
  if (!quiet) {
    // after the DNAT each branch is routed and walks the later hooks: what they share is shown once
    run.hops.push(...mergeHops(run.branchHops(r.live, (b) => afterFirst(run, ix, b, after, dead))));
    return summarise(run, [...after, ...dead]);
  }
  let memo: TailMemo | undefined;
  for (const b of r.live) {
    const t = tailOf(ix, pkt, node, b, (memo ??= tailMemo(ix, pkt, node)));
    if (!t) {
      afterFirst(run, ix, b, after, dead);
      continue;
    }
    for (const q of t.qualifications) run.qualifications.add(q);
    if (run.markChain === undefined) run.markChain = t.markChain;
    const nb = branch(b.p, t.b.dst, t.b.dport, t.b.mark, t.dnatChanged ? t.b.dnat : b.dnat, t.b.masqueraded || b.masqueraded, t.b.verdict, t.b.affinity ?? b.affinity);
    (t.dead ? dead : after).push(nb);
  }
  live = after;
  return summarise(run, [...live, ...dead]);
}

/** The routing decision after DNAT — to this host (input) or onward (forward, then postrouting) — and those hooks. */
function afterFirst(run: Run, ix: Indexed, b: Branch, after: Branch[], dead: Branch[]): void {
  const local = run.isLocal(b.dst);
  const hooks: NftHook[] = run.fromNode ? (local ? ['input'] : ['postrouting']) : local ? ['input'] : ['forward', 'postrouting'];
  let cur = [b];
  for (const h of hooks) {
    const r = runHook(run, ix, h, cur);
    dead.push(...r.dead);
    cur = r.live;
  }
  after.push(...cur);
}

/**
 * A quiet trace's path after the first hook, reused: it depends only on the packet, the node and what the
 * rules read of the branch (address, port, mark, the DNAT done), and the services DNAT'ed to the same
 * endpoints share it. Walked once per key from a fresh branch in a run of its own (to see the
 * qualifications and the masquerade mark it adds); a tail that forks or ends twice is not reused.
 */
function tailOf(ix: Indexed, pkt: Packet & { proto: string; sport: number }, node: NodeContext, b: Branch, memo: TailMemo): Tail | null {
  let byPort = memo.get(b.dst);
  if (!byPort) memo.set(b.dst, (byPort = new Map()));
  let byMark = byPort.get(b.dport);
  if (!byMark) byPort.set(b.dport, (byMark = new Map()));
  let byDnat = byMark.get(b.mark);
  if (!byDnat) byMark.set(b.mark, (byDnat = new Map()));
  const d = b.dnat;
  // the DNAT just done is to the branch's own destination (the common case: no string made)
  const key = !d ? '-' : d.ip === b.dst && d.port === b.dport ? '=' : `${d.ip}|${d.port}`;
  let t = byDnat.get(key);
  if (t === undefined) {
    const run = new Run(ix, pkt, node, true);
    const after: Branch[] = [];
    const dead: Branch[] = [];
    afterFirst(run, ix, branch(1, b.dst, b.dport, b.mark, b.dnat, false, undefined, undefined), after, dead);
    const only = after.length + dead.length === 1 ? (after[0] ?? dead[0])! : undefined;
    t = only && only.p === 1 ? { b: only, dead: dead.length === 1, dnatChanged: only.dnat !== b.dnat, qualifications: [...run.qualifications], markChain: run.markChain } : null;
    byDnat.set(key, t);
  }
  return t;
}

function tailMemo(ix: Indexed, pkt: Packet & { proto: string; sport: number }, node: NodeContext): TailMemo {
  let byNode = ix.tails.get(node);
  if (!byNode) ix.tails.set(node, (byNode = new Map()));
  const prefix = `${pkt.src}|${pkt.sport}|${pkt.proto}|${pkt.entry}`;
  let memo = byNode.get(prefix);
  if (!memo) byNode.set(prefix, (memo = new Map()));
  return memo;
}

function summarise(run: Run, branches: Branch[]): TraceResult {
  const byVerdict: Partial<Record<Verdict, number>> = {};
  const endpoints: TraceEndpoint[] = [];
  let affinity: TraceResult['affinity'];
  let masqP = 0;
  for (const b of branches) {
    if (b.verdict === 'drop') byVerdict.dropped = (byVerdict.dropped ?? 0) + b.p;
    else if (b.verdict === 'reject') byVerdict.rejected = (byVerdict.rejected ?? 0) + b.p;
    else if (b.dnat) {
      byVerdict.forwarded = (byVerdict.forwarded ?? 0) + b.p;
      let ep: TraceEndpoint | undefined;
      for (const e of endpoints) {
        if (e.ip === b.dnat.ip && e.port === b.dnat.port) {
          ep = e;
          break;
        }
      }
      if (ep) ep.probability += b.p;
      else endpoints.push({ ip: b.dnat.ip, port: b.dnat.port, probability: b.p, via: b.dnat.via, masquerade: b.masqueraded });
      if (b.masqueraded) masqP += b.p;
    } else byVerdict['not-matched'] = (byVerdict['not-matched'] ?? 0) + b.p;
    if (b.affinity) affinity = { seconds: b.affinity.seconds, name: b.affinity.set };
  }
  let verdict: Verdict = 'not-matched';
  let best = -1;
  for (const [v, p] of Object.entries(byVerdict) as Array<[Verdict, number]>) if (p > best) [verdict, best] = [v, p];
  const others = Object.fromEntries(Object.entries(byVerdict).filter(([v]) => v !== verdict)) as Partial<Record<Verdict, number>>;
  const masquerade = masqP > 0;
  const markChain = run.markChain;
  const result: TraceResult = {
    mode: 'nftables',
    verdict,
    endpoints,
    masquerade,
    masqueradeReason: masquerade
      ? `the packet carries kube-proxy's masquerade mark${markChain !== undefined ? ` (set via ${markChain})` : ''}, so masquerading rewrites its source in nat-postrouting`
      : verdict === 'forwarded'
        ? 'no rule on its path set the masquerade mark, so the source is kept'
        : 'the packet is not forwarded to an endpoint',
    hops: run.hops,
    qualifications: [...run.qualifications],
  };
  if (affinity) result.affinity = affinity;
  if (Object.keys(others).length > 0) result.otherVerdicts = others;
  return result;
}

/** The ModeEvaluator over the kube-proxy table of each family; `outcome` is the trace without its hops. */
export function nftablesEvaluator(states: readonly NftTable[]): ModeEvaluator & { outcome(packet: Packet, node: NodeContext): TraceResult } {
  const trace = (packet: Packet, node: NodeContext, quiet: boolean): TraceResult => {
    const v6 = packet.dst.includes(':');
    const table = states.find((s) => (s.family === 'IPv6') === v6);
    if (!table) {
      return {
        mode: 'nftables',
        verdict: 'not-matched',
        endpoints: [],
        masquerade: false,
        masqueradeReason: 'no kube-proxy table of this family',
        hops: [],
        qualifications: [`there is no ${v6 ? 'ip6' : 'ip'} kube-proxy table to trace through`],
      };
    }
    return traceTable(table, packet, node, quiet);
  };
  return {
    mode: 'nftables',
    trace: (packet, node) => trace(packet, node, false),
    outcome: (packet, node) => trace(packet, node, true),
  };
}
