// The change from what a node holds to what kube-proxy's ipvs proxier should hold, as data: the scripts of
// the tools that program it, each a list of operations, in an order that never black-holes traffic:
//
//   ipsets     `ipset restore -exist`: create the sets, add new members (nothing removed yet)
//   ipvs       `ipvsadm -R`: add or edit virtual and real servers; real servers no longer wanted are
//              drained to weight 0 (graceful termination) rather than removed
//   iptables   the companion rules, a planIptables plan (`iptables-restore --noflush`), then the jumps
//              from the built-in chains, each chain and rule added unless present
//   addresses  `ip -batch -`: bind the new service addresses to kube-ipvs0 (creating it when missing)
//   cleanup    `ipvsadm -R`: delete the stale real and virtual servers; `ip -batch -`: unbind stale
//              addresses; `ipset restore -exist`: delete stale members
//
// A VIP is only bound (and so only attracts traffic) once its virtual server and the rules that accept
// it exist, and nothing is removed before its replacement is in place. The plan's text is the scripts in
// that order, each after a `#` line naming the command that takes it; host/ipvs.ts runs them.

import type { IPFamily, Plan, PlanOperation, PlanOptions } from '../modes/types.js';
import { planIptables, type IptablesPlan } from '../iptables/plan.js';
import type { JumpRule } from '../iptables/render/jumps.js';
import { quoteRestoreWord } from '../iptables/serialize.js';
import { DUMMY_DEVICE } from './names.js';
import { joinHostPort } from '../net/ip.js';
import { ipsetCreateLine, virtualServerLines } from './serialize.js';
import type { IPSet, IpvsProtocol, IpvsState, VirtualServer } from './types.js';

/** The stages of an ipvs sync, in the order they run. */
export type IpvsPart = 'ipsets' | 'ipvs' | 'iptables' | 'addresses' | 'cleanup';

export const IPVS_PARTS: readonly IpvsPart[] = ['ipsets', 'ipvs', 'iptables', 'addresses', 'cleanup'];

/** The tool a step's script is for. */
export type IpvsTool = 'ipset' | 'ipvsadm' | 'iptables-restore' | 'iptables' | 'ip';

export interface IpvsOperation extends PlanOperation {
  /** For 'ensure chain' and 'ensure rule': the jump rule it ensures. */
  jump?: JumpRule;
}

/** One tool's script within an ipvs plan. */
export interface IpvsPlanStep {
  part: IpvsPart;
  tool: IpvsTool;
  /** The command that takes the script on its standard input ("ipvsadm -R"), or runs each line. */
  command: string;
  operations: IpvsOperation[];
  /** The script: the operations' lines. */
  text(): string;
}

export interface IpvsPlan extends Plan {
  mode: 'ipvs';
  /** The steps with something to do, in order. */
  steps: IpvsPlanStep[];
  /** The companion iptables rules (also the operations of the 'iptables-restore' step). */
  iptables: IptablesPlan;
}

export interface IpvsPlanOptions extends PlanOptions {
  /** kube-ipvs0 exists on the node (default true); when not, the addresses step creates it first. */
  deviceExists?: boolean;
}

const PROTO_FLAG: Record<IpvsProtocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

function op(o: string, object: string, text: string): IpvsOperation {
  return { op: o, object, text };
}

function step(part: IpvsPart, tool: IpvsTool, command: string, operations: IpvsOperation[]): IpvsPlanStep {
  return { part, tool, command, operations, text: () => operations.map((o) => o.text + '\n').join('') };
}

function vsKey(v: VirtualServer): string {
  return `${v.protocol} ${joinHostPort(v.address, v.port)}`;
}

function vsObject(v: VirtualServer): string {
  return `${joinHostPort(v.address, v.port)}/${v.protocol}`;
}

function prefixLength(address: string): number {
  return address.includes(':') ? 128 : 32;
}

/** The ipset operations: every set created (-exist), its missing members added; stale members for later. */
function ipsetOperations(wanted: readonly IPSet[], current: readonly IPSet[]): { add: IpvsOperation[]; remove: IpvsOperation[] } {
  const have = new Map(current.map((s) => [s.name, new Set(s.members)]));
  const add: IpvsOperation[] = [];
  const remove: IpvsOperation[] = [];
  for (const set of wanted) {
    const members = have.get(set.name) ?? new Set<string>();
    add.push(op('create set', `ipset ${set.name}`, ipsetCreateLine(set)));
    for (const m of set.members) if (!members.has(m)) add.push(op('add member', `ipset ${set.name}`, `add ${set.name} ${m}`));
    const want = new Set(set.members);
    for (const m of members) if (!want.has(m)) remove.push(op('delete member', `ipset ${set.name}`, `del ${set.name} ${m}`));
  }
  return { add, remove };
}

