// List and watch one collection the way client-go's reflector does: list (its resourceVersion), then
// watch from there (`?watch=1&resourceVersion=RV&allowWatchBookmarks=true`), one JSON event per line.
// ADDED/MODIFIED/DELETED go to the handlers; BOOKMARK moves the resourceVersion; an expired version (410
// Gone, as an ERROR event or an HTTP status) re-lists; a dropped stream re-watches from the last version;
// a failed connection is retried with back-off (1 s doubling to 30 s), said once when lost and once when
// restored. Uses the kubeconfig's credentials through client-node, like KubeClient (which has no streams).
import type { KubeConfig } from '@kubernetes/client-node';
import fetch, { type RequestInit } from 'node-fetch';

export interface WatchHandlers<T> {
  /** After every (re-)list: the whole collection. */
  replace(items: T[]): void;
  upsert(item: T): void;
  delete(item: T): void;
}

export interface ListWatchOptions {
  /** "services", for messages. */
  resource: string;
  log: (message: string) => void;
  /** Longest wait between reconnects (default 30 s); tests shorten it. */
  maxBackoffMs?: number;
  /** Server-side timeout of each watch request, seconds (default 300, as client-go picks 5–10 min). */
  timeoutSeconds?: number;
}

class Gone extends Error {}

export class ListWatch<T extends { metadata?: { resourceVersion?: string } }> {
  private readonly abort = new AbortController();
  private rv = '';
  private stopped = false;
  private lost = false;
  /** Lists done (the first and every re-list after 410), for tests and messages. */
  lists = 0;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly handlers: WatchHandlers<T>,
    private readonly opts: ListWatchOptions,
  ) {}

  /** Lists once (rejecting when that fails: the caller's first read), then watches in the background. */
  async start(): Promise<void> {
    await this.list();
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.done;
  }

  private get server(): string {
    return this.kc.getCurrentCluster()!.server.replace(/\/+$/, '');
  }

  private async request(query: Record<string, string>) {
    const url = new URL(this.server + this.path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const init = (await this.kc.applyToFetchOptions({ method: 'GET' })) as unknown as RequestInit;
    return fetch(url.toString(), { ...init, method: 'GET', signal: this.abort.signal as never });
  }

  private async list(): Promise<void> {
    const res = await this.request({});
    const body = await res.text();
    if (res.status >= 400) throw new Error(`list ${this.opts.resource}: HTTP ${res.status}`);
    const parsed = JSON.parse(body) as { items?: T[]; metadata?: { resourceVersion?: string } };
    this.rv = parsed.metadata?.resourceVersion ?? '';
    this.lists++;
    this.handlers.replace(parsed.items ?? []);
  }

  private async run(): Promise<void> {
    const max = this.opts.maxBackoffMs ?? 30_000;
    const first = Math.min(1_000, max);
    let backoff = first;
    while (!this.stopped) {
      try {
        await this.watchOnce();
        backoff = first;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof Gone) {
          try {
            await this.list();
            this.restored();
            continue;
          } catch (le) {
            e = le;
          }
        }
        if (!this.lost) this.opts.log(`lost the watch of ${this.opts.resource} (${(e as Error).message}); reconnecting with back-off, the rules stay as they are.`);
        this.lost = true;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private restored(): void {
    if (this.lost) this.opts.log(`the watch of ${this.opts.resource} is back.`);
    this.lost = false;
  }

  private async watchOnce(): Promise<void> {
    const res = await this.request({ watch: '1', resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds: String(this.opts.timeoutSeconds ?? 300) });
    if (res.status === 410) throw new Gone('resource version expired');
    if (res.status >= 400) throw new Error(`watch ${this.opts.resource}: HTTP ${res.status}`);
    this.restored();
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.event(line);
      }
    }
  }

  private event(line: string): void {
    const ev = JSON.parse(line) as { type: string; object: T & { code?: number; message?: string } };
    if (ev.type === 'ERROR') {
      if (ev.object.code === 410) throw new Gone(ev.object.message ?? 'resource version expired');
      throw new Error(`watch ${this.opts.resource}: ${ev.object.message ?? 'error event'}`);
    }
    const rv = ev.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.handlers.upsert(ev.object);
    else if (ev.type === 'DELETED') this.handlers.delete(ev.object);
  }
}
