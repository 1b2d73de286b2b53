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
