// Where kube-proxy's configuration comes from, and what it resolves to.
//
// kube-proxy reads one file (--config). Distributions ship it in a ConfigMap mounted into the
// kube-proxy DaemonSet:
//   kubeadm (and kind, which runs kubeadm): ConfigMap kube-system/kube-proxy, data keys config.conf
//     (the KubeProxyConfiguration kubeadm marshals, nulls for unset pointers) and kubeconfig.conf
//     (cmd/kubeadm/app/phases/addons/proxy/manifests.go: KubeProxyConfigMap19).
//   EKS: ConfigMap kube-system/kube-proxy-config, data key config (the ConfigMap kube-system/kube-proxy
//     there holds only a kubeconfig).
//   k3s / RKE2: no ConfigMap; kube-proxy runs with flags only, so defaults apply (defaultConfig).
// When --config is given, kube-proxy ignores most other flags (only --hostname-override and logging
// flags still apply: Options.Complete, processHostnameOverrideFlag); the overrides here are this
// product's own flags for "what if" questions, applied on top of the file.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node, type Scalar, type YAMLMap } from 'yaml';
import { InputError } from '../errors.js';
import type { ConfigMap } from '../objects/types.js';
import { decodeKubeProxyConfigurationNode, yamlErrorText, type DecodedConfig, type Locate } from './decode.js';
import { applyPlatformDefaults, setDefaults } from './defaults.js';
import { cidrFamily, ipFamily } from './net.js';
import {
  KUBE_PROXY_API_GROUP,
  KUBE_PROXY_API_VERSION,
  KUBE_PROXY_KIND,
  PROXY_MODES,
  isProxyMode,
  type KubeProxyConfiguration,
  type KubeProxyConfigurationInput,
  type ProxyMode,
} from './types.js';
import { effectiveIPVSScheduler, syncSectionOf, validateProblems } from './validate.js';

export type ConfigMapOrigin = Extract<ConfigOrigin, { kind: 'configmap' }>;

/** Where a loaded configuration came from. */
export type ConfigOrigin =
  | { kind: 'file' }
  | {
      kind: 'configmap';
      namespace: string;
      name: string;
      /** The data key holding the configuration (config.conf, config, …). */
      key: string;
      /** When read from a file where the key is a block literal (`config.conf: |-`): the file line of
       * that header, so line N of the key is file line fileLine + N. */
      fileLine?: number;
      /** The file the ConfigMap was read from (-f), when messages should name it rather than the source. */
      file?: string;
    }
  | { kind: 'defaults' };

export interface LoadedConfig {
  /** Fully resolved: SetDefaults, then Linux platform defaults (mode "" -> iptables, detectLocalMode
   * "" -> ClusterCIDR; nftables' ["primary"] nodePortAddresses, a 1.30+ default, is the nftables face's),
   * then overrides. */
  config: KubeProxyConfiguration;
  /** The KubeProxyConfiguration as written (plain JSON value, no defaults). */
  raw: Record<string, unknown>;
  /** Where it came from, for messages: a file name, "configmap kube-system/kube-proxy", "defaults". */
  source: string;
  origin: ConfigOrigin;
  /** mode as written; '' when unset (kube-proxy then picks iptables on Linux). */
  configuredMode: string;
  /** The mode kube-proxy runs (before any runtime fallback on the node). */
  effectiveMode: ProxyMode;
  /** True when no mode was written (or overridden) and the platform default applied. */
  modeDefaulted: boolean;
  /** The IPVS scheduler the ipvs proxier uses: ipvs.scheduler, or rr when empty. */
  ipvsScheduler: string;
  /** Decoding warnings (unknown and legacy fields) and mode notes; each one sentence with its line. */
  warnings: string[];
  /** What kube-proxy's validation would refuse (it would not start); each one sentence with its line. */
  problems: string[];
  /** Fields set by overrides (ConfigOverrides keys), in the order applied. */
  overridden: string[];
  /** Set when kube-proxy's configuration exists but could not be read (refused, unreachable): the defaults
   * stand in, and the configured mode is unknown, for this reason. */
  unavailable?: string;
  /** The typed configuration as written, kept so overrides can be re-resolved faithfully. */
  written: KubeProxyConfigurationInput;
  /** Line of each written field by JSON path (for a ConfigMap: the line inside its key). */
  lines: ReadonlyMap<string, number>;
}

