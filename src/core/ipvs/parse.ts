// Text -> data: `ipvsadm -Sn` (ipvsadm-restore input), `ipvsadm -Ln` (with --stats or --rate), `ipset save`,
// and a combined dump (what `rules -o ipvsadm` prints, optionally followed by iptables-save text).
import { InputError } from '../errors.js';
import { parseIptablesSave } from '../iptables/parse.js';
import type { IPFamily, Ruleset } from '../iptables/types.js';
import { SET } from './names.js';
import type { IPSet, IpvsProtocol, IpvsState, IpvsStats, RealServer, VirtualServer } from './types.js';
import { ipvsJumpRules } from './render.js';

function splitHostPort(s: string, where: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new InputError(`${where}: "${s}" is not ADDRESS:PORT; give ipvsadm output made with -n.`);
  return { address: m[1]!, port: Number(m[2]) };
}

function words(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

const PROTO_BY_FLAG: Record<string, IpvsProtocol> = { '-t': 'TCP', '--tcp-service': 'TCP', '-u': 'UDP', '--udp-service': 'UDP', '--sctp-service': 'SCTP' };
const FORWARD_BY_FLAG: Record<string, RealServer['forward']> = { '-m': 'Masq', '--masquerading': 'Masq', '-g': 'Route', '--gatewaying': 'Route', '-i': 'Tunnel', '--ipip': 'Tunnel' };

/** `ipvsadm -Sn` text -> virtual servers (lines that are not -A/-a are ignored). */
export function parseIpvsadmSave(text: string, source = 'ipvsadm -Sn'): VirtualServer[] {
  const byId = new Map<string, VirtualServer>();
  const out: VirtualServer[] = [];
  text.split('\n').forEach((raw, i) => {
    const w = words(raw);
    if (w[0] !== '-A' && w[0] !== '-a') return;
    const where = `${source} line ${i + 1}`;
    const proto = PROTO_BY_FLAG[w[1] ?? ''];
    if (!proto) throw new InputError(`${where}: expected -t, -u or --sctp-service after ${w[0]} (fwmark services are not kube-proxy's).`);
    const id = `${proto} ${w[2]}`;
    const { address, port } = splitHostPort(w[2] ?? '', where);
    if (w[0] === '-A') {
      const vs: VirtualServer = { protocol: proto, address, port, scheduler: 'wlc', schedFlags: [], persistentTimeout: null, realServers: [] };
      for (let j = 3; j < w.length; j++) {
        const f = w[j];
        if (f === '-s' || f === '--scheduler') vs.scheduler = w[++j] ?? vs.scheduler;
        else if (f === '-p' || f === '--persistent') vs.persistentTimeout = /^\d+$/.test(w[j + 1] ?? '') ? Number(w[++j]) : 360;
        else if (f === '-b' || f === '--sched-flags') vs.schedFlags = (w[++j] ?? '').split(',').filter(Boolean);
        else if (f === '-M' || f === '--netmask' || f === '--pe') j++;
      }
      byId.set(id, vs);
      out.push(vs);
      return;
    }
    const vs = byId.get(id);
    if (!vs) throw new InputError(`${where}: real server for ${w[2]} before its virtual server's -A line.`);
    const rs: RealServer = { address: '', port: 0, weight: 1, forward: 'Route' };
    for (let j = 3; j < w.length; j++) {
      const f = w[j]!;
      if (f === '-r' || f === '--real-server') Object.assign(rs, splitHostPort(w[++j] ?? '', where));
      else if (f === '-w' || f === '--weight') rs.weight = Number(w[++j]);
      else if (FORWARD_BY_FLAG[f]) rs.forward = FORWARD_BY_FLAG[f]!;
      else if (f === '-x' || f === '-y' || f === '--u-threshold' || f === '--l-threshold') j++;
    }
    vs.realServers.push(rs);
  });
  return out;
}

/** "1234", "12K", "3M" (ipvsadm without --exact) -> a number. */
function count(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s);
  if (!m) return NaN;
  const mult = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * mult;
}

function stats(w: string[], from: number): IpvsStats {
  const [conns, inPkts, outPkts, inBytes, outBytes] = w.slice(from, from + 5).map(count);
  return { conns: conns!, inPkts: inPkts!, outPkts: outPkts!, inBytes: inBytes!, outBytes: outBytes! };
}

