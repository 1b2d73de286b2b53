// The bench's hold on a running proxier loop: each call of the returned function gives a promise of the
// next sync (take it BEFORE causing the change, so a fast sync is not missed). A failed sync is said.
import type { Proxier } from '../src/core/proxier/index.js';
import type { ClusterObjects } from '../src/core/proxier/changes.js';
import type { SyncRecord } from '../src/core/proxier/metrics.js';

export function syncWaiter(proxier: Proxier, onRecord: (r: SyncRecord) => void = () => {}): () => Promise<void> {
  let wake: (() => void) | undefined;
  proxier.onSync((r) => {
    if (!r.ok) process.stderr.write(`sync failed: ${r.error}\n`);
    onRecord(r);
    wake?.();
  });
  return () => new Promise<void>((r) => (wake = r));
}

/** Starts the loop on `objects`, waits for its first (full) sync, and returns the waiter for the next ones. */
export async function startLoop(proxier: Proxier, objects: ClusterObjects, onRecord?: (r: SyncRecord) => void): Promise<() => Promise<void>> {
  const next = syncWaiter(proxier, onRecord);
  const first = next();
  proxier.replaceObjects(objects);
  proxier.start();
  await first;
  return next;
}
