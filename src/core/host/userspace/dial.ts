// tryConnect (proxysocket.go): ask the balancer for an endpoint and dial it, with a longer timeout on each
// try (250ms, 500ms, 1s, 2s); after a failed dial the next ask resets the client's affinity, so a sticky
// client whose endpoint died moves on instead of retrying it.
import type { RoundRobin } from '../../userspace/index.js';

export const ENDPOINT_DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000];

export interface Dialed<C> {
  conn: C;
  endpoint: string;
}

/** Splits "ip:port" / "[ip6]:port". */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(endpoint.slice(i + 1)) };
}

/** Tries endpoints until one answers; rejects with the last reason when none does within the four tries. */
export async function tryConnect<C>(
  lb: RoundRobin,
  servicePort: string,
  clientIP: string,
  dial: (endpoint: string, timeoutMs: number) => Promise<C>,
  timeouts: readonly number[] = ENDPOINT_DIAL_TIMEOUTS_MS,
  log: (line: string) => void = () => {},
): Promise<Dialed<C>> {
  let reset = false;
  for (const timeoutMs of timeouts) {
    const endpoint = lb.nextEndpoint(servicePort, clientIP, reset); // throws when there is none: no retry helps
    try {
      return { conn: await dial(endpoint, timeoutMs), endpoint };
    } catch (e) {
      log(`dial ${endpoint} for ${servicePort} failed: ${(e as Error).message}`);
      reset = true;
    }
  }
  throw new Error(`failed to connect to an endpoint of ${servicePort}`);
}