/**
 * `ipvsadm -Ln` text (plain, `--stats` or `--rate`) -> virtual servers with their live counters.
 * Plain: `TCP  10.96.0.1:443 rr persistent 10800` and `  -> 10.244.1.5:6443  Masq 1 0 0`.
 */
export function parseIpvsadmList(text: string, source = 'ipvsadm -Ln'): VirtualServer[] {
  const out: VirtualServer[] = [];
  let mode: 'plain' | 'stats' | 'rate' = 'plain';
  let current: VirtualServer | undefined;
  text.split('\n').forEach((raw, i) => {
    const w = words(raw);
    if (w.length === 0) return;
    const where = `${source} line ${i + 1}`;
    if (w[0] === 'Prot') {
      mode = w.includes('Conns') ? 'stats' : w.includes('CPS') ? 'rate' : 'plain';
      return;
    }
    if (w[0] === 'IP' || (w[0] === '->' && w[1] === 'RemoteAddress:Port')) return;
    if (w[0] === 'TCP' || w[0] === 'UDP' || w[0] === 'SCTP') {
      const { address, port } = splitHostPort(w[1] ?? '', where);
      current = { protocol: w[0], address, port, scheduler: '', schedFlags: [], persistentTimeout: null, realServers: [] };
      if (mode === 'plain') {
        current.scheduler = w[2] ?? '';
        for (let j = 3; j < w.length; j++) {
          if (w[j] === 'persistent') current.persistentTimeout = Number(w[++j]);
          else if (/^\(.*\)$/.test(w[j]!)) current.schedFlags = w[j]!.slice(1, -1).split(',').filter(Boolean);
        }
      } else if (mode === 'stats') current.stats = stats(w, 2);
      else current.rate = stats(w, 2);
      out.push(current);
      return;
    }
    if (w[0] === '->') {
      if (!current) throw new InputError(`${where}: real server line before any virtual server.`);
      const rs: RealServer = { ...splitHostPort(w[1] ?? '', where), weight: 1, forward: 'Masq' };
      if (mode === 'plain') {
        rs.forward = (w[2] as RealServer['forward']) ?? 'Masq';
        rs.weight = Number(w[3]);
        rs.activeConns = Number(w[4]);
        rs.inactiveConns = Number(w[5]);
      } else if (mode === 'stats') rs.stats = stats(w, 2);
      else rs.rate = stats(w, 2);
      current.realServers.push(rs);
      return;
    }
    if (w[0] === 'FWM') throw new InputError(`${where}: fwmark services are not kube-proxy's; give the TCP/UDP/SCTP virtual servers.`);
  });
  return out;
}

/** Joins the plain listing with a --stats and/or --rate listing of the same table (by virtual and real server). */
export function mergeIpvsLists(plain: VirtualServer[], ...more: VirtualServer[][]): VirtualServer[] {
  const key = (v: VirtualServer) => `${v.protocol} ${v.address} ${v.port}`;
  const idx = new Map(plain.map((v) => [key(v), v]));
  for (const list of more) {
    for (const v of list) {
      const p = idx.get(key(v));
      if (!p) continue;
      if (v.stats) p.stats = v.stats;
      if (v.rate) p.rate = v.rate;
      for (const r of v.realServers) {
        const pr = p.realServers.find((x) => x.address === r.address && x.port === r.port);
        if (!pr) continue;
        if (r.stats) pr.stats = r.stats;
        if (r.rate) pr.rate = r.rate;
      }
    }
  }
  return plain;
}

/** `ipset save` (or `ipset list`-free restore text) -> sets with their members, in order. */
export function parseIpsetSave(text: string, source = 'ipset save'): IPSet[] {
  const sets = new Map<string, IPSet>();
  text.split('\n').forEach((raw, i) => {
    const w = words(raw);
    if (w[0] === 'create') {
      const set: IPSet = { name: w[1]!, type: w[2]!, members: [] };
      for (let j = 3; j < w.length; j++) {
        const k = w[j];
        if (k === 'family') set.family = w[++j] as 'inet' | 'inet6';
        else if (k === 'hashsize') set.hashsize = Number(w[++j]);
        else if (k === 'maxelem') set.maxelem = Number(w[++j]);
        else if (k === 'range') set.range = w[++j];
        else if (k === 'bucketsize' || k === 'initval' || k === 'timeout' || k === 'netmask' || k === 'markmask' || k === 'comment-text') j++;
      }
      sets.set(set.name, set);
    } else if (w[0] === 'add') {
      const set = sets.get(w[1] ?? '');
      if (!set) throw new InputError(`${source} line ${i + 1}: member of set ${w[1]} before its create line.`);
      set.members.push(w[2]!);
    }
  });
  for (const s of sets.values()) s.members.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...sets.values()];
}

