// Cases marked `bundled` run on the product's code as it ships: bench/child.ts and what it imports bundled by
// esbuild with the options scripts/build.mjs gives the CLI, instead of through tsx, whose transform names
// every function at run time (keepNames) — a cost the shipped bundle does not have, and a large one for code
// that makes closures per packet. Built once per `npm run bench`, into .bench-tmp/ (git-ignored).
import { build } from 'esbuild';
import { join } from 'node:path';

let built: Promise<string> | undefined;

/** The bundled child's path (building it on first use). */
export function bundledChild(root: string): Promise<string> {
  built ??= (async () => {
    const outfile = join(root, '.bench-tmp', 'child.mjs');
    await build({
      entryPoints: [join(root, 'bench', 'child.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minifySyntax: true,
      logLevel: 'warning',
      // npm packages stay imports, found from .bench-tmp/ in the project's node_modules
      packages: 'external',
    });
    return outfile;
  })();
  return built;
}
