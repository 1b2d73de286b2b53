// `sync`'s cluster faces beside --on-node: --all-nodes (a DaemonSet that stays until --remove), --remove,
// and the refusal to run beside a live kube-proxy (--force). Kept out of sync.ts, whose local-host path
// changes on its own.
import { Flags } from '@oclif/core';
import { ExitCode, InputError, ProxymodeError } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import { parseTimeoutFlag } from '../kube/duration.js';
import { ApiSource, openSource } from '../kube/source.js';
import { ALL_NODES_NAME, ALL_NODES_NAMESPACE, installAllNodes, removeAllNodes } from '../kube/sync-daemonset.js';
import { besideRefusal, kubeProxyBeside } from '../kube/sync-pod.js';
import { writeOut } from '../ui/print.js';
import { Progress } from '../ui/progress.js';


export const onClusterFlags = {
  'all-nodes': Flags.boolean({ description: 'Run sync on every node through a DaemonSet (namespace kubectl-proxymode, its own RBAC); it stays after the command ends, until `sync --remove`. Ctrl-C before its pods are ready deletes what was created.' }),
  remove: Flags.boolean({ description: 'Delete what --all-nodes created (DaemonSet, RBAC, namespace; only objects carrying its label) and exit.' }),
  force: Flags.boolean({ description: 'With --on-node or --all-nodes: run even beside a live kube-proxy (both then write the same chains and tables).' }),
  timeout: Flags.string({ description: 'With --all-nodes: how long its DaemonSet\'s pods may take to be ready before everything it created is deleted (default 5m), e.g. 90s or 10m.' }),
  'service-account': Flags.string({ description: 'With --on-node: run the pod as this existing ServiceAccount in kube-system instead of creating one with the least RBAC (list/watch Services, EndpointSlices, Nodes; get kube-proxy\'s ConfigMap).' }),
};

type F = Record<string, unknown>;

function cluster(flags: F, what: string): KubeClient {
  if ((flags.filename as string[] | undefined)?.length) throw new InputError(`${what} works on a cluster; leave out -f.`);
  if (flags.netns) throw new InputError(`${what} programs the nodes themselves; leave out --netns.`);
  const source = openSource(flags as never);
  if (!(source instanceof ApiSource)) throw new InputError(`${what} needs a cluster.`);
  return source.kubeClient;
}

/** Refuses (exit 1) when kube-proxy or a full replacement runs where sync would, unless --force. */
async function refuseBeside(client: KubeClient, node: string | undefined, flags: F): Promise<void> {
  if (flags.force) return;
  const why = besideRefusal(await kubeProxyBeside(client, node), node ? `node ${node}` : 'every node');
  if (why) throw new ProxymodeError(why, ExitCode.PROBLEM);
}

export async function runOnNodeChecks(client: KubeClient, node: string, flags: F): Promise<void> {
  if (flags['all-nodes']) throw new InputError('--on-node and --all-nodes cannot be combined; give one.');
  await refuseBeside(client, node, flags);
}

export async function runAllNodes(flags: F): Promise<void> {
  if (flags['on-node']) throw new InputError('--on-node and --all-nodes cannot be combined; give one.');
  for (const f of ['once', 'dry-run', 'cleanup']) if (flags[f] === true) throw new InputError(`--all-nodes runs the loop on every node until --remove; leave out --${f} (or use --on-node NODE --${f}).`);
  if (flags['service-account']) throw new InputError(`--service-account is for --on-node; --all-nodes creates its own ServiceAccount in namespace ${ALL_NODES_NAMESPACE}.`);
  const timeoutMs = parseTimeoutFlag(typeof flags.timeout === 'string' ? flags.timeout : '5m');
  const client = cluster(flags, '--all-nodes');
  await refuseBeside(client, undefined, flags);
  const args: string[] = [];
  for (const f of ['mode', 'cluster-cidr', 'node-ip', 'kube-proxy-version', 'healthz-bind-address', 'metrics-bind-address', 'namespace']) {
    if (typeof flags[f] === 'string') args.push(`--${f}`, flags[f] as string);
  }
  if (flags['masquerade-all'] === true) args.push('--masquerade-all');
  const progress = new Progress(process.stderr.isTTY === true);
  let r;
  try {
    r = await installAllNodes(client, { image: String(flags.image), args, timeoutMs, onProgress: (t) => progress.say(t) });
  } finally {
    progress.done();
  }
  if (r.interrupted) return;
  const lines = [`sync runs on ${r.pods.length} node${r.pods.length === 1 ? '' : 's'} through DaemonSet ${ALL_NODES_NAMESPACE}/${ALL_NODES_NAME}:`];
  for (const p of r.pods) lines.push(`  ${p.node}  ${p.pod}  ${p.log.split('\n').pop() || '(no log yet)'}`);
  lines.push(`It stays running after this command; follow it with: kubectl -n ${ALL_NODES_NAMESPACE} logs -f ds/${ALL_NODES_NAME}`);
  lines.push('Remove it with: kubectl proxymode sync --remove');
  writeOut(lines.join('\n'));
}

export async function runRemove(flags: F): Promise<void> {
  for (const f of ['all-nodes', 'on-node', 'once', 'dry-run', 'cleanup']) if (flags[f]) throw new InputError(`--remove takes away what --all-nodes left running and takes no --${f}.`);
  const client = cluster(flags, '--remove');
  const results = await removeAllNodes(client);
  const deleted = results.filter((r) => r.result === 'deleted');
  const notOurs = results.filter((r) => r.result === 'not ours');
  const lines = deleted.length ? [`deleted ${deleted.map((r) => r.object).join(', ')}.`] : ['nothing of sync --all-nodes was found; nothing to remove.'];
  if (notOurs.length) lines.push(`left alone (no app.kubernetes.io/name=kubectl-proxymode-sync label): ${notOurs.map((r) => r.object).join(', ')}.`);
  writeOut(lines.join('\n'));
}
