// Ties what a trace, a summary or a drift names to the rendered items' reasons. A rule read from a node or
// a dump has no reasons of its own: it gets those of the rendered item it matches (the same rule; else a
// set element holding the packet's address; else the nearest rule of the same chain), or says none does.
import type { Reason, ReasonedItem } from './types.js';
import { NO_MATCH, reasonText } from './reasons.js';
import { cidrContains } from '../net/ip.js';

export interface HopLike {
  table: string;
  chain: string;
  rule: string;
  action: string;
}

export interface PacketLike {
  src?: string;
  dst: string;
  dport: number;
}

const BUILT_IN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** The words of a rule without quotes and a host prefix of /32 or /128, in a stable order: spelling never counts. */
function tokens(text: string): string[] {
  return text
    .replace(/"/g, '')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/\/(32|128)$/, ''));
}

function key(table: string, chain: string, text: string): string {
  return `${table}\u0000${chain}\u0000${[...tokens(text)].sort().join(' ')}`;
}

export class ReasonIndex {
  private readonly exact = new Map<string, ReasonedItem>();
  private readonly byChain = new Map<string, ReasonedItem[]>();
  private readonly byServicePort = new Map<string, ReasonedItem[]>();

  /** `routing`: the reason of a routing hop, by the packet's family. */
  constructor(readonly items: readonly ReasonedItem[], private readonly routing?: (family: 'IPv4' | 'IPv6') => Reason) {
    for (const it of items) {
      const k = key(it.table, it.chain, it.text);
      if (!this.exact.has(k)) this.exact.set(k, it);
      const c = `${it.table}\u0000${it.chain}`;
      this.byChain.set(c, [...(this.byChain.get(c) ?? []), it]);
      if (it.servicePort) this.byServicePort.set(it.servicePort, [...(this.byServicePort.get(it.servicePort) ?? []), it]);
    }
  }

  /** Why a hop's rule is there; one NO_MATCH reason when no rendered item matches it. */
  forHop(hop: HopLike, packet?: PacketLike): Reason[] {
    if (hop.table === 'routing') return this.routing ? [this.routing(packet?.dst.includes(':') ? 'IPv6' : 'IPv4')] : [NO_MATCH];
    if (/^policy \S+$/.test(hop.rule)) {
      return [{ object: `chain ${hop.table}/${hop.chain}`, field: 'policy', value: hop.rule.slice(7), sentence: "the built-in chain's own policy: no kube-proxy rule decided" }];
    }
    const exact = this.exact.get(key(hop.table, hop.chain, hop.rule));
    const own = exact ? onlyTaken(exact.reasons, hop.action) : [];
    // a rule that looks a packet up in a set or map: the element holding the packet's address says why
    // the last lookup (a verdict map) decides; the ones before it only qualify the packet
    const sets = [...hop.rule.matchAll(/@([\w.-]+)|--match-set (\S+)/g)].map((m) => m[1] ?? m[2]!).reverse();
    if (sets.length && packet) {
      const elements = sets.map((s) => this.elementFor(s, hop, packet)).filter((e): e is ReasonedItem => e !== undefined);
      if (elements.length) return dedupe([...elements.flatMap((e) => e.reasons), ...own]);
    }
    if (exact) return own;
    const near = this.nearest(hop);
    if (near) return near.reasons;
    // a proxy port read from a node: the kernel picked its number, the service port it serves says why
    if (hop.table === 'proxy') {
      const items = this.byServicePort.get(hop.rule) ?? [];
      const port = items.find((it) => it.table === 'proxy');
      const portal = items.find((it) => it.table !== 'proxy');
      // its endpoints live in the proxy's memory, not in a dump: the service port's portal rule is the reason then
      if (/endpoints unknown/.test(hop.action) && portal) return portal.reasons;
      if (port) return port.reasons;
    }
    // a jump from a built-in chain into a chain kube-proxy renders is kube-proxy's own
    const jump = /^jump (\S+)/.exec(hop.action);
    if (jump && BUILT_IN.has(hop.chain) && this.byChain.has(`${hop.table}\u0000${jump[1]}`)) {
      const target = this.byChain.get(`${hop.table}\u0000${jump[1]}`)!;
      const base = target.flatMap((t) => t.reasons).find((r) => r.field === 'mode');
      if (base) return [base];
    }
    return [NO_MATCH];
  }

  /** The element of `set` whose key holds the packet's address and port (or the one the hop's action names). */
  private elementFor(set: string, hop: HopLike, packet: PacketLike): ReasonedItem | undefined {
    const all = [...this.byChain.entries()].filter(([k]) => k.endsWith(`\u0000${set}`)).flatMap(([, v]) => v);
    // a set of the hop's own table (nft: "ip6 kube-proxy", whose names repeat the IPv4 table's) before any other
    const own = all.filter((c) => c.table === hop.table);
    let candidates = own.length ? own : all;
    // a per-service target names its element; a shared one (reject-chain) narrows them to those sending there
    const target = /(?:goto|jump) (\S+)/.exec(hop.action)?.[1];
    const named = target ? candidates.filter((c) => c.text.includes(target)) : [];
    if (named.length === 1) return named[0];
    if (named.length > 1) candidates = named;
    const port = String(packet.dport);
    const looksIP = (t: string) => /^[0-9a-f]*[.:][0-9a-f.:]+$/i.test(t) && !/^[a-z]+:\d+$/.test(t);
    const found = candidates.find((c) => {
      // "10.96.0.10,udp:53", "10.96.0.10 . udp . 53", "30080": the address and port as separate words;
      // "192.168.10.240,tcp:80,203.0.113.0/24": a source range, which must hold the packet's source
      const words = c.text.split(/[\s,]+/).flatMap((t) => t.split(/(?<=^[a-z]+):/));
      const hasPort = words.includes(port);
      const ranges = words.filter((w) => w.includes('/'));
      if (packet.src && ranges.length && !ranges.some((r) => safeContains(r, packet.src!))) return false;
      return words.includes(packet.dst) ? hasPort || !words.some((w) => /^\d+$/.test(w)) : hasPort && !words.some(looksIP);
    });
    if (found || !packet.src) return found;
    // a hairpin set (nft's hairpin-connections "ip . ip . proto . port", ipvs's KUBE-LOOP-BACK) is looked up
    // after DNAT, when source and destination are the same endpoint: the packet's source, twice, when only
    // one element holds it so (the port after DNAT is not in the packet)
    const src = packet.src;
    const hairpin = candidates.filter((c) => c.text.split(/[\s,]+/).filter((w) => w === src).length === 2);
    return hairpin.length === 1 ? hairpin[0] : undefined;
  }

  /** The rendered rule of the same chain sharing the most words with the hop's, if it shares most of them. */
  private nearest(hop: HopLike): ReasonedItem | undefined {
    const same = this.byChain.get(`${hop.table}\u0000${hop.chain}`);
    if (!same) return undefined;
    const want = new Set(tokens(hop.rule));
    let best: ReasonedItem | undefined;
    let bestScore = 0;
    for (const it of same) {
      const have = new Set(tokens(it.text));
      let common = 0;
      for (const w of want) if (have.has(w)) common++;
      const score = common / Math.max(want.size, have.size, 1);
      if (score > bestScore) {
        best = it;
        bestScore = score;
      }
    }
    return bestScore >= 0.6 ? best : undefined;
  }

  /** Every reason the service port's items stand on, each once, in item order. */
  forServicePort(servicePort: string): Reason[] {
    return dedupe((this.byServicePort.get(servicePort) ?? []).flatMap((i) => i.reasons));
  }

  /** Items of one chain or set ("nat/KUBE-SEP-…" as drift names objects, or a bare name). */
  forChain(name: string): ReasonedItem[] {
    const bare = name.replace(/^(chain|set|map|ipset|rule|element|virtual server|real server)\s+/, '');
    const [table, chain] = bare.includes('/') && !bare.includes(':') ? [bare.slice(0, bare.indexOf('/')), bare.slice(bare.indexOf('/') + 1)] : [undefined, bare];
    return [...this.byChain.entries()].filter(([k]) => (table ? k === `${table}\u0000${chain}` : k.endsWith(`\u0000${chain}`))).flatMap(([, v]) => v);
  }
}

function safeContains(cidr: string, ip: string): boolean {
  try {
    return cidrContains(cidr, ip);
  } catch {
    return false;
  }
}

/** Of a balancing rule's endpoint reasons, the one of the branch the hop took (its action names the endpoint). */
function onlyTaken(reasons: Reason[], action: string): Reason[] {
  const eps = reasons.filter((r) => r.field.startsWith('endpoints['));
  if (eps.length < 2) return reasons;
  const taken = eps.filter((r) => {
    const ip = /^endpoints\[([^\]]+)\]/.exec(r.field)?.[1] ?? '';
    // an IPv4 address may be followed by its port ("DNAT to 10.244.0.5:8080"); an IPv6 one is bracketed
    const port = ip.includes(':') ? '' : '(?::\\d+)?';
    return new RegExp(`(^|[^0-9a-f.:])${ip.replace(/[.:]/g, (c) => (c === '.' ? '\\.' : '[.:]'))}${port}([^0-9a-f.:]|$)`, 'i').test(action);
  });
  return taken.length ? reasons.filter((r) => !eps.includes(r) || taken.includes(r)) : reasons;
}

function dedupe(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const k = `${reasonText(r)}\u0000${r.sentence}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
