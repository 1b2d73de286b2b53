// Runs `rules` or `trace` in a process of its own, as a user runs the CLI (the userspace mode is registered
// in the registry like every mode).
const [command, ...argv] = process.argv.slice(2);
const { default: Command } = command === 'rules' ? await import('../../../src/commands/rules.js') : await import('../../../src/commands/trace.js');
await Command.run(argv, { root: process.cwd() });
