// `set`'s leftovers: each node's rules read through its kube-proxy pod (the live-rules NodeShell), what the
// running mode does not write picked out (core/setmode/leftovers.ts), and `--cleanup`: per node a
// short-lived privileged pod of this tool's image (sync-pod.ts's builder, kube-proxy's privileges) that
// runs exactly the listed removals and nothing else — never `sync --cleanup`'s everything, which would
// also take the running mode's rules away. The pod is deleted on every path (clean-up registry).
import { ProxymodeError } from '../core/errors.js';
import type { NodeShell } from '../core/modes/types.js';
import { findLeftovers, LEFTOVER_READS, removalOutcome, removalScript, removalSteps, type NodeDumps, type NodeLeftovers } from '../core/setmode/leftovers.js';
import { cleanup } from './cleanup.js';
import type { KubeClient } from './client.js';
import { PodShell } from './live-rules.js';
import { runSyncPod } from './sync-pod.js';

/**
 * Runs every read. A tool missing from kube-proxy's image is noted by name and exit code, not fatal; when
 * nothing could be read at all (exec refused, the pod gone) the one reason is said once.
 */
export async function readNodeDumps(shell: NodeShell): Promise<NodeDumps> {
  const outputs = new Map<string, string>();
  const failed: Array<{ argv: string[]; message: string }> = [];
  for (const r of LEFTOVER_READS) {
    try {
      outputs.set(r.key, await shell.run(r.argv));
    } catch (e) {
      if (!(e instanceof ProxymodeError)) throw e;
      failed.push({ argv: r.argv, message: e.message });
    }
  }
  if (outputs.size === 0 && failed.length) return { outputs, notRead: [`its rules (${failed[0].message.replace(/\.$/, '')})`] };
  return { outputs, notRead: failed.map((f) => `${f.argv.join(' ')} (${/exited \d+/.exec(f.message)?.[0] ?? f.message.replace(/\.$/, '')})`) };
}

export interface LeftoverOptions {
  newMode: string;
  nodePortRange?: string;
  onProgress?: (text: string) => void;
  /** A node's shell (tests, or another path than its kube-proxy pod). */
  shellFor?: (node: string) => Promise<NodeShell>;
}

/** Each node's leftovers; a node whose rules cannot be read says why in notRead. */
export async function listLeftovers(client: KubeClient, nodes: string[], opts: LeftoverOptions): Promise<NodeLeftovers[]> {
  const out: NodeLeftovers[] = [];
  for (const [i, node] of nodes.entries()) {
    if (cleanup.interrupted) break;
    opts.onProgress?.(`reading node ${node}'s rules for leftovers (${i + 1}/${nodes.length}) …`);
    let shell: NodeShell;
    try {
      shell = await (opts.shellFor ?? ((n) => PodShell.forNode(client, n)))(node);
    } catch (e) {
      if (!(e instanceof ProxymodeError)) throw e;
      out.push({ node, leftovers: [], notRead: [`its rules (${e.message.replace(/\.$/, '')})`] });
      continue;
    }
    const dumps = await readNodeDumps(shell);
    out.push(findLeftovers(node, opts.newMode, dumps, { nodePortRange: opts.nodePortRange }));
  }
  return out;
}

export interface CleanupResult {
  node: string;
  steps: Array<{ what: string; ok: boolean; why?: string }>;
  /** The pod did not run to its end (cannot start, refused): one sentence. */
  error?: string;
}

/** Per node with leftovers: one pod running exactly its removal steps; deleted whatever happens. */
export async function cleanupLeftovers(client: KubeClient, found: NodeLeftovers[], opts: { image: string; onProgress?: (text: string) => void; pollMs?: number }): Promise<CleanupResult[]> {
  const out: CleanupResult[] = [];
  for (const n of found) {
    if (cleanup.interrupted) break;
    const steps = removalSteps(n.leftovers);
    if (steps.length === 0) continue;
    opts.onProgress?.(`removing ${steps.length} leftover step${steps.length === 1 ? '' : 's'} on node ${n.node} …`);
    try {
      const r = await runSyncPod(client, n.node, {
        image: opts.image,
        args: [],
        command: ['sh', '-c', removalScript(steps)],
        generateName: 'proxymode-cleanup-',
        serviceAccount: 'default',
        deadlineSeconds: 120,
        pollMs: opts.pollMs,
      });
      out.push({ node: n.node, steps: removalOutcome(steps, r.log) });
    } catch (e) {
      if (!(e instanceof ProxymodeError)) throw e;
      out.push({ node: n.node, steps: [], error: e.message });
    }
  }
  return out;
}
