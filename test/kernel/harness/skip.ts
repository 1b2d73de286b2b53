// Deciding whether kernel tests can run here, and saying why not where CI output shows it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { HARNESS_PREFIX } from './names.js';

/** Is `tool` an executable in PATH? (`ip netns exec` resolves commands through the same PATH.) */
export function hasTool(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

let netnsProbe: string | undefined | null = null; // null = not probed yet

/** Really make, enter and delete a namespace once per process: listing proves nothing about permission. */
function probeNetns(): string | undefined {
  if (netnsProbe !== null) return netnsProbe;
  const ns = `${HARNESS_PREFIX}${process.pid}-probe`; // owner-pid form, so sweepStale clears it after a crash
  const opts = { encoding: 'utf8' as const, timeout: 5_000 };
  const add = spawnSync('ip', ['netns', 'add', ns], opts);
  if (add.status !== 0) {
    netnsProbe = `\`ip netns add\` failed: ${(add.stderr || add.error?.message || '').trim()}`;
    return netnsProbe;
  }
  const run = spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], opts);
  spawnSync('ip', ['netns', 'del', ns], opts);
  netnsProbe = run.status === 0 ? undefined : `\`ip netns exec\` failed: ${(run.stderr || '').trim()}`;
  return netnsProbe;
}

/** Why kernel tests cannot run here (not root, no usable `ip netns`, a tool missing), or undefined. */
export function kernelSkipReason(tools: readonly string[] = []): string | undefined {
  if (process.platform !== 'linux') return `kernel tests need Linux (this is ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `kernel tests need root (running as uid ${uid})`;
  // the harness itself needs these to build topologies
  const base = ['ip', 'sysctl'].filter((t) => !hasTool(t));
  if (base.length > 0) return `kernel tests need ${base.join(' and ')} in PATH`;
  const netns = probeNetns();
  if (netns) return `network namespaces unusable: ${netns}`;
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length > 0) return `missing tools: ${missing.join(', ')}`;
  return undefined;
}

/** Print a skip reason so it shows in CI logs (the test runner turns it into a `#` comment line); returns it. */
export function announceSkip(reason: string | undefined, what: string): string | undefined {
  if (reason) console.log(`SKIP ${what}: ${reason}`);
  return reason;
}

/** For `test(name, { skip: kernelSkip([...], name) }, …)`: the reason, already printed. */
export function kernelSkip(tools: readonly string[], what = 'kernel tests'): string | undefined {
  return announceSkip(kernelSkipReason(tools), what);
}

/** Inside a test: skip it (with the reason printed and as a diagnostic) when the kernel or tools are not usable. */
export function skipUnlessKernel(t: TestContext, tools: readonly string[] = []): boolean {
  const reason = kernelSkipReason(tools);
  if (!reason) return false;
  announceSkip(reason, t.name);
  t.diagnostic(reason);
  t.skip(reason);
  return true;
}
