// IPVS on a host: probe support as kube-proxy does, read the table (ipvsadm -Sn / -Ln --stats / --rate), and
// apply an ipvs-mode state in an order that never black-holes traffic:
//
//   1. ipsets     create sets, add new members (nothing removed yet)
//   2. IPVS       add/edit virtual servers and real servers (`ipvsadm -R` of the changes only)
//   3. iptables   the companion rules (iptables-restore --noflush) and the jump rules
//   4. addresses  bind new service IPs to kube-ipvs0
//   then clean-up: stale real servers (weight 0 first, as graceful termination) and virtual servers,
//   stale addresses, stale ipset members.
//
// A VIP is only bound (and so only attracts traffic) once its virtual server and the rules that accept it
// exist; nothing is removed before its replacement is in place. A failure stops the apply and says which
// part failed (IpvsApplyError.part); the parts before it stay applied, which is safe by the order above.
import { ClusterError } from '../errors.js';
import type { IptablesBackend } from './backend.js';
import type { CommandRunner } from './backend.js';
import { commandFailure } from './errors.js';
import { IpsetCommandBackend } from './ipset.js';
import { serializeRestore } from '../iptables/serialize.js';
import type { IpvsProbe } from '../ipvs/fallback.js';
import { requiredModules } from '../ipvs/fallback.js';
import { DUMMY_DEVICE } from '../ipvs/names.js';
import { parseIpvsadmSave, parseIpvsadmList, mergeIpvsLists } from '../ipvs/parse.js';
import { hostPort, virtualServerLines } from '../ipvs/serialize.js';
import type { IpvsState, VirtualServer } from '../ipvs/types.js';

export type IpvsApplyPart = 'ipsets' | 'ipvs' | 'iptables' | 'addresses' | 'cleanup';

export class IpvsApplyError extends ClusterError {
  constructor(
    readonly part: IpvsApplyPart,
    override readonly cause: unknown,
  ) {
    super(`applying the ipvs rules failed at step "${part}" (${cause instanceof Error ? cause.message.replace(/\.$/, '') : String(cause)}); the steps before it are applied and traffic keeps flowing through them — fix the cause and sync again.`);
  }
}

const PROTO_FLAG = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;

/** The dummy virtual server kube-proxy's CanUseIPVSProxier creates (TEST-NET-2). */
export const PROBE_VIRTUAL_SERVER = '198.51.100.0:20000';

/**
 * Gathers what kube-proxy checks: module lists (/proc/modules, modules.builtin) after trying modprobe for
 * the missing ones, whether `ipvsadm -Ln` works, whether a dummy virtual server with the scheduler can be
 * made (then removed), and the ipset version.
 */
