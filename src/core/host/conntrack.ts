// Deleting conntrack entries on a host with the conntrack tool (conntrack-tools), as kube-proxy's
// pkg/proxy/conntrack did before it moved to netlink: one `conntrack -D …` per filter. "0 flow entries
// have been deleted" (exit 1) is not a failure: the entry may simply have expired.
import { conntrackArgs, type ConntrackCleaner, type ConntrackDeletion } from '../proxier/conntrack.js';
import type { CommandRunner } from './backend.js';
import { commandFailure } from './errors.js';

export class ConntrackCommandBackend implements ConntrackCleaner {
  constructor(private readonly run: CommandRunner) {}

  /** Runs every deletion; throws one sentence naming the first that failed, after trying them all. */
  async clear(deletions: readonly ConntrackDeletion[]): Promise<void> {
    let first: Error | undefined;
    for (const d of deletions) {
      const argv = ['conntrack', ...conntrackArgs(d)];
      const r = await this.run(argv);
      if (r.code === 0 || /0 flow entries have been deleted/.test(r.stderr + r.stdout)) continue;
      first ??= commandFailure(argv, r.code, r.stderr, 'stale UDP conntrack entries could not be deleted');
    }
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
