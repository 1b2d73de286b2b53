// The built CLI as the kernel tests run it: bin/kubectl-proxymode, built once (npm run build) when dist/
// has no bundle yet, and a bounded synchronous run that returns its status and output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'kubectl-proxymode');

/** For a `before` hook: builds the CLI unless the file is skipped or the bundle is there. */
export function ensureBuiltCli(skip: string | false | undefined): void {
  if (skip || existsSync(join(ROOT, 'dist', 'kubectl-proxymode.cjs'))) return;
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** One run of the built CLI (killed after a minute). */
export function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
