// The TCP proxy socket (proxysocket.go tcpProxySocket): accept, dial an endpoint (dial.ts), copy bytes both
// ways. Upstream's ProxyTCP runs one copyBytes per direction, and each, when its source ends (EOF or error),
// closes BOTH connections once the bytes it read are written: so when either side ends, the other is
// ended after its bytes are through and both are closed. A half-close is not carried through: that IS
// upstream's behaviour. Closing the listener stops new connections and leaves established ones alone.
//
// Every accepted connection costs the proxy an accept, a dial and two closes, so the per-connection path
// is kept lean: sockets start paused (pauseOnConnect: no read until an endpoint answers), TCP_NODELAY is
// set at creation (Go's sockets have it; Node's would wait for Nagle), Node's own half-open handling is
// off (we end and close ourselves), the client address is read only when the balancer needs it (ClientIP
// affinity, as upstream's NextEndpoint) or for a log line, and the relay's listeners are shared functions
// that find their connection through the socket, not closures made per connection.
import net from 'node:net';
import type { RoundRobin } from '../../userspace/index.js';
import { connectEndpoints, ENDPOINT_DIAL_TIMEOUTS_MS, splitEndpoint, type Dial } from './dial.js';

export interface ProxySocket {
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
  /** Connections (TCP) or client sessions (UDP) open now. */
  active(): number;
  /** Stops the socket; `dropConnections` also ends established TCP connections (a proxier going away). */
  close(opts?: { dropConnections?: boolean }): Promise<void>;
}

export interface SocketOptions {
  servicePort: string;
  listenIP: string;
  port: number;
  lb: RoundRobin;
  /** The service port has ClientIP affinity: the balancer needs each client's address. */
  clientIPAffinity?: boolean;
  dialTimeoutsMs?: readonly number[];
  log: (line: string) => void;
}

/** One proxied connection: the accepted socket, the one dialled for it (once it answers), and its owner's set. */
interface Relay {
  inConn: net.Socket;
  out: net.Socket | null;
  open: Set<Relay>;
  closed: boolean;
}

const RELAY = Symbol('relay');
type RelaySocket = net.Socket & { [RELAY]: Relay };

const relayOf = (s: net.Socket) => (s as RelaySocket)[RELAY];
const peerOf = (r: Relay, s: net.Socket) => (r.inConn === s ? r.out : r.inConn);

function closeRelay(r: Relay): void {
  if (r.closed) return;
  r.closed = true;
  r.open.delete(r);
  r.inConn.destroy();
  r.out?.destroy();
}

// the relay's listeners (`this` is the socket that emitted)
function onData(this: net.Socket, chunk: Buffer): void {
  const peer = peerOf(relayOf(this), this);
  if (peer && !peer.write(chunk)) this.pause();
}
function onDrain(this: net.Socket): void {
  peerOf(relayOf(this), this)?.resume();
}
function onEnd(this: net.Socket): void {
  const r = relayOf(this);
  const peer = peerOf(r, this);
  // copyBytes: io.Copy returned, every byte read was written; then both are closed
  if (!peer || peer.writableLength === 0) closeRelay(r);
  else peer.end(() => closeRelay(r));
}
function onError(this: net.Socket): void {
  closeRelay(relayOf(this));
}

const dialTCP: Dial<net.Socket> = (endpoint, timeoutMs, done) => {
  const { host, port } = splitEndpoint(endpoint);
  const s = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
  let settled = false;
  const settle = (err: Error | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    s.removeListener('connect', onConnect);
    s.removeListener('error', settle);
    if (err) {
      s.destroy();
      done(err);
    } else done(null, s);
  };
  const onConnect = () => settle(null);
  const timer = setTimeout(() => settle(new Error(`i/o timeout after ${timeoutMs}ms`)), timeoutMs);
  s.on('connect', onConnect);
  s.on('error', settle);
};

export async function openTCPProxySocket(o: SocketOptions): Promise<ProxySocket> {
  const open = new Set<Relay>();
  const timeouts = o.dialTimeoutsMs ?? ENDPOINT_DIAL_TIMEOUTS_MS;
  const clientIP = (s: net.Socket) => (s.remoteAddress ?? '').replace(/^::ffff:/, '');
  const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (inConn) => {
    const r: Relay = { inConn, out: null, open, closed: false };
    (inConn as RelaySocket)[RELAY] = r;
    open.add(r);
    inConn.on('error', onError);
    connectEndpoints(o.lb, o.servicePort, o.clientIPAffinity ? clientIP(inConn) : '', dialTCP, timeouts, o.log, (err, dialed) => {
      if (err) {
        // no endpoint, or none answered: upstream closes the accepted connection
        o.log(`${o.servicePort}: ${err.message}; closing the connection from ${clientIP(inConn)}`);
        closeRelay(r);
        return;
      }
      const out = dialed!.conn;
      r.out = out;
      (out as RelaySocket)[RELAY] = r;
      if (r.closed) {
        out.destroy(); // the client went away while we dialled
        return;
      }
      inConn.on('data', onData).on('drain', onDrain).on('end', onEnd);
      out.on('data', onData).on('drain', onDrain).on('end', onEnd).on('error', onError);
      inConn.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.listenIP, port: o.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    protocol: 'TCP',
    port,
    active: () => open.size,
    // stop accepting now; established connections end on their own (their end is not awaited) unless dropped
    close: async (opts = {}) => {
      server.close();
      if (opts.dropConnections) for (const r of [...open]) closeRelay(r);
    },
  };
}
