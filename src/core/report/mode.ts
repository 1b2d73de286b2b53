// The `mode` report: per node, the configured proxy mode beside the running one. The running mode
// needs evidence from the node (kube-proxy's log or its rules); where there is none it stays unknown.
import type { LoadedConfig } from '../config/index.js';
import { InputError } from '../errors.js';
import type { Node } from '../objects/types.js';

export interface NodeModeRow {
  node: string;
  configured: string;
  configuredDefaulted: boolean;
  /** What kube-proxy on the node really runs; null when nothing on hand shows it. */
  running: string | null;
  scheduler: string | null;
  kubeProxyVersion: string | null;
  status: string;
  notes: string[];
}

export interface ModeReport {
  source: string;
  configuration: { source: string; mode: string; configuredMode: string; defaulted: boolean; scheduler: string | null; warnings: string[] };
  nodes: NodeModeRow[];
}

export function buildModeReport(args: { source: string; nodes: Node[]; config: LoadedConfig; only?: string[]; runningEvidence: string }): ModeReport {
  const { config } = args;
  const mode = config.effectiveMode;
  const scheduler = mode === 'ipvs' ? config.config.ipvs?.scheduler || 'rr' : null;
  const byName = new Map(args.nodes.map((n) => [n.metadata?.name ?? '', n]));
  if (args.only?.length) {
    const missing = args.only.filter((name) => !byName.has(name));
    if (missing.length) {
      const known = [...byName.keys()].sort();
      throw new InputError(
        `node${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not found in ${args.source}${known.length ? ` (nodes: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''})` : ''}; check the name.`,
      );
    }
  }
  const names = args.only?.length ? args.only : [...byName.keys()].sort();
  const nodes = names.map((name): NodeModeRow => {
    const node = byName.get(name)!;
    return {
      node: name,
      configured: mode,
      configuredDefaulted: config.modeDefaulted,
      running: null,
      scheduler,
      kubeProxyVersion: node.status?.nodeInfo?.kubeProxyVersion || null,
      status: nodeReady(node),
      notes: [`running mode not observed: ${args.runningEvidence}`],
    };
  });
  return {
    source: args.source,
    configuration: {
      source: config.source,
      mode,
      configuredMode: config.configuredMode,
      defaulted: config.modeDefaulted,
      scheduler,
      warnings: config.warnings,
    },
    nodes,
  };
}

function nodeReady(node: Node): string {
  const conditions = (node.status?.conditions ?? []) as Array<{ type?: string; status?: string }>;
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return 'Unknown';
  return ready.status === 'True' ? 'Ready' : 'NotReady';
}
