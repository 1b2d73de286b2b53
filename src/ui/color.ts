// Colour only for a person at a terminal: never when piped, with NO_COLOR set, or with --no-color.
import { Chalk, type ChalkInstance } from 'chalk';

export function makeColor(opts: { noColor?: boolean; stream?: NodeJS.WriteStream }): ChalkInstance {
  const stream = opts.stream ?? process.stdout;
  const enabled = !opts.noColor && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && stream.isTTY === true;
  return new Chalk({ level: enabled ? 1 : 0 });
}
