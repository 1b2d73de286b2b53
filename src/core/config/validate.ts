// What kube-proxy refuses to start with: pkg/proxy/apis/config/validation/validation.go, checked
// rule by rule against these stored versions of kubernetes/kubernetes:
//   @01593144e663 (v1.20-era: ipvs scheduler list, UDPIdleTimeout, userspace mode),
//   danwinship/kubernetes@03e678fb9905 (v1.30-era: nftables, detectLocal, per-index CIDR errors),
//   @105021331-id copy (v1.31/32-era: 'primary' nodePortAddresses, dual-stack clusterCIDR rules),
//   validation/field_paths_test.go (newest: sync periods are checked in the section of the active
//   mode — iptables for "" / iptables / kernelspace, ipvs, nftables — and errors use JSON paths).
// Each problem is one sentence naming the JSON path, the value, and what to do. Deliberate
// differences, all in the direction of accepting what some supported kube-proxy version accepts:
//   - mode: "userspace" (kube-proxy <= 1.25) and "kernelspace" (Windows) are accepted; load.ts warns.
//   - ipvs.scheduler: old kube-proxy accepted only rr wrr lc wlc lblc lblcr sh dh sed nq (""= rr);
//     newer ones pass any name to the kernel. We accept those plus the kernel's mh fo ovf twos.
//   - featureGates names are not checked (the known set depends on the kube-proxy version).
//   - showHiddenMetricsForVersion is checked for form ("1.29"), not against a binary version.
import { parseDurationNanos } from './duration.js';
import { atoi, cidrFamily, ipFamily, isIP, parsePortRange, splitHostPort } from './net.js';
import {
  DEFAULT_IPVS_SCHEDULER,
  LOCAL_MODES,
  NODE_PORT_ADDRESSES_PRIMARY,
  PROXY_MODES,
  type KubeProxyConfiguration,
  type ProxyMode,
} from './types.js';

