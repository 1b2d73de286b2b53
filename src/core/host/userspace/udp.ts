// The UDP proxy socket (proxysocket.go udpProxySocket): one session per client address, each with its own
// socket connected to the endpoint the balancer gave that client; replies go back from the proxy socket.
// A session ends after udpIdleTimeout without traffic either way. Closing the socket ends every session.
// Upstream reads each datagram, both ways, into a 4 KiB buffer: a longer one is cut to its first 4096
// bytes (the kernel drops the rest), and so is it here.
import dgram from 'node:dgram';
import { splitEndpoint, tryConnect } from './dial.js';
import type { ProxySocket, SocketOptions } from './tcp.js';

/** proxysocket.go's `var buffer [4096]byte` in ProxyLoop and proxyClient. */
export const UDP_BUFFER_BYTES = 4096;

const cut = (b: Buffer) => (b.length > UDP_BUFFER_BYTES ? b.subarray(0, UDP_BUFFER_BYTES) : b);

interface Session {
  backend: dgram.Socket;
  timer: NodeJS.Timeout;
}

function dialUDP(endpoint: string, _timeoutMs: number): Promise<dgram.Socket> {
  const { host, port } = splitEndpoint(endpoint);
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.connect(port, host, () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

export async function openUDPProxySocket(o: SocketOptions & { idleTimeoutMs: number }): Promise<ProxySocket> {
  const sock = dgram.createSocket(o.listenIP.includes(':') ? 'udp6' : 'udp4');
  const sessions = new Map<string, Session | Promise<Session | null>>();
  const end = (key: string, s: Session) => {
    clearTimeout(s.timer);
    sessions.delete(key);
    try {
      s.backend.close();
    } catch {
      // already closed
    }
  };
  const touch = (key: string, s: Session) => {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => end(key, s), o.idleTimeoutMs);
  };
  const session = (key: string, address: string, port: number): Promise<Session | null> | Session => {
    const known = sessions.get(key);
    if (known) return known;
    const made = tryConnect(o.lb, o.servicePort, address, dialUDP, o.dialTimeoutsMs, o.log).then(
      ({ conn: backend }) => {
        const s: Session = { backend, timer: setTimeout(() => {}, 0) };
        backend.on('message', (reply) => {
          touch(key, s);
          sock.send(cut(reply), port, address);
        });
        backend.on('error', () => end(key, s));
        sessions.set(key, s);
        touch(key, s);
        return s;
      },
      (e: Error) => {
        o.log(`${o.servicePort}: ${e.message}; dropping the datagram from ${key}`);
        sessions.delete(key);
        return null;
      },
    );
    sessions.set(key, made);
    return made;
  };
  sock.on('message', (msg, rinfo) => {
    const address = rinfo.address.replace(/^::ffff:/, '');
    const key = `${address}:${rinfo.port}`;
    void Promise.resolve(session(key, address, rinfo.port)).then((s) => {
      if (!s) return;
      s.backend.send(cut(msg));
      touch(key, s);
    });
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: o.listenIP, port: o.port }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    protocol: 'UDP',
    port: sock.address().port,
    active: () => [...sessions.values()].filter((s) => !(s instanceof Promise)).length,
    close: async () => {
      for (const [key, s] of sessions) if (!(s instanceof Promise)) end(key, s);
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    },
  };
}
