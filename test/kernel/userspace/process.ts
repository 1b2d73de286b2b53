// A line-oriented child in a namespace (the proxy, an echo server, a holding client): send a line, await
// the next output line. The child is killed by stop() and, failing that, by the topology's destroy()
// (which kills whatever lives in its namespaces).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LineChild {
  /** The child's pid (`ip netns exec` execs the command: the program's own pid). */
  readonly pid: number | undefined;
  send(line: string): void;
  /** The next line the child prints (rejects after timeoutMs). */
  next(timeoutMs?: number): Promise<string>;
  stderr(): string;
  stop(): Promise<void>;
}

export function spawnInNs(ns: string, argv: string[]): LineChild {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  const queue: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else queue.push(l);
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    pid: child.pid,
    send: (line) => child.stdin!.write(`${line}\n`),
    next: (timeoutMs = 10_000) =>
      queue.length
        ? Promise.resolve(queue.shift()!)
        : new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`no output from ${argv.join(' ')} in ${timeoutMs} ms; stderr: ${err.trim()}`)), timeoutMs);
            waiting.push((l) => {
              clearTimeout(t);
              resolve(l);
            });
          }),
    stderr: () => err,
    stop: async () => {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(t);
    },
  };
}