/** IPVS schedulers: the list old kube-proxy validated, then the other schedulers Linux IPVS ships. */
export const IPVS_SCHEDULERS: readonly string[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'];

/** Log formats kube-proxy registers (text, and json via component-base/logs/json/register). */
export const LOG_FORMATS: readonly string[] = ['text', 'json'];

export interface ConfigProblem {
  /** JSON path of the offending field, e.g. "iptables.masqueradeBit", "nodePortAddresses[1]". */
  path: string;
  /** One sentence: what is wrong and what to do. */
  message: string;
}

/** The section whose syncPeriod/minSyncPeriod (and masqueradeAll) the mode uses. */
export function syncSectionOf(mode: string): 'iptables' | 'ipvs' | 'nftables' {
  return mode === 'ipvs' ? 'ipvs' : mode === 'nftables' ? 'nftables' : 'iptables';
}

/** kube-proxy's validation: one clear sentence per problem; empty when kube-proxy would accept it. */
export function validate(cfg: KubeProxyConfiguration): string[] {
  return validateProblems(cfg).map((p) => p.message);
}

export function validateProblems(cfg: KubeProxyConfiguration): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const add = (path: string, message: string): void => {
    out.push({ path, message });
  };
  const mode = cfg.mode as string;

  // iptables.masqueradeBit is checked whatever the mode (ipvs uses it too).
  checkMasqueradeBit(add, 'iptables', cfg.iptables.masqueradeBit);
  if (mode === 'ipvs') {
    for (const key of ['tcpTimeout', 'tcpFinTimeout', 'udpTimeout'] as const) {
      checkNonNegative(add, `ipvs.${key}`, cfg.ipvs[key], '0s (keep the system value) or a positive duration');
    }
    cfg.ipvs.excludeCIDRs.forEach((c, i) => {
      if (cidrFamily(c) === undefined) {
        add(`ipvs.excludeCIDRs[${i}]`, `ipvs.excludeCIDRs[${i}] ${q(c)} is not a valid CIDR; write an address with a prefix length, e.g. 10.0.0.0/8.`);
      }
    });
    if (cfg.ipvs.scheduler !== '' && !IPVS_SCHEDULERS.includes(cfg.ipvs.scheduler)) {
      add('ipvs.scheduler', `ipvs.scheduler ${q(cfg.ipvs.scheduler)} is not an IPVS scheduler; use one of ${IPVS_SCHEDULERS.join(', ')}, or leave it empty for ${DEFAULT_IPVS_SCHEDULER}.`);
    }
  }
  if (mode === 'nftables') checkMasqueradeBit(add, 'nftables', cfg.nftables.masqueradeBit);

  // Sync periods of the section the active mode reads.
  const section = syncSectionOf(mode);
  const sync = cfg[section].syncPeriod;
  const minSync = cfg[section].minSyncPeriod;
  const syncNs = nanos(sync);
  const minNs = nanos(minSync);
  if (syncNs !== undefined && syncNs <= 0n) {
    add(`${section}.syncPeriod`, `${section}.syncPeriod is ${sync}, but it must be greater than 0; set a positive duration such as 30s.`);
  }
  if (minNs !== undefined && minNs < 0n) {
    add(`${section}.minSyncPeriod`, `${section}.minSyncPeriod is ${minSync}, but it must not be negative; set it to 0s or more.`);
  }
  if (syncNs !== undefined && minNs !== undefined && minNs > syncNs) {
    add(`${section}.syncPeriod`, `${section}.syncPeriod (${sync}) is shorter than ${section}.minSyncPeriod (${minSync}); make syncPeriod at least as long as minSyncPeriod.`);
  }
  for (const [path, value] of [
    ['iptables.syncPeriod', cfg.iptables.syncPeriod],
    ['iptables.minSyncPeriod', cfg.iptables.minSyncPeriod],
    ['ipvs.syncPeriod', cfg.ipvs.syncPeriod],
    ['ipvs.minSyncPeriod', cfg.ipvs.minSyncPeriod],
    ['nftables.syncPeriod', cfg.nftables.syncPeriod],
    ['nftables.minSyncPeriod', cfg.nftables.minSyncPeriod],
  ] as const) {
    if (nanos(value) === undefined) add(path, `${path} ${q(value)} is not a duration; write it like 30s, 1m or 2h22m.`);
  }

  // Conntrack (Linux).
  const ct = cfg.conntrack;
  if (ct.maxPerCore < 0) add('conntrack.maxPerCore', `conntrack.maxPerCore is ${ct.maxPerCore}, but it must not be negative; set it to 0 (leave the kernel limit alone) or more.`);
  if (ct.min < 0) add('conntrack.min', `conntrack.min is ${ct.min}, but it must not be negative; set it to 0 or more.`);
  for (const key of ['tcpEstablishedTimeout', 'tcpCloseWaitTimeout', 'udpTimeout', 'udpStreamTimeout'] as const) {
    checkNonNegative(add, `conntrack.${key}`, ct[key], '0s (leave the sysctl alone) or a positive duration');
  }
  if (cfg.oomScoreAdj < -1000 || cfg.oomScoreAdj > 1000) {
    add('oomScoreAdj', `oomScoreAdj is ${cfg.oomScoreAdj}, but it must be between -1000 and 1000; set it within that range.`);
  }

  // Mode.
  if (mode !== '' && !(PROXY_MODES as readonly string[]).includes(mode)) {
    add('mode', `mode ${q(mode)} is not one of ${['', ...PROXY_MODES].map(q).join(', ')}; set it to one of those.`);
  }

  if (cfg.clientConnection.burst < 0) {
    add('clientConnection.burst', `clientConnection.burst is ${cfg.clientConnection.burst}, but it must not be negative; set it to 0 or more.`);
  }
  const cspNs = nanos(cfg.configSyncPeriod);
  if (cspNs === undefined || cspNs <= 0n) {
    add('configSyncPeriod', `configSyncPeriod is ${cfg.configSyncPeriod}, but it must be a duration greater than 0; set one such as 15m.`);
  }
  if (mode === 'userspace' && cfg.udpIdleTimeout !== undefined) {
    const n = nanos(cfg.udpIdleTimeout);
    if (n === undefined || n <= 0n) add('udpIdleTimeout', `udpIdleTimeout is ${cfg.udpIdleTimeout}, but the userspace proxier needs a duration greater than 0; set one such as 250ms.`);
  }

  // Addresses.
  checkBindAddress(add, cfg.bindAddress);
  if (cfg.healthzBindAddress !== '') checkHostPort(add, 'healthzBindAddress', cfg.healthzBindAddress, '0.0.0.0:10256');
  checkHostPort(add, 'metricsBindAddress', cfg.metricsBindAddress, '127.0.0.1:10249');

  if (parsePortRange(cfg.portRange) === undefined) {
    add('portRange', `portRange ${q(cfg.portRange)} is not a port range; write it as 300-2000, 300+1700 or a single port, or leave it empty.`);
  }

  checkNodePortAddresses(add, cfg.nodePortAddresses);

  if (cfg.showHiddenMetricsForVersion !== '' && !/^[0-9]+\.[0-9]+$/.test(cfg.showHiddenMetricsForVersion)) {
    add('showHiddenMetricsForVersion', `showHiddenMetricsForVersion ${q(cfg.showHiddenMetricsForVersion)} must be <major>.<minor> of the previous release, e.g. 1.29; correct it or leave it empty.`);
  }

  // Local traffic detection; "" is ClusterCIDR on Linux.
  const localMode = cfg.detectLocalMode as string;
  if (localMode !== '' && !(LOCAL_MODES as readonly string[]).includes(localMode)) {
    add('detectLocalMode', `detectLocalMode ${q(localMode)} is not one of ${[...LOCAL_MODES, ''].map(q).join(', ')}; set it to one of those.`);
  }
  if (localMode === 'BridgeInterface' && cfg.detectLocal.bridgeInterface === '') {
    add('detectLocal.bridgeInterface', 'detectLocalMode is BridgeInterface but detectLocal.bridgeInterface is empty; set it to the bridge the pods attach to, e.g. cbr0.');
  }
  if (localMode === 'InterfaceNamePrefix' && cfg.detectLocal.interfaceNamePrefix === '') {
    add('detectLocal.interfaceNamePrefix', 'detectLocalMode is InterfaceNamePrefix but detectLocal.interfaceNamePrefix is empty; set it to the prefix of the pods\' interfaces, e.g. veth.');
  }
  if ((localMode === '' || localMode === 'ClusterCIDR') && cfg.clusterCIDR !== '') checkClusterCIDR(add, cfg.clusterCIDR);

  if (!LOG_FORMATS.includes(cfg.logging.format)) {
    add('logging.format', `logging.format ${q(cfg.logging.format)} is not a log format kube-proxy supports; use ${LOG_FORMATS.map(q).join(' or ')}.`);
  }
  if (!Number.isInteger(cfg.logging.verbosity) || cfg.logging.verbosity < 0) {
    add('logging.verbosity', `logging.verbosity is ${cfg.logging.verbosity}, but it must be a non-negative integer; set it to 0 or more.`);
  }
  return out;
}

