// The bench's hold on a running proxier loop: each call of the returned function gives a promise of the
// next sync (take it BEFORE causing the change, so a fast sync is not missed). A failed sync is said.
import { setDefaults } from '../src/core/config/index.js';
import { localRunner, netnsRunner } from '../src/core/host/runner.js';
import { modeFor } from '../src/core/modes/registry.js';
import { modeHost, type Proxier } from '../src/core/proxier/index.js';
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

/**
 * The nftables loop the two latency cases run in namespace `ns` (kube-proxy 1.36's layout). minSyncPeriod 1ms
 * (0 is defaulted to 1 s, as upstream does): the cases measure the loop's own latency, not the rate limit (a
 * lone change after a quiet second is not delayed by it either).
 */
export async function nftablesLoop(ns: string) {
  const nftables = modeFor('nftables', 'bench');
  const cfg = setDefaults({ mode: 'nftables', clusterCIDR: '10.128.0.0/9', hostnameOverride: 'node-0', nftables: { minSyncPeriod: '1ms', syncPeriod: '1h' } } as never);
  const host = await modeHost(nftables, { run: netnsRunner(ns, localRunner({ timeoutMs: 1_800_000 })), description: ns, kubeProxyVersion: '1.36' }, cfg);
  return { nftables, cfg, host };
}
