// oclif's explicit command strategy reads this map; aliases (get, set) come from each class.
import Mode from './mode.js';
import Rules from './rules.js';
import SetMode from './set-mode.js';
import Sync from './sync.js';
import Trace from './trace.js';
import Version from './version.js';
import Completion, { Complete } from './completion.js';
import Dump from './dump.js';

export const COMMANDS = {
  mode: Mode,
  rules: Rules,
  trace: Trace,
  'set-mode': SetMode,
  sync: Sync,
  version: Version,
  completion: Completion,
  dump: Dump,
  __complete: Complete,
};

/** Command ids and their aliases (get → mode), for the argv layer and completion. */
export function commandWords(): { ids: string[]; aliases: Record<string, string> } {
  const aliases: Record<string, string> = {};
  for (const [id, cmd] of Object.entries(COMMANDS)) for (const a of (cmd as { aliases?: string[] }).aliases ?? []) aliases[a] = id;
  return { ids: [...Object.keys(COMMANDS), 'help'], aliases };
}
