// Where a command reads a node's live rules, or a saved dump: the cluster node's kube-proxy pod, this
// host, or a file. The mode's faces do the rest (what to run, how to parse).
import type { Dump, FamilyState, IPFamily, ProxyModeDefinition } from '../core/modes/types.js';
import { readDump, readLive } from '../core/modes/registry.js';
import { readText } from './files.js';
import { hostShell } from './live-rules.js';
import { ApiSource, type ClusterSource } from './source.js';

export interface LiveStates<S> {
  description: string;
  states: S[];
}

/** A saved dump, cut into sections (one sentence when it holds none we read). */
export function readDumpFile(path: string): Dump {
  return readDump(readText(path), `dump ${path}`);
}

/** The node's live state, one per family: through its kube-proxy pod on a cluster, else this host. */
export async function readNodeStates<S extends FamilyState>(def: ProxyModeDefinition<S>, source: ClusterSource | undefined, node: string, families: readonly IPFamily[]): Promise<LiveStates<S>> {
  const shell = source instanceof ApiSource ? await source.liveRules(node) : await hostShell();
  const states = await Promise.all(families.map((f) => readLive(def, shell, f)));
  return { description: shell.description, states };
}
