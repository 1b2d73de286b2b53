// ipset on a host, through a CommandRunner: read every set (`ipset save`), and bring kube-proxy's sets to a
// wanted state the way its syncIPSetEntries does — create missing sets (-exist), add missing members, and
// only afterwards (a separate call, so callers can order it after the rules that stop using them) delete
// members no longer wanted. No set is ever flushed, so no packet meets an emptied set.
import type { IPSet } from '../ipvs/types.js';
import { ipsetCreateLine, serializeIpsetSave } from '../ipvs/serialize.js';
import { parseIpsetSave } from '../ipvs/parse.js';
import type { CommandRunner } from './backend.js';
import { commandFailure } from './errors.js';

export class IpsetCommandBackend {
  constructor(private readonly run: CommandRunner) {}

  async save(): Promise<string> {
    const argv = ['ipset', 'save'];
    const r = await this.run(argv);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, 'the ipsets could not be read');
    return r.stdout;
  }

  async list(): Promise<IPSet[]> {
    return parseIpsetSave(await this.save(), 'ipset save');
  }

  async version(): Promise<string | null> {
    const r = await this.run(['ipset', '--version']);
    const m = /v(\d+\.\d+)/.exec(r.stdout + r.stderr);
    return r.code === 0 && m ? m[1]! : null;
  }

  /** `ipset restore -exist` of a script; throws naming the command on failure. */
  async restore(script: string): Promise<void> {
    if (!script.trim()) return;
    const argv = ['ipset', 'restore', '-exist'];
    const r = await this.run(argv, script);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, 'the ipsets could not be written');
  }

  /** Creates missing sets and adds missing members; returns the members to delete later, per set. */
  async addMissing(wanted: readonly IPSet[]): Promise<{ stale: Map<string, string[]> }> {
    const current = new Map((await this.list()).map((s) => [s.name, s]));
    const { script, stale } = ipsetAddScript(wanted, current);
    await this.restore(script);
    return { stale };
  }

  async deleteMembers(stale: Map<string, string[]>): Promise<void> {
    await this.restore(ipsetDeleteScript(stale));
  }

  async destroy(names: readonly string[]): Promise<void> {
    for (const n of names) await this.run(['ipset', 'destroy', n]);
  }
}

/** The `ipset restore` script that creates the sets and adds what they miss, and what would then be stale. */
export function ipsetAddScript(wanted: readonly IPSet[], current: Map<string, IPSet>): { script: string; stale: Map<string, string[]> } {
  let script = '';
  const stale = new Map<string, string[]>();
  for (const set of wanted) {
    const have = new Set(current.get(set.name)?.members ?? []);
    script += ipsetCreateLine(set) + '\n';
    for (const m of set.members) if (!have.has(m)) script += `add ${set.name} ${m}\n`;
    const want = new Set(set.members);
    const gone = [...have].filter((m) => !want.has(m));
    if (gone.length) stale.set(set.name, gone);
  }
  return { script, stale };
}

export function ipsetDeleteScript(stale: Map<string, string[]>): string {
  let script = '';
  for (const [name, members] of stale) for (const m of members) script += `del ${name} ${m}\n`;
  return script;
}

export { serializeIpsetSave };
