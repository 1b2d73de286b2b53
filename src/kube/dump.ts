// `kubectl proxymode dump`: a support bundle holding what every offline command needs, in the layout -f
// reads (examples/README.md): the objects as kubectl's List JSON in the folder, kube-proxy's logs in
// kube-proxy-logs/<pod>.log, each node's live rules in node-rules/<node>.rules (the configured mode's own
// liveCommands, concatenated: --rules reads them back by shape), and a README saying how it was taken.
// Secrets are never read. Nothing is written over: the folder must be new or empty.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, InputError, ProxymodeError } from '../core/errors.js';
import { modeFor } from '../core/modes/registry.js';
import type { IPFamily } from '../core/modes/types.js';
import type { KubeObject, Node } from '../core/objects/types.js';
import { kubeProxyPodFrom, KUBE_PROXY_SELECTORS } from '../core/report/objects.js';
import { LOGS_FOLDER } from './discovery-files.js';
import { readKubeProxyLogs } from './logs.js';
import { loadProxyConfig } from './proxy-config.js';
import type { ApiSource } from './source.js';
import { VERSION } from '../version.js';

export const RULES_FOLDER = 'node-rules';
/** Bytes of each kube-proxy log kept: its start says which proxier it started; the rest is sync chatter. */
const DUMP_LOG_BYTES = 1024 * 1024;
const REPLACEMENT_CONFIGMAPS = ['cilium-config', 'antrea-config'];

export interface DumpOptions {
  folder: string;
  /** Read each node's live rules by exec in its kube-proxy pod. */
  exec: boolean;
  /** Only these nodes' rules (default: every node). */
  nodes?: string[];
  say: (line: string) => void;
}

export interface DumpResult {
  files: string[];
  notes: string[];
  mode: string;
}

/** A folder that may be written: new, or empty. */
export function checkDumpFolder(folder: string): void {
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new InputError(`${folder} already exists and is not empty; give a new folder with --output-dir so nothing there is overwritten.`);
  }
}

export async function takeDump(source: ApiSource, opts: DumpOptions): Promise<DumpResult> {
  checkDumpFolder(opts.folder);
  const client = source.kubeClient;
  const files: string[] = [];
  const notes: string[] = [];
  const started = new Date();
  const save = (name: string, text: string) => {
    const path = join(opts.folder, name);
    writeFileSync(path, text);
    files.push(name);
  };
  const list = (apiVersion: string, kind: string, items: unknown[]) =>
    `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.map((i) => ({ apiVersion, kind, ...(i as object) })) }, null, 2)}\n`;
  // A refusal of an optional part is a note in the README, not the end of the bundle.
  const soft = async <T>(what: string, p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (!(err instanceof ProxymodeError)) throw err;
      notes.push(`${what} not saved: ${err.message}`);
      opts.say(`  ${what} not saved: ${err.message}`);
      return undefined;
    }
  };

  opts.say(`dump: reading ${source.description} …`);
  const [nodes, services, slices] = await Promise.all([source.nodes(), source.services(), source.endpointSlices()]);
  mkdirSync(opts.folder, { recursive: true });
  save('nodes.json', list('v1', 'Node', nodes));
  save('services.json', list('v1', 'Service', services));
  save('endpointslices.json', list('discovery.k8s.io/v1', 'EndpointSlice', slices));
  opts.say(`  ${nodes.length} nodes, ${services.length} Services, ${slices.length} EndpointSlices`);

  const configMaps: KubeObject[] = [...(await source.proxyConfigMaps())];
  for (const name of REPLACEMENT_CONFIGMAPS) {
    const cm = await soft(`ConfigMap kube-system/${name}`, client.get<KubeObject>(`/api/v1/namespaces/kube-system/configmaps/${name}`, { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name }, { optional: true }));
    if (cm) configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', ...cm });
  }
  if (configMaps.length) save('configmaps.json', list('v1', 'ConfigMap', configMaps.map(({ apiVersion: _a, kind: _k, ...rest }) => rest)));
  opts.say(`  ${configMaps.length} ConfigMaps (${configMaps.map((c) => c.metadata?.name).join(', ') || 'no kube-proxy ConfigMap'})`);

  const daemonSets = await soft('kube-system DaemonSets', client.list<KubeObject>('/apis/apps/v1/namespaces/kube-system/daemonsets', { verb: 'list', resource: 'daemonsets', group: 'apps', namespace: 'kube-system' }));
  if (daemonSets) save('daemonsets.json', list('apps/v1', 'DaemonSet', daemonSets));
  const pods: KubeObject[] = [];
  const seen = new Set<string>();
  for (const labelSelector of KUBE_PROXY_SELECTORS) {
    const found = await soft(`kube-proxy pods (${labelSelector})`, client.list<KubeObject>('/api/v1/namespaces/kube-system/pods', { verb: 'list', resource: 'pods', namespace: 'kube-system' }, { labelSelector }));
    for (const p of found ?? []) {
      const key = p.metadata?.uid ?? p.metadata?.name ?? '';
      if (!seen.has(key)) pods.push(p);
      seen.add(key);
    }
  }
  save('kube-proxy-pods.json', list('v1', 'Pod', pods));
  opts.say(`  ${daemonSets?.length ?? 0} DaemonSets, ${pods.length} kube-proxy pods`);

  const proxyPods = pods.map((p) => kubeProxyPodFrom({ apiVersion: 'v1', kind: 'Pod', ...p })).filter((p) => p !== undefined);
  if (proxyPods.length) {
    const { denied } = await readKubeProxyLogs(client, proxyPods, { limitBytes: DUMP_LOG_BYTES, onProgress: (d, t) => opts.say(`  logs ${d}/${t}`) });
    mkdirSync(join(opts.folder, LOGS_FOLDER), { recursive: true });
    for (const p of proxyPods) {
      if (p.log !== undefined) save(join(LOGS_FOLDER, `${p.name}.log`), p.log);
      else if (p.logNote && !denied) notes.push(p.logNote);
    }
    if (denied) notes.push(denied);
  }

  // Each node's live rules, in the configured mode's own commands; the mode is never named here.
  const config = await loadProxyConfig(source, undefined, {}, { refuse: false, tolerateUnreadable: true });
  const def = modeFor(config.effectiveMode, '`kubectl proxymode dump`');
  if (!opts.exec) {
    notes.push('node rules not saved: --no-exec was given.');
  } else {
    const wanted = opts.nodes?.length ? nodes.filter((n) => opts.nodes!.includes(n.metadata?.name ?? '')) : nodes;
    mkdirSync(join(opts.folder, RULES_FOLDER), { recursive: true });
    let i = 0;
    for (const node of wanted) {
      const name = node.metadata?.name ?? '';
      opts.say(`  node rules ${++i}/${wanted.length}: ${name} (${def.mode})`);
      const text = await soft(`node ${name}'s rules`, nodeRules(source, name, familiesOf(node), def.liveCommands.bind(def)));
      if (text !== undefined) save(join(RULES_FOLDER, `${name}.rules`), text);
      // A refusal (RBAC on pods/exec) holds for every node: said once.
      if (text === undefined && /forbidden|may not/.test(notes.at(-1) ?? '')) break;
    }
  }

  save('README.md', readme({ source: source.description, started, mode: def.mode, modeSource: config.source, files, notes }));
  return { files, notes, mode: def.mode };
}

