// `npm run bench`: runs every case in its own process, prints a table and writes it into README.md
// between the bench markers. Figures in the README come only from here.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CASES } from './cases/index.js';
import type { BenchResult } from './types.js';

const ROOT = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const rows: string[] = [];
let failed = false;

for (const [id, c] of Object.entries(CASES)) {
  if (only.length && !only.includes(id)) continue;
  process.stderr.write(`bench ${id}: ${c.name} …\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', 'child.ts'), id], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    failed = true;
    rows.push(`| ${c.name} | failed: ${r.stderr.trim().split('\n').pop()} | | | |`);
    continue;
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as BenchResult;
  const okTime = c.targetMs === undefined || res.medianMs <= c.targetMs;
  const okRss = c.targetRssMB === undefined || res.maxRssMB <= c.targetRssMB;
  if (!okTime || !okRss) failed = true;
  const target = [c.targetMs !== undefined ? `≤ ${c.targetMs} ms` : '', c.targetRssMB !== undefined ? `≤ ${c.targetRssMB} MB` : ''].filter(Boolean).join(', ');
  rows.push(
    `| ${c.name} | ${res.medianMs.toFixed(1)} ms | ${Number.isNaN(res.maxRssMB) || res.maxRssMB === null ? '-' : `${res.maxRssMB.toFixed(0)} MB`} | ${target} | ${okTime && okRss ? 'met' : '**missed**'}${res.detail ? ` (${res.detail})` : ''} |`,
  );
}

const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; median of repeated runs, peak RSS of the case's own process.`,
  '',
  '| benchmark | median | peak RSS | target | result |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
process.stdout.write(table + '\n');

if (!only.length) {
  const readme = join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a >= 0 && b > a) writeFileSync(readme, text.slice(0, a + start.length) + '\n' + table + '\n' + text.slice(b));
}
process.exitCode = failed ? 1 : 0;
