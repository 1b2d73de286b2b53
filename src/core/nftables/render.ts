// render: one family's ProxyState -> the kube-proxy nftables table a full sync leaves behind, as data.
//
// Upstream read (kubernetes/kubernetes through the stored index; facts carried over, code not):
//   pkg/proxy/nftables/proxier.go       b0f823e6ccd8a10b3893fc75011b9981af39285c (setupNFTables,
//       syncProxyRules, writeServiceToEndpointRules, nftElementStorage; the 1.31–1.33 layout)
//   pkg/proxy/nftables/proxier_test.go  81810de635aa13aa0a32992f6def3aa9d6025ebc (the 1.34–1.35 layout's
//       expected tables: base chains and their rules, and the ClusterIP masquerade rule without a port)
//   pkg/proxy/util/localdetector.go     (IfLocalNFT / IfNotLocalNFT words)
//   jesseward/kubernetes pkg/proxy/nftables/proxier.go and proxier_test.go
//       5ec89f49a148ef4fe3e3ef231676f174caf47280 (a fork at the 1.36+ layout: inline masquerade mark,
//       hairpin-connections, writeServiceToEndpointDNATs)
//
// Order. kube-proxy walks a Go map of service ports; we walk ProxyState.serviceMap (key order), so the
// table is one kube-proxy itself could write, and every object of one service port comes in its order.
import type { KubeProxyConfiguration } from '../config/index.js';
import { formatMasqueradeMark, localDetectorFor, nodePortAddressesFor, nodePortIPs } from '../proxy/index.js';
import { type Endpoint, type ProxyState, type ServicePort, categorizeEndpoints, externallyAccessible } from '../model/index.js';
import { cidrContains, formatIP, isLoopback, parseCIDRSloppy, parseIPSloppy } from '../net/ip.js';
import { TableBuilder } from './builder.js';
import { type NftLayout, NEWEST_LAYOUT } from './layout.js';
import { CHAIN, PREFIX, SET, endpointChainBase, endpointChainBaseOf, serviceChainBase, servicePortReadable } from './names.js';
import type { NftChain, NftTable } from './types.js';

export interface NftNode {
  name: string;
  /** Node IPs of this family, primary first. */
  ips: string[];
  podCIDRs: string[];
  labels?: Record<string, string>;
  /** Every host address (GetNodeIPs matches nodePortAddresses against them). Default: loopback, then `ips`. */
  localAddresses?: string[];
}

export interface NftRenderInput {
  state: ProxyState;
  config: KubeProxyConfiguration;
  node: NftNode;
  layout?: NftLayout;
  /** Default "%#08x" of 1<<masqueradeBit ("0x00004000"); upstream's fake proxier uses "0x4000". */
  masqueradeMark?: string;
  /** ServiceCIDRs of this family (from ServiceCIDR objects); none: no "drop unallocated" rule. */
  serviceCIDRs?: string[];
  /** The node's nf_conntrack_tcp_be_liberal is 1 (1.29 then writes no `ct state invalid drop`). Default: 0, the kernel's. */
  conntrackTCPBeLiberal?: boolean;
}

/** What `ip saddr 10.0.0.0/8` / `iifname "cni0"` words a local-traffic detector gives nftables. */
export interface NftLocalDetector {
  ifLocal: string;
  ifNotLocal: string;
}

export function nftLocalDetector(config: KubeProxyConfiguration, family: 'IPv4' | 'IPv6', podCIDRs: readonly string[]): NftLocalDetector | null {
  const d = localDetectorFor(config, family, podCIDRs);
  if (!d) return null;
  if (d.kind === 'cidr') {
    const ipX = family === 'IPv6' ? 'ip6' : 'ip';
    return { ifLocal: `${ipX} saddr ${d.cidr}`, ifNotLocal: `${ipX} saddr != ${d.cidr}` };
  }
  // a bridge by name, or interfaces by name prefix (nft spells the wildcard "*")
  const name = d.kind === 'interface' ? d.name : `${d.prefix}*`;
  return { ifLocal: `iifname ${name}`, ifNotLocal: `iifname != ${name}` };
}

function ipString(s: string): string {
  const b = parseIPSloppy(s);
  return b ? formatIP(b) : s;
}

function cidrString(s: string): string {
  return parseCIDRSloppy(s)?.cidr ?? s;
}

