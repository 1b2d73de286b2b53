// kube-proxy's defaulting, in two steps as upstream does it:
//
// 1. setDefaults = SetDefaults_KubeProxyConfiguration (pkg/proxy/apis/config/v1alpha1/defaults.go),
//    run by the scheme when the file is decoded. Read at danwinship/kubernetes@6c763fd5abda (main of
//    2025: k8s.io/utils/net/v2, ptr.To) and cross-checked against kubernetes/kubernetes@0d173114bee8
//    and the scheme round-trip fixtures (pkg/proxy/apis/config/scheme/testdata/KubeProxyConfiguration/
//    after/v1alpha1.yaml @ cb6ff2d8ce35), which show how the defaults print:
//      bindAddress 0.0.0.0; healthzBindAddress 0.0.0.0:10256 / metricsBindAddress 127.0.0.1:10249
//      ([::]:10256 / [::1]:10249 when bindAddress is not IPv4; a bare IP gets the port appended);
//      oomScoreAdj -999; iptables.syncPeriod 30s, minSyncPeriod 1s, localhostNodePorts true,
//      masqueradeBit 14; ipvs.syncPeriod 30s (ipvs.minSyncPeriod is NOT defaulted: 0s);
//      nftables.syncPeriod 30s, minSyncPeriod 1s, masqueradeBit 14; conntrack.maxPerCore 32768,
//      min 131072, tcpEstablishedTimeout 24h0m0s, tcpCloseWaitTimeout 1h0m0s; configSyncPeriod 15m0s;
//      clientConnection contentType application/vnd.kubernetes.protobuf, qps 5, burst 10;
//      featureGates {}; logging via SetRecommendedLoggingConfiguration (format text, flushFrequency 5s,
//      options.{text,json}.infoBufferSize "0").
//    Go cannot tell an absent non-pointer field from its zero value, so a written "0s" sync period or
//    qps 0 is defaulted too; pointer fields (masqueradeBit, maxPerCore, tcpCloseWaitTimeout, …) are
//    defaulted only when absent or null, so conntrack.tcpCloseWaitTimeout: 0s stays 0s.
//
// 2. applyPlatformDefaults = Options.platformApplyDefaults (cmd/kube-proxy/app/server_linux.go),
//    run after the file is loaded: mode "" -> iptables ("Using iptables proxy"); detectLocalMode "" ->
//    ClusterCIDR. Its nftables-mode nodePortAddresses -> ["primary"] (1.30+) is applied by the nftables
//    face for the release it renders.
import { formatDurationNanos, parseDurationNanos } from './duration.js';
import { appendPortIfNeeded, ipFamily } from './net.js';
import {
  KUBE_PROXY_API_VERSION,
  KUBE_PROXY_KIND,
  type DeepPartial,
  type Duration,
  type KubeProxyConfiguration,
  type KubeProxyConfigurationInput,
  type LocalMode,
  type ProxyMode,
} from './types.js';

/** ports.ProxyHealthzPort */
export const PROXY_HEALTHZ_PORT = 10256;
/** ports.ProxyStatusPort */
export const PROXY_STATUS_PORT = 10249;
/** qos.KubeProxyOOMScoreAdj */
export const KUBE_PROXY_OOM_SCORE_ADJ = -999;

/** The legacy userspace proxier's UDP idle timeout default (v1.25 defaults.go). */
export const LEGACY_UDP_IDLE_TIMEOUT = '250ms';

/**
 * SetDefaults_KubeProxyConfiguration: fills every unset field with kube-proxy's default. Durations
 * come back in Go's canonical form ("5m" -> "5m0s"). The mode stays as written ("" stays "").
 */
