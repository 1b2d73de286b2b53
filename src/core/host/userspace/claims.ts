// Port claims (proxier.go claimNodePort / releaseNodePort): the proxier holds a node port, and a portal
// port on a local address (an external or load-balancer IP the node owns), open itself even though the
// portal rules redirect the traffic, so no other process can take it while a service uses it. A claim by
// another service port is a conflict.
import dgram from 'node:dgram';
import net from 'node:net';
import { networkInterfaces } from 'node:os';

interface Held {
  owner: string;
  close: () => Promise<void>;
}

const keyOf = (ip: string | null, port: number, protocol: string) => `${ip === null ? '' : ip.includes(':') ? `[${ip}]` : ip}:${port}/${protocol}`;

/** The host's addresses now (upstream's localAddrs, refreshed each sync). */
export function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address)));
}

async function hold(ip: string | null, port: number, protocol: string, anyAddress: string): Promise<() => Promise<void>> {
  const host = ip ?? anyAddress;
  if (protocol === 'UDP') {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: host, port, exclusive: true }, () => resolve());
    });
    return () => new Promise((r) => s.close(() => r()));
  }
  // a listening socket (not just bound) so tools such as ss show the claim, as upstream notes
  const srv = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true }, () => resolve());
  });
  return () => new Promise((r) => srv.close(() => r()));
}

export class PortClaims {
  private readonly held = new Map<string, Held>();
  constructor(private readonly anyAddress: string) {}

  /** Idempotent for the same owner; throws on a conflict or when the port cannot be opened. */
  async claim(ip: string | null, port: number, protocol: string, owner: string): Promise<void> {
    const key = keyOf(ip, port, protocol);
    const existing = this.held.get(key);
    if (existing) {
      if (existing.owner === owner) return;
      throw new Error(`port conflict detected on port ${key}: ${owner} vs ${existing.owner}`);
    }
    try {
      this.held.set(key, { owner, close: await hold(ip, port, protocol, this.anyAddress) });
    } catch (e) {
      throw new Error(`can't open node port for ${key}: ${(e as Error).message}`);
    }
  }

  /** Releases every claim of `owner`. */
  async releaseAll(owner: string): Promise<void> {
    for (const [key, h] of [...this.held]) {
      if (h.owner !== owner) continue;
      this.held.delete(key);
      await h.close();
    }
  }

  /** "ip:port/PROTO" (":port/PROTO" for every address) -> owner. */
  list(): Map<string, string> {
    return new Map([...this.held].map(([k, h]) => [k, h.owner]));
  }
}
