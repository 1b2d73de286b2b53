// A scripted CommandRunner: the commands a test expects, in order, each with its answer. Any other command,
// or a different stdin, fails the test; so does an expectation left unused (call done()).
import assert from 'node:assert/strict';
import type { CommandResult, CommandRunner } from '../../../src/core/host/index.js';

export interface Step {
  argv: string[];
  /** expected stdin; undefined = not checked */
  stdin?: string;
  result?: Partial<CommandResult>;
}

export interface Scripted {
  run: CommandRunner;
  /** every call made, in order */
  calls: Array<{ argv: string[]; stdin?: string }>;
  /** assert every step was used */
  done(): void;
}

export function scripted(steps: Step[]): Scripted {
  const queue = [...steps];
  const calls: Array<{ argv: string[]; stdin?: string }> = [];
  const run: CommandRunner = async (argv, stdin) => {
    calls.push({ argv: [...argv], stdin });
    const step = queue.shift();
    assert.ok(step, `unexpected command: ${argv.join(' ')}`);
    assert.deepEqual([...argv], step.argv, `command #${calls.length}`);
    if (step.stdin !== undefined) assert.equal(stdin, step.stdin, `stdin of ${argv.join(' ')}`);
    return { code: 0, stdout: '', stderr: '', ...step.result };
  };
  return { run, calls, done: () => assert.deepEqual(queue.map((s) => s.argv.join(' ')), [], 'commands expected but never run') };
}

/** A runner answering by argv (order free), for code that may skip steps; unknown commands exit 127. */
export function byArgv(answers: Record<string, Partial<CommandResult>>): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = async (argv) => {
    const key = argv.join(' ');
    calls.push(key);
    const a = answers[key];
    if (!a) return { code: 127, stdout: '', stderr: `spawn ${argv[0]} ENOENT\n` };
    return { code: 0, stdout: '', stderr: '', ...a };
  };
  return { run, calls };
}
