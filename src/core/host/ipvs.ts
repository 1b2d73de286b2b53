// IPVS on a host: probe support as kube-proxy does, read the table (ipvsadm -Sn / -Ln --stats / --rate) and
// what else the node holds of ours, and run an ipvs plan (ipvs/plan.ts: what to change, and in which order
// so that no traffic is black-holed, is decided there). A failure stops the run and says which part failed
// (IpvsApplyError.part); the parts before it stay applied, which is safe by the plan's order.
import { ClusterError } from '../errors.js';
import type { IptablesBackend } from './backend.js';
import type { CommandRunner } from './backend.js';
import { commandFailure } from './errors.js';
import { IpsetCommandBackend } from './ipset.js';
import type { IpvsProbe } from '../ipvs/fallback.js';
import { requiredModules } from '../ipvs/fallback.js';
import { DUMMY_DEVICE } from '../ipvs/names.js';
import { isKubeIpset, parseIpvsadmSave, parseIpvsadmList, mergeIpvsLists } from '../ipvs/parse.js';
import { IPVS_PARTS, planIpvs, type IpvsPart, type IpvsPlan } from '../ipvs/plan.js';
import type { IpvsState, VirtualServer } from '../ipvs/types.js';

/** A part of the plan (ipvs/plan.ts), or reading what the node holds before it. */
export type IpvsApplyPart = IpvsPart | 'read';

export class IpvsApplyError extends ClusterError {
  constructor(
    readonly part: IpvsApplyPart,
    override readonly cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message.replace(/\.$/, '') : String(cause);
    super(
      part === 'read'
        ? `reading the node's ipvs state failed (${why}); nothing was changed — fix the cause and sync again.`
        : `applying the ipvs rules failed at step "${part}" (${why}); the steps before it are applied and traffic keeps flowing through them — fix the cause and sync again.`,
    );
  }
}

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

  /** Creates kube-ipvs0 (a dummy device, down, as kube-proxy's EnsureDummyDevice) unless it exists; true when made. */
  async ensureDevice(device = DUMMY_DEVICE): Promise<boolean> {
    if ((await this.run(['ip', 'link', 'show', 'dev', device])).code === 0) return false;
    const argv = ['ip', 'link', 'add', device, 'type', 'dummy'];
    const r = await this.run(argv);
    if (r.code !== 0 && !/File exists/.test(r.stderr)) throw commandFailure(argv, r.code, r.stderr, `${device} could not be created`);
    return r.code === 0;
  }

  async boundAddresses(device = DUMMY_DEVICE): Promise<string[] | null> {
    const r = await this.run(['ip', '-o', 'addr', 'show', 'dev', device]);
    if (r.code !== 0) return null;
    return [...r.stdout.matchAll(/\binet6?\s+([^/\s]+)\//g)].map((m) => m[1]!);
  }
}

export interface IpvsApplyOptions {
  ipvs: IpvsCommandBackend;
  iptables: IptablesBackend;
  /** Create kube-ipvs0 when it is missing (`ip link add kube-ipvs0 type dummy`); default true. */
  ensureDevice?: boolean;
  /** Skip the IPVS steps (e.g. a kernel without IP_VS where only the other parts are checked). */
  skipIpvs?: boolean;
  /** Skip binding and unbinding addresses (no kube-ipvs0 possible). */
  skipAddresses?: boolean;
  /** The order the plan's parts run in (default IPVS_PARTS, the plan's own). */
  order?: readonly IpvsPart[];
}

/**
 * What the node holds of `next`'s family, as the state a plan starts from: its virtual servers, the
 * addresses on kube-ipvs0 (null: no such device) and kube-proxy's ipsets; the companion rules are not
 * read (the plan rewrites them whole, as kube-proxy does).
 */
export async function readIpvsState(family: IpvsState['family'], run: CommandRunner, opts: IpvsApplyOptions): Promise<{ state: IpvsState; device: boolean }> {
  const v6 = family === 'IPv6';
  const ipsets = (await opts.ipvs.ipset.list()).filter((s) => isKubeIpset(s.name, family));
  const virtualServers = opts.skipIpvs ? [] : parseIpvsadmSave(await opts.ipvs.save()).filter((v) => v.address.includes(':') === v6);
  const bound = opts.skipAddresses ? [] : await opts.ipvs.boundAddresses();
  const addresses = (bound ?? []).filter((a) => a.includes(':') === v6);
  const state: IpvsState = { family, virtualServers, addresses, ipsets, iptables: { family, tables: [] }, jumps: [], timeouts: null };
  return { state, device: opts.skipAddresses === true || bound !== null };
}

/** Runs a plan's steps in order, part by part; resolves the parts walked (those skipped left out). */
export async function applyIpvsPlan(plan: IpvsPlan, run: CommandRunner, opts: IpvsApplyOptions): Promise<{ steps: IpvsApplyPart[] }> {
  const done: IpvsApplyPart[] = [];
  for (const part of opts.order ?? IPVS_PARTS) {
    if ((part === 'ipvs' && opts.skipIpvs) || (part === 'addresses' && opts.skipAddresses)) continue;
    try {
      for (const s of plan.steps) {
        if (s.part !== part || (s.tool === 'ipvsadm' && opts.skipIpvs) || (s.tool === 'ip' && opts.skipAddresses)) continue;
        switch (s.tool) {
          case 'ipset':
            await opts.ipvs.ipset.restore(s.text());
            break;
          case 'ipvsadm':
            await opts.ipvs.restore(s.text());
            break;
          case 'iptables-restore':
            await opts.iptables.apply(plan.iptables);
            break;
          case 'iptables':
            for (const o of s.operations) {
              const j = o.jump!;
              if (o.op === 'ensure chain') await opts.iptables.ensureChain(plan.family, j.table, j.target);
              else await opts.iptables.ensureRule(plan.family, j.table, j.chain, j.words, j.position);
            }
            break;
          case 'ip': {
            const argv = ['ip', '-batch', '-'];
            const r = await run(argv, s.text());
            if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, part === 'addresses' ? 'service addresses could not be bound' : 'stale service addresses could not be unbound');
            break;
          }
        }
      }
    } catch (e) {
      throw new IpvsApplyError(part, e);
    }
    done.push(part);
  }
  return { steps: done };
}

/** Reads what the node holds, plans the change to `state` and runs it (see applyIpvsPlan). */
export async function applyIpvsState(state: IpvsState, run: CommandRunner, opts: IpvsApplyOptions): Promise<{ steps: IpvsApplyPart[]; plan: IpvsPlan }> {
  let current: Awaited<ReturnType<typeof readIpvsState>>;
  try {
    current = await readIpvsState(state.family, run, opts);
  } catch (e) {
    throw new IpvsApplyError('read', e);
  }
  if (!current.device && opts.ensureDevice === false) throw new IpvsApplyError('read', new Error(`${DUMMY_DEVICE} does not exist`));
  const plan = planIpvs(current.state, state, { deviceExists: current.device });
  return { ...(await applyIpvsPlan(plan, run, opts)), plan };
}
