// KubeProxyConfiguration, kubeproxy.config.k8s.io/v1alpha1: every field of the versioned type, with
// the JSON names kube-proxy reads and writes.
//
// Upstream read for this file (kubernetes/kubernetes, via the stored index):
//   staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go @ 052d2d84f95e (main, 2025; has
//     iptables.snatNodeInternalIP, nodePortAddresses keywords in its doc comment)
//   k8s.io/component-base config/v1alpha1 ClientConnectionConfiguration and logs/api/v1
//     LoggingConfiguration (the embedded clientConnection and logging blocks)
// plus the legacy fields of the v1.25-era type (udpIdleTimeout, used by the userspace proxier that
// this product still renders), kept so old files load without surprises.
//
// After defaulting every field has a value; pointer fields of the Go type (masqueradeBit,
// localhostNodePorts, conntrack.maxPerCore, …) are plain values here because SetDefaults fills them.
// Durations are Go duration strings as kube-proxy prints them ("30s", "1h0m0s"); parseDuration in
// ./duration.ts turns them into milliseconds.

/** A Go duration string as kube-proxy's YAML prints it: "0s", "250ms", "30s", "15m0s", "24h0m0s". */
export type Duration = string;

/** The proxy modes this product knows. Linux: iptables, ipvs, nftables (and the legacy userspace,
 * removed from kube-proxy in 1.26 but still rendered here); Windows: kernelspace. */
export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'userspace' | 'kernelspace';
export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables', 'kernelspace', 'userspace'];

export function isProxyMode(value: unknown): value is ProxyMode {
  return typeof value === 'string' && (PROXY_MODES as readonly string[]).includes(value);
}

/** detectLocalMode values (LocalMode in types.go); "" means ClusterCIDR on Linux. */
export type LocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix';
export const LOCAL_MODES: readonly LocalMode[] = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'];

export const KUBE_PROXY_API_GROUP = 'kubeproxy.config.k8s.io';
export const KUBE_PROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';
export const KUBE_PROXY_KIND = 'KubeProxyConfiguration';

/** The one keyword nodePortAddresses accepts besides CIDRs (kubeproxyconfig.NodePortAddressesPrimary). */
export const NODE_PORT_ADDRESSES_PRIMARY = 'primary';

/** The IPVS scheduler kube-proxy's ipvs proxier uses when ipvs.scheduler is "" (defaultScheduler). */
export const DEFAULT_IPVS_SCHEDULER = 'rr';

export interface KubeProxyIPTablesConfiguration {
  /** Bit of the fwmark space marking packets to SNAT, 0..31 (iptables and ipvs modes). Default 14. */
  masqueradeBit: number;
  /** SNAT all traffic sent to Service cluster IPs (iptables and ipvs modes). */
  masqueradeAll: boolean;
  /** Allow NodePorts on 127.0.0.1 (iptables mode, IPv4 only). Default true. */
  localhostNodePorts: boolean;
  /** Newest upstream only (no default): SNAT service traffic to the node's InternalIP. */
  snatNodeInternalIP?: boolean;
  /** How often a full resync runs. Default "30s". */
  syncPeriod: Duration;
  /** Minimum time between resyncs. Default "1s" (an explicit "0s" is also defaulted to 1s upstream). */
  minSyncPeriod: Duration;
}

export interface KubeProxyIPVSConfiguration {
  /** Default "30s". */
  syncPeriod: Duration;
  /** No default: "0s" (resync on every change). */
  minSyncPeriod: Duration;
  /** IPVS scheduler; "" means rr (see DEFAULT_IPVS_SCHEDULER). */
  scheduler: string;
  /** CIDRs the ipvs proxier leaves alone when cleaning up IPVS services. */
  excludeCIDRs: string[];
  strictARP: boolean;
  /** "0s" keeps the system's value. */
  tcpTimeout: Duration;
  tcpFinTimeout: Duration;
  udpTimeout: Duration;
}

export interface KubeProxyNFTablesConfiguration {
  /** Default 14. */
  masqueradeBit: number;
  masqueradeAll: boolean;
  /** Default "30s". */
  syncPeriod: Duration;
  /** Default "1s". */
  minSyncPeriod: Duration;
}

export interface KubeProxyConntrackConfiguration {
  /** NAT connections tracked per CPU core; 0 leaves the limit as is (and ignores min). Default 32768. */
  maxPerCore: number;
  /** Minimum conntrack entries regardless of maxPerCore. Default 131072. */
  min: number;
  /** Idle timeout of established TCP entries; "0s" leaves the sysctl as is. Default "24h0m0s". */
  tcpEstablishedTimeout: Duration;
  /** Timeout of CLOSE_WAIT entries; "0s" leaves the sysctl as is. Default "1h0m0s". */
  tcpCloseWaitTimeout: Duration;
  tcpBeLiberal: boolean;
  /** UNREPLIED UDP entries; "0s" leaves the sysctl as is. */
  udpTimeout: Duration;
  /** ASSURED UDP entries; "0s" leaves the sysctl as is. */
  udpStreamTimeout: Duration;
}

