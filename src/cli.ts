// The bundle's entry. oclif's configuration is passed in code, so the bundled file runs with no
// package.json or node_modules beside it; the explicit command strategy makes oclif load COMMANDS
// from this very file (the bundle answers oclif's require of itself from Node's module cache).
import { execute } from '@oclif/core';
import { commandWords, COMMANDS } from './commands/index.js';
import { prepareArgv } from './commands/argv.js';
import { VERSION } from './version.js';

export { COMMANDS };

const PJSON = {
  name: 'kubectl-proxymode',
  version: VERSION,
  description: 'kube-proxy, explained: which mode each node runs, its rules, and where a packet to a Service goes.',
  oclif: {
    bin: 'kubectl proxymode',
    dirname: 'kubectl-proxymode',
    topicSeparator: ' ',
    commands: { strategy: 'explicit', target: './kubectl-proxymode.cjs', identifier: 'COMMANDS' },
    helpOptions: { hideAliasesFromRoot: false },
  },
};

export async function run(argv: string[], bundleDir: string): Promise<void> {
  // A reader that stops early (`| head -1`) closes the pipe: that ends the command quietly, as it does
  // for kubectl, not with Node's EPIPE error and exit 13.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
  const prepared = prepareArgv(argv, commandWords());
  if ('error' in prepared) {
    process.stderr.write(`error: ${prepared.error}\n`);
    process.exitCode = 2;
    return;
  }
  await execute({ args: prepared.argv, loadOptions: { root: bundleDir, pjson: PJSON as never } });
}
