// Bundles the whole CLI into one CommonJS file, dist/kubectl-proxymode.cjs, that bin/ runs.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/kubectl-proxymode.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __PROXYMODE_VERSION__: JSON.stringify(pkg.version) },
});

// V8 code cache for the bundle, made by running `--help` once so the functions start-up needs are in it.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
rmSync('dist/kubectl-proxymode.cjs.v8cache', { force: true });
const warm = spawnSync('bin/kubectl-proxymode', ['--help'], { env: { ...process.env, PROXYMODE_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
if (warm.status !== 0) throw new Error('bin/kubectl-proxymode --help failed while writing the code cache');
