// render: one family's ProxyState -> the filter and nat chains kube-proxy's iptables proxier writes with
// iptables-restore on a full sync (syncProxyRules), as data.
//
// Upstream read (kubernetes/kubernetes, through the stored index; facts carried over, code not):
//   pkg/proxy/iptables/proxier.go        531be81208e2274ef42e72525a26610a9622bcdf  (main, 2025: cleanup.go
//       split out, runner package, nfacct counters; the newest proxier.go readable by commit)
//   pkg/proxy/iptables/proxier_test.go   531be81208e2274ef42e72525a26610a9622bcdf  (expected rulesets)
//   pkg/proxy/iptables/cleanup.go        531be81208e2274ef42e72525a26610a9622bcdf
//   pkg/proxy/util/localdetector.go      3db434d6be345dea55afd5fc3ac841fcec003020
//   pkg/proxy/util/nodeport_addresses.go 94341df30b4aef29676b997d0e2320534d05bfab
//   pkg/util/iptables/testing/parse.go   95f08499d652a6211121d8af35f470609217c730  (the tests' normaliser)
//   cmd/kube-proxy/app/server.go, server_linux.go (getLocalDetectors, nodePortAddresses "primary") and
//   the later iptables Backend (NewBackend/NewRunner: same rules, the constructor moved) as indexed.
//
// Order. kube-proxy walks its service map (a Go map, so its raw output order changes from sync to sync)
// and writes each service port's rules as it goes. We walk the service ports in ascending byte order of
// their "namespace/name:port" key (ProxyState.serviceMap order), so the bytes are one of the outputs
// kube-proxy itself could write; per service port every line comes in kube-proxy's own order. The only
// other map walks upstream are the stale-chain deletions (partial.ts: by chain name) and the node
// addresses matching nodePortAddresses (settings.ts: CIDR by CIDR, address by address).
//
// "Byte for byte" therefore means: serializeRestore(renderIptables(x)), put through upstream's own test
// normalisation (sortIPTablesRules in proxier_test.go, ported as sortRestoreLikeUpstream in
// serialize.ts), equals upstream's expected text exactly; and without the normalisation it equals what
// kube-proxy writes when its map walk happens to visit service ports in key order.
//
// Host facts kube-proxy probes at start are inputs with real-node defaults: --random-fully (iptables >=
// 1.6.2: on), nfacct counters (created through netlink: on), nf_conntrack_tcp_be_liberal (taken from
// conntrack.tcpBeLiberal, which kube-proxy sets), the masquerade mark text ("%#08x", e.g. 0x00004000).
// Upstream's fake proxier uses randomFully off and the mark "0x4000"; the ported tests pass those.

