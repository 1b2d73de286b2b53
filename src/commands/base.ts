// Every command ends the same way on failure: one plain sentence on stderr and the exit code of
// the README; the stack only with --debug or DEBUG.
import { Command } from '@oclif/core';
import { ExitCode, ProxymodeError } from '../core/errors.js';
import { globalFlags } from './flags.js';

export abstract class ProxymodeCommand extends Command {
  static override baseFlags = globalFlags;

  protected override async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    const debug = process.argv.includes('--debug') || Boolean(process.env.DEBUG);
    let code: number;
    let message: string;
    if (err instanceof ProxymodeError) {
      code = err.exitCode;
      message = err.message;
    } else if (err.oclif?.exit !== undefined) {
      // oclif's own usage errors (unknown flag, missing argument, bad option value).
      if (err.oclif.exit === 0) return;
      code = ExitCode.USAGE;
      message = `${err.message.split('\n')[0]}; see 'kubectl proxymode ${this.id ?? ''} --help'.`.replace('  ', ' ');
    } else {
      code = ExitCode.USAGE;
      message = `unexpected failure: ${err.message.split('\n')[0]}; rerun with --debug and report it.`;
    }
    process.stderr.write(`error: ${message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = code;
  }
}
