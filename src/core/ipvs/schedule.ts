// What an IPVS scheduler does with one new connection, for `trace`. Kernel facts (torvalds/linux
// net/netfilter/ipvs, read through the stored index; ip_vs_ctl.c, ip_vs_sh.c, ip_vs_dh.c, ip_vs_rr.c,
// ip_vs_wrr.c, ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c, ip_vs_nq.c, include/linux/hash.h):
//
//  - A service's destination list is built with list_add_rcu (head insertion): the newest real server is
//    first, and `ipvsadm -Ln` / `-Sn` print the list in that order. The hash schedulers fill their tables
//    walking this list, so the exact pick depends on the order the real servers were added — take the
//    order from a live listing. (kube-proxy adds real servers in Go-set order, which is random.)
//  - sh: 256 buckets (IP_VS_SH_TAB_BITS 8). ip_vs_sh_reassign walks the list cyclically, giving each
//    destination `weight` consecutive buckets (a weight <= 0 still takes one: `++d_count >= weight`). The key
//    is hash_32(ntohs(port) + ntohl(addr), 8) = ((val * 0x61C88647) mod 2^32) >> 24, addr the source address
//    (IPv6: XOR of its four 32-bit words), port 0 unless the sh-port flag is set. The picked destination is
//    refused (no destination: the packet is dropped) when its weight is <= 0 or it is overloaded; with
//    sh-fallback the table is walked on from that bucket to the next available one.
//  - dh: 256 buckets, one per destination cyclically (weights ignored for placement); key
//    (ntohl(addr) * 2654435761) & 255 of the destination address (IPv6 folded as in sh); refused when the
//    weight is <= 0.
//  - rr: every destination with weight > 0 in turn (1/n for a packet whose place in the turn is unknown);
//    wrr: in proportion to weight.
//  - lc: least overhead (activeconns*256 + inactconns) among weight > 0; wlc: least overhead/weight;
//    sed: least (activeconns+1)/weight; nq: any destination with no active connection (first in list order),
//    else as sed; lblc/lblcr: per-destination-address locality, else like wlc. All of these depend on live
//    connection counts, so with no counts the answer is "unknown": we give the counts-free spread and say so.
//    Ties go to the first destination in list order (the comparisons are strict).
//  - mh: Maglev hashing of the source (and port, with mh-port) — deterministic, but its lookup table
//    (siphash-based permutations) is not ported here: we give the weight shares Maglev approximates.
//  - persistence (ClientIP affinity): a client with a live template keeps its destination; the scheduler
//    only decides the first connection.

import { parseIPSloppy } from '../net/ip.js';
import type { RealServer, VirtualServer } from './types.js';

export interface ScheduledEndpoint {
  address: string;
  port: number;
  probability: number;
}

