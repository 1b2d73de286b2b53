// Turns what the API server (or the network on the way) answered into one sentence that says what
// failed and what to do. Status bodies are the API server's own (kind: Status, reason, message, code).
import { ClusterError, InputError, type ProxymodeError } from '../core/errors.js';
import { describeIntent, type RequestIntent } from './request.js';

export interface Endpoint {
  server: string;
  context: string;
}

interface Status {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export function parseStatus(body: string): Status | undefined {
  try {
    const s = JSON.parse(body) as Status;
    return s && s.kind === 'Status' ? s : undefined;
  } catch {
    return undefined;
  }
}

export function httpError(code: number, body: string, intent: RequestIntent, at: Endpoint): ProxymodeError {
  const status = parseStatus(body);
  const message = status?.message ?? (body.trim().split('\n')[0] || `HTTP ${code}`);
  switch (code) {
    case 401:
      return new ClusterError(
        `the API server at ${at.server} rejected the credentials of context "${at.context}" (401 Unauthorized); log in again or refresh the kubeconfig's user token.`,
      );
    case 403: {
      const user = /User "([^"]+)"/.exec(message)?.[1];
      const scope = intent.namespace ? ` in namespace "${intent.namespace}"` : '';
      return new ClusterError(
        `forbidden: ${user ? `user "${user}"` : 'you'} may not ${describeIntent(intent)} (RBAC); ask a cluster admin to grant "${intent.verb}" on "${intent.resource}"${scope}.`,
      );
    }
    case 404:
      return new InputError(`${describeIntent({ ...intent, verb: 'get' }).replace(/^get /, '')} not found on the cluster at ${at.server}; check the name and namespace.`);
    case 408:
    case 504:
      return new ClusterError(`the API server at ${at.server} timed out answering ${describeIntent(intent)} (${code}); try again or raise --request-timeout.`);
    case 429:
      return new ClusterError(`the API server at ${at.server} is throttling requests (429 ${status?.reason ?? 'TooManyRequests'}); wait a moment and try again.`);
    default:
      return new ClusterError(`the API server at ${at.server} answered ${code} to ${describeIntent(intent)}: ${message}; try again, or check the API server's health.`);
  }
}

export function networkError(err: unknown, intent: RequestIntent, at: Endpoint, timeoutMs: number): ProxymodeError {
  const e = err as { code?: string; type?: string; message?: string; errno?: string };
  const code = e.code ?? e.errno;
  const host = safeHost(at.server);
  if (e.type === 'request-timeout' || e.type === 'body-timeout' || code === 'ETIMEDOUT' || e.type === 'aborted') {
    return new ClusterError(
      `the API server at ${at.server} did not answer within ${timeoutMs / 1000}s (--request-timeout) to ${describeIntent(intent)}; check the connection or raise --request-timeout.`,
    );
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new ClusterError(`cannot reach the cluster at ${at.server}: connection refused; check that the API server is up and that context "${at.context}" points at it.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ClusterError(`cannot reach the cluster at ${at.server}: host "${host}" is not known; check the server address in context "${at.context}".`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return new ClusterError(`cannot reach the cluster at ${at.server} (${code}); check the network path to the API server.`);
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new ClusterError(`the TLS certificate of ${at.server} was not accepted (${code}); check certificate-authority-data for context "${at.context}".`);
    default:
      return new ClusterError(
        `request to ${at.server} to ${describeIntent(intent)} failed: ${String(e.message ?? err).split('\n')[0]}; check the kubeconfig and the network.`,
      );
  }
}

function safeHost(server: string): string {
  try {
    return new URL(server).hostname;
  } catch {
    return server;
  }
}