/** The ipvsadm operations: additions and edits first, stale real servers drained; removals for later. */
function ipvsOperations(current: readonly VirtualServer[], wanted: readonly VirtualServer[]): { upsert: IpvsOperation[]; remove: IpvsOperation[] } {
  const cur = new Map(current.map((v) => [vsKey(v), v]));
  const want = new Set(wanted.map(vsKey));
  const upsert: IpvsOperation[] = [];
  const drain: IpvsOperation[] = [];
  const remove: IpvsOperation[] = [];
  for (const v of wanted) {
    const id = `${PROTO_FLAG[v.protocol]} ${joinHostPort(v.address, v.port)}`;
    const c = cur.get(vsKey(v));
    const [head, ...rs] = virtualServerLines(v);
    if (!c) {
      upsert.push(op('add virtual server', vsObject(v), head!));
      v.realServers.forEach((r, i) => upsert.push(op('add real server', `${vsObject(v)} -> ${joinHostPort(r.address, r.port)}`, rs[i]!)));
      continue;
    }
    if (c.scheduler !== v.scheduler || c.persistentTimeout !== v.persistentTimeout || c.schedFlags.join(',') !== v.schedFlags.join(',')) {
      upsert.push(op('edit virtual server', vsObject(v), head!.replace(/^-A/, '-E')));
    }
    const curRs = new Map(c.realServers.map((r) => [joinHostPort(r.address, r.port), r]));
    const wantRs = new Set(v.realServers.map((r) => joinHostPort(r.address, r.port)));
    for (const r of v.realServers) {
      const hp = joinHostPort(r.address, r.port);
      const had = curRs.get(hp);
      const line = `${id} -r ${hp} -m -w ${r.weight}`;
      if (!had) upsert.push(op('add real server', `${vsObject(v)} -> ${hp}`, `-a ${line}`));
      else if (had.weight !== r.weight) upsert.push(op('edit real server', `${vsObject(v)} -> ${hp}`, `-e ${line}`));
    }
    for (const hp of curRs.keys()) {
      if (wantRs.has(hp)) continue;
      drain.push(op('drain real server', `${vsObject(v)} -> ${hp}`, `-e ${id} -r ${hp} -m -w 0`));
      remove.push(op('delete real server', `${vsObject(v)} -> ${hp}`, `-d ${id} -r ${hp}`));
    }
  }
  for (const [k, c] of cur) if (!want.has(k)) remove.push(op('delete virtual server', vsObject(c), `-D ${PROTO_FLAG[c.protocol]} ${joinHostPort(c.address, c.port)}`));
  return { upsert: [...upsert, ...drain], remove };
}

/** The jumps from the built-in chains, each chain and rule as the command that adds it (run unless present). */
function jumpOperations(jumps: readonly JumpRule[], family: IPFamily): IpvsOperation[] {
  const tool = family === 'IPv6' ? 'ip6tables' : 'iptables';
  const out: IpvsOperation[] = [];
  for (const j of jumps) {
    out.push({ ...op('ensure chain', `${j.table}/${j.target}`, `${tool} -t ${j.table} -N ${j.target}`), jump: j });
    const words = j.words.map(quoteRestoreWord).join(' ');
    out.push({ ...op('ensure rule', `${j.table}/${j.chain}`, `${tool} -t ${j.table} ${j.position === 'prepend' ? '-I' : '-A'} ${j.chain} ${words}`), jump: j });
  }
  return out;
}

/**
 * The ipvs sync from `previous` (what the node holds: its virtual servers, kube-ipvs0 addresses, kube
 * ipsets and, when known, companion rules; undefined: nothing of ours) to `next`, in the order above.
 */
export function planIpvs(previous: IpvsState | undefined, next: IpvsState, opts: IpvsPlanOptions = {}): IpvsPlan {
  const family = next.family;
  const ipsets = ipsetOperations(next.ipsets, previous?.ipsets ?? []);
  const ipvs = ipvsOperations(previous?.virtualServers ?? [], next.virtualServers);
  const iptables = planIptables(previous !== undefined && previous.iptables.tables.length > 0 ? previous.iptables : undefined, next.iptables, opts);
  const had = new Set(previous?.addresses ?? []);
  const want = new Set(next.addresses);
  const bind = next.addresses.filter((a) => !had.has(a)).map((a) => op('bind address', `${DUMMY_DEVICE} ${a}`, `addr add ${a}/${prefixLength(a)} dev ${DUMMY_DEVICE}`));
  if (opts.deviceExists === false) bind.unshift(op('create device', DUMMY_DEVICE, `link add ${DUMMY_DEVICE} type dummy`));
  const unbind = (previous?.addresses ?? []).filter((a) => !want.has(a)).map((a) => op('unbind address', `${DUMMY_DEVICE} ${a}`, `addr del ${a}/${prefixLength(a)} dev ${DUMMY_DEVICE}`));

  const restore: IpvsPlanStep = {
    part: 'iptables',
    tool: 'iptables-restore',
    command: `${family === 'IPv6' ? 'ip6tables' : 'iptables'}-restore --noflush`,
    get operations() {
      return iptables.operations;
    },
    text: () => iptables.text(),
  };
  const steps = [
    step('ipsets', 'ipset', 'ipset restore -exist', ipsets.add),
    step('ipvs', 'ipvsadm', 'ipvsadm -R', ipvs.upsert),
    restore,
    step('iptables', 'iptables', `${family === 'IPv6' ? 'ip6tables' : 'iptables'} (each chain and rule unless present)`, jumpOperations(next.jumps, family)),
    step('addresses', 'ip', 'ip -batch -', bind),
    step('cleanup', 'ipvsadm', 'ipvsadm -R', ipvs.remove),
    step('cleanup', 'ip', 'ip -batch -', unbind),
    step('cleanup', 'ipset', 'ipset restore -exist', ipsets.remove),
  ].filter((s) => s.operations.length > 0);
  return {
    mode: 'ipvs',
    family,
    full: previous === undefined || opts.full === true,
    steps,
    iptables,
    get operations() {
      return steps.flatMap((s) => s.operations);
    },
    text: () => steps.map((s) => `# ${s.command}\n${s.text()}`).join(''),
  };
}