type Add = (path: string, message: string) => void;

function q(s: string): string {
  return JSON.stringify(s);
}

function nanos(d: string): bigint | undefined {
  try {
    return parseDurationNanos(d);
  } catch {
    return undefined;
  }
}

function checkMasqueradeBit(add: Add, section: 'iptables' | 'nftables', bit: number): void {
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) {
    add(`${section}.masqueradeBit`, `${section}.masqueradeBit is ${bit}, but it must be a bit number from 0 to 31; set it within that range (the default is 14).`);
  }
}

function checkNonNegative(add: Add, path: string, value: string, what: string): void {
  const n = nanos(value);
  if (n === undefined) add(path, `${path} ${q(value)} is not a duration; write it like 30s, 1m or 2h22m.`);
  else if (n < 0n) add(path, `${path} is ${value}, but it must not be negative; set it to ${what}.`);
}

// bindAddress: one IP; newest kube-proxy (1.33+) also splits it on "," into a node-IP override pair,
// so a dual-stack pair of IPs is accepted as well.
function checkBindAddress(add: Add, value: string): void {
  const parts = value.split(',');
  const families = parts.map(ipFamily);
  if (families.some((f) => f === undefined) || parts.length > 2 || (parts.length === 2 && families[0] === families[1])) {
    add('bindAddress', `bindAddress ${q(value)} is not an IP address; set it to the node's IP without a port (e.g. 10.0.0.5), a dual-stack pair of IPs, or 0.0.0.0.`);
  }
}