/** ConfigMap data keys that hold a KubeProxyConfiguration, in order of preference. */
export const CONFIG_MAP_KEYS: readonly string[] = ['config.conf', 'config'];
/** ConfigMap names distributions use for kube-proxy's configuration, in order of preference. */
export const CONFIG_MAP_NAMES: readonly string[] = ['kube-proxy', 'kube-proxy-config'];

/**
 * Reads kube-proxy's configuration from text: a bare KubeProxyConfiguration (YAML or JSON), a ConfigMap
 * that wraps one (as `kubectl get cm -o yaml|json` prints it), a `kind: List` of ConfigMaps, or a
 * multi-document file (e.g. kubeadm's init config) holding one of those.
 */
export function parseKubeProxyConfiguration(text: string, source: string): LoadedConfig {
  const lineCounter = new LineCounter();
  // Duplicate keys are parsed (kube-proxy's lenient decoding keeps the last); decode.ts warns about them
  // inside a KubeProxyConfiguration, and a wrapper (ConfigMap, List) holding one is refused below.
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const fileLocate: Locate = (line) => (line === undefined ? source : `${source}:${line}`);
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0].line ?? lineOf(error.pos[0]);
      throw new InputError(`${source}:${line}: malformed YAML (${yamlErrorText(error.message)}); fix the file and try again.`);
    }
  }
  const objects = docs.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null));
  if (objects.length === 0) {
    throw new InputError(`${source}: the file is empty; give kube-proxy's KubeProxyConfiguration (config.conf) or the ConfigMap that holds it.`);
  }
  const seen: string[] = [];
  for (const doc of objects) {
    const root = doc.contents;
    const line = root?.range ? lineOf(root.range[0]) : 1;
    if (!isMap(root)) {
      throw new InputError(`${source}:${line}: expected a KubeProxyConfiguration or a ConfigMap (a mapping with apiVersion and kind); fix the file and try again.`);
    }
    const kind = scalarString(root.get('kind', true));
    const apiVersion = scalarString(root.get('apiVersion', true));
    if (kind === undefined || apiVersion === undefined) {
      // kube-proxy's decoder refuses a file without them ("Object 'Kind' is missing").
      throw new InputError(`${source}:${line}: the document has no ${kind === undefined ? 'kind' : 'apiVersion'}; a kube-proxy configuration starts with apiVersion: ${KUBE_PROXY_API_VERSION} and kind: ${KUBE_PROXY_KIND}.`);
    }
    if (kind !== KUBE_PROXY_KIND) {
      const dup = firstDuplicateKey(root);
      if (dup) throw new InputError(`${source}:${lineOf(dup.offset)}: the key "${dup.key}" appears twice in one mapping, so one of its values would be lost; remove the duplicate and try again.`);
    }
    if (kind === KUBE_PROXY_KIND) {
      checkAPIVersion(apiVersion, `${source}:${lineOf(root.get('apiVersion', true)?.range?.[0] ?? root.range?.[0] ?? 0)}`);
      const decoded = decodeKubeProxyConfigurationNode(doc, root, lineOf, fileLocate);
      return finish(decoded, source, { kind: 'file' }, fileLocate);
    }
    if (kind === 'ConfigMap') {
      const found = fromConfigMapNode(root, source, lineOf);
      if (found) return found;
      seen.push(`ConfigMap ${describeMeta(root)}`);
      continue;
    }
    if (kind === 'List' || kind === 'ConfigMapList') {
      const items = root.get('items', true);
      if (isSeq(items)) {
        const maps = items.items.filter((i): i is YAMLMap => isMap(i) && (kind === 'ConfigMapList' || scalarString(i.get('kind', true)) === 'ConfigMap'));
        const chosen = pickConfigMapNode(maps);
        if (chosen) {
          const found = fromConfigMapNode(chosen, source, lineOf);
          if (found) return found;
        }
      }
      seen.push(kind);
      continue;
    }
    seen.push(`kind ${JSON.stringify(kind)}`);
  }
  if (objects.length === 1) {
    const root = objects[0].contents as Node;
    const line = root.range ? lineOf(root.range[0]) : 1;
    const what = seen[0];
    if (what.startsWith('ConfigMap')) {
      throw new InputError(`${source}:${line}: ${what} has no ${CONFIG_MAP_KEYS.join(' or ')} key holding a KubeProxyConfiguration; pass kube-proxy's ConfigMap (kube-system/kube-proxy, or kube-proxy-config on EKS) or its config.conf.`);
    }
    throw new InputError(`${source}:${line}: ${what} is not a KubeProxyConfiguration or a ConfigMap that holds one; pass kube-proxy's config.conf or its ConfigMap.`);
  }
  throw new InputError(`${source}: none of its ${objects.length} documents (${seen.join(', ')}) is a KubeProxyConfiguration or a ConfigMap that holds one; pass kube-proxy's config.conf or its ConfigMap.`);
}

