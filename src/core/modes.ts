// The registry of proxy modes: each mode's engine, so commands never switch on the mode themselves.
import type { ProxyMode } from './config/index.js';
import { NotImplementedError } from './errors.js';
import { iptablesEngine, type IptablesEngine } from './iptables/engine.js';

const ENGINES: Partial<Record<ProxyMode, IptablesEngine>> = {
  iptables: iptablesEngine,
};

/** The engine for a mode, or a one-sentence NotImplementedError naming what is missing. */
export function engineFor(mode: ProxyMode, what: string): IptablesEngine {
  const engine = ENGINES[mode];
  if (!engine) throw new NotImplementedError(`${what} for mode ${mode}`);
  return engine;
}
