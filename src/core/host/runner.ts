// Command runners: how host/ code reaches a host. Every command is bounded in time, so a hung tool fails
// the sync instead of hanging it.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { CommandResult, CommandRunner } from './backend.js';

export interface RunnerOptions {
  /** SIGKILL after this long, plus INPUT_MS_PER_MB for each MB of standard input (default 60 s). */
  timeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/**
 * Loading rules takes time in proportion to their size, far beyond any fixed bound at 10,000 services:
 * `nft -f` of a 56 MB transaction took 37–73 s here, and iptables-nft-restore 1.8.9 --noflush of 33 MB
 * (kube-proxy's own invocation) past 30 minutes. kube-proxy waits for either as long as it takes; so does
 * this runner, up to a bound that still ends a tool that hangs: 2 minutes per MB it was given.
 */
export const INPUT_MS_PER_MB = 120_000;

/** Exit status reported for a command we killed because it ran past its time (as coreutils `timeout`). */
export const TIMED_OUT = 124;
/** Exit status reported for a command that could not be started (as a shell does). */
export const NOT_STARTED = 127;

/** Runs commands on this host. */
export function localRunner(opts: RunnerOptions = {}): CommandRunner {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return (argv, stdin) => spawnOnce(argv, stdin, timeoutMs + Math.ceil(((stdin?.length ?? 0) / 1e6) * INPUT_MS_PER_MB));
}

/** Runs commands inside network namespace `ns` (`ip netns exec NS …`), through `base` (default: this host). */
export function netnsRunner(ns: string, base: CommandRunner = localRunner()): CommandRunner {
  return (argv, stdin) => base(['ip', 'netns', 'exec', ns, ...argv], stdin);
}

function spawnOnce(argv: readonly string[], stdin: string | undefined, timeoutMs: number): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.resolve({ code: NOT_STARTED, stdout: '', stderr: 'no command given\n' });
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
    // A tool that exits before reading all its input gives EPIPE; its exit status tells the story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let stderr = Buffer.concat(err).toString('utf8');
      // a signal's death as a shell reports it (128 + its number) and said, so a crash is not "no error output"
      let status = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      if (signal && !timedOut) stderr += `killed by ${signal}\n`;
      if (spawnError) {
        stderr += `${spawnError.message}\n`;
        status = NOT_STARTED;
      } else if (timedOut) {
        stderr += `timed out after ${timeoutMs} ms\n`;
        status = TIMED_OUT;
      }
      resolve({ code: status, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}