/** Reads the KubeProxyConfiguration a ConfigMap holds (config.conf, or config on EKS). Lines in
 * messages count from the top of that key's text; or, when `at` says which file the ConfigMap was read
 * from and on which line each data key's block literal starts, they are that file's lines. */
export function configFromConfigMap(cm: ConfigMap, source: string, at?: { file: string; blockLines?: Readonly<Record<string, number>> }): LoadedConfig {
  const key = configMapKey(cm);
  const name = `${cm.metadata?.namespace ?? 'default'}/${cm.metadata?.name ?? ''}`;
  if (key === undefined) {
    throw new InputError(`${source}: ConfigMap ${name} has no ${CONFIG_MAP_KEYS.join(' or ')} key holding a KubeProxyConfiguration; point at kube-proxy's ConfigMap (kube-system/kube-proxy, or kube-proxy-config on EKS).`);
  }
  const origin: ConfigMapOrigin = { kind: 'configmap', namespace: cm.metadata?.namespace ?? 'default', name: cm.metadata?.name ?? '', key };
  const fileLine = at?.blockLines?.[key];
  if (at && fileLine !== undefined) Object.assign(origin, { file: at.file, fileLine });
  const locate = makeLocate(source, origin);
  return finish(decodeEmbedded(cm.data?.[key] ?? '', locate), source, origin, locate);
}

/**
 * The ConfigMap holding kube-proxy's configuration, if any: kube-proxy (kubeadm, kind) or
 * kube-proxy-config (EKS), with a config.conf/config key; kube-system is preferred over other namespaces.
 */
export function findKubeProxyConfigMap(configMaps: ConfigMap[]): ConfigMap | undefined {
  const candidates = configMaps.filter((cm) => CONFIG_MAP_NAMES.includes(cm.metadata?.name ?? '') && configMapKey(cm) !== undefined);
  const rank = (cm: ConfigMap): number =>
    (cm.metadata?.namespace === 'kube-system' ? 0 : 10) + CONFIG_MAP_NAMES.indexOf(cm.metadata?.name ?? '');
  return candidates.sort((a, b) => rank(a) - rank(b))[0];
}

/** The data key of a ConfigMap that holds a KubeProxyConfiguration, if any. */
export function configMapKey(cm: ConfigMap): string | undefined {
  const data = cm.data ?? {};
  for (const key of CONFIG_MAP_KEYS) {
    if (typeof data[key] === 'string' && data[key].trim() !== '') return key;
  }
  // Other distributions name the key freely (config.yaml, kube-proxy-config.yaml, …).
  return Object.keys(data)
    .sort()
    .find((k) => /\.(conf|ya?ml|json)$/.test(k) && new RegExp(`kind:\\s*"?${KUBE_PROXY_KIND}\\b|"kind"\\s*:\\s*"${KUBE_PROXY_KIND}"`).test(data[k] ?? ''));
}

export interface ConfigOverrides {
  /** --mode: one of PROXY_MODES (case-insensitive). */
  mode?: string;
  /** --cluster-cidr: one CIDR or a dual-stack pair. */
  clusterCIDR?: string;
  /** --masquerade-all: sets masqueradeAll in the section the effective mode reads. */
  masqueradeAll?: boolean;
  /** --node / --hostname-override: the node name kube-proxy runs as. */
  hostnameOverride?: string;
  /** --node-ip: the node's primary IP (or a dual-stack pair), as kube-proxy's --bind-address sets it. */
  nodeIP?: string;
}

