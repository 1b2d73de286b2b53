// Runs a command in a pod's container through the API server (pods/exec over WebSocket, as kubectl
// exec does), collecting its output. Used to read a node's live rules from its kube-proxy pod.
import { Exec, type V1Status } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { ClusterError } from '../core/errors.js';
import type { KubeClient } from './client.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function execInPod(
  client: KubeClient,
  target: { namespace: string; pod: string; container: string },
  command: string[],
): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk, _enc, done) {
        into.push(Buffer.from(chunk));
        done();
      },
    });
  const timeoutMs = client.requestTimeoutMs || 60_000;
  let status: V1Status | undefined;
  const where = `pod ${target.namespace}/${target.pod}`;
  let socket;
  try {
    socket = await new Exec(client.kubeConfig).exec(target.namespace, target.pod, target.container, command, sink(out), sink(err), null, false, (s) => {
      status = s;
    });
  } catch (e) {
    throw execRefusal(e, target, client.at.server);
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new ClusterError(`\`${command.join(' ')}\` in ${where} did not finish within ${timeoutMs / 1000}s; try again or raise --request-timeout.`));
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode: exitCodeOf(status) };
}

/** The exit code in the status the API server sends on the error channel: Success, or NonZeroExitCode with an ExitCode cause. */
function exitCodeOf(status: V1Status | undefined): number {
  if (!status || status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message ? Number(cause.message) : 1;
}

function execRefusal(e: unknown, target: { namespace: string; pod: string }, server: string): ClusterError {
  const message = String((e as Error)?.message ?? e);
  const code = /Unexpected server response: (\d+)/.exec(message)?.[1];
  if (code === '403') {
    return new ClusterError(
      `forbidden: you may not exec into pod ${target.namespace}/${target.pod} (RBAC); ask a cluster admin to grant "create" on "pods/exec" in namespace "${target.namespace}".`,
    );
  }
  if (code === '401') return new ClusterError(`the API server at ${server} rejected the credentials for pods/exec (401 Unauthorized); log in again or refresh the kubeconfig's user token.`);
  if (code === '404') return new ClusterError(`pod ${target.namespace}/${target.pod} is gone (404); run the command again to pick the node's current kube-proxy pod.`);
  return new ClusterError(`exec into pod ${target.namespace}/${target.pod} failed: ${message.split('\n')[0]}; check that the API server allows pods/exec.`, { cause: e });
}
