// The one hook between what-if edits and the commands: a source that gives the edited objects. It reads
// everything once from the source it wraps, applies the edits in memory, and answers from the result;
// the wrapped source is never written to. It inherits the wrapped source (Object.create), so what the
// commands ask of a file or API source beyond the lists (where an object was read, live rules) still works.
import { InputError } from '../core/errors.js';
import type { ConfigMap, EndpointSlice, Node, Service } from '../core/objects/types.js';
import { applyEdits, editLine, parseEdits, type AppliedEdit, type EditFlags } from '../core/whatif/index.js';
import type { ClusterSource } from './source.js';

export interface WhatIf {
  /** The source with the edits applied (the original one when there are none). */
  source: ClusterSource;
  /** The source as read. */
  original: ClusterSource;
  applied: AppliedEdit[];
}

export interface WhatIfOptions {
  namespace: string;
  namespaceExplicit: boolean;
  /** --config FILE: the configuration does not come from the ConfigMap, so a cm edit would change nothing. */
  configFile?: string;
  /** Where the applied edits are said (stderr by default). */
  say?: (line: string) => void;
}

export function hasEdits(flags: EditFlags): boolean {
  return Boolean(flags.set?.length || flags['scale-endpoints']?.length || flags.drain?.length);
}

/** Wraps `source` with the edits the flags name; each applied edit is one line on stderr. */
export async function withWhatIf(source: ClusterSource | undefined, flags: EditFlags, opts: WhatIfOptions): Promise<WhatIf | undefined> {
  const edits = parseEdits(flags);
  if (edits.length === 0) return undefined;
  if (!source) throw new InputError(`${edits[0]!.flag}: what-if edits change objects, and none are read; give them with -f or read them from the cluster.`);
  const cmEdit = edits.find((e) => e.ref.kind === 'ConfigMap');
  if (cmEdit && opts.configFile) throw new InputError(`${cmEdit.flag}: the configuration comes from --config ${opts.configFile}, not the ConfigMap; edit that file or leave --config out.`);
  const [services, endpointSlices, nodes, configMaps] = await Promise.all([
    source.services(),
    source.endpointSlices(),
    source.nodes(),
    cmEdit ? source.proxyConfigMaps() : Promise.resolve([] as ConfigMap[]),
  ]);
  const { objects, applied } = applyEdits({ services, endpointSlices, nodes, configMaps }, edits, {
    namespace: opts.namespace,
    namespaceExplicit: opts.namespaceExplicit,
    where: source.description,
  });
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const a of applied) say(editLine(a));

  const edited = Object.create(source) as ClusterSource & Record<string, unknown>;
  const inNs = <T extends Service | EndpointSlice>(list: T[], ns?: string) => (ns ? list.filter((o) => (o.metadata?.namespace ?? 'default') === ns) : list);
  Object.defineProperties(edited, {
    description: { value: `${source.description} with ${applied.length} what-if edit${applied.length === 1 ? '' : 's'}` },
    services: { value: async (ns?: string) => inNs(objects.services, ns) },
    endpointSlices: { value: async (ns?: string) => inNs(objects.endpointSlices, ns) },
    nodes: { value: async (): Promise<Node[]> => objects.nodes },
    ...(cmEdit ? { proxyConfigMaps: { value: async () => objects.configMaps } } : {}),
  });
  return { source: edited, original: source, applied };
}
