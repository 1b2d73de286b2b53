// The one place that talks HTTP to the API server. Authentication (certificates, tokens, exec and
// OIDC plugins) is client-node's; we keep the raw JSON so cluster objects have exactly the shape of
// `kubectl get -o json` and of the files read with -f.
import type { KubeConfig } from '@kubernetes/client-node';
import fetch, { type RequestInit } from 'node-fetch';
import { ClusterError, ProxymodeError } from '../core/errors.js';
import { httpError, networkError, parseStatus, type Endpoint } from './errors.js';
import { describeIntent, type RequestIntent } from './request.js';

/**
 * With --request-timeout 0, how long to wait for a server that accepted the connection to start answering:
 * kubectl's TLS handshake timeout. A server that never answers then fails in bounded time, as with kubectl.
 */
export const ANSWER_TIMEOUT_MS = 10_000;

/** Page size for list calls: kubectl's default chunk size. */
export const LIST_PAGE_SIZE = 500;

export class KubeClient {
  readonly at: Endpoint;

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs: number,
    private readonly pageSize = LIST_PAGE_SIZE,
  ) {
    this.at = { server: kc.getCurrentCluster()!.server.replace(/\/+$/, ''), context: kc.getCurrentContext() };
  }

  /** For client-node features beyond plain GETs (exec over WebSocket). */
  get kubeConfig(): KubeConfig {
    return this.kc;
  }

  get requestTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** GET a path; resolves to the parsed JSON body, or undefined on 404 when `optional`. */
  async get<T>(path: string, intent: RequestIntent, opts: { optional?: boolean; query?: Record<string, string> } = {}): Promise<T | undefined> {
    const res = await this.request('GET', path, intent, opts.query);
    if (res.status === 404 && opts.optional) return undefined;
    if (res.status >= 400) throw httpError(res.status, res.body, intent, this.at);
    return this.json<T>(res.body, intent);
  }

  /** POST a new object (create); resolves to the created object. Errors as `get`'s, carrying the API's status (`apiStatusOf`). */
  async post<T>(path: string, body: unknown, intent: RequestIntent): Promise<T> {
    const res = await this.request('POST', path, intent, undefined, JSON.stringify(body));
    if (res.status >= 400) throw withApiStatus(httpError(res.status, res.body, intent, this.at), res);
    return this.json<T>(res.body, intent);
  }

  /** DELETE an object; resolves to false when it was already gone (404). */
  async delete(path: string, intent: RequestIntent, query?: Record<string, string>): Promise<boolean> {
    const res = await this.request('DELETE', path, intent, query);
    if (res.status === 404) return false;
    if (res.status >= 400) throw withApiStatus(httpError(res.status, res.body, intent, this.at), res);
    return true;
  }

  /** Lists every item of a collection in pages (limit/continue), restarting once if the continue token expires (410). */
  async list<T>(path: string, intent: RequestIntent, query: Record<string, string> = {}): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      const items: T[] = [];
      let token = '';
      let expired = false;
      do {
        const q = { ...query, limit: String(this.pageSize), ...(token ? { continue: token } : {}) };
        const res = await this.request('GET', path, intent, q);
        if (res.status === 410 && token && attempt === 0) {
          expired = true;
          break;
        }
        if (res.status >= 400) throw httpError(res.status, res.body, intent, this.at);
        const page = this.json<{ items?: T[]; metadata?: { continue?: string } }>(res.body, intent);
        for (const item of page.items ?? []) items.push(item);
        token = page.metadata?.continue ?? '';
      } while (token);
      if (!expired) return items;
    }
  }

  private async request(method: string, path: string, intent: RequestIntent, query?: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
    const url = new URL(this.at.server + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    let init: RequestInit;
    try {
      init = (await this.kc.applyToFetchOptions(body === undefined ? { method } : { method, headers: { 'Content-Type': 'application/json' } })) as unknown as RequestInit;
    } catch (err) {
      // client-node rejects with the exec plugin's stderr, which may be empty.
      const said = String((err as Error).message ?? err).trim().split('\n')[0];
      const plugin = this.kc.getCurrentUser()?.exec?.command;
      const why = said || (plugin ? `the credential plugin ${plugin} failed without a message` : 'no reason given');
      throw new ClusterError(`getting credentials for context "${this.at.context}" failed: ${why}; check the kubeconfig user's auth settings.`, { cause: err });
    }
    // --request-timeout bounds the whole request; without it, the wait for the answer to start is bounded.
    const silent = this.timeoutMs === 0 ? new AbortController() : undefined;
    const timer = silent && setTimeout(() => silent.abort(), ANSWER_TIMEOUT_MS);
    try {
      const res = await fetch(url.toString(), { ...init, method, timeout: this.timeoutMs, ...(silent ? { signal: silent.signal as RequestInit['signal'] } : {}), ...(body === undefined ? {} : { body }) });
      clearTimeout(timer);
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (err instanceof ProxymodeError) throw err;
      if (silent?.signal.aborted) {
        throw new ClusterError(`the API server at ${this.at.server} accepted the connection but did not answer within ${ANSWER_TIMEOUT_MS / 1000}s to ${describeIntent(intent)}; check that context "${this.at.context}" points at a Kubernetes API server, or set --request-timeout.`, { cause: err });
      }
      throw networkError(err, intent, this.at, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  private json<T>(body: string, intent: RequestIntent): T {
    try {
      return JSON.parse(body) as T;
    } catch {
      const status = parseStatus(body);
      throw new ClusterError(`the API server at ${this.at.server} sent a reply that is not JSON to ${intent.verb} ${intent.resource}${status ? `: ${status.message}` : ''}; is the kubeconfig pointing at a Kubernetes API server?`);
    }
  }
}

/** The HTTP status and the API server's own message behind an error thrown by `post`/`delete`. */
export interface ApiStatus {
  code: number;
  message: string;
}

function withApiStatus(err: ProxymodeError, res: { status: number; body: string }): ProxymodeError {
  const message = parseStatus(res.body)?.message ?? (res.body.trim().split('\n')[0] || `HTTP ${res.status}`);
  return Object.assign(err, { apiStatus: { code: res.status, message } satisfies ApiStatus });
}

export function apiStatusOf(err: unknown): ApiStatus | undefined {
  return (err as { apiStatus?: ApiStatus } | undefined)?.apiStatus;
}
