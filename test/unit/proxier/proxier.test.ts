import assert from 'node:assert/strict';
import test from 'node:test';
import { Proxier } from '../../../src/core/proxier/index.js';
import { FakeClock, FakeHost, config, iptables, node, service, settle, slice } from './fakes.js';

function setup(over: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const host = new FakeHost();
  const logs: string[] = [];
  const proxier = new Proxier({ def: iptables, config: config(over), host, clock, log: (m) => logs.push(m), retryInitialMs: 1_000 });
  return { clock, host, logs, proxier };
}

const objects = (webIPs: string[], extra: { nodeLabels?: Record<string, string> } = {}) => ({
  services: [service('web', '10.96.0.10'), service('db', '10.96.0.11')],
  endpointSlices: [slice('web', webIPs), slice('db', ['10.244.1.20'])],
  nodes: [node('node-a', extra.nodeLabels)],
});

test('first sync is full and writes the rendered rules; an unchanged re-read syncs nothing', async () => {
  const { clock, host, proxier } = setup();
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  assert.equal(host.plans.length, 1);
  assert.equal(host.plans[0]!.full, true);
  assert.match(await host.save(), /10\.244\.1\.5:80/);
  assert.equal(proxier.metrics.fullSyncs, 1);
  assert.equal(proxier.replaceObjects(objects(['10.244.1.5'])), 0, 'same objects: no change');
  await clock.advance(5_000);
  assert.equal(host.plans.length, 1, 'no sync before syncPeriod without changes');
  await proxier.stop();
});

test('an endpoint change is a partial sync of only that service, no sooner than minSyncPeriod', async () => {
  const { clock, host, proxier } = setup({ iptables: { minSyncPeriod: '2s', syncPeriod: '30s' } });
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  assert.equal(proxier.replaceObjects(objects(['10.244.1.6'])), 1);
  assert.equal(proxier.metrics.endpointChangesPending, 1);
  await clock.advance(1_000);
  assert.equal(host.plans.length, 1, 'held back by minSyncPeriod');
  await clock.advance(1_000);
  assert.equal(host.plans.length, 2);
  const p = host.plans[1]!;
  assert.equal(p.full, false);
  assert.match(p.text(), /ns\/web:http/);
  assert.match(p.text(), /-A KUBE-SEP-\S+ .*10\.244\.1\.6:80/);
  assert.doesNotMatch(p.text(), /-A KUBE-SEP-\S+ .*10\.244\.1\.20:80/, 'the unchanged service is not rewritten');
  const saved = await host.save();
  assert.match(saved, /10\.244\.1\.6:80/);
  assert.doesNotMatch(saved, /10\.244\.1\.5:80/);
  assert.equal(proxier.metrics.endpointChangesPending, 0);
  assert.equal(proxier.metrics.partialSyncs, 1);
  await proxier.stop();
});

test('bursts of changes within minSyncPeriod collapse into one sync', async () => {
  const { clock, host, proxier } = setup({ iptables: { minSyncPeriod: '1s', syncPeriod: '30s' } });
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  for (const ip of ['10.244.1.6', '10.244.1.7', '10.244.1.8']) {
    proxier.replaceObjects(objects([ip]));
    await clock.advance(100);
  }
  await clock.advance(1_000);
  assert.equal(host.plans.length, 2);
  assert.match(await host.save(), /10\.244\.1\.8:80/);
  await proxier.stop();
});

test('a periodic sync at syncPeriod is full; a node label change forces a full sync', async () => {
  const { clock, host, proxier } = setup({ iptables: { minSyncPeriod: '1s', syncPeriod: '10s' } });
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  await clock.advance(10_000);
  assert.equal(host.plans.length, 2);
  assert.equal(host.plans[1]!.full, true, 'periodic');
  proxier.replaceObjects(objects(['10.244.1.5'], { nodeLabels: { 'topology.kubernetes.io/zone': 'b' } }));
  await clock.advance(1_000);
  assert.equal(host.plans.length, 3);
  assert.equal(host.plans[2]!.full, true, 'topology change');
  await proxier.stop();
});

