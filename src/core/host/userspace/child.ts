// Where the userspace proxier's sockets live. Node cannot enter a network namespace, so for `sync
// --netns NAME` the proxier runs in a child process started with `ip netns exec NAME` (this same CLI,
// `sync --userspace-proxy-child`): its sockets, its port claims and its view of local addresses are the
// namespace's, which is where the portal rules send the traffic. Parent and child speak one JSON object
// per line: the parent writes {"op":"sync","services":[…]}, the child answers {"ports":{…},"open":{…}}
// (or {"error":"…"}). The child stops, closing every socket, when its stdin ends (the parent stopped or
// died) or on SIGTERM/SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { UserspaceProxier, type ServicePortToProxy, type UserspaceProxierOptions } from './proxier.js';

export interface SyncedPorts {
  /** The proxy port serving each service port that has a socket. */
  ports: Map<string, number>;
  /** How many of each service port's portals (in order) may get rules (the others could not be claimed). */
  open: Map<string, number>;
}

/** A running userspace proxier, in this process or in a child in a namespace. */
export interface ProxierHandle {
  sync(services: readonly ServicePortToProxy[]): Promise<SyncedPorts>;
  /** Closes every socket and ends established connections; the child, if any, exits. */
  stop(): Promise<void>;
}

/** The options a proxier is started with, as they cross to a child (no functions). */
export type ProxierChildOptions = Pick<UserspaceProxierOptions, 'listenIP' | 'portRange' | 'udpIdleTimeoutMs'>;

/** The proxier in this process (this host's network namespace). */
export function localProxier(opts: UserspaceProxierOptions): ProxierHandle {
  const p = new UserspaceProxier(opts);
  return {
    sync: async (services) => ({ ports: await p.sync(services), open: p.openPortals() }),
    stop: () => p.stop(),
  };
}

/** How to start this CLI again: node, its flags and the script it runs (bin/kubectl-proxymode). */
export function selfCommand(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1] ?? ''];
}

/**
 * The proxier in a child process in network namespace `netns`. The child starts on the first sync; when it
 * exits unexpectedly the pending sync fails (one sentence) and the next sync starts a new one.
 */
export function childProxier(netns: string, opts: ProxierChildOptions, log: (line: string) => void, command: readonly string[] = selfCommand()): ProxierHandle {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const waiting: Array<{ resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }> = [];
  const where = `network namespace ${netns}`;

  const start = (): Promise<void> => {
    const c = spawn('ip', ['netns', 'exec', netns, ...command, 'sync', '--userspace-proxy-child', JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = c;
    let stderrTail = '';
    createInterface({ input: c.stderr! }).on('line', (l) => {
      stderrTail = l;
      log(`userspace proxy in ${netns}: ${l}`);
    });
    const ready = new Promise<void>((resolve, reject) => waiting.push({ resolve: () => resolve(), reject }));
    createInterface({ input: c.stdout! }).on('line', (l) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(l) as Record<string, unknown>;
      } catch {
        log(`userspace proxy in ${netns}: ${l}`);
        return;
      }
      waiting.shift()?.resolve(msg);
    });
    exited = new Promise((resolve) => {
      const gone = (why: string) => {
        if (child === c) child = undefined;
        for (const w of waiting.splice(0)) w.reject(new Error(`the userspace proxy process in ${where} ${why}${stderrTail ? ` (${stderrTail})` : ''}.`));
        resolve();
      };
      c.once('error', (e) => gone(`could not be started: ${e.message}`));
      c.once('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
    });
    c.stdin!.on('error', () => {}); // a dead child's stdin: the exit handler reports it
    return ready;
  };

  const request = async (cmd: unknown): Promise<Record<string, unknown>> => {
    if (!child) await start();
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => waiting.push({ resolve, reject }));
    child!.stdin!.write(`${JSON.stringify(cmd)}\n`);
    return answer;
  };

  return {
    async sync(services) {
      const a = await request({ op: 'sync', services });
      if (typeof a.error === 'string') throw new Error(`the userspace proxy in ${where} refused the sync: ${a.error}`);
      return { ports: new Map(Object.entries(a.ports as Record<string, number>)), open: new Map(Object.entries(a.open as Record<string, number>)) };
    },
    async stop() {
      const c = child;
      if (!c) return;
      c.stdin!.end();
      const kill = setTimeout(() => c.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** The child's side: serve syncs from stdin until it ends or a signal comes, then close everything and exit. */
export async function serveProxierChild(optsJson: string, out: (line: string) => void, log: (line: string) => void): Promise<void> {
  const opts = JSON.parse(optsJson) as ProxierChildOptions;
  const proxier = new UserspaceProxier({ ...opts, log });
  let queue: Promise<unknown> = Promise.resolve();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void queue
        .then(() => proxier.stop())
        .finally(() => {
          lines.close();
          process.stdin.destroy(); // nothing keeps this process alive once its sockets are closed
        })
        .then(resolve, resolve);
    };
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      queue = queue.then(async () => {
        try {
          const cmd = JSON.parse(line) as { op: string; services?: ServicePortToProxy[] };
          if (cmd.op !== 'sync' || !Array.isArray(cmd.services)) throw new Error(`unknown request ${line.slice(0, 80)}`);
          const ports = await proxier.sync(cmd.services);
          out(JSON.stringify({ ports: Object.fromEntries(ports), open: Object.fromEntries(proxier.openPortals()) }));
        } catch (e) {
          out(JSON.stringify({ error: (e as Error).message }));
        }
      });
    });
    lines.on('close', stop);
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    out(JSON.stringify({ ready: true }));
  });
}
