// What kube-proxy's health servers answer, as data (pkg/proxy/healthcheck): the proxier's health
// (/healthz, /livez) from when updates were queued and when rules were last written per family, the
// node's eligibility, and per-Service health-check node ports (externalTrafficPolicy Local).
import type { IPFamily, Node } from '../objects/types.js';
import type { ProxyView } from '../proxy-view.js';
import type { Clock } from './clock.js';

/** The Cluster Autoscaler's taint on a node it is about to delete. */
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

export interface HealthAnswer {
  status: 200 | 503;
  body: string;
}

/** Go's time.Time.String(): "2026-12-01 21:39:46.123 +0000 UTC" (fraction without trailing zeros). */
export function goTimeString(ms: number): string {
  if (ms <= 0) return '0001-01-01 00:00:00 +0000 UTC';
  const iso = new Date(ms).toISOString(); // 2026-12-01T21:39:46.123Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

export class ProxyHealth {
  private readonly lastUpdated = new Map<IPFamily, number>();
  private readonly oldestQueued = new Map<IPFamily, number>();
  nodeEligible = true;

  /** healthTimeoutMs: kube-proxy uses twice syncPeriod. */
  constructor(
    private readonly clock: Clock,
    readonly healthTimeoutMs: number,
  ) {}

  queuedUpdate(family: IPFamily): void {
    if (!this.oldestQueued.has(family)) this.oldestQueued.set(family, this.clock.now());
  }

  updated(family: IPFamily): void {
    this.oldestQueued.delete(family);
    this.lastUpdated.set(family, this.clock.now());
  }

  /** The oldest update queued and not yet written, ms since the epoch (0: none). */
  oldestPendingQueued(): number {
    return Math.min(...this.oldestQueued.values(), Infinity) === Infinity ? 0 : Math.min(...this.oldestQueued.values());
  }

  syncNode(node: Node | undefined): void {
    if (!node) return;
    const n = node as { metadata?: { deletionTimestamp?: string }; spec?: { taints?: Array<{ key?: string }> } };
    this.nodeEligible = !n.metadata?.deletionTimestamp && !(n.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
  }

  isHealthy(): { healthy: boolean; lastUpdated: number } {
    const now = this.clock.now();
    let last = 0;
    for (const [family, updated] of this.lastUpdated) {
      if (updated > last) last = updated;
      const queued = this.oldestQueued.get(family);
      if (queued === undefined || now - queued < this.healthTimeoutMs) continue;
      return { healthy: false, lastUpdated: updated };
    }
    return { healthy: true, lastUpdated: last };
  }

  healthz(): HealthAnswer {
    const now = this.clock.now();
    const h = this.isHealthy();
    const healthy = h.healthy && this.nodeEligible;
    const last = healthy ? now : h.lastUpdated;
    return { status: healthy ? 200 : 503, body: `{"lastUpdated": ${JSON.stringify(goTimeString(last))},"currentTime": ${JSON.stringify(goTimeString(now))}, "nodeEligible": ${this.nodeEligible}}` };
  }

  livez(): HealthAnswer {
    const now = this.clock.now();
    const h = this.isHealthy();
    const last = h.healthy ? now : h.lastUpdated;
    return { status: h.healthy ? 200 : 503, body: `{"lastUpdated": ${JSON.stringify(goTimeString(last))},"currentTime": ${JSON.stringify(goTimeString(now))}}` };
  }
}

/** One Service's health-check node port and how many of its endpoints are ready on this node. */
export interface ServiceHealth {
  namespace: string;
  name: string;
  nodePort: number;
  localEndpoints: number;
}

/** Health-check node ports of the view: per Service (not per port), its ready local endpoints. */
export function serviceHealth(view: ProxyView): ServiceHealth[] {
  const out = new Map<string, ServiceHealth>();
  for (const fam of view.families) {
    for (const [key, sp] of fam.state.serviceMap) {
      if (!sp.healthCheckNodePort) continue;
      const svc = `${sp.name.namespace}/${sp.name.name}`;
      const h = out.get(svc) ?? { namespace: sp.name.namespace, name: sp.name.name, nodePort: sp.healthCheckNodePort, localEndpoints: 0 };
      const local = new Set((fam.state.endpointsMap.get(key) ?? []).filter((e) => e.isLocal && e.ready).map((e) => e.endpoint));
      h.localEndpoints = Math.max(h.localEndpoints, local.size);
      out.set(svc, h);
    }
  }
  return [...out.values()].sort((a, b) => a.nodePort - b.nodePort);
}

/** What a health-check node port answers (healthcheck/service_health.go). */
export function serviceHealthAnswer(h: ServiceHealth, proxyHealthy: boolean): HealthAnswer {
  const ok = h.localEndpoints > 0 && proxyHealthy;
  return {
    status: ok ? 200 : 503,
    // upstream prints this dedented template: tab-indented JSON
    body: JSON.stringify({ service: { namespace: h.namespace, name: h.name }, localEndpoints: h.localEndpoints, serviceProxyHealthy: proxyHealthy }, null, '\t'),
  };
}
