// The registry an interrupt deletes from: creates in flight are waited for, deletes run once, and what
// could not be deleted in time is named with the command that removes it. Progress lines without a terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanup, leftoverText } from '../../src/kube/cleanup.js';
import { Progress } from '../../src/ui/progress.js';

describe('cleanup registry', () => {
  it('waits for a create in flight, then deletes what it registered; unregistered items are not deleted again', async () => {
    const removed: string[] = [];
    let release!: () => void;
    const create = cleanup.creating(new Promise<string>((r) => setTimeout(() => r('pod-a'), 50))).then((name) => {
      release = cleanup.add({ description: `pod ${name}`, removeWith: `kubectl delete pod ${name}`, remove: async () => removed.push(name) });
      return name;
    });
    const done = cleanup.add({ description: 'pod gone', removeWith: 'kubectl delete pod gone', remove: async () => removed.push('gone') });
    done(); // deleted on the normal path already
    assert.equal(cleanup.busy, true);
    const left = await cleanup.removeAll(2000);
    await create;
    assert.deepEqual(left, []);
    assert.deepEqual(removed, ['pod-a']);
    release();
    assert.equal(cleanup.busy, false);
  });

  it('what cannot be deleted in time is left, and said with the command that removes it', async () => {
    const stuck = cleanup.add({ description: 'probe pod kube-system/p1 on node n1', removeWith: 'kubectl -n kube-system delete pod p1', remove: () => new Promise(() => undefined) });
    const left = await cleanup.removeAll(100);
    assert.equal(left.length, 1);
    assert.equal(leftoverText(left), 'still left: probe pod kube-system/p1 on node n1; remove it with: kubectl -n kube-system delete pod p1');
    stuck();
    assert.equal(leftoverText([]), 'nothing this command created is left.');
  });
});

describe('Progress without a terminal', () => {
  it('`say` writes whole lines, at most one per phase every few seconds; `update` stays silent', () => {
    let t = 0;
    const p = new Progress(false, false, 5000, () => t);
    const written: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as any).write = (s: string) => (written.push(s), true);
    try {
      p.update('reading nodes …');
      p.say('--probe: starting 3 probe pods …');
      p.say('--probe: waiting for probe pod a: Pending, 1s …');
      t = 1000;
      p.say('--probe: waiting for probe pod a: Pending, 2s …');
      t = 7000;
      p.say('--probe: waiting for probe pod a: Pending, 7s …');
      p.done();
    } finally {
      (process.stderr as any).write = orig;
    }
    assert.deepEqual(written, ['--probe: starting 3 probe pods …\n', '--probe: waiting for probe pod a: Pending, 1s …\n', '--probe: waiting for probe pod a: Pending, 7s …\n']);
  });
});
