// Finds kube-proxy's configuration: --config FILE, else the kube-proxy ConfigMap from the source,
// else kube-proxy's defaults; then the override flags, as kube-proxy's own flags override its file.
import {
  applyOverrides,
  configFromConfigMap,
  defaultConfig,
  findKubeProxyConfigMap,
  parseKubeProxyConfiguration,
  type ConfigOverrides,
  type LoadedConfig,
} from '../core/config/index.js';
import { readText } from './files.js';
import type { ClusterSource } from './source.js';

export async function loadProxyConfig(source: ClusterSource, configPath: string | undefined, overrides: ConfigOverrides): Promise<LoadedConfig> {
  let loaded: LoadedConfig;
  if (configPath) {
    loaded = parseKubeProxyConfiguration(readText(configPath), configPath);
  } else {
    const cm = findKubeProxyConfigMap(await source.proxyConfigMaps());
    loaded = cm ? configFromConfigMap(cm, `ConfigMap ${cm.metadata?.namespace ?? 'default'}/${cm.metadata?.name}`) : defaultConfig();
  }
  return applyOverrides(loaded, overrides);
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
