// Every command ends the same way on failure: one plain sentence on stderr and the exit code of
// the README; the stack only with --debug or DEBUG.
import { Command, type Interfaces } from '@oclif/core';
import { fetchURLs, isURL } from '../kube/files.js';

type FlagOutput = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- oclif's own types
type ArgOutput = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Input<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput> = Interfaces.Input<F, B, A>;
type ParserOutput<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput> = Interfaces.ParserOutput<F, B, A>;
import { ExitCode, ProxymodeError } from '../core/errors.js';
import { installInterruptHandlers } from '../kube/cleanup.js';
import { globalFlags } from './flags.js';
import { typedCommand } from './argv.js';

export abstract class ProxymodeCommand extends Command {
  static override baseFlags = globalFlags;

  // Ctrl-C (SIGINT) and SIGTERM delete what the command created in the cluster, then exit 130 / 143.
  override async init(): Promise<void> {
    installInterruptHandlers();
    await super.init();
  }

  // -f URL: fetched here, once, so every reader of -f paths stays synchronous.
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(options?: Input<F, B, A>, argv?: string[]): Promise<ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv);
    const files = (parsed.flags as { filename?: unknown }).filename;
    if (Array.isArray(files) && files.some((f) => typeof f === 'string' && isURL(f))) await fetchURLs(files as string[]);
    return parsed;
  }

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
      // a flag-constraint error's first line is only "The following error occurred:": its reasons follow
      const lines = err.message.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim()).filter((l) => l && !/^See more help/.test(l));
      const said = /occurred:$/.test(lines[0] ?? '') && lines.length > 1 ? lines.slice(1).join('; ') : (lines[0] ?? err.message);
      message = `${said}; see 'kubectl proxymode ${typedCommand() || this.id || ''} --help'.`.replace('  ', ' ');
    } else {
      code = ExitCode.USAGE;
      message = `unexpected failure: ${err.message.split('\n')[0]}; rerun with --debug and report it.`;
    }
    process.stderr.write(`error: ${message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = code;
  }
}
