// CLI start-up: `kubectl-proxymode --help` through the bundled executable, beside bare `node -e 0`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { measure } from '../measure.js';
import type { BenchCase } from '../types.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'kubectl-proxymode');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

export const startupHelp: BenchCase = {
  name: 'CLI start-up: --help (bundled executable)',
  targetMs: 150,
  async run() {
    const m = await measure(() => run(BIN, ['--help']), 21, 2);
    const node = await measure(() => run(process.execPath, ['-e', '0']), 11, 1);
    return { ...m, maxRssMB: NaN, detail: `bare node -e 0: ${node.medianMs.toFixed(0)} ms` };
  },
};