export function setDefaults(raw: DeepPartial<KubeProxyConfiguration> | KubeProxyConfigurationInput): KubeProxyConfiguration {
  const r = (raw ?? {}) as KubeProxyConfigurationInput;
  const ipt = r.iptables ?? {};
  const ipvs = r.ipvs ?? {};
  const nft = r.nftables ?? {};
  const ct = r.conntrack ?? {};
  const cc = r.clientConnection ?? {};
  const win = r.winkernel ?? {};
  const dl = r.detectLocal ?? {};

  const bindAddress = str(r.bindAddress) || '0.0.0.0';
  const [defaultHealthz, defaultMetrics] = defaultAddresses(bindAddress);
  const healthz = str(r.healthzBindAddress);
  const metrics = str(r.metricsBindAddress);

  const cfg: KubeProxyConfiguration = {
    apiVersion: KUBE_PROXY_API_VERSION,
    kind: KUBE_PROXY_KIND,
    featureGates: { ...(r.featureGates ?? {}) } as Record<string, boolean>,
    clientConnection: {
      kubeconfig: str(cc.kubeconfig),
      acceptContentTypes: str(cc.acceptContentTypes),
      contentType: str(cc.contentType) || 'application/vnd.kubernetes.protobuf',
      qps: num(cc.qps) || 5,
      burst: num(cc.burst) || 10,
    },
    logging: defaultLogging(r.logging),
    hostnameOverride: str(r.hostnameOverride),
    bindAddress,
    healthzBindAddress: healthz === '' ? `${defaultHealthz}:${PROXY_HEALTHZ_PORT}` : appendPortIfNeeded(healthz, PROXY_HEALTHZ_PORT),
    metricsBindAddress: metrics === '' ? `${defaultMetrics}:${PROXY_STATUS_PORT}` : appendPortIfNeeded(metrics, PROXY_STATUS_PORT),
    bindAddressHardFail: bool(r.bindAddressHardFail),
    enableProfiling: bool(r.enableProfiling),
    showHiddenMetricsForVersion: str(r.showHiddenMetricsForVersion),
    mode: str(r.mode) as ProxyMode | '',
    iptables: {
      masqueradeBit: ptrNum(ipt.masqueradeBit, 14),
      masqueradeAll: bool(ipt.masqueradeAll),
      localhostNodePorts: ipt.localhostNodePorts ?? true,
      ...(ipt.snatNodeInternalIP == null ? {} : { snatNodeInternalIP: ipt.snatNodeInternalIP }),
      syncPeriod: durationOr(ipt.syncPeriod, '30s'),
      minSyncPeriod: durationOr(ipt.minSyncPeriod, '1s'),
    },
    ipvs: {
      syncPeriod: durationOr(ipvs.syncPeriod, '30s'),
      minSyncPeriod: durationOr(ipvs.minSyncPeriod, '0s'),
      scheduler: str(ipvs.scheduler),
      excludeCIDRs: [...((ipvs.excludeCIDRs ?? []) as string[])],
      strictARP: bool(ipvs.strictARP),
      tcpTimeout: durationOr(ipvs.tcpTimeout, '0s'),
      tcpFinTimeout: durationOr(ipvs.tcpFinTimeout, '0s'),
      udpTimeout: durationOr(ipvs.udpTimeout, '0s'),
    },
    nftables: {
      masqueradeBit: ptrNum(nft.masqueradeBit, 14),
      masqueradeAll: bool(nft.masqueradeAll),
      syncPeriod: durationOr(nft.syncPeriod, '30s'),
      minSyncPeriod: durationOr(nft.minSyncPeriod, '1s'),
    },
    winkernel: {
      networkName: str(win.networkName),
      sourceVip: str(win.sourceVip),
      enableDSR: bool(win.enableDSR),
      rootHnsEndpointName: str(win.rootHnsEndpointName),
      forwardHealthCheckVip: bool(win.forwardHealthCheckVip),
    },
    detectLocalMode: str(r.detectLocalMode) as LocalMode | '',
    detectLocal: { bridgeInterface: str(dl.bridgeInterface), interfaceNamePrefix: str(dl.interfaceNamePrefix) },
    clusterCIDR: str(r.clusterCIDR),
    nodePortAddresses: [...((r.nodePortAddresses ?? []) as string[])],
    oomScoreAdj: ptrNum(r.oomScoreAdj, KUBE_PROXY_OOM_SCORE_ADJ),
    conntrack: {
      maxPerCore: ptrNum(ct.maxPerCore, 32 * 1024),
      min: ptrNum(ct.min, 128 * 1024),
      // pointers: only absent/null is defaulted; an explicit 0s means "leave the sysctl alone"
      tcpEstablishedTimeout: ct.tcpEstablishedTimeout == null ? '24h0m0s' : canonical(ct.tcpEstablishedTimeout),
      tcpCloseWaitTimeout: ct.tcpCloseWaitTimeout == null ? '1h0m0s' : canonical(ct.tcpCloseWaitTimeout),
      tcpBeLiberal: bool(ct.tcpBeLiberal),
      udpTimeout: durationOr(ct.udpTimeout, '0s'),
      udpStreamTimeout: durationOr(ct.udpStreamTimeout, '0s'),
    },
    configSyncPeriod: durationOr(r.configSyncPeriod, '15m0s'),
    portRange: str(r.portRange),
    windowsRunAsService: bool(r.windowsRunAsService),
  };
  // Legacy: v1.25's SetDefaults filled udpIdleTimeout (250ms) for the userspace proxier.
  const udpIdle = (r as { udpIdleTimeout?: Duration | null }).udpIdleTimeout;
  if (udpIdle != null) cfg.udpIdleTimeout = durationOr(udpIdle, LEGACY_UDP_IDLE_TIMEOUT);
  else if (cfg.mode === 'userspace') cfg.udpIdleTimeout = LEGACY_UDP_IDLE_TIMEOUT;
  return cfg;
}

