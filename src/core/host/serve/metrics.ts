// kube-proxy's metrics server on metricsBindAddress: /metrics in Prometheus text with upstream's names
// (pkg/proxy/metrics), built with prom-client from the proxier's data, and /proxyMode.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Proxier } from '../../proxier/proxier.js';
import type { HealthCounters } from './health.js';
import { serve, type Answer, type ListenOptions, type Served } from './listen.js';

const exponential = (start: number, factor: number, count: number) => Array.from({ length: count }, (_, i) => start * factor ** i);
const linear = (start: number, width: number, count: number) => Array.from({ length: count }, (_, i) => start + width * i);

/** The per-mode name of the "host refused our rules" counter, as upstream names it. */
const FAILURE_COUNTERS: Record<string, { name: string; help: string }> = {
  iptables: { name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures' },
  ipvs: { name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures' },
  nftables: { name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total', help: 'Cumulative proxy nftables sync failures' },
};

export function proxierRegistry(proxier: Proxier, health: HealthCounters): Registry {
  const registry = new Registry();
  const m = proxier.metrics;
  const registers = [registry];
  const buckets = exponential(0.001, 2, 15);
  const total = new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds', buckets, registers });
  const full = new Histogram({ name: 'kubeproxy_sync_full_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for full resyncs', buckets, registers });
  const partial = new Histogram({ name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for partial resyncs', buckets, registers });
  const programming = new Histogram({
    name: 'kubeproxy_network_programming_duration_seconds',
    help: 'In Cluster Network Programming Latency in seconds',
    buckets: [...linear(0.25, 0.25, 2), ...linear(1, 1, 59), ...linear(60, 5, 12), ...linear(120, 30, 7)],
    registers,
  });
  proxier.onSync((r) => {
    if (!r.ok) return;
    total.observe(r.seconds);
    (r.full ? full : partial).observe(r.seconds);
    for (const s of r.networkProgrammingSeconds) programming.observe(s);
  });
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(value()); } });
  const counter = (name: string, help: string, value: () => number, labelNames: string[] = [], labels: () => Array<[Record<string, string>, number]> = () => []) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        if (labelNames.length === 0) this.inc(value());
        for (const [l, v] of labels()) this.inc(l, v);
      },
    });
  gauge('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time proxy rules were successfully synced', () => m.lastSyncTimestamp / 1000);
  gauge('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', 'The last time a sync of proxy rules was queued', () => m.lastQueuedTimestamp / 1000);
  gauge('kubeproxy_sync_proxy_rules_endpoint_changes_pending', 'Pending proxy rules Endpoint changes', () => m.endpointChangesPending);
  counter('kubeproxy_sync_proxy_rules_endpoint_changes_total', 'Cumulative proxy rules Endpoint changes', () => m.endpointChangesTotal);
  gauge('kubeproxy_sync_proxy_rules_service_changes_pending', 'Pending proxy rules Service changes', () => m.serviceChangesPending);
  counter('kubeproxy_sync_proxy_rules_service_changes_total', 'Cumulative proxy rules Service changes', () => m.serviceChangesTotal);
  const byTable = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_iptables_total',
    help: 'Total number of iptables rules owned by kube-proxy',
    labelNames: ['table'],
    registers,
    collect() {
      this.reset();
      for (const [table, n] of Object.entries(m.rulesByTable)) this.set({ table }, n);
    },
  });
  void byTable;
  new Gauge({
    name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
    help: 'Number of services with a Local traffic policy and no endpoints',
    labelNames: ['traffic_policy'],
    registers,
    collect() {
      this.set({ traffic_policy: 'internal' }, m.noLocalEndpoints.internal);
      this.set({ traffic_policy: 'external' }, m.noLocalEndpoints.external);
    },
  });
  const failure = FAILURE_COUNTERS[proxier.mode];
  if (failure) counter(failure.name, failure.help, () => m.failures);
  counter('kubeproxy_proxy_healthz_total', 'Cumulative proxy healthz HTTP status', () => 0, ['code'], () => Object.entries(health.healthz).map(([code, n]) => [{ code }, n]));
  counter('kubeproxy_proxy_livez_total', 'Cumulative proxy livez HTTP status', () => 0, ['code'], () => Object.entries(health.livez).map(([code, n]) => [{ code }, n]));
  return registry;
}

export async function serveMetrics(proxier: Proxier, addr: { host: string; port: number }, health: HealthCounters, opts: ListenOptions = {}): Promise<Served> {
  const registry = proxierRegistry(proxier, health);
  return serve(addr, 'the metrics server', async (path): Promise<Answer | undefined> => {
    if (path === '/proxyMode') return { status: 200, body: proxier.mode, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } };
    if (path === '/metrics') return { status: 200, body: await registry.metrics(), headers: { 'Content-Type': registry.contentType } };
    return undefined;
  }, opts);
}
