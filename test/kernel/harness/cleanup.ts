// Removing namespaces. A namespace is only gone once no process lives in it: `ip netns del` merely unmounts
// the name, so we kill what runs inside first (all of it was started by this harness), then delete BY NAME.
// Sync versions exist because the process 'exit' fallback cannot await.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { HARNESS_PREFIX, ownerPid } from './names.js';

const SYNC_TIMEOUT_MS = 5_000;

/** Names from `ip netns list` (each line is `name` or `name (id: N)`). */
export function listNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/** Pids of processes whose network namespace is `ns`. */
export function netnsPids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

/** True while /proc/<pid> exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 3, after the parenthesised command name, is the state; Z = zombie (dead, not yet reaped)
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function deleteName(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns], { timeout: SYNC_TIMEOUT_MS });
}

/** Kill everything in `ns` and delete it, without awaiting (for the exit fallback). */
export function removeNamespaceSync(ns: string): void {
  if (!existsSync(`/run/netns/${ns}`)) return;
  killAll(netnsPids(ns));
  deleteName(ns);
}

/** Kill everything in `ns`, wait (bounded) for those processes to be gone, then delete the name. */
export async function removeNamespace(ns: string, waitMs = 2_000): Promise<void> {
  if (!existsSync(`/run/netns/${ns}`)) return;
  const pids = netnsPids(ns);
  killAll(pids);
  await waitFor(() => pids.every((p) => !pidAlive(p)), waitMs);
  deleteName(ns);
}

/** Poll `cond` every few ms until true or `timeoutMs` passed; returns whether it became true. */
export async function waitFor(cond: () => boolean, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Remove namespaces left by crashed runs of this harness: names starting with `prefix` whose owner pid
 * (`<prefix><pid>-…`) is no longer a running node process. Live runs (parallel test files) are left alone,
 * and names not of our form are never touched. Returns the names removed.
 */
export function sweepStale(prefix: string = HARNESS_PREFIX): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const owner = ownerPid(ns, prefix);
    if (owner === undefined || ownerIsLive(owner)) continue;
    removeNamespaceSync(ns);
    removed.push(ns);
  }
  return removed;
}

function ownerIsLive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!pidAlive(pid)) return false;
  // A recycled pid belonging to something else is not our run; but be conservative with any node process.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return false;
  }
}
