// Connecting from inside a namespace (agents/client.mjs), with outcomes a test can assert on:
// refused (RST / ICMP port unreachable) vs timeout (dropped) vs unreachable (ICMP host/net unreachable).
import { fileURLToPath } from 'node:url';
import { run } from './proc.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./agents/client.mjs', import.meta.url));

export type Proto = 'tcp' | 'udp';
export type ConnectError = 'refused' | 'timeout' | 'unreachable' | 'reset' | 'no-reply' | 'error';
export type ConnectResult =
  /** reply is the server's answer, e.g. `pod-1 192.168.77.100:43122`; local is our ip:port; ms how long the
   * attempt took inside the client (its process start-up not counted) */
  | { ok: true; reply: string; local?: string; ms?: number }
  | { ok: false; error: ConnectError; detail: string; local?: string; ms?: number };

export interface ConnectOptions {
  proto?: Proto;
  /** per attempt; default 1000 ms, at most 30 s */
  timeoutMs?: number;
  /** bind the client socket to this source address */
  localAddress?: string;
  /** sent after connecting (UDP default "ping") */
  payload?: string;
}

export interface BatchOptions extends ConnectOptions {
  /** how many connections, at most MAX_BATCH */
  count: number;
  /** attempts in flight at once; default 1, at most 64 */
  concurrency?: number;
  /** no attempt starts after this long; default 60 s */
  deadlineMs?: number;
}

export interface BatchResult {
  results: ConnectResult[];
  /** how often each answer came: by server name (first word of the reply), or `!<error>` */
  counts: Record<string, number>;
  /** false when the deadline cut the batch short */
  complete: boolean;
}

export const MAX_BATCH = 10_000;

/** One connection from namespace `fromNs` to ip:port. */
export async function connect(fromNs: string, ip: string, port: number, opts: ConnectOptions = {}): Promise<ConnectResult> {
  const batch = await connectBatch(fromNs, ip, port, { ...opts, count: 1 });
  const r = batch.results[0];
  if (!r) throw new Error(`client in ${fromNs} made no attempt`);
  return r;
}

/** `count` independent connections (new source port each) in one client process. */
export async function connectBatch(fromNs: string, ip: string, port: number, opts: BatchOptions): Promise<BatchResult> {
  const timeoutMs = clamp(opts.timeoutMs ?? 1_000, 1, 30_000);
  const count = clamp(opts.count, 1, MAX_BATCH);
  const deadlineMs = clamp(opts.deadlineMs ?? 60_000, 1, 300_000);
  const spec = {
    ip,
    port,
    proto: opts.proto ?? 'tcp',
    timeoutMs,
    count,
    concurrency: clamp(opts.concurrency ?? 1, 1, 64),
    deadlineMs,
    localAddress: opts.localAddress,
    payload: opts.payload,
  };
  // The client stops itself; this is the safety net (plus node start-up time).
  const r = await run('ip', ['netns', 'exec', fromNs, process.execPath, CLIENT_SCRIPT, JSON.stringify(spec)], {
    timeoutMs: deadlineMs + timeoutMs + 5_000,
  });
  if (r.code !== 0) throw new Error(`client in ${fromNs} failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): ${r.stderr.trim()}`);
  const parsed = JSON.parse(r.stdout) as { results: ConnectResult[]; complete: boolean };
  return { results: parsed.results, counts: countReplies(parsed.results), complete: parsed.complete };
}

/** Connections per answering pod name; failures as `!<error>`. */
export function countReplies(results: readonly ConnectResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const res of results) {
    const key = res.ok ? parseReply(res.reply).name : `!${res.error}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Split a server answer `pod-1 10.0.2.1:43122` (IPv6 peers: `pod-1 fd00::1:43122`). */
export function parseReply(reply: string): { name: string; peerIp: string; peerPort: number } {
  const [name = '', peer = ''] = reply.split(' ');
  const colon = peer.lastIndexOf(':');
  return { name, peerIp: peer.slice(0, colon), peerPort: Number(peer.slice(colon + 1)) };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(n)));
}