/**
 * Options.platformApplyDefaults on Linux (server_linux.go): what kube-proxy fills in after loading the
 * file. Returns a new object; `cfg` is not changed.
 */
export function applyPlatformDefaults(cfg: KubeProxyConfiguration): KubeProxyConfiguration {
  const out: KubeProxyConfiguration = structuredClone(cfg);
  if (out.mode === '') out.mode = 'iptables';
  // nftables' ["primary"] nodePortAddresses (server_linux.go) is not filled in here: it came in 1.30
  // (#122724) and the release is not known yet when a file is loaded; the nftables mode face applies it
  // for the release it renders (effectiveNodePortAddresses), also to a file written for another mode.
  if (out.detectLocalMode === '') out.detectLocalMode = 'ClusterCIDR';
  if (out.mode === 'userspace' && out.udpIdleTimeout === undefined) out.udpIdleTimeout = LEGACY_UDP_IDLE_TIMEOUT;
  return out;
}

// getDefaultAddresses: IPv4 (including IPv4-mapped IPv6, which Go's To4() accepts) -> 0.0.0.0 /
// 127.0.0.1; anything else, even an invalid address, -> [::] / [::1].
function defaultAddresses(bindAddress: string): [string, string] {
  const v4 = ipFamily(bindAddress) === 4 || (ipFamily(bindAddress) === 6 && /^(0{0,4}:){0,5}:?ffff:[0-9]+\./i.test(bindAddress));
  return v4 ? ['0.0.0.0', '127.0.0.1'] : ['[::]', '[::1]'];
}

function defaultLogging(l: KubeProxyConfigurationInput['logging']): KubeProxyConfiguration['logging'] {
  const log = l ?? {};
  const opts = log.options ?? {};
  const flush = log.flushFrequency;
  let flushFrequency = '5s';
  if (typeof flush === 'number' && flush !== 0) flushFrequency = formatDurationNanos(BigInt(flush));
  else if (typeof flush === 'string' && parseDurationNanos(flush) !== 0n) flushFrequency = canonical(flush);
  const out: KubeProxyConfiguration['logging'] = {
    format: str(log.format) || 'text',
    flushFrequency,
    verbosity: num(log.verbosity),
    options: {
      text: { ...withSplit(opts.text?.splitStream), infoBufferSize: str(opts.text?.infoBufferSize) || '0' },
      json: { ...withSplit(opts.json?.splitStream), infoBufferSize: str(opts.json?.infoBufferSize) || '0' },
    },
  };
  if (Array.isArray(log.vmodule) && log.vmodule.length > 0) out.vmodule = log.vmodule as NonNullable<KubeProxyConfiguration['logging']['vmodule']>;
  return out;
}

function withSplit(v: boolean | null | undefined): { splitStream?: boolean } {
  return v ? { splitStream: true } : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}
function bool(v: unknown): boolean {
  return v === true;
}
function ptrNum(v: unknown, dflt: number): number {
  return typeof v === 'number' ? v : dflt;
}
function canonical(d: Duration): Duration {
  return formatDurationNanos(parseDurationNanos(d));
}
/** A non-pointer metav1.Duration: zero (absent, null, "0", "0s") takes the default. */
function durationOr(v: Duration | null | undefined, dflt: Duration): Duration {
  if (v == null || v === '') return dflt;
  const nanos = parseDurationNanos(v);
  return nanos === 0n ? dflt : formatDurationNanos(nanos);
}
