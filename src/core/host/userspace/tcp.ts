// The TCP proxy socket (proxysocket.go tcpProxySocket): accept, dial an endpoint (dial.ts), copy bytes both
// ways; when either side ends, the other is ended once the bytes are through and both are closed, as
// upstream's copy loop does. Closing the listener stops new connections and leaves established ones alone.
import net from 'node:net';
import type { RoundRobin } from '../../userspace/index.js';
import { splitEndpoint, tryConnect } from './dial.js';

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
  dialTimeoutsMs?: readonly number[];
  log: (line: string) => void;
}

function dialTCP(endpoint: string, timeoutMs: number): Promise<net.Socket> {
  const { host, port } = splitEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`i/o timeout after ${timeoutMs}ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function openTCPProxySocket(o: SocketOptions): Promise<ProxySocket> {
  const open = new Set<net.Socket>();
  const server = net.createServer((inConn) => {
    open.add(inConn);
    inConn.on('close', () => open.delete(inConn));
    inConn.on('error', () => inConn.destroy());
    inConn.pause();
    const clientIP = (inConn.remoteAddress ?? '').replace(/^::ffff:/, '');
    tryConnect(o.lb, o.servicePort, clientIP, dialTCP, o.dialTimeoutsMs, o.log).then(
      ({ conn: out }) => {
        // Go's TCP connections (upstream's) send small writes at once; Node's wait for Nagle unless told
        out.setNoDelay(true);
        inConn.setNoDelay(true);
        const closeBoth = () => {
          inConn.destroy();
          out.destroy();
        };
        // copyBytes: when one side's stream ends, pipe ends the other once every byte is written to it,
        // then both close; an error or an abrupt close of either closes both at once
        for (const [a, b] of [[inConn, out], [out, inConn]] as const) {
          a.on('error', closeBoth);
          a.on('close', () => {
            if (!a.readableEnded) closeBoth();
          });
          b.on('finish', closeBoth);
        }
        inConn.pipe(out);
        out.pipe(inConn);
        inConn.resume();
      },
      (e: Error) => {
        // no endpoint, or none answered: upstream closes the accepted connection
        o.log(`${o.servicePort}: ${e.message}; closing the connection from ${clientIP}`);
        inConn.destroy();
      },
    );
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
      if (opts.dropConnections) for (const c of open) c.destroy();
    },
  };
}
