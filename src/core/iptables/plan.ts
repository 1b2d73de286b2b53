// The change from what a host holds to what it should hold, as data: an ordered list of the operations
// of one iptables-restore script (`*table`, chain declarations and flushes, `-A` rules, `-X` deletions,
// `COMMIT`; operations.ts), full or partial as kube-proxy writes it (partial.ts decides what goes in).
// Its text is the script itself, line for line: a dry run prints exactly what the host would run, and
// host/ runs it (`iptables-restore --noflush`) or, in tests, applies the operations themselves (host/fake.ts).

import type { PlanOptions } from '../modes/types.js';
import { portProtoHash } from './names.js';
import { IptablesPlanWriter, type IptablesPlan } from './operations.js';
import { writePartial } from './partial.js';
import type { Ruleset } from './types.js';

export type { IptablesOp, IptablesOperation, IptablesPlan } from './operations.js';

export interface IptablesPlanOptions extends PlanOptions {
  /** Delete stale service chains (default true; upstream skips it in large clusters between cleanups). */
  deleteStale?: boolean;
}

/**
 * Upstream's change trackers name service ports ("ns/name:port"); their chains are named after the
 * port's name and protocol, which the key does not carry, so each is looked for under every protocol.
 */
export function changedHashes(changed: Iterable<string>): Set<string> {
  const hashes = new Set<string>();
  for (const key of changed) for (const protocol of ['tcp', 'udp', 'sctp']) hashes.add(portProtoHash(key, protocol));
  return hashes;
}

/**
 * kube-proxy's sync from `previous` (what the host holds; undefined: nothing known, a full sync) to
 * `next`: with `changed`, exactly those service ports' chains are rewritten; without it, those whose
 * chains differ; with `full`, all of them (see partial.ts). Stale service chains are deleted.
 */
export function planIptables(previous: Ruleset | undefined, next: Ruleset, opts: IptablesPlanOptions = {}): IptablesPlan {
  const w = new IptablesPlanWriter();
  const full = previous === undefined || opts.full === true;
  writePartial(previous, next, { full, hashes: opts.changed === undefined ? undefined : changedHashes(opts.changed), deleteStale: opts.deleteStale ?? true }, w);
  return w.plan(next.family, full);
}