async function nodeRules(source: ApiSource, node: string, families: IPFamily[], commands: (f: IPFamily) => Array<{ argv: string[]; optional?: boolean }>): Promise<string> {
  const shell = await source.liveRules(node);
  const done = new Set<string>();
  const parts: string[] = [];
  for (const family of families) {
    for (const c of commands(family)) {
      const key = c.argv.join(' ');
      if (done.has(key)) continue;
      done.add(key);
      try {
        const out = await shell.run(c.argv);
        parts.push(out.endsWith('\n') || out === '' ? out : `${out}\n`);
      } catch (err) {
        if (c.optional && err instanceof ClusterError) continue;
        throw err;
      }
    }
  }
  return parts.join('');
}

function familiesOf(node: Node): IPFamily[] {
  const n = node as { spec?: { podCIDRs?: string[]; podCIDR?: string }; status?: { addresses?: Array<{ type?: string; address?: string }> } };
  const addrs = [...(n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])), ...(n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address ?? '')];
  const out = new Set<IPFamily>();
  for (const a of addrs) if (a) out.add(a.includes(':') ? 'IPv6' : 'IPv4');
  return out.size ? [...out].sort() : ['IPv4'];
}

function readme(r: { source: string; started: Date; mode: string; modeSource: string; files: string[]; notes: string[] }): string {
  return `# kubectl proxymode dump

Taken ${r.started.toISOString()} from ${r.source} by kubectl-proxymode v${VERSION}.
kube-proxy mode: ${r.mode} (${r.modeSource}); each node's live rules were read with that mode's commands
by exec in the node's kube-proxy pod.

No Secrets were read or saved. Objects are saved as \`kubectl get -o json\` prints them.

## Use it offline

    kubectl proxymode get -f THIS_FOLDER
    kubectl proxymode rules -f THIS_FOLDER --node NODE
    kubectl proxymode rules -f THIS_FOLDER --node NODE --diff --rules THIS_FOLDER/${RULES_FOLDER}/NODE.rules
    kubectl proxymode trace svc/NAME -n NAMESPACE -f THIS_FOLDER --node NODE --rules THIS_FOLDER/${RULES_FOLDER}/NODE.rules

## Files

${r.files.map((f) => `- ${f}`).join('\n')}
- README.md

## What could not be saved

${r.notes.length ? r.notes.map((n) => `- ${n}`).join('\n') : 'Nothing: every part was saved.'}
`;
}