function vsFamily(v: VirtualServer): IPFamily {
  return v.address.includes(':') ? 'IPv6' : 'IPv4';
}

const KUBE_SET_NAMES = new Set(Object.values(SET));

/** Is this one of kube-proxy's ipvs sets (KUBE-… or KUBE-6-…) of this family? */
export function isKubeIpset(name: string, family: IPFamily): boolean {
  if (family === 'IPv6') return name.startsWith('KUBE-6-');
  return KUBE_SET_NAMES.has(name as (typeof SET)[keyof typeof SET]);
}

/**
 * Live or dumped text -> the state of one family. `ipvsadm` is `ipvsadm -Sn` or `ipvsadm -Ln` text (both may be
 * in a combined dump); `ipset` is `ipset save`; `iptables` is iptables-save text (may be empty).
 */
export function stateFromText(parts: { ipvsadm: string; ipset: string; iptables: string; addresses?: string[] }, family: IPFamily, source: string): IpvsState {
  const listed = /^(TCP|UDP|SCTP)\s+\S+:\d+/m.test(parts.ipvsadm) && !/^-A /m.test(parts.ipvsadm);
  const vss = (listed ? parseIpvsadmList(parts.ipvsadm, source) : parseIpvsadmSave(parts.ipvsadm, source)).filter((v) => vsFamily(v) === family);
  const ipsets = parseIpsetSave(parts.ipset, source).filter((s) => isKubeIpset(s.name, family));
  const iptables: Ruleset = parts.iptables.trim() ? parseIptablesSave(parts.iptables, { family, source }) : { family, tables: [] };
  const ipvsIPs = ipsets.find((s) => s.name === (family === 'IPv6' ? 'KUBE-6-IPVS-IPS' : SET.ipvsIPs));
  return { family, virtualServers: vss, addresses: parts.addresses ?? ipvsIPs?.members ?? [], ipsets, iptables, jumps: ipvsJumpRules(), timeouts: null };
}

/** Splits a combined dump (ipvsadm lines, ipset lines, iptables-save blocks, in any order) into its parts. */
export function splitDump(text: string): { ipvsadm: string; ipset: string; iptables: string } {
  const ipvsadm: string[] = [];
  const ipset: string[] = [];
  const iptables: string[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.startsWith('*')) inTable = true;
    if (inTable) {
      iptables.push(line);
      if (t === 'COMMIT') inTable = false;
      continue;
    }
    if (/^(create|add) /.test(t)) ipset.push(t);
    // `-A`/`-a` lines of `ipvsadm -Sn`; headers, virtual and `  -> ` real-server lines of `ipvsadm -Ln`.
    else if (/^-[Aa] /.test(t) || /^(TCP|UDP|SCTP|Prot|IP Virtual|FWM)\b/.test(t) || t.startsWith('->')) ipvsadm.push(line);
  }
  return { ipvsadm: ipvsadm.join('\n'), ipset: ipset.join('\n'), iptables: iptables.join('\n') + (iptables.length ? '\n' : '') };
}

export function parseIpvsDump(text: string, family: IPFamily, source: string): IpvsState {
  return stateFromText(splitDump(text), family, source);
}

/**
 * `ipset list` (what most people run) -> the `ipset save` text of the same sets: `Name:`, `Type:` and `Header:`
 * give the create line, the lines after `Members:` the add lines.
 */
export function ipsetListToSave(text: string): string {
  const out: string[] = [];
  let name = '';
  let type = '';
  let inMembers = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const field = /^(Name|Type|Header|Members):\s*(.*)$/.exec(line);
    if (field && (field[1] !== 'Members' || name)) {
      if (field[1] === 'Name') [name, type, inMembers] = [field[2]!, '', false];
      else if (field[1] === 'Type') type = field[2]!;
      else if (field[1] === 'Header') out.push(`create ${name} ${type} ${field[2]}`.trim());
      else inMembers = true;
      continue;
    }
    if (!line) inMembers = false;
    else if (inMembers) out.push(`add ${name} ${line.split(/\s+/)[0]}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
