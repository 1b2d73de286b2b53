// Deleting conntrack entries on a host with the conntrack tool (conntrack-tools). kube-proxy's
// pkg/proxy/conntrack ran one `conntrack -D …` per filter before it moved to netlink; we hand every filter
// of a sync to ONE process, `conntrack -R -` (--load-file, conntrack-tools 1.4.6+), which reads a command
// per line and parses them all before it runs any (a bad line: exit 2, nothing deleted; a filter that
// matches nothing is not an error there). A tool without -R, or a batch that fails, falls back to one
// process per filter, four at a time, where "0 flow entries have been deleted" (exit 1) is not a failure:
// the entry may simply have expired.
import { conntrackArgs, type ConntrackCleaner, type ConntrackDeletion } from '../proxier/conntrack.js';
import type { CommandRunner } from './backend.js';
import { commandFailure } from './errors.js';

/** Processes at once when the batch cannot be used (each is short; the machine may be small). */
export const CONNTRACK_CONCURRENCY = 4;

/** The `conntrack -R -` input for these deletions: one command line each. */
export function conntrackBatch(deletions: readonly ConntrackDeletion[]): string {
  return deletions.map((d) => `${conntrackArgs(d).join(' ')}\n`).join('');
}

export class ConntrackCommandBackend implements ConntrackCleaner {
  constructor(private readonly run: CommandRunner) {}

  /** Runs every deletion; throws one sentence naming the first that failed, after trying them all. */
  async clear(deletions: readonly ConntrackDeletion[]): Promise<void> {
    if (deletions.length === 0) return;
    const batch = await this.run(['conntrack', '-R', '-'], conntrackBatch(deletions));
    if (batch.code === 0) return;
    if (batch.code === 127) throw commandFailure(['conntrack', '-R', '-'], batch.code, batch.stderr, 'stale UDP conntrack entries could not be deleted');
    await this.oneByOne(deletions);
  }

  private async oneByOne(deletions: readonly ConntrackDeletion[]): Promise<void> {
    const failures: Array<Error | undefined> = new Array(deletions.length);
    let next = 0;
    const worker = async () => {
      while (next < deletions.length) {
        const i = next++;
        const argv = ['conntrack', ...conntrackArgs(deletions[i]!)];
        const r = await this.run(argv);
        if (r.code === 0 || /0 flow entries have been deleted/.test(r.stderr + r.stdout)) continue;
        failures[i] = commandFailure(argv, r.code, r.stderr, 'stale UDP conntrack entries could not be deleted');
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONNTRACK_CONCURRENCY, deletions.length) }, worker));
    const first = failures.find((f) => f !== undefined);
    if (first) throw first;
  }
}

/** The fake: records what would be deleted. */
export class FakeConntrack implements ConntrackCleaner {
  readonly deleted: ConntrackDeletion[] = [];
  async clear(deletions: readonly ConntrackDeletion[]): Promise<void> {
    this.deleted.push(...deletions);
  }
}