/** Applies single-field overrides (this product's flags) and re-resolves defaults and validation. */
export function applyOverrides(loaded: LoadedConfig, o: ConfigOverrides): LoadedConfig {
  const written: KubeProxyConfigurationInput = structuredClone(loaded.written);
  const overridden = [...loaded.overridden];
  if (o.mode !== undefined && o.mode.trim() !== '') {
    const mode = o.mode.trim().toLowerCase();
    if (!isProxyMode(mode)) {
      throw new InputError(`--mode ${JSON.stringify(o.mode)} is not a proxy mode; use one of ${PROXY_MODES.join(', ')}.`);
    }
    // a flag naming the mode already in force changes nothing: the configuration stays the reason
    if (mode !== loaded.effectiveMode) overridden.push('mode');
    written.mode = mode;
  }
  if (o.clusterCIDR !== undefined) {
    const value = o.clusterCIDR.trim();
    const cidrs = value.split(',');
    const families = cidrs.map(cidrFamily);
    if (value !== '' && (families.includes(undefined) || cidrs.length > 2 || (cidrs.length === 2 && families[0] === families[1]))) {
      throw new InputError(`--cluster-cidr ${JSON.stringify(o.clusterCIDR)} is not a CIDR or a dual-stack pair of CIDRs; pass one like 10.244.0.0/16 or 10.244.0.0/16,fd00:10:244::/56.`);
    }
    written.clusterCIDR = value;
    overridden.push('clusterCIDR');
  }
  if (o.hostnameOverride !== undefined) {
    // processHostnameOverrideFlag: trimmed, lower-cased, and an empty value is an error.
    const name = o.hostnameOverride.trim();
    if (name === '') throw new InputError('the node name override is empty; pass the name of a Node, e.g. --node worker-1.');
    written.hostnameOverride = name.toLowerCase();
    overridden.push('hostnameOverride');
  }
  if (o.nodeIP !== undefined) {
    const value = o.nodeIP.trim();
    const ips = value.split(',');
    const families = ips.map(ipFamily);
    if (families.includes(undefined) || ips.length > 2 || (ips.length === 2 && families[0] === families[1])) {
      throw new InputError(`--node-ip ${JSON.stringify(o.nodeIP)} is not an IP address; pass the node's IP, e.g. 10.0.0.5 (or a dual-stack pair 10.0.0.5,fd00::5).`);
    }
    written.bindAddress = value;
    overridden.push('nodeIP');
  }
  if (o.masqueradeAll !== undefined) {
    // Upstream's --masquerade-all lands in the section the active mode reads (Linux.MasqueradeAll,
    // converted back to nftables.masqueradeAll in nftables mode and iptables.masqueradeAll otherwise).
    const mode = (typeof written.mode === 'string' && written.mode !== '' ? written.mode : 'iptables') as ProxyMode;
    if (mode === 'nftables') written.nftables = { ...(written.nftables ?? {}), masqueradeAll: o.masqueradeAll };
    else written.iptables = { ...(written.iptables ?? {}), masqueradeAll: o.masqueradeAll };
    overridden.push('masqueradeAll');
  }
  const locate = makeLocate(loaded.source, loaded.origin);
  const decoded: DecodedConfig = { input: written, raw: loaded.raw, lines: new Map(loaded.lines), warnings: [] };
  const out = finish(decoded, loaded.source, loaded.origin, locate, overridden);
  // Decoding warnings belong to the text, which did not change; mode notes are recomputed.
  out.warnings = [...loaded.warnings.filter((w) => !MODE_NOTES.some((n) => w.endsWith(n.tail))), ...out.warnings];
  return out;
}

/** No configuration anywhere (k3s, RKE2, kube-proxy run with flags only): all of kube-proxy's defaults. */
export function defaultConfig(): LoadedConfig {
  return finish({ input: {}, raw: {}, lines: new Map(), warnings: [] }, 'defaults', { kind: 'defaults' }, () => 'defaults');
}

// ---------------------------------------------------------------------------------------------

const MODE_NOTES: Array<{ mode: string; tail: string }> = [
  {
    mode: 'userspace',
    tail: 'the userspace proxy was removed from kube-proxy in Kubernetes 1.26, so kube-proxy 1.26 and later refuse to start with it; switch to iptables, ipvs or nftables.',
  },
  {
    mode: 'kernelspace',
    tail: 'kernelspace is the Windows proxy mode, so kube-proxy on Linux refuses to start with it; use iptables, ipvs or nftables for Linux nodes.',
  },
];