export interface ScheduleResult {
  scheduler: string;
  /** The pick is fully determined by the packet (sh, dh) or by live counts that were given. */
  deterministic: boolean;
  /** Endpoints that may receive this connection with their probability (empty: no destination, dropped). */
  endpoints: ScheduledEndpoint[];
  /** One sentence for trace: what decided it. */
  note: string;
}

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(val, bits) of include/linux/hash.h (generic). */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** ntohl(addr) for IPv4; for IPv6 the XOR of the four words (ntohl commutes with XOR). */
export function foldAddress(address: string): number {
  const b = parseIPSloppy(address);
  if (!b) throw new Error(`not an IP address: ${address}`);
  const v4 = b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  const word = (i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  if (v4) return word(12);
  return (word(0) ^ word(4) ^ word(8) ^ word(12)) >>> 0;
}

/** ip_vs_sh_hashkey(af, addr, port, offset). */
export function shHashKey(address: string, port = 0, offset = 0): number {
  return (offset + hash32((port + foldAddress(address)) >>> 0, SH_TAB_BITS)) & (SH_TAB_SIZE - 1);
}

/** ip_vs_dh_hashkey(af, addr). */
export function dhHashKey(address: string): number {
  return Math.imul(foldAddress(address), 2654435761 | 0) & (SH_TAB_SIZE - 1);
}

/** ip_vs_sh_reassign: bucket -> index into `dests` (list order), or -1 for an empty service. */
export function shTable(dests: readonly Pick<RealServer, 'weight'>[]): number[] {
  const table: number[] = new Array(SH_TAB_SIZE).fill(-1);
  if (dests.length === 0) return table;
  let p = 0;
  let d = 0;
  for (let i = 0; i < SH_TAB_SIZE; i++) {
    table[i] = p;
    if (++d >= dests[p]!.weight) {
      p = (p + 1) % dests.length;
      d = 0;
    }
  }
  return table;
}

/** ip_vs_dh_reassign: one bucket per destination, cyclically. */
export function dhTable(count: number): number[] {
  return Array.from({ length: SH_TAB_SIZE }, (_, i) => (count === 0 ? -1 : i % count));
}

const available = (rs: RealServer) => rs.weight > 0;

/** The exact sh pick for a source (and source port with sh-port), or null when the kernel finds none. */
export function shPick(vs: Pick<VirtualServer, 'realServers' | 'schedFlags'>, source: string, sourcePort = 0): RealServer | null {
  const dests = vs.realServers;
  const table = shTable(dests);
  const port = vs.schedFlags.includes('sh-port') ? sourcePort : 0;
  const ihash = shHashKey(source, port, 0);
  const first = table[ihash]!;
  if (first < 0) return null;
  if (available(dests[first]!)) return dests[first]!;
  if (!vs.schedFlags.includes('sh-fallback')) return null;
  for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
    const roffset = (offset + ihash) % SH_TAB_SIZE;
    const i = table[shHashKey(source, port, roffset)]!;
    if (i < 0) return null;
    if (available(dests[i]!)) return dests[i]!;
  }
  return null;
}

/** The exact dh pick for a destination address, or null. */
export function dhPick(vs: Pick<VirtualServer, 'realServers'>, destination: string): RealServer | null {
  const dests = vs.realServers;
  const i = dhTable(dests.length)[dhHashKey(destination)]!;
  if (i < 0) return null;
  return available(dests[i]!) ? dests[i]! : null;
}

export interface Packet {
  source: string;
  sourcePort?: number;
  /** The virtual server address the packet is sent to (dh hashes it). */
  destination: string;
}

function share(list: RealServer[], weightOf: (r: RealServer) => number): ScheduledEndpoint[] {
  const total = list.reduce((s, r) => s + weightOf(r), 0);
  return total > 0 ? list.filter((r) => weightOf(r) > 0).map((r) => ({ address: r.address, port: r.port, probability: weightOf(r) / total })) : [];
}

function one(r: RealServer | null | undefined): ScheduledEndpoint[] {
  return r ? [{ address: r.address, port: r.port, probability: 1 }] : [];
}

function hasCounts(list: RealServer[]): boolean {
  return list.length > 0 && list.every((r) => r.activeConns !== undefined && r.inactiveConns !== undefined);
}

/** ip_vs_dest_conn_overhead. */
const overhead = (r: RealServer) => (r.activeConns ?? 0) * 256 + (r.inactiveConns ?? 0);

/** Every real server with the lowest score: more than one is a tie the kernel breaks by its own list order. */
function minBy(list: RealServer[], score: (r: RealServer) => number): RealServer[] {
  let best: RealServer[] = [];
  let bestScore = Infinity;
  for (const r of list) {
    const s = score(r);
    if (s < bestScore - 1e-12) [best, bestScore] = [[r], s];
    else if (Math.abs(s - bestScore) <= 1e-12) best.push(r);
  }
  return best;
}

