// A proxy mode named on the command line (set-mode's argument, sync's --mode), worded as config words it.
import { PROXY_MODES } from '../core/config/index.js';
import { InputError } from '../core/errors.js';

/** Worded as core/config words an unknown --mode, so both read alike. */
export function checkMode(mode: string | undefined, what = '--mode'): void {
  if (mode !== undefined && !(PROXY_MODES as readonly string[]).includes(mode)) {
    throw new InputError(`${what} "${mode}" is not a proxy mode; use one of ${PROXY_MODES.join(', ')}.`);
  }
}
