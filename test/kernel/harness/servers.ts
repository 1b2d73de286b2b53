// Tiny TCP/UDP servers inside namespaces (agents/server.mjs), tracked by pid so destroy() and the exit
// fallback can kill them.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { forgetPid, trackPid } from './registry.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./agents/server.mjs', import.meta.url));

export interface ServePorts {
  tcp?: number[];
  udp?: number[];
}

export interface Server {
  /** what it answers with, e.g. `pod-1` */
  readonly name: string;
  readonly ns: string;
  readonly pid: number;
  readonly ports: Required<ServePorts>;
  /** true until the process has exited */
  running(): boolean;
  /** SIGKILL and wait (bounded) until it has exited and been reaped */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  /** give up waiting for "ready" after this long; default 15 s: a loaded machine starts node slowly, and this is no measure of anything */
  readyTimeoutMs?: number;
  /** the server exits by itself after this long; default 10 min */
  ttlMs?: number;
}

/** Start a server in `ns` answering as `name`; resolves once every port listens. */
export async function startServer(ns: string, name: string, ports: ServePorts, opts: StartServerOptions = {}): Promise<Server> {
  const full = { tcp: ports.tcp ?? [], udp: ports.udp ?? [] };
  const spec = JSON.stringify({ name, ...full, ttlMs: opts.ttlMs ?? 600_000 });
  // `ip netns exec` execs the command, so child.pid is the server's own pid.
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, SERVER_SCRIPT, spec], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start server ${name} in ${ns}`);
  const pid = child.pid;
  trackPid(pid);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let alive = true;
  void exited.then(() => {
    alive = false;
    forgetPid(pid);
  });
  try {
    await waitReady(child, opts.readyTimeoutMs ?? 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`server ${name} in ${ns}: ${(e as Error).message}`);
  }
  // Keep stdin open (the server exits when it closes, i.e. when we die) but let this process exit without us.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as Socket | null)?.unref?.();
  return {
    name,
    ns,
    pid,
    ports: full,
    running: () => alive,
    async stop() {
      if (!alive) return;
      child.kill('SIGKILL');
      // A referenced timer: the child is unref'd, so without it a script awaiting destroy() could end mid-way.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2_000)))]);
      clearTimeout(timer);
    },
  };
}

function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => done(new Error(`not listening after ${timeoutMs} ms ${err.trim()}`)), timeoutMs);
    const onOut = (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes('ready\n')) done();
    };
    const onErr = (b: Buffer) => {
      err += b.toString('utf8');
    };
    const onClose = (code: number | null) => done(new Error(`exited (${code}) before listening: ${err.trim()}`));
    function done(e?: Error) {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.off('close', onClose);
      // keep draining so a chatty child never blocks on a full pipe
      child.stdout?.resume();
      child.stderr?.resume();
      if (e) reject(e);
      else resolve();
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.once('close', onClose);
  });
}
