// host/runner.ts with real processes: a death by signal is reported as a shell does (128 + the signal's
// number) and said in stderr, so a crashed tool is never "no error output"; a timeout is 124.
import assert from 'node:assert/strict';
import test from 'node:test';
import { TIMED_OUT, localRunner } from '../../../src/core/host/runner.js';

test('a process killed by a signal: 128 + its number, and the signal named', async () => {
  const segv = await localRunner()(['sh', '-c', 'kill -SEGV $$']);
  assert.equal(segv.code, 139);
  assert.equal(segv.stderr, 'killed by SIGSEGV\n');
  const term = await localRunner()(['sh', '-c', 'echo bye >&2; kill -TERM $$']);
  assert.equal(term.code, 143);
  assert.equal(term.stderr, 'bye\nkilled by SIGTERM\n');
});

test('a normal exit keeps its code and says nothing more; a timeout is 124, not a signal', async () => {
  const one = await localRunner()(['sh', '-c', 'exit 3']);
  assert.deepEqual(one, { code: 3, stdout: '', stderr: '' });
  const slow = await localRunner({ timeoutMs: 50 })(['sleep', '5']);
  assert.equal(slow.code, TIMED_OUT);
  assert.equal(slow.stderr, 'timed out after 50 ms\n');
});

test('the bound grows with the input: a tool given MBs of rules is not killed at the base timeout', async () => {
  // 200 ms base + 1.2 s for these 10 KB: the sleep (0.5 s) outlives the base but not the grown bound
  const input = 'x'.repeat(10_000);
  const r = await localRunner({ timeoutMs: 200 })(['sh', '-c', 'cat >/dev/null; sleep 0.5'], input);
  assert.equal(r.code, 0, r.stderr);
  const bare = await localRunner({ timeoutMs: 200 })(['sh', '-c', 'cat >/dev/null; sleep 5'], input);
  assert.equal(bare.code, TIMED_OUT, 'past the grown bound it is still ended');
});