/** Where one new connection to `vs` goes under its scheduler. */
export function scheduleOne(vs: VirtualServer, packet: Packet): ScheduleResult {
  const s = vs.scheduler;
  const live = vs.realServers.filter(available);
  const persist = vs.persistentTimeout !== null ? ` Persistent (${vs.persistentTimeout}s): a client with a live template keeps its real server.` : '';
  const none = (why: string): ScheduleResult => ({ scheduler: s, deterministic: true, endpoints: [], note: why + persist });
  if (vs.realServers.length === 0) return none('no real servers: IPVS has no destination and the packet is dropped.');
  switch (s) {
    case 'sh': {
      const r = shPick(vs, packet.source, packet.sourcePort ?? 0);
      if (!r) return none(`source hash of ${packet.source} lands on a real server with weight 0: no destination, dropped.`);
      return { scheduler: s, deterministic: true, endpoints: one(r), note: `source hash: ${packet.source} is in bucket ${shHashKey(packet.source, vs.schedFlags.includes('sh-port') ? (packet.sourcePort ?? 0) : 0)} of 256, which holds ${r.address}:${r.port} (real servers taken in the order ipvsadm lists them).${persist}` };
    }
    case 'dh': {
      const r = dhPick(vs, packet.destination);
      if (!r) return none(`destination hash of ${packet.destination} lands on a real server with weight 0: no destination, dropped.`);
      return { scheduler: s, deterministic: true, endpoints: one(r), note: `destination hash: ${packet.destination} is in bucket ${dhHashKey(packet.destination)} of 256, which holds ${r.address}:${r.port}.${persist}` };
    }
    case 'rr':
      return { scheduler: s, deterministic: false, endpoints: share(live, () => 1), note: `round robin over the ${live.length} real servers with weight > 0.${persist}` };
    case 'wrr':
    case 'mh':
      return { scheduler: s, deterministic: false, endpoints: share(live, (r) => r.weight), note: (s === 'wrr' ? 'weighted round robin: shares in proportion to weight.' : 'Maglev hashing of the source: deterministic per source, but its lookup table is not computed here; shares in proportion to weight.') + persist };
    default: {
      const counted = hasCounts(live);
      const label: Record<string, string> = { lc: 'least connections', wlc: 'weighted least connections', sed: 'shortest expected delay', nq: 'never queue', lblc: 'locality-based least connections', lblcr: 'locality-based least connections with replication' };
      if (!label[s]) return { scheduler: s, deterministic: false, endpoints: share(live, (r) => r.weight), note: `scheduler ${s}: not modelled; shares in proportion to weight.${persist}` };
      if (!counted) return { scheduler: s, deterministic: false, endpoints: share(live, (r) => r.weight), note: `${label[s]}: the pick depends on live connection counts (ipvsadm -Ln); without them, shares in proportion to weight.${persist}` };
      let picks: RealServer[];
      if (s === 'lc') picks = minBy(live, overhead);
      else if (s === 'wlc' || s === 'lblc' || s === 'lblcr') picks = minBy(live, (r) => overhead(r) / r.weight);
      else if (s === 'sed') picks = minBy(live, (r) => ((r.activeConns ?? 0) + 1) / r.weight);
      else {
        const idle = live.find((r) => (r.activeConns ?? 0) === 0);
        picks = idle ? [idle] : minBy(live, (r) => ((r.activeConns ?? 0) + 1) / r.weight);
      }
      if (picks.length > 1) {
        // ipvsadm sorts its listing, so its order is not the kernel's: which of the tied servers wins is not known.
        const names = picks.map((r) => `${r.address}:${r.port}`).join(', ');
        return { scheduler: s, deterministic: false, endpoints: share(picks, () => 1), note: `${label[s]} with the live counts given: a tie between ${names}; the kernel takes the first in its own list, which a listing does not show, so each is shown as equally likely.${persist}` };
      }
      const pick = picks[0];
      return { scheduler: s, deterministic: s !== 'lblc' && s !== 'lblcr', endpoints: one(pick), note: `${label[s]} with the live counts given: ${pick ? `${pick.address}:${pick.port}` : 'none'}.${persist}` };
    }
  }
}
