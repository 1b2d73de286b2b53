// `sync` input errors through the built CLI: one sentence on stderr, exit 2, nothing on stdout, and nothing
// run on this host (each case is refused before any host tool is started).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxymode } from './run.js';

function refused(args: string[], pattern: RegExp): void {
  const r = proxymode(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(lines[0]!, pattern);
}

describe('sync: bad input', () => {
  it('--once, --dry-run and --cleanup are one each', () => {
    refused(['sync', '-f', 'examples/', '--once', '--dry-run'], /--once and --dry-run cannot be combined; give one\.$/);
  });

  it('an unknown mode, a bad namespace name, --on-node', () => {
    refused(['sync', '-f', 'examples/', '--mode', 'ebpf', '--once'], /--mode "ebpf" is not a proxy mode/);
    refused(['sync', '--cleanup', '--netns', 'a b'], /--netns "a b" is not a network namespace name/);
    refused(['sync', '-f', 'examples/', '--metrics-bind-address', 'localhost'], /--metrics-bind-address "localhost:10249" is not IP:PORT/);
    refused(['sync', '--on-node', 'worker-1', '-f', 'examples/'], /--on-node reads the cluster from inside the pod; leave out -f\./);
  });
});
