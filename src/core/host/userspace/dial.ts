// tryConnect (proxysocket.go TryConnectEndpoints): ask the balancer for an endpoint and dial it, with a
// longer timeout on each try (250ms, 500ms, 1s, 2s); after a failed dial the next ask resets the client's
// affinity, so a sticky client whose endpoint died moves on instead of retrying it. The core takes
// callbacks (the TCP proxy runs it once per accepted connection: no promise per try); tryConnect wraps it.
import type { RoundRobin } from '../../userspace/index.js';

export const ENDPOINT_DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000];

export interface Dialed<C> {
  conn: C;
  endpoint: string;
}

/** Dials one endpoint within timeoutMs, then calls done once: with the connection, or with why not. */
export type Dial<C> = (endpoint: string, timeoutMs: number, done: (err: Error | null, conn?: C) => void) => void;

/** Splits "ip:port" / "[ip6]:port". */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  const host = endpoint.charCodeAt(0) === 91 /* [ */ ? endpoint.slice(1, i - 1) : endpoint.slice(0, i);
  return { host, port: Number(endpoint.slice(i + 1)) };
}

/** Tries endpoints until one answers; `done` gets the last reason when none does within the tries. */
export function connectEndpoints<C>(
  lb: RoundRobin,
  servicePort: string,
  clientIP: string,
  dial: Dial<C>,
  timeouts: readonly number[],
  log: (line: string) => void,
  done: (err: Error | null, dialed?: Dialed<C>) => void,
): void {
  const attempt = (i: number): void => {
    if (i >= timeouts.length) return done(new Error(`failed to connect to an endpoint of ${servicePort}`));
    let endpoint: string;
    try {
      endpoint = lb.nextEndpoint(servicePort, clientIP, i > 0); // throws when there is none: no retry helps
    } catch (e) {
      return done(e as Error);
    }
    dial(endpoint, timeouts[i]!, (err, conn) => {
      if (!err) return done(null, { conn: conn!, endpoint });
      log(`dial ${endpoint} for ${servicePort} failed: ${err.message}`);
      attempt(i + 1);
    });
  };
  attempt(0);
}

/** connectEndpoints with a promise: rejects with the last reason when no endpoint answers. */
export function tryConnect<C>(
  lb: RoundRobin,
  servicePort: string,
  clientIP: string,
  dial: (endpoint: string, timeoutMs: number) => Promise<C>,
  timeouts: readonly number[] = ENDPOINT_DIAL_TIMEOUTS_MS,
  log: (line: string) => void = () => {},
): Promise<Dialed<C>> {
  return new Promise((resolve, reject) =>
    connectEndpoints<C>(lb, servicePort, clientIP, (ep, t, cb) => dial(ep, t).then((c) => cb(null, c), (e: Error) => cb(e)), timeouts, log, (err, d) => (err ? reject(err) : resolve(d!))),
  );
}
