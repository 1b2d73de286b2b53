// The bench's hold on a running proxier loop: each call of the returned function gives a promise of the
// next sync (take it BEFORE causing the change, so a fast sync is not missed). A failed sync is said.
import type { Proxier } from '../src/core/proxier/index.js';
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
