// The servers over real loopback sockets (no root needed): /healthz, /livez, /metrics, /proxyMode and a
// health-check node port, answering from a proxier synced against the fake host.
import assert from 'node:assert/strict';
import test from 'node:test';
import { ServiceHealthServers, serveProxyHealth, type HealthCounters } from '../../../src/core/host/serve/health.js';
import { splitHostPort } from '../../../src/core/host/serve/listen.js';
import { serveMetrics } from '../../../src/core/host/serve/metrics.js';
import { Proxier } from '../../../src/core/proxier/index.js';
import { FakeClock, FakeHost, config, iptables, node, service, slice } from './fakes.js';

const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
};

test('servers: health, metrics in Prometheus text with upstream names, proxyMode, health-check node port', async (t) => {
  const clock = new FakeClock();
  const host = new FakeHost();
  const proxier = new Proxier({ def: iptables, config: config(), host, clock, log: () => {} });
  const lb = service('lb', '10.96.0.13', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 0, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30081 }] });
  const counters: HealthCounters = { healthz: {}, livez: {} };
  const health = await serveProxyHealth(proxier, { host: '127.0.0.1', port: 0 }, counters);
  t.after(() => health.close());
  const metrics = await serveMetrics(proxier, { host: '127.0.0.1', port: 0 }, counters);
  t.after(() => metrics.close());

  // a free port for the health-check node port: bind 0 once, then give that number to the Service
  const probe = await serveProxyHealth(proxier, { host: '127.0.0.1', port: 0 }, counters);
  const hcPort = Number(probe.address.split(':').pop());
  await probe.close();
  (lb.spec as { healthCheckNodePort: number }).healthCheckNodePort = hcPort;
  proxier.replaceObjects({ services: [lb], endpointSlices: [slice('lb', ['10.244.1.5'])], nodes: [node('node-a')] });
  await proxier.syncProxyRules();
  const hcs = new ServiceHealthServers(proxier, '127.0.0.1', () => {});
  t.after(() => hcs.close());
  await hcs.sync();
  assert.deepEqual(hcs.ports(), [hcPort]);

  const hz = await get(`http://${health.address}/healthz`);
  assert.equal(hz.status, 200);
  assert.equal(hz.type, 'application/json');
  assert.equal(hz.body, '{"lastUpdated": "2026-01-01 00:00:00 +0000 UTC","currentTime": "2026-01-01 00:00:00 +0000 UTC", "nodeEligible": true}');
  assert.equal((await get(`http://${health.address}/livez`)).body, '{"lastUpdated": "2026-01-01 00:00:00 +0000 UTC","currentTime": "2026-01-01 00:00:00 +0000 UTC"}');
  assert.equal((await get(`http://${health.address}/nope`)).status, 404);

  assert.equal((await get(`http://${metrics.address}/proxyMode`)).body, 'iptables');
  const m = await get(`http://${metrics.address}/metrics`);
  assert.equal(m.status, 200);
  for (const line of [
    /^# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram$/m,
    /^kubeproxy_sync_proxy_rules_duration_seconds_count 1$/m,
    /^kubeproxy_sync_full_proxy_rules_duration_seconds_count 1$/m,
    /^kubeproxy_sync_partial_proxy_rules_duration_seconds_count 0$/m,
    /^kubeproxy_sync_proxy_rules_last_timestamp_seconds 1767225600$/m,
    /^kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1767225600$/m,
    /^kubeproxy_sync_proxy_rules_service_changes_total 1$/m,
    /^kubeproxy_sync_proxy_rules_endpoint_changes_total 1$/m,
    /^kubeproxy_sync_proxy_rules_service_changes_pending 0$/m,
    /^kubeproxy_sync_proxy_rules_endpoint_changes_pending 0$/m,
    /^kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} \d+$/m,
    /^kubeproxy_sync_proxy_rules_iptables_total\{table="filter"\} \d+$/m,
    /^kubeproxy_sync_proxy_rules_no_local_endpoints_total\{traffic_policy="external"\} 0$/m,
    /^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0$/m,
    /^kubeproxy_proxy_healthz_total\{code="200"\} 1$/m,
    /^kubeproxy_proxy_livez_total\{code="200"\} 1$/m,
    /^# TYPE kubeproxy_network_programming_duration_seconds histogram$/m,
  ]) {
    assert.match(m.body, line);
  }

  const hc = await get(`http://127.0.0.1:${hcPort}/`);
  assert.equal(hc.status, 200);
  assert.deepEqual(JSON.parse(hc.body), { service: { namespace: 'ns', name: 'lb' }, localEndpoints: 1, serviceProxyHealthy: true });
  proxier.replaceObjects({ services: [lb], endpointSlices: [slice('lb', ['10.244.2.5'], 'node-b')], nodes: [node('node-a')] });
  await proxier.syncProxyRules();
  await hcs.sync();
  const none = await get(`http://127.0.0.1:${hcPort}/`);
  assert.equal(none.status, 503);
  assert.equal(JSON.parse(none.body).localEndpoints, 0);
  proxier.replaceObjects({ services: [], endpointSlices: [], nodes: [node('node-a')] });
  await proxier.syncProxyRules();
  await hcs.sync();
  assert.deepEqual(hcs.ports(), [], 'the listener closes with its Service');
  await assert.rejects(fetch(`http://127.0.0.1:${hcPort}/`));
});

test('bind addresses: HOST:PORT and [IPv6]:PORT; anything else is one sentence', () => {
  assert.deepEqual(splitHostPort('0.0.0.0:10256', 'x'), { host: '0.0.0.0', port: 10256 });
  assert.deepEqual(splitHostPort('[::1]:10249', 'x'), { host: '::1', port: 10249 });
  assert.deepEqual(splitHostPort(':10256', 'x'), { host: '0.0.0.0', port: 10256 });
  assert.throws(() => splitHostPort('localhost', '--metrics-bind-address'), /--metrics-bind-address "localhost" is not IP:PORT/);
});
