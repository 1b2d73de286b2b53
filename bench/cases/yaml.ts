// A 50 MB `kubectl get -o yaml` input (29,000 Services, 290,000 endpoints) read as -f reads it: file to
// located objects. The input is written by bench/yaml-gen.ts in its own process first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocated } from '../../src/kube/files.js';
import { measure } from '../measure.js';
import type { BenchCase } from '../types.js';

export const yamlInput: BenchCase = {
  name: 'read -f YAML: 29,000 services / 290,000 endpoints (kubectl get -o yaml)',
  targetMs: 3000,
  targetRssMB: 600,
  async run() {
    const file = join(mkdtempSync(join(tmpdir(), 'proxymode-bench-yaml-')), 'cluster.yaml');
    const gen = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'yaml-gen.ts'), file, '29000', '10'], { encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`yaml-gen failed: ${gen.stderr}`);
    let count = 0;
    const m = await measure(() => {
      count = readLocated([file]).objects.length;
    }, 3, 1);
    return { ...m, detail: `${(statSync(file).size / 1e6).toFixed(0)} MB, ${count} objects` };
  },
};
