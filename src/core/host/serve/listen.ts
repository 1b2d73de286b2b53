// Binding kube-proxy's HTTP servers: "HOST:PORT" as kube-proxy's flags take it ("0.0.0.0:10256",
// "[::1]:10249", ":10256"), one plain sentence when the address is taken or refused.
import http from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { ClusterError, InputError } from '../../errors.js';
import { listenInNetns } from './netns.js';

/** Where a server listens: this process's network namespace, or a named one (`ip netns`). */
export interface ListenOptions {
  netns?: string;
}

export interface Served {
  /** "127.0.0.1:10249" as bound (the port filled in when 0 was asked). */
  address: string;
  close(): Promise<void>;
}

export function splitHostPort(addr: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  const host = m ? (m[1] ?? (m[2] || '0.0.0.0')) : '';
  if (!m || Number(m[3]) > 65535 || !isIP(host)) throw new InputError(`${what} "${addr}" is not IP:PORT (e.g. 127.0.0.1:10249 or [::1]:10249).`);
  return { host, port: Number(m[3]) };
}

export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export type Handler = (path: string) => Answer | undefined | Promise<Answer | undefined>;

/** Serves `handler` (undefined: 404) on addr; resolves once listening. */
export function serve(addr: { host: string; port: number }, what: string, handler: Handler, opts: ListenOptions = {}): Promise<Served> {
  const server = http.createServer(async (req, res) => {
    let out: Answer | undefined;
    try {
      out = await handler((req.url ?? '/').split('?')[0]!);
    } catch (e) {
      out = { status: 500, body: `${(e as Error).message}\n` };
    }
    if (!out) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    res.writeHead(out.status, out.headers ?? {});
    res.end(out.body);
  });
  server.keepAliveTimeout = 1_000;
  const refused = (e: NodeJS.ErrnoException) => {
    const why = e.code === 'EADDRINUSE' ? 'the address is in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'no interface has that address' : e.message;
    return new ClusterError(`${what} could not listen on ${addr.host}:${addr.port}${opts.netns ? ` in network namespace ${opts.netns}` : ''}: ${why.replace(/\.$/, '')}.`);
  };
  const socket = opts.netns ? listenInNetns(opts.netns, addr.host, addr.port) : undefined;
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(refused(e)));
    const listening = () => {
      const a = server.address() as AddressInfo;
      resolve({
        address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    };
    if (socket) socket.then((s) => server.listen(s, listening), (e: NodeJS.ErrnoException) => reject(refused(e)));
    else server.listen(addr.port, addr.host, listening);
  });
}