export async function probeIpvsSupport(run: CommandRunner, scheduler: string): Promise<IpvsProbe> {
  const modules = new Set<string>();
  let readable = false;
  const procModules = await run(['cat', '/proc/modules']);
  if (procModules.code === 0) {
    readable = true;
    for (const line of procModules.stdout.split('\n')) if (line.trim()) modules.add(line.split(/\s+/)[0]!);
  }
  const uname = await run(['uname', '-r']);
  const builtin = await run(['cat', `/lib/modules/${uname.stdout.trim()}/modules.builtin`]);
  if (builtin.code === 0) {
    readable = true;
    for (const line of builtin.stdout.split('\n')) {
      const m = /([^/]+)\.ko(\.\w+)?$/.exec(line.trim());
      if (m) modules.add(m[1]!.replace(/-/g, '_'));
    }
  }
  for (const m of requiredModules(scheduler)) {
    if (modules.has(m)) continue;
    const r = await run(['modprobe', '--', m]);
    if (r.code === 0) modules.add(m);
  }
  const list = await run(['ipvsadm', '-Ln']);
  const ipvsAvailable = list.code === 0;
  const probe: IpvsProbe = { ipvsAvailable, schedulerUsable: null, modules: [...modules].sort(), moduleListsReadable: readable, ipsetVersion: await new IpsetCommandBackend(run).version() };
  if (!ipvsAvailable) {
    const lines = list.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const init = lines.find((l) => /^Can't initialize ipvs:/.test(l));
    probe.ipvsError = init ? init.replace(/^Can't initialize ipvs:\s*/, '') : lines[0] ?? `exit ${list.code}`;
  }
  else {
    const sched = scheduler === '' ? 'rr' : scheduler;
    if (new RegExp(`^TCP\\s+\\S+\\s+${sched}\\b`, 'm').test(list.stdout)) probe.schedulerUsable = true;
    else {
      const add = await run(['ipvsadm', '-A', '-t', PROBE_VIRTUAL_SERVER, '-s', sched]);
      probe.schedulerUsable = add.code === 0;
      if (add.code === 0) await run(['ipvsadm', '-D', '-t', PROBE_VIRTUAL_SERVER]);
      else probe.schedulerError = add.stderr.trim() || `exit ${add.code}`;
    }
  }
  return probe;
}

export class IpvsCommandBackend {
  readonly ipset: IpsetCommandBackend;
  constructor(private readonly run: CommandRunner) {
    this.ipset = new IpsetCommandBackend(run);
  }

  private async ok(argv: string[], what: string, stdin?: string): Promise<string> {
    const r = await this.run(argv, stdin);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, what);
    return r.stdout;
  }

  /** `ipvsadm -Sn`: the table as ipvsadm-restore input. */
  save(): Promise<string> {
    return this.ok(['ipvsadm', '-Sn'], 'the IPVS table could not be read');
  }

  /** `ipvsadm -Ln` joined with `--stats` and `--rate` (connection counts, packets, rates). */
  async listWithCounters(): Promise<VirtualServer[]> {
    const [plain, stats, rate] = await Promise.all([
      this.ok(['ipvsadm', '-Ln'], 'the IPVS table could not be read'),
      this.ok(['ipvsadm', '-Ln', '--stats', '--exact'], 'the IPVS statistics could not be read'),
      this.ok(['ipvsadm', '-Ln', '--rate', '--exact'], 'the IPVS rates could not be read'),
    ]);
    return mergeIpvsLists(parseIpvsadmList(plain), parseIpvsadmList(stats), parseIpvsadmList(rate));
  }

  restore(text: string): Promise<string> {
    return this.ok(['ipvsadm', '-R'], 'the IPVS table could not be written', text);
  }

  async boundAddresses(device = DUMMY_DEVICE): Promise<string[] | null> {
    const r = await this.run(['ip', '-o', 'addr', 'show', 'dev', device]);
    if (r.code !== 0) return null;
    return [...r.stdout.matchAll(/\binet6?\s+([^/\s]+)\//g)].map((m) => m[1]!);
  }
}

/** Which IPVS changes bring `current` to `wanted` (wanted's families only), as ipvsadm-restore lines. */
export function ipvsChanges(current: readonly VirtualServer[], wanted: readonly VirtualServer[]): { upsert: string; drain: string; remove: string } {
  const key = (v: VirtualServer) => `${v.protocol} ${hostPort(v.address, v.port)}`;
  const cur = new Map(current.map((v) => [key(v), v]));
  const want = new Set(wanted.map(key));
  let upsert = '';
  let drain = '';
  let remove = '';
  for (const v of wanted) {
    const id = `${PROTO_FLAG[v.protocol]} ${hostPort(v.address, v.port)}`;
    const c = cur.get(key(v));
    const [head, ...rs] = virtualServerLines(v);
    if (!c) {
      upsert += [head, ...rs].join('\n') + '\n';
      continue;
    }
    if (c.scheduler !== v.scheduler || c.persistentTimeout !== v.persistentTimeout || c.schedFlags.join(',') !== v.schedFlags.join(',')) upsert += head!.replace(/^-A/, '-E') + '\n';
    const curRs = new Map(c.realServers.map((r) => [hostPort(r.address, r.port), r]));
    const wantRs = new Set(v.realServers.map((r) => hostPort(r.address, r.port)));
    for (const r of v.realServers) {
      const had = curRs.get(hostPort(r.address, r.port));
      const line = `${id} -r ${hostPort(r.address, r.port)} -m -w ${r.weight}`;
      if (!had) upsert += `-a ${line}\n`;
      else if (had.weight !== r.weight) upsert += `-e ${line}\n`;
    }
    for (const [hp] of curRs) if (!wantRs.has(hp)) {
      drain += `-e ${id} -r ${hp} -m -w 0\n`;
      remove += `-d ${id} -r ${hp}\n`;
    }
  }
  for (const [k, c] of cur) if (!want.has(k)) remove += `-D ${PROTO_FLAG[c.protocol]} ${hostPort(c.address, c.port)}\n`;
  return { upsert, drain, remove };
}

export interface IpvsApplyOptions {
  ipvs: IpvsCommandBackend;
  iptables: IptablesBackend;
  /** Create kube-ipvs0 when it is missing (`ip link add kube-ipvs0 type dummy`); default true. */
  ensureDevice?: boolean;
  /** Skip the IPVS step (e.g. a kernel without IP_VS where only the other parts are checked). */
  skipIpvs?: boolean;
  /** Skip binding addresses (no kube-ipvs0 possible). */
  skipAddresses?: boolean;
}

/** Applies one family's state in the safe order; throws IpvsApplyError naming the part that failed. */
export async function applyIpvsState(state: IpvsState, run: CommandRunner, opts: IpvsApplyOptions): Promise<{ steps: IpvsApplyPart[] }> {
  const steps: IpvsApplyPart[] = [];
  const step = async (part: IpvsApplyPart, fn: () => Promise<void>) => {
    try {
      await fn();
      steps.push(part);
    } catch (e) {
      throw new IpvsApplyError(part, e);
    }
  };
  let stale = new Map<string, string[]>();
  let changes = { upsert: '', drain: '', remove: '' };
  await step('ipsets', async () => {
    stale = (await opts.ipvs.ipset.addMissing(state.ipsets)).stale;
  });
  if (!opts.skipIpvs) {
    await step('ipvs', async () => {
      const current = parseIpvsadmSave(await opts.ipvs.save()).filter((v) => v.address.includes(':') === (state.family === 'IPv6'));
      changes = ipvsChanges(current, state.virtualServers);
      if (changes.upsert) await opts.ipvs.restore(changes.upsert);
      if (changes.drain) await opts.ipvs.restore(changes.drain);
    });
  }
  await step('iptables', async () => {
    await opts.iptables.restore(state.family, serializeRestore(state.iptables), { noflush: true });
    for (const j of state.jumps) {
      await opts.iptables.ensureChain(state.family, j.table, j.target);
      await opts.iptables.ensureRule(state.family, j.table, j.chain, j.words, j.position);
    }
  });
  let unbind: string[] = [];
  if (!opts.skipAddresses) {
    await step('addresses', async () => {
      let have = await opts.ipvs.boundAddresses();
      if (have === null) {
        if (opts.ensureDevice === false) throw new Error(`${DUMMY_DEVICE} does not exist`);
        const r = await run(['ip', 'link', 'add', DUMMY_DEVICE, 'type', 'dummy']);
        if (r.code !== 0) throw commandFailure(['ip', 'link', 'add', DUMMY_DEVICE, 'type', 'dummy'], r.code, r.stderr, `${DUMMY_DEVICE} could not be created`);
        have = [];
      }
      const want = new Set(state.addresses);
      const batch = state.addresses.filter((a) => !have!.includes(a)).map((a) => `addr add ${a}/${a.includes(':') ? 128 : 32} dev ${DUMMY_DEVICE}\n`).join('');
      if (batch) {
        const r = await run(['ip', '-batch', '-'], batch);
        if (r.code !== 0) throw commandFailure(['ip', '-batch', '-'], r.code, r.stderr, 'service addresses could not be bound');
      }
      unbind = have.filter((a) => !want.has(a) && a.includes(':') === (state.family === 'IPv6'));
    });
  }
  await step('cleanup', async () => {
    if (changes.remove) await opts.ipvs.restore(changes.remove);
    if (unbind.length) await run(['ip', '-batch', '-'], unbind.map((a) => `addr del ${a}/${a.includes(':') ? 128 : 32} dev ${DUMMY_DEVICE}\n`).join(''));
    await opts.ipvs.ipset.deleteMembers(stale);
  });
  return { steps };
}