function finish(decoded: DecodedConfig, source: string, origin: ConfigOrigin, locate: Locate, overridden: string[] = []): LoadedConfig {
  const { input, lines } = decoded;
  // The mode after overrides; kube-proxy's validation refuses any other value, and nothing can be
  // rendered for it, so an unknown mode is an input error rather than a problem to report.
  const writtenMode = typeof input.mode === 'string' ? input.mode : '';
  if (writtenMode !== '' && !isProxyMode(writtenMode)) {
    throw new InputError(`${locate(lines.get('mode'))}: mode ${JSON.stringify(writtenMode)} is not one of ${['', ...PROXY_MODES].map((m) => JSON.stringify(m)).join(', ')}; set it to one of those.`);
  }
  const config = applyPlatformDefaults(setDefaults(input));
  const effectiveMode = config.mode as ProxyMode;
  const warnings = [...decoded.warnings];
  const note = MODE_NOTES.find((n) => n.mode === effectiveMode);
  if (note) warnings.push(`${overridden.includes('mode') ? locate(undefined) : locate(lines.get('mode'))}: ${note.tail}`);
  const problems = validateProblems(config).map((p) => `${locate(lineForPath(lines, p.path, effectiveMode))}: ${p.message}`);
  return {
    config,
    raw: decoded.raw,
    source,
    origin,
    configuredMode: rawMode(decoded.raw),
    effectiveMode,
    modeDefaulted: writtenMode === '',
    ipvsScheduler: effectiveIPVSScheduler(config),
    warnings,
    problems,
    overridden,
    written: input,
    lines,
  };
}

function rawMode(raw: Record<string, unknown>): string {
  return typeof raw.mode === 'string' ? raw.mode : '';
}

// The line to blame for a problem: the field's own line, else its parent section's, else none.
function lineForPath(lines: ReadonlyMap<string, number>, path: string, mode: ProxyMode): number | undefined {
  let p = path;
  for (;;) {
    const line = lines.get(p);
    if (line !== undefined) return line;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  if (path.startsWith(`${syncSectionOf(mode)}.`)) return lines.get('mode');
  return undefined;
}

// Message prefixes: "file:12", "file:12: config.conf" (a block literal in a file),
// "configmap kube-system/kube-proxy: config.conf line 3", "defaults".
function makeLocate(source: string, origin: ConfigOrigin): Locate {
  switch (origin.kind) {
    case 'defaults':
      return () => source;
    case 'file':
      return (line) => (line === undefined ? source : `${source}:${line}`);
    case 'configmap': {
      const { key, fileLine, file } = origin;
      if (fileLine !== undefined && file !== undefined) return (line) => (line === undefined ? `${source} (${file}): ${key}` : `${file}:${fileLine + line}: ${source}: ${key}`);
      if (fileLine !== undefined) return (line) => (line === undefined ? `${source}: ${key}` : `${source}:${fileLine + line}: ${key}`);
      return (line) => (line === undefined ? `${source}: ${key}` : `${source}: ${key} line ${line}`);
    }
  }
}

function checkAPIVersion(apiVersion: string, where: string): void {
  if (apiVersion === KUBE_PROXY_API_VERSION) return;
  const hint = apiVersion.startsWith(`${KUBE_PROXY_API_GROUP}/`)
    ? `this product reads ${KUBE_PROXY_API_VERSION}, the version kube-proxy serves`
    : `a KubeProxyConfiguration belongs to ${KUBE_PROXY_API_VERSION}`;
  throw new InputError(`${where}: apiVersion ${JSON.stringify(apiVersion)} is not supported for ${KUBE_PROXY_KIND}; ${hint}, so set apiVersion: ${KUBE_PROXY_API_VERSION}.`);
}

/** The first key given twice in one mapping, anywhere below `node` (block-literal texts are not looked into). */
function firstDuplicateKey(node: unknown): { key: string; offset: number } | undefined {
  if (isSeq(node)) {
    for (const item of node.items) {
      const d = firstDuplicateKey(item);
      if (d) return d;
    }
  }
  if (!isMap(node)) return undefined;
  const seen = new Set<unknown>();
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    if (seen.has(key)) return { key: String(key), offset: (pair.key as Node | null)?.range?.[0] ?? 0 };
    seen.add(key);
    const d = firstDuplicateKey(pair.value);
    if (d) return d;
  }
  return undefined;
}

