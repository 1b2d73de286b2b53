// The Dockerfile (no Docker engine here, so its promises are checked one by one): slim Node 22 on Debian 13, the
// netfilter tools sync runs, only package.json, bin/ and dist/ copied, the CLI as entrypoint — and those
// files alone, without node_modules, run `sync` (the bundle carries prom-client and the rest).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { ROOT } from './run.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'));

test('Dockerfile: slim Node 22 on Debian 13 (nft 1.1.3) with the tools sync runs', () => {
  // named, not node:22-slim (Debian 12): the base's Debian release decides which nft writes kube-proxy's tables
  assert.equal(instructions[0], 'FROM node:22-trixie-slim');
  const run = instructions.find((l) => l.startsWith('RUN '))!;
  for (const pkg of ['iptables', 'nftables', 'ipset', 'ipvsadm', 'conntrack', 'iproute2', 'nfacct']) assert.match(run, new RegExp(`\\s${pkg}(\\s|$)`), pkg);
  assert.match(run, /rm -rf \/var\/lib\/apt\/lists/);
  assert.match(instructions.at(-2)!, /^ENTRYPOINT \["\/opt\/kubectl-proxymode\/bin\/kubectl-proxymode"\]$/);
});

test('Dockerfile: what it copies is enough to run sync without node_modules', () => {
  const copies = instructions.filter((l) => l.startsWith('COPY ')).map((l) => l.split(/\s+/)[1]!.replace(/\/$/, ''));
  assert.deepEqual(copies.sort(), ['bin', 'dist', 'package.json']);
  assert.ok(existsSync(join(ROOT, 'dist', 'kubectl-proxymode.cjs')), 'npm run build first (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'pm-image-'));
  try {
    for (const c of copies) cpSync(join(ROOT, c), join(dir, c), { recursive: true });
    const r = spawnSync(join(dir, 'bin', 'kubectl-proxymode'), ['sync', '--help'], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--healthz-bind-address/);
    const bad = spawnSync(join(dir, 'bin', 'kubectl-proxymode'), ['sync', '-f', join(ROOT, 'examples'), '--netns', 'a b', '--once'], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--netns "a b" is not a network namespace name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
