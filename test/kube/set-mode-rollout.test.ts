// kubectl's DaemonSet rollout status, and set-mode's backups on disk.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { daemonSetRolloutStatus } from '../../src/kube/rollout.js';
import { latestBackup, writeBackup, type Backup } from '../../src/kube/set-mode-api.js';

const ds = (status: object, generation = 2, strategy = 'RollingUpdate') => ({ metadata: { name: 'kube-proxy', generation }, spec: { updateStrategy: { type: strategy } }, status });

describe('daemonSetRolloutStatus (kubectl rollout status)', () => {
  it('waits for the new generation, then updated pods, then available ones', () => {
    assert.deepEqual(daemonSetRolloutStatus(ds({ observedGeneration: 1, desiredNumberScheduled: 3 })), { done: false, status: 'waiting for daemon set "kube-proxy" spec update to be observed' });
    assert.deepEqual(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 })).status, '1 out of 3 new pods have been updated');
    assert.deepEqual(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).status, '2 of 3 updated pods are available');
    assert.deepEqual(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 })), { done: true, status: 'daemon set "kube-proxy" successfully rolled out' });
  });

  it('an OnDelete DaemonSet never rolls by itself, and says so', () => {
    const r = daemonSetRolloutStatus(ds({ observedGeneration: 2 }, 2, 'OnDelete'));
    assert.equal(r.done, false);
    assert.match(r.status, /OnDelete update strategy/);
  });
});

describe('backups', () => {
  const b = (takenAt: string, server = 'https://a:6443'): Backup => ({ version: 1, server, context: 'c', takenAt, mode: '', kind: 'ConfigMap', namespace: 'kube-system', name: 'kube-proxy', key: 'config.conf', text: `t ${takenAt}`, object: {} });

  it('never overwrite one another, and --rollback finds the newest of this cluster', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxymode-bk-'));
    writeBackup(dir, b('2026-12-01T10:00:00.000Z'));
    writeBackup(dir, b('2026-12-01T10:00:00.000Z'));
    writeBackup(dir, b('2026-12-01T11:00:00.000Z', 'https://other:6443'));
    assert.equal(readdirSync(dir).length, 3);
    const last = writeBackup(dir, b('2026-12-01T10:30:00.000Z'));
    assert.equal(latestBackup(dir, 'https://a:6443')?.file, last);
    assert.equal(latestBackup(dir, 'https://nowhere:6443'), undefined);
    assert.equal(latestBackup(join(dir, 'missing'), 'https://a:6443'), undefined);
  });

  it('an unwritable folder stops with one sentence before anything is changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxymode-bk-'));
    writeFileSync(join(dir, 'a-file'), '');
    assert.throws(() => writeBackup(join(dir, 'a-file', 'backups'), b('2026-12-01T10:00:00.000Z')), /^InputError: cannot write the backup .* nothing was changed — give a writable --backup-dir\.$/);
  });
});
