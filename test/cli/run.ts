// Runs the built executable as a user would: bin/kubectl-proxymode, or `kubectl proxymode` with the
// bin folder on PATH. `npm test` builds first; run `npm run build` before running these alone.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'kubectl-proxymode');

if (!existsSync(join(ROOT, 'dist', 'kubectl-proxymode.cjs'))) {
  throw new Error('dist/kubectl-proxymode.cjs is missing: run `npm run build` first (npm test does).');
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An environment with no kubeconfig, no colour forcing and no debug, plus overrides. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: join(ROOT, 'test', 'cli', 'no-such-kubeconfig'), HOME: tmpdir() };
  for (const k of ['DEBUG', 'NO_COLOR', 'FORCE_COLOR', 'NODE_OPTIONS']) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function proxymode(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Result {
  const r = spawnSync(BIN, args, { cwd: ROOT, env: opts.env ?? cleanEnv(), input: opts.input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs real kubectl with a PATH that holds only our plugin besides the system's tools. */
export function kubectl(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Result {
  const dir = mkdtempSync(join(tmpdir(), 'proxymode-path-'));
  try {
    symlinkSync(BIN, join(dir, 'kubectl-proxymode'));
    const r = spawnSync('kubectl', args, { cwd: ROOT, env: { ...env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

/** Like proxymode(), without blocking the event loop, for tests that serve an API from this process. */
export function proxymodeAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; viaKubectl?: boolean } = {}): Promise<Result> {
  return new Promise((resolvePromise) => {
    let dir: string | undefined;
    let cmd = BIN;
    let argv = args;
    let env = opts.env ?? cleanEnv();
    if (opts.viaKubectl) {
      dir = mkdtempSync(join(tmpdir(), 'proxymode-path-'));
      symlinkSync(BIN, join(dir, 'kubectl-proxymode'));
      cmd = 'kubectl';
      argv = ['proxymode', ...args];
      env = { ...env, PATH: `${dir}:${process.env.PATH}` };
    }
    execFile(cmd, argv, { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}
