import assert from 'node:assert/strict';
import test from 'node:test';
import { BoundedFrequencyRunner, ChangeTracker } from '../../../src/core/proxier/index.js';
import { FakeClock, node, service, slice } from './fakes.js';

test('change tracker: events by key, a slice change marks its Service, deletions and re-lists', () => {
  const t = new ChangeTracker('node-a');
  assert.equal(t.upsertService(service('web', '10.96.0.10')), true);
  assert.equal(t.upsertService(service('web', '10.96.0.10')), false, 'same content is no change');
  assert.equal(t.upsertSlice(slice('web', ['10.244.1.5'])), true);
  assert.deepEqual([...t.take().services], ['ns/web']);
  assert.equal(t.hasPending(), false);
  const changed = { ...slice('web', ['10.244.1.6']), metadata: { ...slice('web', []).metadata, labels: { 'kubernetes.io/service-name': 'web2' } } };
  t.upsertSlice(changed);
  assert.deepEqual([...t.take().services].sort(), ['ns/web', 'ns/web2'], 'a slice moving Services marks both');
  assert.equal(t.replaceAll({ services: [], endpointSlices: [], nodes: [] }), 2, 'a re-list without them deletes both');
  assert.deepEqual(t.objects(), { services: [], endpointSlices: [], nodes: [] });
  assert.equal(t.take().services.size, 2);
  assert.equal(t.serviceChangesTotal, 2);
});

test('change tracker: only this node, and only its labels or addressing, ask for a full sync', () => {
  const t = new ChangeTracker('node-a');
  t.upsertNode(node('node-a'));
  assert.equal(t.take().nodeChanged, true, 'first sight of the node');
  t.upsertNode(node('node-b', { zone: 'x' }));
  assert.equal(t.take().nodeChanged, false, 'another node');
  t.upsertNode(node('node-a', {}, { status: { addresses: [{ type: 'InternalIP', address: '192.168.0.10' }] }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] }, extra: 1 }));
  assert.equal(t.take().nodeChanged, false, 'neither labels nor addressing changed');
  t.upsertNode(node('node-a', { 'topology.kubernetes.io/zone': 'b' }));
  assert.equal(t.take().nodeChanged, true);
});

test('runner: never twice within minInterval, at least every maxInterval, a request during a run waits for it', async () => {
  const clock = new FakeClock();
  const runs: number[] = [];
  let release: (() => void) | undefined;
  const r = new BoundedFrequencyRunner(
    () => {
      runs.push(clock.now() - Date.UTC(2026, 0, 1));
      return runs.length === 3 ? new Promise<void>((res) => (release = res)) : Promise.resolve();
    },
    clock,
    { minIntervalMs: 1_000, maxIntervalMs: 10_000 },
  );
  r.start();
  await clock.advance(0);
  r.run();
  r.run();
  await clock.advance(999);
  assert.deepEqual(runs, [0]);
  await clock.advance(1);
  assert.deepEqual(runs, [0, 1_000]);
  await clock.advance(10_000);
  assert.deepEqual(runs, [0, 1_000, 11_000], 'maxInterval');
  r.run();
  await clock.advance(5_000);
  assert.deepEqual(runs, [0, 1_000, 11_000], 'the third run is still going');
  release!();
  await clock.advance(0);
  assert.deepEqual(runs, [0, 1_000, 11_000, 16_000], 'the request made during it runs once it ends');
  r.retryAfter(3_000);
  await clock.advance(3_000);
  assert.deepEqual(runs.at(-1), 19_000);
  await r.stop();
  await clock.advance(60_000);
  assert.equal(runs.length, 5, 'stopped');
});