function checkHostPort(add: Add, path: string, value: string, example: string): void {
  let host: string;
  let port: string;
  try {
    ({ host, port } = splitHostPort(value));
  } catch {
    add(path, `${path} ${q(value)} must be IP:port; write it like ${example}.`);
    return;
  }
  if (!isIP(host)) add(path, `${path} ${q(value)} does not start with a valid IP (${q(host)}); write it like ${example}.`);
  const p = atoi(port);
  if (p === undefined || p < 1 || p > 65535) add(path, `${path} ${q(value)} has an invalid port ${q(port)}; use a port from 1 to 65535.`);
}

function checkNodePortAddresses(add: Add, addresses: string[]): void {
  for (let i = 0; i < addresses.length; i++) {
    const a = addresses[i];
    if (a === NODE_PORT_ADDRESSES_PRIMARY) {
      if (i !== 0 || addresses.length !== 1) {
        add(`nodePortAddresses[${i}]`, `nodePortAddresses[${i}] "primary" cannot be combined with CIDRs; use either "primary" alone or a list of CIDRs.`);
      }
      break; // upstream stops at the first "primary"
    }
    if (cidrFamily(a) === undefined) {
      add(`nodePortAddresses[${i}]`, `nodePortAddresses[${i}] ${q(a)} is not a valid CIDR; write CIDRs such as 10.0.0.0/8, or use the single word "primary".`);
    }
  }
}

// clusterCIDR: one CIDR, or a dual-stack pair (one IPv4, one IPv6), comma-separated.
function checkClusterCIDR(add: Add, value: string): void {
  const cidrs = value.split(',');
  if (cidrs.length > 2) {
    add('clusterCIDR', `clusterCIDR ${q(value)} lists ${cidrs.length} CIDRs, but it must be one CIDR or a dual-stack pair (e.g. 10.244.0.0/16,fd00:10:244::/56); remove the extra ones.`);
    return;
  }
  const families = cidrs.map(cidrFamily);
  const bad = cidrs.filter((_, i) => families[i] === undefined);
  if (bad.length > 0) {
    add('clusterCIDR', `clusterCIDR ${q(value)} contains ${bad.map(q).join(' and ')}, which is not a valid CIDR; write it like 10.244.0.0/16${cidrs.length === 2 ? ',fd00:10:244::/56' : ''}.`);
    return;
  }
  if (cidrs.length === 2 && families[0] === families[1]) {
    add('clusterCIDR', `clusterCIDR ${q(value)} holds two IPv${families[0]} CIDRs, but two CIDRs must be a dual-stack pair (one IPv4, one IPv6); keep one or pair it with the other family.`);
  }
}

/** The scheduler the ipvs proxier really uses: ipvs.scheduler, or rr when it is empty. */
export function effectiveIPVSScheduler(cfg: Pick<KubeProxyConfiguration, 'ipvs'>): string {
  return cfg.ipvs.scheduler === '' ? DEFAULT_IPVS_SCHEDULER : cfg.ipvs.scheduler;
}

/** The masqueradeAll the given mode reads (nftables.masqueradeAll in nftables mode, else iptables'). */
export function masqueradeAllFor(cfg: KubeProxyConfiguration, mode: ProxyMode): boolean {
  return mode === 'nftables' ? cfg.nftables.masqueradeAll : cfg.iptables.masqueradeAll;
}
