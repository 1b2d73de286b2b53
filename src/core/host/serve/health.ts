// kube-proxy's health servers (pkg/proxy/healthcheck): /healthz and /livez on healthzBindAddress, and one
// listener per health-check node port of a Service with externalTrafficPolicy Local, answering whether this
// node has local endpoints. They are host side effects (sockets), so they live beside the other host code;
// what they answer is data from the proxier (core/proxier/health.ts).
import type { Proxier } from '../../proxier/proxier.js';
import { serviceHealthAnswer, type HealthAnswer, type ServiceHealth } from '../../proxier/health.js';
import { serve, type ListenOptions, type Served } from './listen.js';

const JSON_HEADERS = { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' };

export interface HealthCounters {
  healthz: Record<string, number>;
  livez: Record<string, number>;
}

/** /healthz and /livez; counts answers by code for kubeproxy_proxy_healthz_total / _livez_total. */
export async function serveProxyHealth(proxier: Proxier, addr: { host: string; port: number }, counters: HealthCounters, opts: ListenOptions = {}): Promise<Served> {
  const answer = (a: HealthAnswer, count: Record<string, number>) => {
    count[a.status] = (count[a.status] ?? 0) + 1;
    return { status: a.status, body: a.body, headers: JSON_HEADERS };
  };
  return serve(addr, 'the healthz server', (path) => {
    if (path === '/healthz') return answer(proxier.health.healthz(), counters.healthz);
    if (path === '/livez') return answer(proxier.health.livez(), counters.livez);
    return undefined;
  }, opts);
}

/**
 * The health-check node ports of the proxier's last view: a listener per port on `host`, opened and closed
 * as Services come and go (call `sync` after every sync). A port that cannot be bound is said once.
 */
export class ServiceHealthServers {
  private readonly open = new Map<number, { served: Served | undefined; health: ServiceHealth }>();

  constructor(
    private readonly proxier: Proxier,
    private readonly host: string,
    private readonly log: (m: string) => void,
    private readonly listen: ListenOptions = {},
  ) {}

  ports(): number[] {
    return [...this.open.keys()];
  }

  async sync(): Promise<void> {
    const wanted = new Map(this.proxier.serviceHealth().map((h) => [h.nodePort, h]));
    for (const [port, entry] of this.open) {
      if (wanted.has(port)) continue;
      await entry.served?.close();
      this.open.delete(port);
    }
    for (const [port, h] of wanted) {
      const have = this.open.get(port);
      if (have) {
        have.health = h;
        continue;
      }
      const entry: { served: Served | undefined; health: ServiceHealth } = { served: undefined, health: h };
      this.open.set(port, entry);
      entry.served = await serve({ host: this.host, port }, `the health check node port of ${h.namespace}/${h.name}`, () => {
        const a = serviceHealthAnswer(entry.health, this.proxier.health.isHealthy().healthy);
        return { status: a.status, body: a.body, headers: { ...JSON_HEADERS, 'X-Load-Balancing-Endpoint-Weight': String(entry.health.localEndpoints) } };
      }, this.listen).catch((e: Error) => {
        this.log(e.message);
        return undefined;
      });
    }
  }

  async close(): Promise<void> {
    for (const e of this.open.values()) await e.served?.close();
    this.open.clear();
  }
}
