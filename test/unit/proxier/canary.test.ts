import assert from 'node:assert/strict';
import test from 'node:test';
import { Proxier } from '../../../src/core/proxier/index.js';
import { CANARY_CHAIN, CanaryMonitor, type CanaryHost } from '../../../src/core/proxier/canary.js';
import { FakeClock, FakeHost, config, iptables, node, service, slice } from './fakes.js';

/** Canary chains kept as data; `flush` drops them as `iptables -F -X` of every table would. */
class FakeCanaries implements CanaryHost {
  readonly chains = new Set<string>();
  lookups = 0;
  async exists(family: string, table: string) {
    this.lookups++;
    return this.chains.has(`${family}/${table}`);
  }
  async ensure(family: string, table: string) {
    this.chains.add(`${family}/${table}`);
  }
  async remove(family: string, table: string) {
    this.chains.delete(`${family}/${table}`);
  }
  flush(tables = ['mangle', 'nat', 'filter']) {
    for (const t of tables) this.chains.delete(`IPv4/${t}`);
  }
}

const objects = { services: [service('web', '10.96.0.10')], endpointSlices: [slice('web', ['10.244.1.5'])], nodes: [node('node-a')] };

test('a flushed table is noticed at the next syncPeriod and forces a full sync that writes the rules back', async () => {
  const clock = new FakeClock();
  const canaries = new FakeCanaries();
  const host = Object.assign(new FakeHost(), { canary: canaries });
  const logs: string[] = [];
  const proxier = new Proxier({ def: iptables, config: config({ iptables: { minSyncPeriod: '1s', syncPeriod: '30s' } }), host, clock, log: (m) => logs.push(m) });
  proxier.replaceObjects(objects);
  proxier.start();
  await clock.advance(0);
  assert.deepEqual([...canaries.chains].sort(), ['IPv4/filter', 'IPv4/mangle', 'IPv4/nat'], `${CANARY_CHAIN} made in mangle, nat and filter`);
  assert.equal(host.plans.length, 1);
  await clock.advance(10_000);
  assert.equal(host.plans.length, 1, 'canaries present: nothing to do');
  // someone flushes everything: the rules and the canaries go
  (host.backend as unknown as { state: Map<string, Map<string, unknown>> }).state.set('IPv4', new Map());
  canaries.flush();
  assert.doesNotMatch(await host.save(), /10\.244\.1\.5:80/, 'flushed');
  await clock.advance(20_000);
  assert.ok(logs.some((l) => /flushed .*forcing a full sync/.test(l)), logs.join('\n'));
  assert.equal(host.plans.length >= 2, true, 'a sync ran after the flush');
  assert.equal(host.plans[1]!.full, true, 'and it was full');
  assert.match(await host.save(), /10\.244\.1\.5:80/, 'the rules are back');
  assert.equal(canaries.chains.size, 3, 'the canaries are made again');
  await proxier.stop();
  assert.equal(canaries.chains.size, 0, 'stopping removes the canaries');
});

test('a flush seen in mangle waits (100 ms polls, at most 5 s) for the other tables before reloading', async () => {
  const clock = new FakeClock();
  const canaries = new FakeCanaries();
  const reloads: number[] = [];
  const logs: string[] = [];
  const m = new CanaryMonitor(canaries, clock, 60_000, () => ['IPv4'], () => reloads.push(clock.now()), (l) => logs.push(l));
  m.start();
  await clock.advance(0);
  const t0 = clock.now();
  canaries.flush(['mangle']); // a flush in progress: mangle done, nat and filter not yet
  await clock.advance(60_000);
  await clock.advance(300);
  assert.deepEqual(reloads, [], 'no reload while nat and filter still hold their canaries');
  canaries.flush(['nat', 'filter']);
  await clock.advance(100);
  assert.equal(reloads.length, 1);
  assert.ok(reloads[0]! - t0 >= 60_300 && reloads[0]! - t0 <= 60_500, `reloaded once the flush finished (${reloads[0]! - t0} ms)`);
  canaries.flush(['mangle']);
  await clock.advance(60_000 + 5_000);
  assert.equal(reloads.length, 2, 'a half flush still reloads after 5 s');
  assert.match(logs.join('\n'), /flushed only in part/);
  await m.stop();
});
