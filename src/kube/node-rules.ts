// Where a command reads a node's live rules, or a saved dump: the cluster node's kube-proxy pod, this
// host, or a file. The mode's faces do the rest (what to run, how to parse).
import type { Dump, FamilyState, IPFamily, ProxyModeDefinition } from '../core/modes/types.js';
import { readDump, readLive } from '../core/modes/registry.js';
import { readText } from './files.js';
import { imageVersion } from '../core/report/evidence.js';
import type { NodeShell } from '../core/modes/types.js';
import { hostShell, PodShell } from './live-rules.js';
import { ApiSource, type ClusterSource } from './source.js';

export interface LiveStates<S> {
  description: string;
  states: S[];
  /** The node's running kube-proxy version ("v1.31.4") and where it was read, when it could be. */
  kubeProxyVersion?: { version: string; from: string };
  /** What `iptables --version` printed on the node ("iptables v1.8.9 (nf_tables)"), when it ran. */
  iptablesVersion?: string;
}

/** A saved dump, cut into sections (one sentence when it holds none we read). */
export function readDumpFile(path: string): Dump {
  return readDump(readText(path), `dump ${path}`);
}

/** The node's live state, one per family: through its kube-proxy pod on a cluster, else this host. */
export async function readNodeStates<S extends FamilyState>(def: ProxyModeDefinition<S>, source: ClusterSource | undefined, node: string, families: readonly IPFamily[]): Promise<LiveStates<S>> {
  const shell = source instanceof ApiSource ? await source.liveRules(node) : await hostShell();
  // one round trip's wait for all of them: each is its own pods/exec call on a cluster
  const [states, version, iptables] = await Promise.all([
    Promise.all(families.map((f) => readLive(def, shell, f))),
    runningVersion(shell),
    shell.run(['iptables', '--version']).catch(() => undefined),
  ]);
  return { description: shell.description, states, ...(version ? { kubeProxyVersion: version } : {}), ...(iptables ? { iptablesVersion: iptables.trim() } : {}) };
}

/**
 * The version of the kube-proxy whose rules these are: its pod's image tag (as `get` reads it), else
 * `kube-proxy --version` through the shell ("Kubernetes v1.29.4"); undefined when neither says.
 */
async function runningVersion(shell: NodeShell): Promise<{ version: string; from: string } | undefined> {
  const tag = shell instanceof PodShell ? imageVersion(shell.image) : null;
  if (tag && /^v?1\.\d+/.test(tag)) return { version: tag, from: 'image tag' };
  try {
    const out = await shell.run(['kube-proxy', '--version']);
    const m = /^Kubernetes v?(1\.\d+(?:\.\d+)?)/m.exec(out);
    if (m) return { version: m[1]!, from: 'kube-proxy --version' };
  } catch {
    // a shell without kube-proxy (this host, an image without the binary): the version stays unknown
  }
  return undefined;
}
