// ipset on a host, through a CommandRunner: read every set (`ipset save`), and run the `ipset restore`
// scripts of an ipvs plan (ipvs/plan.ts decides them: sets created and members added first, stale members
// deleted only after the rules stop using them; no set is ever flushed).
import type { IPSet } from '../ipvs/types.js';
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

  async destroy(names: readonly string[]): Promise<void> {
    for (const n of names) await this.run(['ipset', 'destroy', n]);
  }
}
