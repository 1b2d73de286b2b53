// Every benchmark case, by id; later issues add theirs here.
import { iptablesPartial, iptablesRender } from './iptables.js';
import { modelBuild } from './model.js';
import { startupHelp } from './startup.js';
import type { BenchCase } from '../types.js';

export const CASES: Record<string, BenchCase> = {
  startup: startupHelp,
  model: modelBuild,
  iptables: iptablesRender,
  'iptables-partial': iptablesPartial,
};