test('a failed apply keeps the old rules, is logged, retried with back-off, and the retry is full', async () => {
  const { clock, host, logs, proxier } = setup({ iptables: { minSyncPeriod: '1s', syncPeriod: '60s' } });
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  const before = await host.save();
  assert.match(before, /nfacct/, 'the rules name nfacct counters, which the broken host refuses');
  host.breakNfacct(true);
  proxier.replaceObjects(objects(['10.244.1.6']));
  await clock.advance(1_000);
  assert.equal(proxier.metrics.failures, 1);
  assert.equal(await host.save(), before, 'the host holds the old rules');
  assert.match(logs.at(-1)!, /sync failed .*previous rules stay in place.*Retrying in 1s with a full sync/);
  await clock.advance(1_000);
  assert.equal(proxier.metrics.failures, 2, 'retried after 1s');
  await clock.advance(1_000);
  assert.equal(proxier.metrics.failures, 2, 'back-off doubled: no retry after 1s more');
  host.breakNfacct(false);
  await clock.advance(1_000);
  const last = host.plans.at(-1)!;
  assert.equal(last.full, true);
  assert.equal(proxier.metrics.history.at(-1)!.ok, true);
  assert.match(await host.save(), /10\.244\.1\.6:80/);
  assert.match(logs.at(-1)!, /succeeded after 2 failed attempts/);
  await proxier.stop();
});

test('health: 503 once a queued update is older than twice syncPeriod; node eligibility', async () => {
  const { clock, host, proxier } = setup({ iptables: { minSyncPeriod: '1s', syncPeriod: '10s' } });
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  assert.equal(proxier.health.healthz().status, 200);
  assert.match(proxier.health.healthz().body, /^\{"lastUpdated": "2026-01-01 00:00:00 \+0000 UTC","currentTime": "2026-01-01 00:00:00 \+0000 UTC", "nodeEligible": true\}$/);
  host.breakNfacct(true);
  proxier.replaceObjects(objects(['10.244.1.6']));
  await clock.advance(19_000);
  assert.equal(proxier.health.healthz().status, 200, 'late but not twice syncPeriod yet');
  await clock.advance(1_500);
  assert.equal(proxier.health.healthz().status, 503);
  assert.equal(proxier.health.livez().status, 503);
  host.breakNfacct(false);
  await clock.advance(20_000);
  assert.equal(proxier.health.healthz().status, 200);
  proxier.replaceObjects({ ...objects(['10.244.1.6']), nodes: [node('node-a', {}, { spec: { podCIDR: '10.244.1.0/24', taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } })] });
  await clock.advance(2_000);
  assert.equal(proxier.health.healthz().status, 503);
  assert.match(proxier.health.healthz().body, /"nodeEligible": false/);
  assert.equal(proxier.health.livez().status, 200, 'livez ignores the node');
  await proxier.stop();
});

test('metrics: change totals, network programming latency from the trigger time, rules per table, no-local-endpoint counts', async () => {
  const { clock, proxier } = setup();
  proxier.replaceObjects(objects(['10.244.1.5']));
  proxier.start();
  await clock.advance(0);
  await clock.advance(5_000);
  const trigger = new Date(clock.now() - 3_000).toISOString();
  const local = service('loc', '10.96.0.12', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30080 }] });
  proxier.replaceObjects({ ...objects(['10.244.1.5']), services: [...objects([]).services, local], endpointSlices: [...objects(['10.244.1.5']).endpointSlices, slice('loc', ['10.244.2.5'], 'node-b', { 'endpoints.kubernetes.io/last-change-trigger-time': trigger })] });
  assert.equal(proxier.metrics.serviceChangesPending, 1);
  assert.equal(proxier.metrics.endpointChangesPending, 1);
  await clock.advance(1_000);
  const rec = proxier.metrics.history.at(-1)!;
  assert.equal(rec.ok, true);
  assert.deepEqual(rec.networkProgrammingSeconds, [3], "synced at once: minSyncPeriod has passed");
  assert.ok(proxier.metrics.rulesByTable.nat! > 0 && proxier.metrics.rulesByTable.filter! > 0);
  assert.deepEqual(proxier.metrics.noLocalEndpoints, { internal: 0, external: 1 });
  assert.equal(proxier.metrics.serviceChangesTotal, 3);
  await proxier.stop();
});

test('health-check node ports: local ready endpoints per Service', async () => {
  const { clock, proxier } = setup();
  const lb = service('lb', '10.96.0.13', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30081 }] });
  proxier.replaceObjects({ services: [lb], endpointSlices: [slice('lb', ['10.244.1.5', '10.244.1.6'])], nodes: [node('node-a')] });
  await proxier.syncProxyRules();
  assert.deepEqual(proxier.serviceHealth(), [{ namespace: 'ns', name: 'lb', nodePort: 32000, localEndpoints: 2 }]);
  await settle();
  void clock;
});
