// Runs `rules` or `trace` in a process of its own with the toy mode registered: the one line below is
// all the toy needs to be known to every command.
import { registerMode } from '../../../src/core/modes/registry.js';
import { toy } from './toy-mode.js';

registerMode(toy);

const [command, ...argv] = process.argv.slice(2);
const { default: Command } = command === 'rules' ? await import('../../../src/commands/rules.js') : await import('../../../src/commands/trace.js');
await Command.run(argv, { root: process.cwd() });
