// Listening inside a network namespace. Node cannot enter a namespace itself (setns needs the calling
// thread, and Node runs several), so a short-lived child is started in it with `ip netns exec NS node -e …`;
// the child binds the socket there and hands the listening socket to us over its IPC channel, then exits.
// A socket stays in the namespace it was made in, so our HTTP servers then answer inside the namespace,
// where the tests and a node's clients reach them, and nowhere on the host side.
import { spawn } from 'node:child_process';
import type { Server } from 'node:net';

/** The child: bind, send the listening socket (or the error code) and exit. */
const CHILD = [
  "const net = require('net');",
  'const s = net.createServer();',
  "s.on('error', (e) => process.send({ error: e.code || e.message }, () => process.exit(1)));",
  's.listen({ host: process.env.PROXYMODE_LISTEN_HOST, port: Number(process.env.PROXYMODE_LISTEN_PORT) }, () => process.send({ ok: true }, s, () => process.exit(0)));',
].join('\n');

/** An error of binding, with the code a local listen would give (EADDRINUSE …). */
export class ListenError extends Error {
  constructor(
    readonly code: string,
    message = code,
  ) {
    super(message);
  }
}

/** A listening socket on host:port inside network namespace `ns` (rejects with a ListenError). */
export function listenInNetns(ns: string, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let stderr = '';
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', CHILD], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, PROXYMODE_LISTEN_HOST: host, PROXYMODE_LISTEN_PORT: String(port) },
    });
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    child.on('message', (m: { ok?: boolean; error?: string }, handle: unknown) => {
      if (m.ok && handle) done(() => resolve(handle as Server));
      else done(() => reject(new ListenError(m.error ?? 'no socket was handed over')));
    });
    child.on('error', (e) => done(() => reject(new ListenError('ENOENT', `ip netns exec could not start: ${e.message}`))));
    child.on('exit', (code) => done(() => reject(new ListenError('ECHILD', `the listener in network namespace ${ns} exited ${code}: ${stderr.trim().split('\n')[0] || 'no output'}`))));
  });
}
