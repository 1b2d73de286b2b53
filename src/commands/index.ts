// oclif's explicit command strategy reads this map; aliases (get, set) come from each class.
import Mode from './mode.js';
import Rules from './rules.js';
import SetMode from './set-mode.js';
import Sync from './sync.js';
import Trace from './trace.js';
import Version from './version.js';

export const COMMANDS = {
  mode: Mode,
  rules: Rules,
  trace: Trace,
  'set-mode': SetMode,
  sync: Sync,
  version: Version,
};
