// Commands whose engine is not built yet validate their input, then say so plainly and exit 2.
import { PROXY_MODES } from '../core/config/index.js';
import { InputError, NotImplementedError } from '../core/errors.js';

/** Worded as core/config words an unknown --mode, so both read alike. */
export function checkMode(mode: string | undefined, what = '--mode'): void {
  if (mode !== undefined && !(PROXY_MODES as readonly string[]).includes(mode)) {
    throw new InputError(`${what} "${mode}" is not a proxy mode; use one of ${PROXY_MODES.join(', ')}.`);
  }
}

export function notBuilt(what: string): never {
  throw new NotImplementedError(what);
}
