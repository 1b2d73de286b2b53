// Finds kube-proxy's configuration: --config FILE, else the kube-proxy ConfigMap from the source,
// else kube-proxy's defaults; then the override flags, as kube-proxy's own flags override its file.
// What kube-proxy would refuse to start with is refused here too (exit 2, the field's file and line);
// what it only logs (unknown fields, lenient decoding, a removed mode) is a warning on stderr.
import {
  applyOverrides,
  configFromConfigMap,
  defaultConfig,
  findKubeProxyConfigMap,
  parseKubeProxyConfiguration,
  type ConfigOverrides,
  type LoadedConfig,
} from '../core/config/index.js';
import { InputError, ProxymodeError } from '../core/errors.js';
import type { ConfigMap } from '../core/objects/types.js';
import { missingInputsWarning, type InputKind } from '../core/objects/inputs.js';
import { readText } from './files.js';
import { FileSource, type ClusterSource } from './source.js';

export interface ProxyConfigOptions {
  /** Where warnings go; stderr by default. */
  warn?: (message: string) => void;
  /** false for `get`: a configuration kube-proxy refuses is reported (its pods crash on it), not refused. */
  refuse?: boolean;
  /** With -f: the kinds the command reads, so one warning can name those the files lack. Default: all four. */
  needs?: readonly InputKind[];
  /** `get`: a refused read of the ConfigMap leaves the configured mode unknown instead of ending the command. */
  tolerateUnreadable?: boolean;
}

const ALL_INPUTS: readonly InputKind[] = ['ConfigMap', 'Node', 'Service', 'EndpointSlice'];

export async function loadProxyConfig(source: ClusterSource, configPath: string | undefined, overrides: ConfigOverrides, opts: ProxyConfigOptions = {}): Promise<LoadedConfig> {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`Warning: ${m}\n`));
  let loaded: LoadedConfig;
  let unavailable: string | undefined;
  /** With -f: the file and line of the ConfigMap, for messages. */
  let readFrom: string | undefined;
  if (configPath) {
    loaded = parseKubeProxyConfiguration(readText(configPath), configPath);
  } else {
    let cms: ConfigMap[];
    try {
      cms = await source.proxyConfigMaps();
    } catch (err) {
      if (!opts.tolerateUnreadable || !(err instanceof ProxymodeError) || err instanceof InputError) throw err;
      cms = [];
      unavailable = `kube-proxy's ConfigMap could not be read (${err.message.replace(/\.$/, '')})`;
    }
    const cm = findKubeProxyConfigMap(cms);
    const at = cm && source instanceof FileSource ? source.locate(cm) : undefined;
    readFrom = at?.where;
    // With -f, messages name the file's own lines where the key is a block literal (what kubectl prints).
    const file = at && at.where.replace(/:\d+$/, '');
    loaded = cm ? configFromConfigMap(cm, `ConfigMap ${cm.metadata?.namespace ?? 'default'}/${cm.metadata?.name}`, file ? { file, blockLines: at.blockLines } : undefined) : defaultConfig();
  }
  const out = applyOverrides(loaded, overrides);
  if (unavailable) out.unavailable = unavailable;
  if (source instanceof FileSource) {
    const needs = opts.needs ?? ALL_INPUTS;
    const present = await source.kinds();
    const missing = needs.filter((k) => !present.has(k) && !(k === 'ConfigMap' && (configPath || out.origin.kind !== 'defaults')));
    const text = missingInputsWarning(source.description, missing, out);
    if (text) warn(text);
  }
  for (const w of out.warnings) warn(w);
  if (out.problems.length && opts.refuse !== false) {
    for (const p of out.problems.slice(1)) warn(`kube-proxy would also refuse: ${p}`);
    const where = readFrom && !out.problems[0].startsWith(readFrom.replace(/:\d+$/, ':')) ? ` (read at ${readFrom})` : '';
    throw new InputError(`kube-proxy would refuse to start with this configuration${where}: ${out.problems[0]}`);
  }
  return out;
}

export function overridesFromFlags(flags: {
  mode?: string;
  'cluster-cidr'?: string;
  'masquerade-all'?: boolean;
  node?: string;
  'node-ip'?: string;
}): ConfigOverrides {
  return {
    mode: flags.mode,
    clusterCIDR: flags['cluster-cidr'],
    masqueradeAll: flags['masquerade-all'] || undefined,
    hostnameOverride: flags.node,
    nodeIP: flags['node-ip'],
  };
}