function scalarString(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

function describeMeta(map: YAMLMap): string {
  const meta = map.get('metadata', true);
  if (!isMap(meta)) return '(unnamed)';
  const ns = scalarString(meta.get('namespace', true)) ?? 'default';
  const name = scalarString(meta.get('name', true)) ?? '';
  return `${ns}/${name}`;
}

function dataOf(map: YAMLMap): YAMLMap | undefined {
  const data = map.get('data', true);
  return isMap(data) ? data : undefined;
}

function nodeAsConfigMap(map: YAMLMap): ConfigMap {
  const meta = map.get('metadata', true);
  const data = dataOf(map);
  const out: ConfigMap = { apiVersion: scalarString(map.get('apiVersion', true)), kind: 'ConfigMap', metadata: {}, data: {} };
  if (isMap(meta)) {
    out.metadata = { name: scalarString(meta.get('name', true)), namespace: scalarString(meta.get('namespace', true)) };
  }
  if (data) {
    for (const pair of data.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k !== undefined && isScalar(pair.value) && typeof pair.value.value === 'string') out.data![k] = pair.value.value;
    }
  }
  return out;
}

function pickConfigMapNode(maps: YAMLMap[]): YAMLMap | undefined {
  const cms = maps.map(nodeAsConfigMap);
  const chosen = findKubeProxyConfigMap(cms);
  return chosen ? maps[cms.indexOf(chosen)] : undefined;
}

// A ConfigMap node from a file: decode its config key. In a block literal (what kubectl prints,
// `config.conf: |-`) each embedded line sits on its own file line, so messages name the file line;
// otherwise (a quoted or JSON string) they name the line inside the key.
function fromConfigMapNode(map: YAMLMap, source: string, lineOf: (offset: number) => number): LoadedConfig | undefined {
  const cm = nodeAsConfigMap(map);
  const key = configMapKey(cm);
  if (key === undefined) return undefined;
  const valueNode = dataOf(map)?.get(key, true) as Scalar | undefined;
  const origin: ConfigMapOrigin = { kind: 'configmap', namespace: cm.metadata?.namespace ?? 'default', name: cm.metadata?.name ?? '', key };
  if (valueNode && valueNode.type === 'BLOCK_LITERAL' && valueNode.range) origin.fileLine = lineOf(valueNode.range[0]);
  const locate = makeLocate(source, origin);
  return finish(decodeEmbedded(cm.data?.[key] ?? '', locate), source, origin, locate);
}

// The text of a config key: exactly one KubeProxyConfiguration document.
function decodeEmbedded(text: string, locate: Locate): DecodedConfig {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: true });
  const docs = (Array.isArray(parsed) ? parsed : []).filter((d) => d.errors.length > 0 || (d.contents !== null && !(isScalar(d.contents) && d.contents.value === null)));
  if (docs.length === 0) throw new InputError(`${locate(undefined)}: the key is empty; it must hold kube-proxy's KubeProxyConfiguration.`);
  const doc = docs[0];
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line;
    throw new InputError(`${locate(line)}: malformed YAML (${yamlErrorText(error.message)}); fix the ConfigMap and try again.`);
  }
  const root = doc.contents;
  const line = root?.range ? lineCounter.linePos(root.range[0]).line : 1;
  if (!isMap(root)) {
    throw new InputError(`${locate(line)}: expected a KubeProxyConfiguration mapping (apiVersion, kind, mode, …); fix the ConfigMap and try again.`);
  }
  const kind = scalarString(root.get('kind', true));
  const apiVersion = scalarString(root.get('apiVersion', true));
  if (kind === undefined || apiVersion === undefined) {
    throw new InputError(`${locate(line)}: the configuration has no ${kind === undefined ? 'kind' : 'apiVersion'}; kube-proxy needs apiVersion: ${KUBE_PROXY_API_VERSION} and kind: ${KUBE_PROXY_KIND}.`);
  }
  if (kind !== KUBE_PROXY_KIND) {
    throw new InputError(`${locate(line)}: kind ${JSON.stringify(kind)} is not ${KUBE_PROXY_KIND}; the key must hold kube-proxy's configuration.`);
  }
  const apiLine = root.get('apiVersion', true)?.range?.[0];
  checkAPIVersion(apiVersion, locate(apiLine === undefined ? line : lineCounter.linePos(apiLine).line));
  // Like kube-proxy's decoder, only the first document of the key is read.
  return decodeKubeProxyConfigurationNode(doc, root, (offset) => lineCounter.linePos(offset).line, locate);
}

