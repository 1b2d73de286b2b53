// Running commands, always bounded in time: a hung iptables-restore or client must fail the test, not hang it.
import { spawn } from 'node:child_process';

export interface ExecResult {
  /** exit code, or null when killed by a signal */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** true when we killed it because it ran past timeoutMs */
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  /** SIGKILL after this long; default 30 s (a big ruleset load takes seconds, never minutes at test sizes) */
  timeoutMs?: number;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/** Run a command on this host (the caller decides which namespace through `ip netns exec`/`ip -n`). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let spawnError: Error | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A tool that exits before reading all its input gives EPIPE here; its exit code tells the story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? `${spawnError.message}\n` : '');
      resolve({
        code: spawnError ? 127 : code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
        timedOut,
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Run argv inside network namespace `ns` (`ip netns exec`), e.g. `exec(ns, ['nft', '-f', '-'], script)`. */
export function exec(ns: string, argv: readonly string[], input?: string, opts: Omit<RunOptions, 'input'> = {}): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, ...argv], { ...opts, input });
}

/** Like exec, but a non-zero exit (or a time-out) throws with the command and its stderr. */
export async function execOk(ns: string, argv: readonly string[], input?: string, opts: Omit<RunOptions, 'input'> = {}): Promise<ExecResult> {
  const r = await exec(ns, argv, input, opts);
  if (r.code !== 0) throw new Error(describeFailure(`[${ns}] ${argv.join(' ')}`, r));
  return r;
}

/** Feed `ip` commands to one `ip -n ns -batch -`: one process per namespace, stops at the first error. */
export async function ipBatch(ns: string, lines: readonly string[]): Promise<void> {
  const r = await run('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n', timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(describeFailure(`ip -n ${ns} -batch:\n  ${lines.join('\n  ')}\n`, r));
}

export function describeFailure(what: string, r: ExecResult): string {
  const how = r.timedOut ? 'timed out' : r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `${what} failed (${how}): ${r.stderr.trim() || r.stdout.trim()}`;
}
