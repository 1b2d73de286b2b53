// The userspace proxier's process side (proxier.go mergeService / unmergeService / stopProxy): one proxy
// socket per service port, on a port from portRange (or the kernel's pick), and the round-robin balancer
// fed with each service port's endpoints. A sync hands it the whole desired state:
//   - a new service port opens its socket; a changed one (protocol, portals, affinity) is reopened;
//   - a removed one closes its socket: TCP stops accepting and leaves established connections alone,
//     UDP ends its sessions (as upstream);
//   - endpoints go to the balancer only: established connections are never touched by an endpoint change.
// Portal rules are not written here: render them from ports() with core/userspace portalRules.
import { PortRangeAllocator, RoundRobin, type PortRange, type ProxiedServicePort } from '../../userspace/index.js';
import { localAddresses, PortClaims } from './claims.js';
import { openTCPProxySocket, type ProxySocket } from './tcp.js';
import { openUDPProxySocket } from './udp.js';

export interface UserspaceProxierOptions {
  /** bindAddress: "0.0.0.0" listens on every address (portal rules then REDIRECT). */
  listenIP: string;
  /** portRange parsed; absent or size 0: the kernel picks each port. */
  portRange?: PortRange;
  /** udpIdleTimeout in ms (default 250, as v1.25's default). */
  udpIdleTimeoutMs?: number;
  /** Dial timeouts per try (default 250, 500, 1000, 2000 ms). */
  dialTimeoutsMs?: readonly number[];
  /** For tests: a fixed shuffle. */
  random?: () => number;
  log?: (line: string) => void;
}

/** What a sync needs of a service port (a ProxiedServicePort; its proxyPort is ignored: the proxier picks). */
export type ServicePortToProxy = Pick<ProxiedServicePort, 'servicePort' | 'protocol' | 'portals' | 'endpoints' | 'affinitySeconds'>;

interface Running {
  spec: ServicePortToProxy;
  socket: ProxySocket;
  /** How many of spec.portals (a prefix) may have rules: openPortal stops at the first port it cannot claim. */
  open: number;
}

// sameConfig: protocol, portals and the affinity type; a new affinity timeout alone restarts nothing and, as
// upstream's NewService keeps an existing entry's timeout, is not applied (faithfully) until the port restarts
const configKey = (s: ServicePortToProxy) => JSON.stringify([s.protocol, s.portals, s.affinitySeconds !== null]);

/**
 * The service ports of `before` whose proxy a sync to `now` stops: gone, or changed so that upstream's
 * mergeService stops the proxy and opens a new one. Their portal rules go first (cleanupPortalAndProxy).
 */
export function stoppingServicePorts(before: readonly ServicePortToProxy[], now: readonly ServicePortToProxy[]): Set<string> {
  const next = new Map(now.map((s) => [s.servicePort, s]));
  const out = new Set<string>();
  for (const b of before) {
    const n = next.get(b.servicePort);
    if (!n || configKey(n) !== configKey(b)) out.add(b.servicePort);
  }
  return out;
}

