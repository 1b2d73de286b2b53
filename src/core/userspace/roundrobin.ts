// The userspace proxier's load balancer (roundrobin.go LoadBalancerRR) as pure logic: per service port,
// the ready endpoints in a shuffled order and an index that walks them; with ClientIP affinity, a map from
// client IP to the endpoint it last reached, kept while younger than the timeout. Time and randomness
// come from outside so tests (and the tracer) can make them exact.

export const DEFAULT_AFFINITY_SECONDS = 10800;

export class MissingServiceEntryError extends Error {
  constructor(svcPort: string) {
    super(`missing service entry for ${svcPort}`);
  }
}
export class MissingEndpointsError extends Error {
  constructor(svcPort: string) {
    super(`missing endpoints for ${svcPort}`);
  }
}

interface AffinityState {
  endpoint: string;
  /** ms since the epoch of the clock given. */
  lastUsed: number;
}

interface BalancerState {
  endpoints: string[];
  index: number;
  affinity: { clientIP: boolean; ttlSeconds: number; byClient: Map<string, AffinityState> };
}

export interface RoundRobinOptions {
  now?: () => number;
  /** [0, 1), for the shuffle. */
  random?: () => number;
}

/** util.ShuffleStrings: a Fisher-Yates shuffle into a new list. */
export function shuffle(list: readonly string[], random: () => number = Math.random): string[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

export class RoundRobin {
  private readonly services = new Map<string, BalancerState>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(opts: RoundRobinOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** NewService: creates the entry if needed; sets the affinity (a 0 timeout means the 3-hour default). */
  newService(svcPort: string, clientIPAffinity: boolean, ttlSeconds = 0): void {
    const state = this.ensure(svcPort, ttlSeconds);
    state.affinity.clientIP = clientIPAffinity;
  }

  deleteService(svcPort: string): void {
    this.services.delete(svcPort);
  }

  hasEndpoints(svcPort: string): boolean {
    return (this.services.get(svcPort)?.endpoints.length ?? 0) > 0;
  }

  /** The current round-robin order (for display and tests). */
  endpoints(svcPort: string): readonly string[] {
    return this.services.get(svcPort)?.endpoints ?? [];
  }

  /**
   * NextEndpoint: the client's sticky endpoint while its affinity is younger than the timeout (unless a
   * failed dial asked to reset it), else the next in the rotation, which then becomes the client's.
   */
  nextEndpoint(svcPort: string, clientIP: string, resetAffinity = false): string {
    const state = this.services.get(svcPort);
    if (!state) throw new MissingServiceEntryError(svcPort);
    if (state.endpoints.length === 0) throw new MissingEndpointsError(svcPort);
    const sticky = state.affinity.clientIP;
    const now = this.now();
    if (sticky && !resetAffinity) {
      const a = state.affinity.byClient.get(clientIP);
      // upstream truncates the age to whole seconds before comparing
      if (a && Math.floor((now - a.lastUsed) / 1000) < state.affinity.ttlSeconds) {
        a.lastUsed = now;
        return a.endpoint;
      }
    }
    const endpoint = state.endpoints[state.index]!;
    state.index = (state.index + 1) % state.endpoints.length;
    if (sticky) state.affinity.byClient.set(clientIP, { endpoint, lastUsed: now });
    return endpoint;
  }

  /**
   * OnEndpointsUpdate over every service port at once: a service port whose endpoints changed (as a set)
   * drops the affinity of removed endpoints, gets the new list shuffled and its index reset; one that has
   * no endpoints any more is reset (no endpoints, no affinity) but kept.
   */
  update(endpointsByServicePort: ReadonlyMap<string, readonly string[]>): void {
    for (const [svcPort, next] of endpointsByServicePort) {
      if (next.length === 0) continue;
      const state = this.services.get(svcPort);
      if (state && sameSet(state.endpoints, next)) continue;
      if (state) {
        const keep = new Set(next);
        for (const [ip, a] of state.affinity.byClient) if (!keep.has(a.endpoint)) state.affinity.byClient.delete(ip);
      }
      const s = this.ensure(svcPort, 0);
      s.endpoints = shuffle(next, this.random);
      s.index = 0;
    }
    for (const [svcPort, state] of this.services) {
      if ((endpointsByServicePort.get(svcPort)?.length ?? 0) > 0) continue;
      state.endpoints = [];
      state.index = 0;
      state.affinity.byClient.clear();
    }
  }

  /** CleanupStaleStickySessions: forget clients whose affinity has expired. */
  cleanupStaleStickySessions(svcPort: string): void {
    const state = this.services.get(svcPort);
    if (!state) return;
    const now = this.now();
    for (const [ip, a] of state.affinity.byClient) if (Math.floor((now - a.lastUsed) / 1000) >= state.affinity.ttlSeconds) state.affinity.byClient.delete(ip);
  }

  private ensure(svcPort: string, ttlSeconds: number): BalancerState {
    let state = this.services.get(svcPort);
    if (!state) {
      state = { endpoints: [], index: 0, affinity: { clientIP: false, ttlSeconds: ttlSeconds || DEFAULT_AFFINITY_SECONDS, byClient: new Map() } };
      this.services.set(svcPort, state);
    }
    return state;
  }
}
