// What this process has made and not yet removed, so that cleanup happens even when a test forgets
// destroy() or the process ends early: a synchronous 'exit' hook (and SIGINT/SIGTERM/SIGHUP, which would
// otherwise end the process without 'exit') kills our processes and deletes our namespaces by name.
import { constants } from 'node:os';
import { removeNamespaceSync } from './cleanup.js';

const namespaces = new Set<string>();
const pids = new Set<number>();
let hooked = false;

export function trackNamespace(ns: string): void {
  installHooks();
  namespaces.add(ns);
}

export function forgetNamespace(ns: string): void {
  namespaces.delete(ns);
}

export function trackPid(pid: number): void {
  installHooks();
  pids.add(pid);
}

export function forgetPid(pid: number): void {
  pids.delete(pid);
}

function emergencyCleanup(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  pids.clear();
  for (const ns of [...namespaces].reverse()) removeNamespaceSync(ns);
  namespaces.clear();
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', emergencyCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Only when nobody else handles it: we must not change how the test runner reacts to signals.
    if (process.listenerCount(sig) > 0) continue;
    process.once(sig, () => {
      emergencyCleanup();
      process.exit(128 + constants.signals[sig]);
    });
  }
}