export class UserspaceProxier {
  private readonly running = new Map<string, Running>();
  private readonly lb: RoundRobin;
  private readonly ports: PortRangeAllocator;
  private readonly claims: PortClaims;
  private readonly log: (line: string) => void;
  private syncing: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: UserspaceProxierOptions) {
    this.lb = new RoundRobin(opts.random ? { random: opts.random } : {});
    this.ports = new PortRangeAllocator(opts.portRange ?? { base: 0, size: 0 });
    this.claims = new PortClaims(opts.listenIP.includes(':') ? '::' : '0.0.0.0');
    this.log = opts.log ?? (() => {});
  }

  /** Makes the running sockets and the balancer match `services`; resolves the proxy port of each. Syncs run one at a time. */
  sync(services: readonly ServicePortToProxy[]): Promise<Map<string, number>> {
    const next = this.syncing.then(() => this.syncNow(services));
    this.syncing = next.catch(() => {});
    return next;
  }

  /** The proxy port serving each service port. */
  proxyPorts(): Map<string, number> {
    return new Map([...this.running].map(([k, r]) => [k, r.socket.port]));
  }

  /** Per service port, how many of its portals (in order) may get portal rules; the rest could not be claimed. */
  openPortals(): Map<string, number> {
    return new Map([...this.running].map(([k, r]) => [k, r.open]));
  }

  /** Open TCP connections and UDP sessions per service port. */
  active(): Map<string, number> {
    return new Map([...this.running].map(([k, r]) => [k, r.socket.active()]));
  }

  /** Ports held for node ports and local portal addresses: "ip:port/PROTO" -> service port. */
  claimedPorts(): Map<string, string> {
    return this.claims.list();
  }

  /** The balancer's current order for a service port (shuffled on each change). */
  order(servicePort: string): readonly string[] {
    return this.lb.endpoints(servicePort);
  }

  /** Closes every proxy socket and ends established connections and sessions. */
  async stop(): Promise<void> {
    await this.syncing;
    this.stopped = true;
    for (const [name, r] of [...this.running]) await this.stopProxy(name, r, { dropConnections: true });
  }

  private async syncNow(services: readonly ServicePortToProxy[]): Promise<Map<string, number>> {
    if (this.stopped) throw new Error('the userspace proxier is stopped');
    const wanted = new Map(services.filter((s) => s.protocol === 'TCP' || s.protocol === 'UDP').map((s) => [s.servicePort, s]));
    for (const s of services) if (!wanted.has(s.servicePort)) this.log(`${s.servicePort}: the userspace proxier has no ${s.protocol} sockets; not proxied`);
    for (const [name, r] of [...this.running]) {
      const w = wanted.get(name);
      if (!w) {
        await this.stopProxy(name, r);
        this.lb.deleteService(name);
      } else if (configKey(w) !== configKey(r.spec)) {
        await this.stopProxy(name, r); // something changed: upstream stops the proxy and opens a new one
      } else {
        r.spec = w;
      }
    }
    for (const [name, spec] of wanted) {
      if (this.running.has(name)) continue;
      const port = this.ports.allocateNext();
      if (port < 0) {
        this.log(`${name}: no proxy port left in the port range`);
        continue;
      }
      const common = { servicePort: name, listenIP: this.opts.listenIP, port, lb: this.lb, clientIPAffinity: spec.affinitySeconds !== null, log: this.log, ...(this.opts.dialTimeoutsMs ? { dialTimeoutsMs: this.opts.dialTimeoutsMs } : {}) };
      try {
        const socket = spec.protocol === 'TCP' ? await openTCPProxySocket(common) : await openUDPProxySocket({ ...common, idleTimeoutMs: this.opts.udpIdleTimeoutMs ?? 250 });
        this.running.set(name, { spec, socket, open: 0 });
        this.lb.newService(name, spec.affinitySeconds !== null, spec.affinitySeconds ?? 0);
        this.log(`proxying ${name} on ${spec.protocol} port ${socket.port}`);
      } catch (e) {
        this.ports.release(port);
        this.log(`${name}: failed to start its proxy: ${(e as Error).message}`);
      }
    }
    // ensurePortals: every sync, so a port freed since, or an address that became local, gets its claim
    const local = localAddresses();
    for (const [name, r] of this.running) r.open = await this.claimPortals(name, r.spec, local);
    this.lb.update(new Map([...wanted].map(([k, s]) => [k, s.endpoints ?? []])));
    for (const name of this.running.keys()) this.lb.cleanupStaleStickySessions(name);
    return this.proxyPorts();
  }

  /**
   * openPortal's claims: a node port on every address, a portal address the node owns on that address.
   * Resolves how many portals are open: upstream returns at the first claim that fails, so that portal
   * and the ones after it get no rules (the error is logged; the next sync tries again).
   */
  private async claimPortals(name: string, spec: ServicePortToProxy, local: ReadonlySet<string>): Promise<number> {
    for (const [i, p] of spec.portals.entries()) {
      if (p.ip !== null && !local.has(p.ip)) continue;
      try {
        await this.claims.claim(p.ip, p.port, spec.protocol, name);
      } catch (e) {
        this.log(`${name}: failed to open portal: ${(e as Error).message}`);
        return i;
      }
    }
    return spec.portals.length;
  }

  private async stopProxy(name: string, r: Running, opts: { dropConnections?: boolean } = {}): Promise<void> {
    this.running.delete(name);
    await this.claims.releaseAll(name);
    await r.socket.close(opts);
    this.ports.release(r.socket.port);
    this.log(`stopped proxying ${name} (port ${r.socket.port})`);
  }
}

/** Starts a proxier serving `services`; the interface `sync --mode userspace` drives: update(), ports, stop(). */
export async function startUserspaceProxier(opts: UserspaceProxierOptions, services: readonly ServicePortToProxy[]): Promise<UserspaceProxier> {
  const p = new UserspaceProxier(opts);
  await p.sync(services);
  return p;
}
