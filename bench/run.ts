// `npm run bench [CASE…]`: runs every case (or the ones named) in its own process, prints a table and writes
// its rows into README.md between the bench markers: a row per case, replaced when that case runs again, each
// dated with the machine it ran on, so a case too long for one sitting keeps its last real figure. Figures in
// the README come only from here.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { bundledChild } from './bundled.js';
import { CASES } from './cases/index.js';
import type { BenchResult } from './types.js';

const ROOT = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const unknown = only.filter((id) => !(id in CASES));
if (unknown.length) {
  process.stderr.write(`no benchmark case ${unknown.join(', ')}; the cases are ${Object.keys(CASES).join(', ')}.\n`);
  process.exit(2);
}
const measured = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim().split(/\s+/).slice(0, 2).join(' ')}, Node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`;
const rows: string[] = [];
let failed = false;

for (const [id, c] of Object.entries(CASES)) {
  if (only.length && !only.includes(id)) continue;
  process.stderr.write(`bench ${id}: ${c.name} …\n`);
  const child = c.bundled ? [await bundledChild(ROOT)] : ['--import', 'tsx', join(ROOT, 'bench', 'child.ts')];
  const r = spawnSync(process.execPath, ['--expose-gc', ...child, id], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    failed = true;
    // the error's own line, not the "Node.js vX" a crashed child prints last
    const said = r.stderr.trim().split('\n').filter((l) => l.trim() && !/^Node\.js v/.test(l) && !/^\s+at /.test(l));
    const why = [...said].reverse().find((l) => /Error|error:/.test(l)) ?? said.at(-1) ?? `exit ${r.status ?? r.signal}`;
    process.stderr.write(r.stderr);
    rows.push(`| ${c.name} | failed: ${why.trim().replace(/\|/g, '\\|')} | | | | ${measured} |`);
    continue;
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as BenchResult;
  const okTime = c.targetMs === undefined || res.medianMs <= c.targetMs;
  const okRss = c.targetRssMB === undefined || res.maxRssMB <= c.targetRssMB;
  const missed = res.missed ?? [];
  if (!okTime || !okRss || missed.length) failed = true;
  const target = [c.targetMs !== undefined ? `≤ ${c.targetMs} ms` : '', c.targetRssMB !== undefined ? `≤ ${c.targetRssMB} MB` : ''].filter(Boolean).join(', ');
  rows.push(
    `| ${c.name} | ${res.medianMs.toFixed(1)} ms | ${Number.isNaN(res.maxRssMB) || res.maxRssMB === null ? '-' : `${res.maxRssMB.toFixed(0)} MB`} | ${target} | ${okTime && okRss && !missed.length ? 'met' : `**missed**${missed.length ? `: ${missed.join(', ')}` : ''}`}${res.detail ? ` (${res.detail})` : ''} | ${measured} |`,
  );
}

const HEADER = ['| benchmark | median | peak RSS | target | result | measured |', '| --- | --- | --- | --- | --- | --- |'];
process.stdout.write([...HEADER, ...rows].join('\n') + '\n');

// README: this run's rows replace the same cases' rows; the other cases keep theirs (in the cases' order)
const readme = join(ROOT, 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a >= 0 && b > a) {
  const nameOf = (row: string) => row.split(' | ')[0]!.replace(/^\| /, '');
  const kept = new Map(text.slice(a + start.length, b).split('\n').filter((l) => l.startsWith('| ') && l.split(' | ').length >= 6).map((l) => [nameOf(l), l]));
  for (const row of rows) kept.set(nameOf(row), row);
  const order = Object.values(CASES).map((c) => c.name);
  const all = order.filter((n) => kept.has(n)).map((n) => kept.get(n)!);
  const table = ['Median of repeated runs and peak RSS of the case\'s own process; each row says when and where it was measured.', '', ...HEADER, ...all].join('\n');
  writeFileSync(readme, text.slice(0, a + start.length) + '\n' + table + '\n' + text.slice(b));
}
process.exitCode = failed ? 1 : 0;
