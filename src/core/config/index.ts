// core/config: kube-proxy's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) — read it from a
// file or ConfigMap, default it and validate it exactly as kube-proxy does, and apply this product's
// single-field overrides. Pure: callers pass text and a source name; nothing here touches files,
// the clock or the environment.
export {
  DEFAULT_IPVS_SCHEDULER,
  KUBE_PROXY_API_GROUP,
  KUBE_PROXY_API_VERSION,
  KUBE_PROXY_KIND,
  LOCAL_MODES,
  NODE_PORT_ADDRESSES_PRIMARY,
  PROXY_MODES,
  isProxyMode,
  type ClientConnectionConfiguration,
  type DeepPartial,
  type DetectLocalConfiguration,
  type Duration,
  type KubeProxyConfiguration,
  type KubeProxyConfigurationInput,
  type KubeProxyConntrackConfiguration,
  type KubeProxyIPTablesConfiguration,
  type KubeProxyIPVSConfiguration,
  type KubeProxyNFTablesConfiguration,
  type KubeProxyWinkernelConfiguration,
  type LocalMode,
  type LoggingConfiguration,
  type ProxyMode,
} from './types.js';
export {
  DurationError,
  formatDuration,
  formatDurationNanos,
  isDuration,
  normalizeDuration,
  parseDuration,
  parseDurationNanos,
} from './duration.js';
export {
  KUBE_PROXY_OOM_SCORE_ADJ,
  LEGACY_UDP_IDLE_TIMEOUT,
  PROXY_HEALTHZ_PORT,
  PROXY_STATUS_PORT,
  applyPlatformDefaults,
  setDefaults,
} from './defaults.js';
export {
  IPVS_SCHEDULERS,
  LOG_FORMATS,
  effectiveIPVSScheduler,
  masqueradeAllFor,
  syncSectionOf,
  validate,
  validateProblems,
  type ConfigProblem,
} from './validate.js';
export {
  CONFIG_MAP_KEYS,
  CONFIG_MAP_NAMES,
  applyOverrides,
  configFromConfigMap,
  configMapKey,
  defaultConfig,
  findKubeProxyConfigMap,
  parseKubeProxyConfiguration,
  type ConfigMapOrigin,
  type ConfigOrigin,
  type ConfigOverrides,
  type LoadedConfig,
} from './load.js';
export { KUBE_PROXY_SCHEMA } from './decode.js';