import type { KubeProxyConfiguration } from '../../config/index.js';
import {
  type Endpoint,
  type ProxyState,
  type ServicePort,
  categorizeEndpoints,
  compareEndpointStrings,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../../model/index.js';
import {
  FILTER_TOP_CHAINS,
  KUBE_CHAINS,
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  NAT_TOP_CHAINS,
  NFACCT_COUNTERS,
  SERVICE_CHAIN_PREFIX,
  chainNames,
  endpointChainNameLower,
} from '../names.js';
import type { Ruleset } from '../types.js';
import { TableWriter } from './builder.js';
import { writeForwardAccepts, writeMasqueradeChains } from './skeleton.js';
import { computeProbability } from './probability.js';
import { cidrContains, isLoopback } from '../../net/ip.js';
import { nodePortIPs, type ProxyNode } from '../../proxy/index.js';
import { type ProxierSettings, resolveSettings } from './settings.js';
import type { IptablesFeature } from '../versions.js';

export { canaryChains, jumpRules, type JumpRule } from './jumps.js';
export { computeProbability, formatFixedGo } from './probability.js';
export { formatMasqueradeMark, localDetectorFor, localDetectorWords, nodePortAddressesFor, resolveSettings, type LocalDetectorWords, type NodePortAddresses, type ProxierSettings } from './settings.js';
export { TableWriter } from './builder.js';
export { writeMasqueradeChains, writeForwardAccepts } from './skeleton.js';

/** The node the proxier runs on (core/proxy's, shared by every mode). */
export type IptablesNode = ProxyNode;

export interface RenderInput {
  state: ProxyState;
  config: KubeProxyConfiguration;
  node: IptablesNode;
  /** Default: as upstream, more than 1000 endpoints over all service ports. */
  largeClusterMode?: boolean;
  /** The mark text; default "%#08x" of 1<<iptables.masqueradeBit ("0x00004000"). Upstream's tests use "0x4000". */
  masqueradeMark?: string;
  /** iptables supports MASQUERADE --random-fully; default true. Upstream's fake iptables says false. */
  randomFully?: boolean;
  /** The nfacct counters exist (kube-proxy made them); default true, as in upstream's fake proxier. */
  nfacct?: boolean;
  /** nf_conntrack_tcp_be_liberal is set (no INVALID drop rule); default conntrack.tcpBeLiberal. */
  conntrackTCPBeLiberal?: boolean;
  /** The kube-proxy release's features (versions.ts); default: the newest release known. */
  features?: ReadonlySet<IptablesFeature>;
}

const MARK_MASQ = KUBE_CHAINS.markMasq.name;
const SERVICES = KUBE_CHAINS.services.name;
const EXTERNAL_SERVICES = KUBE_CHAINS.externalServices.name;
const NODEPORTS = KUBE_CHAINS.nodePorts.name;
const POSTROUTING = KUBE_CHAINS.postrouting.name;
const FORWARD = KUBE_CHAINS.forward.name;
const PROXY_FIREWALL = KUBE_CHAINS.proxyFirewall.name;
const FIREWALL = KUBE_CHAINS.firewall.name;

function comment(text: string): string[] {
  return ['-m', 'comment', '--comment', text];
}

/** Total endpoints over the service ports, as syncProxyRules counts them for large-cluster mode. */
export function countEndpoints(state: ProxyState): number {
  let total = 0;
  for (const key of state.serviceMap.keys()) total += state.endpointsMap.get(key)?.length ?? 0;
  return total;
}

export function isLargeCluster(state: ProxyState): boolean {
  return countEndpoints(state) > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
}

/** The full ruleset kube-proxy's restore input describes for one family (filter, then nat). */
export function renderIptables(input: RenderInput): Ruleset {
  const { state, config, node } = input;
  const settings = resolveSettings({
    config,
    family: state.ipFamily,
    node,
    ...(input.masqueradeMark !== undefined ? { masqueradeMark: input.masqueradeMark } : {}),
    ...(input.nfacct !== undefined ? { nfacct: input.nfacct } : {}),
    ...(input.randomFully !== undefined ? { randomFully: input.randomFully } : {}),
    ...(input.conntrackTCPBeLiberal !== undefined ? { conntrackTCPBeLiberal: input.conntrackTCPBeLiberal } : {}),
    ...(input.features !== undefined ? { features: input.features } : {}),
  });
  const largeClusterMode = input.largeClusterMode ?? isLargeCluster(state);
  const nodeLabels = node.labels ?? state.nodeLabels;
  const nodeName = node.name !== '' ? node.name : state.nodeName;

  // about one KUBE-SEP- chain and three nat rules per endpoint, a few chains and rules per service port
  let endpoints = 0;
  for (const key of state.serviceMap.keys()) endpoints += state.endpointsMap.get(key)?.length ?? 0;
  const ports = state.serviceMap.size;
  const filter = new TableWriter('filter');
  const nat = new TableWriter('nat', { chains: 8 + endpoints + 2 * ports, rules: 16 + 3 * endpoints + 4 * ports });
  for (const c of FILTER_TOP_CHAINS) filter.declare(c);
  for (const c of NAT_TOP_CHAINS) nat.declare(c);

  const mark = settings.masqueradeMark;
  writeMasqueradeChains(nat, mark, settings.randomFully);

  if (settings.kubeFirewall) {
    // (kube-proxy 1.27+, IPv4 with localhost NodePorts) route_localnet opens 127.0.0.0/8 to martian packets from outside (issue 90259); kubelet keeps an
    // identical rule, kube-proxy writes its own copy
    filter.declare(FIREWALL);
    filter.append(FIREWALL, [
      ...comment('block incoming localnet connections'),
      '-d',
      '127.0.0.0/8',
      '!',
      '-s',
      '127.0.0.0/8',
      '-m',
      'conntrack',
      '!',
      '--ctstate',
      'RELATED,ESTABLISHED,DNAT',
      '-j',
      'DROP',
    ]);
  }

  const keys = [...state.serviceMap.keys()].sort(compareEndpointStrings);
  const ctx: Context = { filter, nat, settings, largeClusterMode, nodeName, nodeLabels, natServices: nat.chainId(SERVICES), natNodePorts: nat.chainId(NODEPORTS) };
  for (const key of keys) {
    const sp = state.serviceMap.get(key)!;
    writeServicePort(sp, state.endpointsMap.get(key) ?? [], ctx);
  }

  writeNodePortsJump(nat, settings);

  if (settings.dropInvalid) {
    filter.append(FORWARD, [
      '-m',
      'conntrack',
      '--ctstate',
      'INVALID',
      ...(settings.nfacctCTStateInvalid ? ['-m', 'nfacct', '--nfacct-name', NFACCT_COUNTERS.ctStateInvalidDropped] : []),
      '-j',
      'DROP',
    ]);
  }
  writeForwardAccepts(filter, mark);

  return { family: state.ipFamily, tables: [filter.finish(), nat.finish()] };
}

interface Context {
  filter: TableWriter;
  nat: TableWriter;
  settings: ProxierSettings;
  largeClusterMode: boolean;
  nodeName: string;
  nodeLabels: Record<string, string> | undefined;
  /** The nat writer's ids of KUBE-SERVICES and KUBE-NODEPORTS. */
  natServices: number;
  natNodePorts: number;
}

// The rules below are built as array literals (or with concat), not by spreading or pushing into small
// arrays: a large cluster keeps a few hundred thousand of them, and an array grown by push or spread
// keeps spare capacity (a literal or concat result has exactly its length), besides the garbage of the
// intermediate arrays.

const JUMP_MARK_MASQ: readonly string[] = ['-j', MARK_MASQ];

function writeServicePort(sp: ServicePort, allEndpoints: Endpoint[], ctx: Context): void {
  const { filter, nat, settings } = ctx;
  const protocol = sp.protocol.toLowerCase();
  const name = sp.key;
  const chains = chainNames(name, protocol);
  const port = String(sp.port);
  const clusterIP = sp.clusterIP;

  const cat = categorizeEndpoints(allEndpoints, sp, ctx.nodeName, ctx.nodeLabels);
  const clusterEndpoints = cat.clusterEndpoints ?? [];
  const localEndpoints = cat.localEndpoints ?? [];
  const hasEndpoints = cat.hasAnyEndpoints;

  const clusterPolicyChain = chains.svc;
  const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
  const localPolicyChain = chains.svl;
  const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(sp);

  let internalTrafficChain = clusterPolicyChain;
  let hasInternalEndpoints = hasEndpoints;
  if (sp.internalPolicyLocal) {
    internalTrafficChain = localPolicyChain;
    if (localEndpoints.length === 0) hasInternalEndpoints = false;
  }

  let externalPolicyChain = clusterPolicyChain;
  let hasExternalEndpoints = hasEndpoints;
  if (sp.externalPolicyLocal) {
    externalPolicyChain = localPolicyChain;
    if (localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  const externalTrafficChain = chains.ext;
  // the short-circuit rules for local traffic are needed even without externally usable endpoints
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(sp);

  const usesFWChain = hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? chains.fw : externalTrafficChain;

  let internalFilterTarget = '';
  let internalFilterComment = '';
  let externalFilterTarget = '';
  let externalFilterComment = '';
  if (!hasEndpoints) {
    internalFilterTarget = 'REJECT';
    internalFilterComment = `${name} has no endpoints`;
    externalFilterTarget = 'REJECT';
    externalFilterComment = internalFilterComment;
  } else {
    if (!hasInternalEndpoints) {
      internalFilterTarget = 'DROP';
      internalFilterComment = `${name} has no local endpoints`;
    }
    if (!hasExternalEndpoints) {
      externalFilterTarget = 'DROP';
      externalFilterComment = `${name} has no local endpoints`;
    }
  }

  nat.beginGroup(clusterPolicyChain.slice(SERVICE_CHAIN_PREFIX.clusterPolicy.length), name);

  // Capture the cluster IP.
  const clusterIPComment = hasInternalEndpoints ? `${name} cluster IP` : '';
  if (hasInternalEndpoints) {
    nat.appendId(ctx.natServices, ['-m', 'comment', '--comment', clusterIPComment, '-m', protocol, '-p', protocol, '-d', clusterIP, '--dport', port, '-j', internalTrafficChain]);
  } else {
    filter.append(SERVICES, ['-m', 'comment', '--comment', internalFilterComment, '-m', protocol, '-p', protocol, '-d', clusterIP, '--dport', port, '-j', internalFilterTarget]);
  }

  // Capture external IPs.
  if (sp.externalIPs.length > 0) {
    const externalIPComment = `${name} external IP`;
    for (const ip of sp.externalIPs) {
      if (hasEndpoints) {
        nat.appendId(ctx.natServices, ['-m', 'comment', '--comment', externalIPComment, '-m', protocol, '-p', protocol, '-d', ip, '--dport', port, '-j', externalTrafficChain]);
      }
      if (!hasExternalEndpoints) {
        filter.append(EXTERNAL_SERVICES, ['-m', 'comment', '--comment', externalFilterComment, '-m', protocol, '-p', protocol, '-d', ip, '--dport', port, '-j', externalFilterTarget]);
      }
    }
  }

  // Capture load balancer IPs.
  if (sp.loadBalancerVIPs.length > 0) {
    const lbComment = `${name} loadbalancer IP`;
    for (const ip of sp.loadBalancerVIPs) {
      if (hasEndpoints) {
        nat.appendId(ctx.natServices, ['-m', 'comment', '--comment', lbComment, '-m', protocol, '-p', protocol, '-d', ip, '--dport', port, '-j', loadBalancerTrafficChain]);
      }
      if (usesFWChain) {
        filter.append(PROXY_FIREWALL, [
          '-m', 'comment', '--comment', `${name} traffic not accepted by ${chains.fw}`,
          '-m', protocol, '-p', protocol, '-d', ip, '--dport', port, '-j', 'DROP',
        ]);
      }
    }
    if (!hasExternalEndpoints) {
      for (const ip of sp.loadBalancerVIPs) {
        filter.append(EXTERNAL_SERVICES, ['-m', 'comment', '--comment', externalFilterComment, '-m', protocol, '-p', protocol, '-d', ip, '--dport', port, '-j', externalFilterTarget]);
      }
    }
  }

  // Capture node ports (not subject to loadBalancerSourceRanges).
  if (sp.nodePort !== 0) {
    const nodePort = String(sp.nodePort);
    if (hasEndpoints) {
      if (settings.localhostNodePorts && settings.family === 'IPv4' && settings.nfacctLocalhostNodePorts) {
        nat.appendId(ctx.natNodePorts, [
          '-m', 'comment', '--comment', name,
          '-m', protocol, '-p', protocol, '-d', '127.0.0.0/8', '--dport', nodePort,
          '-m', 'nfacct', '--nfacct-name', NFACCT_COUNTERS.localhostNodePortsAccepted,
          '-j', externalTrafficChain,
        ]);
      }
      nat.appendId(ctx.natNodePorts, ['-m', 'comment', '--comment', name, '-m', protocol, '-p', protocol, '--dport', nodePort, '-j', externalTrafficChain]);
    }
    if (!hasExternalEndpoints) {
      filter.append(EXTERNAL_SERVICES, [
        '-m', 'comment', '--comment', externalFilterComment,
        '-m', 'addrtype', '--dst-type', 'LOCAL',
        '-m', protocol, '-p', protocol, '--dport', nodePort, '-j', externalFilterTarget,
      ]);
    }
  }

  // Health check node port: accepted whether or not this node has local endpoints.
  if (sp.healthCheckNodePort !== 0) {
    filter.append(NODEPORTS, [
      '-m', 'comment', '--comment', `${name} health check node port`,
      '-m', 'tcp', '-p', 'tcp', '--dport', String(sp.healthCheckNodePort), '-j', 'ACCEPT',
    ]);
  }

  // Internal traffic: masquerade what does not come from a local pod (or everything with masqueradeAll).
  if (hasInternalEndpoints) {
    if (settings.masqueradeAll) {
      nat.append(internalTrafficChain, ['-m', 'comment', '--comment', clusterIPComment, '-m', protocol, '-p', protocol, '-d', clusterIP, '--dport', port, '-j', MARK_MASQ]);
    } else if (settings.localDetector !== null) {
      nat.append(
        internalTrafficChain,
        ['-m', 'comment', '--comment', clusterIPComment, '-m', protocol, '-p', protocol, '-d', clusterIP, '--dport', port].concat(
          settings.localDetector.ifNotLocal,
          JUMP_MARK_MASQ,
        ),
      );
    }
  }

  // External destinations all go through the EXT chain.
  if (usesExternalTrafficChain) {
    const ext = nat.chainId(externalTrafficChain);
    nat.declareId(ext);
    if (!sp.externalPolicyLocal) {
      // endpoints may be on other nodes: masquerade
      nat.appendId(ext, ['-m', 'comment', '--comment', `masquerade traffic for ${name} external destinations`, '-j', MARK_MASQ]);
    } else {
      if (settings.localDetector !== null) {
        // pod -> external IP is treated as if it went out to the load balancer and came back
        nat.appendId(
          ext,
          ['-m', 'comment', '--comment', `pod traffic for ${name} external destinations`].concat(settings.localDetector.ifLocal, ['-j', clusterPolicyChain]),
        );
      }
      // the node itself: its source address is a local one, so it must be masqueraded
      nat.appendId(ext, [
        '-m', 'comment', '--comment', `masquerade LOCAL traffic for ${name} external destinations`,
        '-m', 'addrtype', '--src-type', 'LOCAL', '-j', MARK_MASQ,
      ]);
      nat.appendId(ext, [
        '-m', 'comment', '--comment', `route LOCAL traffic for ${name} external destinations`,
        '-m', 'addrtype', '--src-type', 'LOCAL', '-j', clusterPolicyChain,
      ]);
    }
    if (hasExternalEndpoints) nat.appendId(ext, ['-j', externalPolicyChain]);
  }

  // loadBalancerSourceRanges.
  if (usesFWChain) {
    const fw = nat.chainId(chains.fw);
    nat.declareId(fw);
    const lbComment = `${name} loadbalancer IP`;
    let allowFromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      nat.appendId(fw, ['-m', 'comment', '--comment', lbComment, '-s', cidr, '-j', externalTrafficChain]);
      if (settings.nodeIP !== null && cidrContains(cidr, settings.nodeIP)) allowFromNode = true;
    }
    // A node reaching its own VIP-like load balancer IP loops back with the VIP as source.
    if (allowFromNode) {
      for (const ip of sp.loadBalancerVIPs) nat.appendId(fw, ['-m', 'comment', '--comment', lbComment, '-s', ip, '-j', externalTrafficChain]);
    }
    // What falls through was not DNATed; KUBE-PROXY-FIREWALL drops it in filter.
    nat.appendId(fw, ['-m', 'comment', '--comment', `other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`]);
  }

  // Each endpoint's KUBE-SEP- name, hashed once for the SVC, SVL and SEP rules.
  const sepNames = new Map<Endpoint, string>();
  const sepOf = (ep: Endpoint): string => {
    let sep = sepNames.get(ep);
    if (sep === undefined) sepNames.set(ep, (sep = endpointChainNameLower(name, protocol, ep.endpoint)));
    return sep;
  };

  if (usesClusterPolicyChain) {
    const id = nat.chainId(clusterPolicyChain);
    nat.declareId(id);
    writeServiceToEndpointRules(nat, ctx, sp, id, clusterEndpoints, sepOf);
  }
  if (usesLocalPolicyChain) {
    const id = nat.chainId(localPolicyChain);
    nat.declareId(id);
    writeServiceToEndpointRules(nat, ctx, sp, id, localEndpoints, sepOf);
  }

  const large = ctx.largeClusterMode;
  const affinity = sp.sessionAffinity.type === 'ClientIP';
  for (const ep of cat.allReachableEndpoints) {
    const sep = sepOf(ep);
    const id = nat.chainId(sep);
    nat.declareId(id);
    // hairpin: an endpoint reaching itself through the service must be masqueraded
    const to = ep.endpoint;
    if (large) {
      nat.appendId(id, ['-s', ep.ip, '-j', MARK_MASQ]);
      nat.appendId(
        id,
        affinity
          ? ['-m', 'recent', '--name', sep, '--set', '-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', to]
          : ['-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', to],
      );
    } else {
      nat.appendId(id, ['-m', 'comment', '--comment', name, '-s', ep.ip, '-j', MARK_MASQ]);
      nat.appendId(
        id,
        affinity
          ? ['-m', 'comment', '--comment', name, '-m', 'recent', '--name', sep, '--set', '-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', to]
          : ['-m', 'comment', '--comment', name, '-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', to],
      );
    }
  }

  nat.endGroup();
}

function writeServiceToEndpointRules(
  nat: TableWriter,
  ctx: Context,
  sp: ServicePort,
  chain: number,
  endpoints: Endpoint[],
  sepOf: (ep: Endpoint) => string,
): void {
  const name = sp.key;
  const large = ctx.largeClusterMode;
  const n = endpoints.length;
  const seps: string[] = new Array(n);
  const notes: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    seps[i] = sepOf(endpoints[i]!);
    if (!large) notes[i] = `${name} -> ${endpoints[i]!.endpoint}`;
  }
  if (sp.sessionAffinity.type === 'ClientIP') {
    const seconds = String(sp.sessionAffinity.maxAgeSeconds);
    for (let i = 0; i < n; i++) {
      const sep = seps[i]!;
      nat.appendId(
        chain,
        large
          ? ['-m', 'recent', '--name', sep, '--rcheck', '--seconds', seconds, '--reap', '-j', sep]
          : ['-m', 'comment', '--comment', notes[i]!, '-m', 'recent', '--name', sep, '--rcheck', '--seconds', seconds, '--reap', '-j', sep],
      );
    }
  }
  for (let i = 0; i < n; i++) {
    const sep = seps[i]!;
    let words: string[];
    if (i < n - 1) {
      const p = computeProbability(n - i);
      words = large
        ? ['-m', 'statistic', '--mode', 'random', '--probability', p, '-j', sep]
        : ['-m', 'comment', '--comment', notes[i]!, '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', sep];
    } else {
      words = large ? ['-j', sep] : ['-m', 'comment', '--comment', notes[i]!, '-j', sep];
    }
    nat.appendId(chain, words);
  }
}

/** The last rule(s) of nat KUBE-SERVICES: hand everything addressed to a node port address to KUBE-NODEPORTS. */
function writeNodePortsJump(nat: TableWriter, settings: ProxierSettings): void {
  const note = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (settings.nodePortAddresses.matchAll) {
    const dest = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    // localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet
    if (settings.family === 'IPv6') dest.push('!', '-d', '::1/128');
    else if (!settings.localhostNodePorts) dest.push('!', '-d', '127.0.0.0/8');
    nat.append(SERVICES, [...note, ...dest, '-j', NODEPORTS]);
    return;
  }
  for (const ip of nodePortIPs(settings.nodePortAddresses, settings.localAddresses)) {
    if (isLoopback(ip) && (settings.family === 'IPv6' || !settings.localhostNodePorts)) continue; // upstream logs an error
    nat.append(SERVICES, [...note, '-d', ip, '-j', NODEPORTS]);
  }
}
