// Running commands, always bounded in time: a hung iptables-restore or client must fail the test, not hang it.
import { TIMED_OUT, localRunner } from '../../../src/core/host/runner.js';

export interface ExecResult {
  /** exit code (124 when we killed it for running too long, 127 when it could not start) */
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

/** Run a command on this host (the caller decides which namespace through `ip netns exec`/`ip -n`), through host/'s runner. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const r = await localRunner({ timeoutMs: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS })([cmd, ...args], opts.input);
  // host/'s runner reports a process killed by a signal as 128 + 9, as a shell reports SIGKILL.
  return { code: r.code, signal: r.code === 137 ? 'SIGKILL' : null, stdout: r.stdout, stderr: r.stderr, timedOut: r.code === TIMED_OUT };
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
