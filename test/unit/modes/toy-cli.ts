// Runs `rules`, `trace` or `sync` in a process of its own with the toy mode registered: the one line below is
// all the toy needs to be known to every command.
import { registerMode } from '../../../src/core/modes/registry.js';
import { toy } from './toy-mode.js';

registerMode(toy);

const [command, ...argv] = process.argv.slice(2);
const commands = { rules: () => import('../../../src/commands/rules.js'), trace: () => import('../../../src/commands/trace.js'), sync: () => import('../../../src/commands/sync.js') };
const { default: Command } = await commands[command as keyof typeof commands]();
await Command.run(argv, { root: process.cwd() });