export interface KubeProxyWinkernelConfiguration {
  networkName: string;
  sourceVip: string;
  enableDSR: boolean;
  rootHnsEndpointName: string;
  forwardHealthCheckVip: boolean;
}

export interface DetectLocalConfiguration {
  /** With detectLocalMode BridgeInterface: traffic from this bridge is local. */
  bridgeInterface: string;
  /** With detectLocalMode InterfaceNamePrefix: traffic from interfaces with this prefix is local. */
  interfaceNamePrefix: string;
}

/** component-base ClientConnectionConfiguration. */
export interface ClientConnectionConfiguration {
  kubeconfig: string;
  acceptContentTypes: string;
  /** Default "application/vnd.kubernetes.protobuf". */
  contentType: string;
  /** Default 5. */
  qps: number;
  /** Default 10. */
  burst: number;
}

export interface LoggingFormatOptions {
  splitStream?: boolean;
  /** A resource.Quantity; default "0". */
  infoBufferSize: string;
}

/** component-base logs/api/v1 LoggingConfiguration, as SetRecommendedLoggingConfiguration fills it. */
export interface LoggingConfiguration {
  /** Default "text". */
  format: string;
  /** Default "5s". */
  flushFrequency: Duration;
  verbosity: number;
  vmodule?: Array<{ filePattern: string; verbosity: number }>;
  options: { text: LoggingFormatOptions; json: LoggingFormatOptions };
}

export interface KubeProxyConfiguration {
  apiVersion: typeof KUBE_PROXY_API_VERSION;
  kind: typeof KUBE_PROXY_KIND;
  featureGates: Record<string, boolean>;
  clientConnection: ClientConnectionConfiguration;
  logging: LoggingConfiguration;
  hostnameOverride: string;
  /** kube-proxy's idea of the node's primary IP (it binds nothing to it). Default "0.0.0.0". */
  bindAddress: string;
  /** Default "0.0.0.0:10256" ("[::]:10256" when bindAddress is IPv6); a bare IP gets :10256. */
  healthzBindAddress: string;
  /** Default "127.0.0.1:10249" ("[::1]:10249" when bindAddress is IPv6); a bare IP gets :10249. */
  metricsBindAddress: string;
  bindAddressHardFail: boolean;
  enableProfiling: boolean;
  showHiddenMetricsForVersion: string;
  /** As written ("" = platform default); LoadedConfig.config carries the effective mode here. */
  mode: ProxyMode | '';
  iptables: KubeProxyIPTablesConfiguration;
  ipvs: KubeProxyIPVSConfiguration;
  nftables: KubeProxyNFTablesConfiguration;
  winkernel: KubeProxyWinkernelConfiguration;
  /** "" = ClusterCIDR on Linux (platformApplyDefaults). */
  detectLocalMode: LocalMode | '';
  detectLocal: DetectLocalConfiguration;
  /** Pod CIDR, or a comma-separated dual-stack pair. */
  clusterCIDR: string;
  /** CIDRs, or ["primary"]; [] (unset) = all local IPs in iptables/ipvs mode, primary in nftables mode. */
  nodePortAddresses: string[];
  /** Default -999 (qos.KubeProxyOOMScoreAdj). */
  oomScoreAdj: number;
  conntrack: KubeProxyConntrackConfiguration;
  /** Default "15m0s". */
  configSyncPeriod: Duration;
  /** Was the userspace proxier's port range; unused since 1.26. */
  portRange: string;
  windowsRunAsService: boolean;
  /** Legacy (kube-proxy 1.25 and older, userspace mode): idle timeout of UDP proxying. Set when
   * written, and defaulted to "250ms" (the 1.25 default) when the mode is userspace. */
  udpIdleTimeout?: Duration;
}

/** Any subset of a KubeProxyConfiguration, nested: what a file may write. */
export type DeepPartial<T> = T extends Array<infer U>
  ? Array<U>
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T;

/** A KubeProxyConfiguration as written (before defaulting). null means "written as null", which
 * kube-proxy treats like an absent field. */
export type KubeProxyConfigurationInput = DeepPartial<Omit<KubeProxyConfiguration, 'apiVersion' | 'kind' | 'mode' | 'detectLocalMode' | 'logging'>> & {
  apiVersion?: string;
  kind?: string;
  mode?: string | null;
  detectLocalMode?: string | null;
  logging?: DeepPartial<Omit<LoggingConfiguration, 'flushFrequency'>> & { flushFrequency?: Duration | number | null } | null;
};