export function renderNftables(input: NftRenderInput): NftTable {
  const { state, config, node } = input;
  const layout = input.layout ?? NEWEST_LAYOUT;
  const family = state.ipFamily;
  const v6 = family === 'IPv6';
  const ipX = v6 ? 'ip6' : 'ip';
  const addrType = v6 ? 'ipv6_addr' : 'ipv4_addr';
  const noLocalhost = v6 ? 'ip6 daddr != ::1' : 'ip daddr != 127.0.0.0/8';
  const mark = input.masqueradeMark ?? formatMasqueradeMark(config.nftables.masqueradeBit);
  const nodeIP = node.ips.find((ip) => parseIPSloppy(ip) !== null && ip.includes(':') === v6) ?? null;
  const npa = nodePortAddressesFor(config.nodePortAddresses, family, nodeIP);
  const detector = nftLocalDetector(config, family, node.podCIDRs);
  const t = new TableBuilder(family, layout.id);

  // ---- setupNFTables ----
  for (const bc of layout.baseChains) t.chain(bc.name, { base: { type: bc.type, hook: bc.hook, priority: bc.priority } });
  for (const j of layout.jumps) {
    t.chain(j.to);
    t.rule(j.from, j.newOnly ? `ct state new jump ${j.to}` : `jump ${j.to}`);
  }
  const masqueradeRule = `mark set mark or ${mark}`;
  const early = layout.firstMerged;
  if (early && !input.conntrackTCPBeLiberal) {
    // 1.29 drops conntrack-INVALID forwarded packets unless the node sets nf_conntrack_tcp_be_liberal
    // (kubernetes#120412; gone in 1.30, #122663); the caller says what it read or assumed
    t.rule(CHAIN.forward, 'ct state invalid drop');
  }
  if (!layout.inlineMasquerade) {
    for (const c of early ? [CHAIN.services, CHAIN.masquerading, CHAIN.markMasq] : [CHAIN.services, CHAIN.clusterIPsCheck, CHAIN.masquerading, CHAIN.markMasq]) t.chain(c);
    t.rule(CHAIN.markMasq, masqueradeRule);
    t.rule(CHAIN.masquerading, `mark and ${mark} == 0 return`);
    t.rule(CHAIN.masquerading, `mark set mark xor ${mark}`);
    t.rule(CHAIN.masquerading, 'masquerade fully-random');
  } else {
    // 1.36+: a jump per endpoint and service made large rulesets slow to load (kubernetes#135639); the
    // mark is set inline, and a pod reaching itself is found by (src, dst, proto, port) in one set
    for (const c of [CHAIN.services, CHAIN.clusterIPsCheck, CHAIN.masquerading]) t.chain(c);
    t.set({ name: SET.hairpinConnections, map: false, type: `${addrType} . ${addrType} . inet_proto . inet_service`, comment: 'service hairpin connections' });
    t.rule(CHAIN.masquerading, `mark and ${mark} != 0 mark set mark xor ${mark} masquerade fully-random`);
    t.rule(CHAIN.masquerading, `ct status dnat ${ipX} saddr . ${ipX} daddr . meta l4proto . th dport @${SET.hairpinConnections} masquerade fully-random`);
  }

  if (!early) t.set({ name: SET.clusterIPs, map: false, type: addrType, comment: 'Active ClusterIPs' });
  if (layout.inlineMasquerade) {
    // one rule for every ClusterIP instead of one per service chain
    if (config.nftables.masqueradeAll) t.rule(CHAIN.services, `${ipX} daddr @${SET.clusterIPs} ${masqueradeRule}`, 'masquerade all clusterIP traffic');
    else if (detector) t.rule(CHAIN.services, `${ipX} daddr @${SET.clusterIPs} ${detector.ifNotLocal} ${masqueradeRule}`, 'masquerade clusterIP traffic from outside cluster');
  }
  // 1.29 has no cluster-ips set: traffic to an unused port of a ClusterIP is not rejected (#122692)
  if (!early) t.rule(CHAIN.clusterIPsCheck, `${ipX} daddr @${SET.clusterIPs} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  const serviceCIDRs = early ? [] : (input.serviceCIDRs ?? []).filter((c) => parseCIDRSloppy(c)?.family === family);
  if (serviceCIDRs.length > 0) {
    t.rule(CHAIN.clusterIPsCheck, `${ipX} daddr { ${serviceCIDRs.join(',')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  }

  if (!npa.matchAll) {
    t.set({ name: SET.nodePortIPs, map: false, type: addrType, comment: 'IPs that accept NodePort traffic' });
    const loopback = v6 ? '::1' : '127.0.0.1';
    for (const ip of nodePortIPs(npa, node.localAddresses ?? [loopback, ...node.ips])) {
      if (isLoopback(ip)) continue; // localhost NodePorts are not supported in nftables mode
      t.element(SET.nodePortIPs, { key: [ip] });
    }
  }

  t.set({ name: SET.noEndpointServices, map: true, type: `${addrType} . inet_proto . inet_service : verdict`, comment: 'vmap to drop or reject packets to services with no endpoints' });
  t.set({ name: SET.noEndpointNodePorts, map: true, type: 'inet_proto . inet_service : verdict', comment: 'vmap to drop or reject packets to service nodeports with no endpoints' });
  t.chain(CHAIN.reject, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  t.rule(CHAIN.reject, 'reject');
  if (early) {
    // one chain on input, forward and output, so the NodePort check still asks "is it local?"
    t.rule(CHAIN.endpointsCheck, `${ipX} daddr . meta l4proto . th dport vmap @${SET.noEndpointServices}`);
    t.rule(
      CHAIN.endpointsCheck,
      npa.matchAll
        ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @${SET.noEndpointNodePorts}`
        : `${ipX} daddr @${SET.nodePortIPs} meta l4proto . th dport vmap @${SET.noEndpointNodePorts}`,
    );
  } else {
    t.rule(CHAIN.serviceEndpointsCheck, `${ipX} daddr . meta l4proto . th dport vmap @${SET.noEndpointServices}`);
    t.rule(
      CHAIN.nodePortEndpointsCheck,
      npa.matchAll
        ? `${noLocalhost} meta l4proto . th dport vmap @${SET.noEndpointNodePorts}`
        : `${ipX} daddr @${SET.nodePortIPs} meta l4proto . th dport vmap @${SET.noEndpointNodePorts}`,
    );
  }

  if (early) {
    // 1.29: a concatenated range set (kernel >= 5.6); #122296 replaced it with firewall-ips for 5.4
    t.set({ name: SET.firewall, map: false, type: `${addrType} . inet_proto . inet_service`, comment: 'destinations that are subject to LoadBalancerSourceRanges' });
    t.set({ name: SET.firewallAllow, map: false, type: `${addrType} . inet_proto . inet_service . ${addrType}`, flags: ['interval'], comment: 'destinations+sources that are allowed by LoadBalancerSourceRanges' });
    t.chain(CHAIN.firewallCheck);
    t.chain(CHAIN.firewallAllowCheck);
    t.rule(CHAIN.firewallCheck, `${ipX} daddr . meta l4proto . th dport @${SET.firewall} jump ${CHAIN.firewallAllowCheck}`);
    t.rule(CHAIN.firewallAllowCheck, `${ipX} daddr . meta l4proto . th dport . ${ipX} saddr @${SET.firewallAllow} return`);
    t.rule(CHAIN.firewallAllowCheck, 'drop');
  } else {
    t.set({ name: SET.firewallIPs, map: true, type: `${addrType} . inet_proto . inet_service : verdict`, comment: 'destinations that are subject to LoadBalancerSourceRanges' });
    t.chain(CHAIN.firewallCheck);
    t.rule(CHAIN.firewallCheck, `${ipX} daddr . meta l4proto . th dport vmap @${SET.firewallIPs}`);
  }

  t.set({ name: SET.serviceIPs, map: true, type: `${addrType} . inet_proto . inet_service : verdict`, comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic' });
  t.set({ name: SET.serviceNodePorts, map: true, type: 'inet_proto . inet_service : verdict', comment: 'NodePort traffic' });
  t.rule(CHAIN.services, `${ipX} daddr . meta l4proto . th dport vmap @${SET.serviceIPs}`);
  t.rule(
    CHAIN.services,
    npa.matchAll
      ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @${SET.serviceNodePorts}`
      : `${ipX} daddr @${SET.nodePortIPs} meta l4proto . th dport vmap @${SET.serviceNodePorts}`,
  );

  // ---- syncProxyRules, per service port ----
  const ctx: ServiceContext = { t, layout, ipX, addrType, masqueradeAll: config.nftables.masqueradeAll, detector, nodeIP, masqueradeRule };
  const nodeName = node.name !== '' ? node.name : state.nodeName;
  const nodeLabels = node.labels ?? state.nodeLabels;
  for (const [key, sp] of state.serviceMap) {
    const endpoints = state.endpointsMap.get(key) ?? [];
    renderServicePort(ctx, sp, categorizeEndpoints(endpoints, sp, nodeName, nodeLabels));
  }
  return t.finish();
}

interface ServiceContext {
  t: TableBuilder;
  layout: NftLayout;
  ipX: string;
  addrType: string;
  masqueradeAll: boolean;
  detector: NftLocalDetector | null;
  nodeIP: string | null;
  /** `mark set mark or MARK`: jumped to (mark-for-masquerade) before 1.36, written inline since. */
  masqueradeRule: string;
}

/** The per-service-port chain names kube-proxy computes in newServiceInfo / newEndpointInfo. */
export function servicePortChains(sp: ServicePort): { cluster: string; local: string; external: string; firewall: string } {
  return chainsOf(serviceChainBase(sp.name, sp.protocol.toLowerCase()));
}

function chainsOf(base: string): { cluster: string; local: string; external: string; firewall: string } {
  return { cluster: PREFIX.cluster + base, local: PREFIX.local + base, external: PREFIX.external + base, firewall: PREFIX.firewall + base };
}

export function endpointNames(sp: ServicePort, ep: Endpoint): { chain: string; affinitySet: string } {
  const base = endpointChainBase(sp.name, sp.protocol.toLowerCase(), ep.endpoint);
  return { chain: PREFIX.endpoint + base, affinitySet: PREFIX.affinity + base };
}

/**
 * The endpoint chain bases (endpoint-/affinity- names without their prefix) of `eps`, from `bases` (those
 * of `reachable`, by position): most often `eps` is `reachable` itself, else a part of it.
 */
function endpointBases(readable: string, eps: Endpoint[], reachable: Endpoint[], bases: string[]): string[] {
  if (eps === reachable) return bases;
  const out = new Array<string>(eps.length);
  for (let i = 0; i < eps.length; i++) {
    const at = reachable.indexOf(eps[i]!);
    out[i] = at >= 0 ? bases[at]! : endpointChainBaseOf(readable, eps[i]!.endpoint);
  }
  return out;
}

// Hot at 10,000 services × 10 endpoints: no closures here (tsx names every closure it creates), each
// name hashed once, endpoint chains filled through the objects the builder returned.
function renderServicePort(ctx: ServiceContext, sp: ServicePort, cat: ReturnType<typeof categorizeEndpoints>): void {
  const { t, ipX } = ctx;
  const proto = sp.protocol.toLowerCase();
  const port = String(sp.port);
  const readable = servicePortReadable(sp.name, proto);
  const names = chainsOf(serviceChainBase(sp.name, proto));
  const clusterEndpoints = cat.clusterEndpoints ?? [];
  const localEndpoints = cat.localEndpoints ?? [];
  const hasEndpoints = cat.hasAnyEndpoints;
  const affinity = sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.maxAgeSeconds : null;

  const inline = ctx.layout.inlineMasquerade;
  // endpoint chains: every endpoint's before 1.36; since then only session affinity needs them
  const usesEndpointChains = !inline || affinity !== null;
  const reachable = cat.allReachableEndpoints;
  // each endpoint's chain base is hashed once per sync and serves its affinity set's name too
  const bases: string[] = [];
  const epChains: NftChain[] = [];
  if (usesEndpointChains) {
    // one chain per endpoint: `reachable` names each endpoint (ip:port) once
    for (const ep of reachable) {
      const base = endpointChainBaseOf(readable, ep.endpoint);
      bases.push(base);
      epChains.push(t.uniqueChain(PREFIX.endpoint + base, []));
    }
  }
  const usesClusterPolicyChain = clusterEndpoints.length > 0;
  if (usesClusterPolicyChain) t.chain(names.cluster);
  const usesLocalPolicyChain = localEndpoints.length > 0;
  if (usesLocalPolicyChain) t.chain(names.local);

  let internalTrafficChain = names.cluster;
  let hasInternalEndpoints = hasEndpoints;
  if (sp.internalPolicyLocal) {
    internalTrafficChain = names.local;
    if (localEndpoints.length === 0) hasInternalEndpoints = false;
  }
  let externalPolicyChain = names.cluster;
  let hasExternalEndpoints = hasEndpoints;
  if (sp.externalPolicyLocal) {
    externalPolicyChain = names.local;
    if (localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  const externalTrafficChain = names.external;
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(sp);
  if (usesExternalTrafficChain) t.chain(externalTrafficChain);

  let internalVerdict = '';
  let externalVerdict = '';
  if (!hasEndpoints) {
    internalVerdict = `goto ${CHAIN.reject}`;
    externalVerdict = `goto ${CHAIN.reject}`;
  } else {
    if (!hasInternalEndpoints) internalVerdict = 'drop';
    if (!hasExternalEndpoints) externalVerdict = 'drop';
  }

  const early = ctx.layout.firstMerged;
  const clusterIP = ipString(sp.clusterIP);
  if (!early) t.element(SET.clusterIPs, { key: [clusterIP] });
  if (hasInternalEndpoints) t.element(SET.serviceIPs, { key: [clusterIP, proto, port], value: [`goto ${internalTrafficChain}`] });
  else t.element(SET.noEndpointServices, { key: [clusterIP, proto, port], value: [internalVerdict], comment: sp.key });

  for (const raw of sp.externalIPs) {
    const ip = ipString(raw);
    if (hasEndpoints) t.element(SET.serviceIPs, { key: [ip, proto, port], value: [`goto ${externalTrafficChain}`] });
    if (!hasExternalEndpoints) t.element(SET.noEndpointServices, { key: [ip, proto, port], value: [externalVerdict], comment: sp.key });
  }

  const sourceRanges = sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const usesFWChain = sourceRanges && !early;
  if (usesFWChain) t.chain(names.firewall);
  const allowFromNode = ctx.nodeIP !== null && sp.loadBalancerSourceRanges.some((c) => cidrContains(c, ctx.nodeIP!));
  for (const raw of sp.loadBalancerVIPs) {
    const ip = ipString(raw);
    if (hasEndpoints) t.element(SET.serviceIPs, { key: [ip, proto, port], value: [`goto ${externalTrafficChain}`] });
    if (usesFWChain) t.element(SET.firewallIPs, { key: [ip, proto, port], value: [`goto ${names.firewall}`] });
    if (sourceRanges && early) {
      // 1.29: the destination in @firewall, each (destination, source range) in @firewall-allow; a VIP
      // the node answers itself loops back with itself as source, so it is let in when the node is
      t.element(SET.firewall, { key: [ip, proto, port], comment: sp.key });
      for (const c of sp.loadBalancerSourceRanges) {
        if (parseCIDRSloppy(c) === null) continue;
        t.element(SET.firewallAllow, { key: [ip, proto, port, cidrString(c)], comment: sp.key });
      }
      if (allowFromNode) t.element(SET.firewallAllow, { key: [ip, proto, port, ip] });
    }
  }
  if (!hasExternalEndpoints) {
    for (const raw of sp.loadBalancerVIPs) t.element(SET.noEndpointServices, { key: [ipString(raw), proto, port], value: [externalVerdict], comment: sp.key });
  }

  if (sp.nodePort !== 0) {
    const np = String(sp.nodePort);
    if (hasEndpoints) t.element(SET.serviceNodePorts, { key: [proto, np], value: [`goto ${externalTrafficChain}`] });
    if (!hasExternalEndpoints) t.element(SET.noEndpointNodePorts, { key: [proto, np], value: [externalVerdict], comment: sp.key });
  }

  // internal traffic: masquerade what did not come from a local pod (or everything with masqueradeAll)
  if (hasInternalEndpoints && !inline) {
    const match = ctx.layout.clusterIPMatchesPort ? `${ipX} daddr ${clusterIP} ${proto} dport ${port}` : `${ipX} daddr ${clusterIP}`;
    if (ctx.masqueradeAll) t.rule(internalTrafficChain, `${match} jump ${CHAIN.markMasq}`);
    else if (ctx.detector) t.rule(internalTrafficChain, `${match} ${ctx.detector.ifNotLocal} jump ${CHAIN.markMasq}`);
  }

  const markMasq = inline ? ctx.masqueradeRule : `jump ${CHAIN.markMasq}`;
  if (usesExternalTrafficChain) {
    if (!sp.externalPolicyLocal) {
      // endpoints may be on another node: masquerade so replies come back through this one
      if (inline) t.rule(externalTrafficChain, markMasq, 'masquerade');
      else t.rule(externalTrafficChain, markMasq);
    } else {
      if (ctx.detector) t.rule(externalTrafficChain, `${ctx.detector.ifLocal} goto ${names.cluster}`, 'short-circuit pod traffic');
      t.rule(externalTrafficChain, `fib saddr type local ${markMasq}`, 'masquerade local traffic');
      t.rule(externalTrafficChain, `fib saddr type local goto ${names.cluster}`, 'short-circuit local traffic');
    }
    if (hasExternalEndpoints) t.rule(externalTrafficChain, `goto ${externalPolicyChain}`);
  }

  if (usesFWChain) {
    const sources = [...sp.loadBalancerSourceRanges.map(cidrString)];
    if (allowFromNode) sources.push(...sp.loadBalancerVIPs.map(ipString));
    t.rule(names.firewall, `${ipX} saddr != { ${sources.join(' , ')} } drop`);
  }

  if (affinity !== null) {
    for (const base of bases) {
      t.set({ name: PREFIX.affinity + base, map: false, type: ctx.addrType, flags: ['dynamic', 'timeout'], timeout: affinity });
    }
  }

  if (usesEndpointChains) {
    if (usesClusterPolicyChain) writeServiceToEndpointRules(ctx, names.cluster, endpointBases(readable, clusterEndpoints, reachable, bases), affinity !== null);
    if (usesLocalPolicyChain) writeServiceToEndpointRules(ctx, names.local, endpointBases(readable, localEndpoints, reachable, bases), affinity !== null);
  } else {
    if (usesClusterPolicyChain) writeServiceToEndpointsDNAT(ctx, names.cluster, proto, clusterEndpoints);
    if (usesLocalPolicyChain) writeServiceToEndpointsDNAT(ctx, names.local, proto, localEndpoints);
  }

  const masqJump = `jump ${CHAIN.markMasq}`;
  const dnatTo = `meta l4proto ${proto} dnat to `;
  for (let i = 0; i < reachable.length; i++) {
    const ep = reachable[i]!;
    // 1.36+: a local endpoint connecting to itself through the service is masqueraded in `masquerading`
    if (inline && ep.isLocal) t.element(SET.hairpinConnections, { key: [ep.ip, ep.ip, proto, String(ep.port)] });
    if (!usesEndpointChains) continue;
    // flat strings (joins): 100,000 small trees of concatenations would stay as long as the table
    const dnat = { rule: [dnatTo, ep.endpoint].join('') };
    const masq = inline ? null : { rule: [ipX, ' saddr ', ep.ip, ' ', masqJump].join('') };
    const update = affinity === null ? null : { rule: `update @${PREFIX.affinity}${bases[i]!} { ${ipX} saddr }` };
    const rules = masq === null ? [update!, dnat] : update === null ? [masq, dnat] : [masq, update, dnat];
    // an array of the rules' own length: 100,000 endpoint chains each with a grown (17-slot) array weigh
    // on the garbage collector
    epChains[i]!.rules = rules;
  }
}

/** 1.36+ without affinity: the service chain picks the endpoint and DNATs in one rule. */
function writeServiceToEndpointsDNAT(ctx: ServiceContext, chain: string, proto: string, endpoints: Endpoint[]): void {
  const entries = new Array<string>(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) entries[i] = `${i} : ${endpoints[i]!.ip} . ${endpoints[i]!.port}`;
  ctx.t.rule(chain, `meta l4proto ${proto} dnat ${ctx.ipX} addr . port to numgen random mod ${endpoints.length} map { ${entries.join(' , ')} }`);
}

/** `bases`: the endpoint chains' names without "endpoint-" (the affinity sets' without "affinity-"). */
function writeServiceToEndpointRules(ctx: ServiceContext, chain: string, bases: string[], affinity: boolean): void {
  if (affinity) {
    for (const b of bases) ctx.t.rule(chain, `${ctx.ipX} saddr @${PREFIX.affinity}${b} goto ${PREFIX.endpoint}${b}`);
  }
  // one flat string (a join), not a tree of concatenations held for as long as the table
  const entries = new Array<string>(bases.length);
  for (let i = 0; i < bases.length; i++) entries[i] = `${i} : goto ${PREFIX.endpoint}${bases[i]}`;
  ctx.t.rule(chain, `numgen random mod ${bases.length} vmap { ${entries.join(' , ')} }`);
}
