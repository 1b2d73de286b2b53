// pods/exec on an in-process API server: the v4.channel.k8s.io WebSocket protocol, answering every exec
// with `stdout()` and success, or refusing the upgrade as RBAC would.
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';

export function serveExec(server: Server, opts: { stdout: () => string; forbidden: () => boolean; seen?: string[] }): void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  server.on('upgrade', (req, socket, head) => {
    opts.seen?.push(`UPGRADE ${req.url}`);
    if (opts.forbidden()) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(opts.stdout())]));
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }))]));
      ws.close();
    });
  });
}
