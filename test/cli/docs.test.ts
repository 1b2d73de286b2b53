// The README and the help are true: every `kubectl proxymode …` line in README.md's and examples/README.md's
// code blocks, and every example of every command's --help, runs on the shipped examples/ (examples/README.md
// names the saved rule dumps the trace examples read). One that needs a cluster is run with none configured and
// must fail with exit 3 and one sentence.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, cleanEnv, proxymode, ROOT } from './run.js';

/** `kubectl proxymode …` as bash runs it (quotes, comments), with kubectl a shim for the plugin. */
function runLine(line: string, cwd: string) {
  const script = `kubectl() { shift; "${BIN}" "$@"; }\n${line}`;
  const r = spawnSync('bash', ['-c', script], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A working folder where the documents' paths resolve: examples/ itself, and a cluster/ saved as the README says. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxymode-docs-'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'cluster'));
  for (const f of ['node1.iptables-save', 'node1.ipvs-dump']) copyFileSync(join(ROOT, 'examples', f), join(dir, f));
  mkdirSync(join(dir, 'bundle'));
  return dir;
}

function check(line: string, cwd: string): void {
  const r = runLine(line, cwd);
  const lines = r.stderr.trim().split('\n').filter(Boolean);
  assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|unexpected failure/, `${line}\n${r.stderr}`);
  const needsCluster = !/(^|\s)(-f|--filename|--rules)\s/.test(line) && !/\s(completion|version|help|--help)\b/.test(line);
  if (needsCluster) {
    assert.equal(r.code, 3, `${line}: expected exit 3 without a cluster\n${r.stderr}`);
    assert.equal(lines.length, 1, `${line}\n${r.stderr}`);
    assert.match(lines[0]!, /^error: no cluster is configured/);
  } else {
    assert.ok(r.code === 0 || r.code === 1, `${line}: exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stdout.length > 0, `${line}: printed nothing`);
    assert.ok(!lines.some((l) => l.startsWith('error:')), `${line}\n${r.stderr}`);
  }
}

function readmeCommands(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const block of text.matchAll(/```(?:sh)?\n([\s\S]*?)```/g)) {
    for (const l of block[1]!.split('\n')) {
      const m = /(?:^|;\s*|&&\s*)(kubectl proxymode [^\n;&]*)/.exec(l);
      if (m) out.push(m[1]!.trim());
    }
  }
  return out;
}

describe('the README is true', () => {
  const dir = workdir();
  for (const file of ['README.md', 'examples/README.md']) {
    const commands = readmeCommands(file);
    it(`${file}: every kubectl proxymode command runs (${commands.length})`, () => {
      assert.ok(commands.length >= 2, `found ${commands.length} commands in ${file}`);
      for (const c of commands) check(c, dir);
    });
  }
});

describe('every --help example is true', () => {
  const dir = workdir();
  const root = proxymode(['--help']).stdout;
  const ids = [...root.slice(root.indexOf('COMMANDS')).matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
  it('finds the commands', () => assert.ok(ids.includes('trace') && ids.includes('dump') && ids.includes('completion'), ids.join(' ')));
  for (const id of ids) {
    it(`${id}`, () => {
      const help = proxymode([id, '--help']).stdout;
      const examples = help.includes('EXAMPLES') ? help.slice(help.indexOf('EXAMPLES')) : '';
      for (const l of examples.split('\n')) {
        const m = /kubectl proxymode [^)|>]*/.exec(l);
        if (m && l.trimStart().startsWith('$')) check(m[0].trim(), dir);
      }
    });
  }
});

describe('before a build', () => {
  it('bin/kubectl-proxymode says to build, in one sentence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxymode-unbuilt-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, join(dir, 'bin', 'kubectl-proxymode'));
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'kubectl-proxymode'), 'get'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^error: kubectl-proxymode is not built yet .*run `npm ci && npm run build`/);
  });
});

describe('the Node version stated is what the dependencies accept', () => {
  it('package.json engines and the README name the highest minimum of the production dependencies', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }> };
    let need = 0;
    for (const [path, p] of Object.entries(lock.packages)) {
      const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (!path || p.dev || !range) continue;
      need = Math.max(need, Math.min(...range.split('||').map((alt) => Number(/\d+/.exec(alt)?.[0] ?? 0))));
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, `>=${need}`);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, new RegExp(`Node\\.js ${need} or newer`));
    assert.doesNotMatch(readme, new RegExp(`Node\\.js (?!${need})\\d+(\\+| or newer)`));
  });
});
