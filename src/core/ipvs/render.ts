// render: one family's ProxyState -> everything kube-proxy's ipvs proxier programs in syncProxyRules, as data.
//
// Upstream read (kubernetes/kubernetes through the stored index; facts carried over, code not):
//   pkg/proxy/ipvs/proxier.go  — the newest stored form (v1.31+ era: KUBE-IPVS-FILTER, KUBE-IPVS-OUT-FILTER,
//       KUBE-IPVS-IPS, the `-s 127.0.0.0/8 -j RETURN` first rule, OnServiceCIDRsChanged, graceful termination)
//   pkg/proxy/ipvs/ipset.go @02df552b (names, comments, KUBE-6- prefix), pkg/proxy/ipvs/ipset/ipset.go @b574b11f
//       (entry strings, create arguments: hashsize 1024, maxelem 65536, range 0-65535, no comment option)
//   pkg/proxy/ipvs/util (VirtualServer flags: FlagPersistent 0x1, FlagSourceHash 0x10 = IP_VS_SVC_F_SCHED2)
//
// Faithful points, per service port (walked in key order; upstream walks a Go map):
//  - ClusterIP: ipset KUBE-CLUSTER-IP ip,proto:port; a virtual server bound to kube-ipvs0; real servers the
//    internal-policy endpoints (local ones for internalTrafficPolicy Local, falling back to cluster endpoints
//    when none is local, as syncEndpoint does since #97081).
//  - externalIPs: KUBE-EXTERNAL-IP (or -LOCAL for externalTrafficPolicy Local); bound unless the address is a
//    node address; real servers per external policy.
//  - LoadBalancer VIPs: KUBE-LOAD-BALANCER (+ -LOCAL, + -FW and -SOURCE-CIDR for source ranges,
//    -SOURCE-IP when a range holds the node IP, else a KUBE-IPVS-OUT-FILTER drop from the node).
//  - NodePort: bitmap sets (TCP/UDP) or hash ip,port (SCTP, one entry per node IP); a virtual server on every
//    node-port address (non-loopback); nothing at all, health check included, when there is no such address.
//  - Health check node port: KUBE-HEALTH-CHECK-NODE-PORT.
//  - KUBE-LOOP-BACK: local endpoints ip,proto:port,ip (hairpin masquerade).
//  - Every real server gets weight 1 (syncEndpoint). Weight 0 only appears while a removed real server drains
//    (GracefulTerminationManager); pass `previous` to reproduce that state after a change.
//  - Schedulers: ipvs.scheduler or rr; mh gets the source-hash flag (mh-port); ClientIP affinity makes the
//    virtual server persistent with the affinity timeout.

import type { KubeProxyConfiguration } from '../config/index.js';
import { effectiveIPVSScheduler, parseDuration } from '../config/index.js';
import { TableWriter, localDetectorWords, writeForwardAccepts, writeMasqueradeChains, type JumpRule, type Ruleset, type TableName } from '../iptables/index.js';
import { cidrContains, isLoopback } from '../net/ip.js';
import { formatMasqueradeMark, localDetectorFor, nodeIPOfFamily, nodePortAddressesFor, nodePortIPs, type ProxyNode } from '../proxy/index.js';
import { type Endpoint, type ProxyState, type ServicePort, categorizeEndpoints } from '../model/index.js';
import { formatIP, isIPv4Bytes, parseIPSloppy } from '../net/ip.js';
import { CHAIN, IPSET_INFO, IPSET_WITH_IPTABLES_CHAIN, IPTABLES_CHAINS, IPTABLES_JUMP_CHAINS, SET, type SetKey, ipsetName } from './names.js';
import type { IPSet, IpvsState, RealServer, VirtualServer, VirtualServerKind } from './types.js';

/** The node the proxier runs on; its localAddresses are every address but kube-ipvs0's (GetAllLocalAddressesExcept). */
export type IpvsNode = ProxyNode;

export interface IpvsRenderInput {
  state: ProxyState;
  config: KubeProxyConfiguration;
  node: IpvsNode;
  /** Default "%#08x" of 1<<iptables.masqueradeBit ("0x00004000"). */
  masqueradeMark?: string;
  /** iptables supports MASQUERADE --random-fully; default true. */
  randomFully?: boolean;
  /** The state before this sync: real servers it had that are gone now stay at weight 0 (graceful delete). */
  previous?: IpvsState;
}

type SetData = { key: SetKey; name: string; type: string; comment: string; entries: Set<string> };

export function renderIpvs(input: IpvsRenderInput): IpvsState {
  const { state, config, node } = input;
  const family = state.ipFamily;
  const ipv6 = family === 'IPv6';
  const scheduler = effectiveIPVSScheduler(config);
  const schedFlags = scheduler === 'mh' ? ['mh-port'] : [];
  const nodeName = node.name !== '' ? node.name : state.nodeName;
  const nodeLabels = node.labels ?? state.nodeLabels;
  const nodeIP = nodeIPOfFamily(node.ips, family);

  const sets = new Map<SetKey, SetData>();
  for (const info of IPSET_INFO) sets.set(info.key, { key: info.key, name: ipsetName(SET[info.key], ipv6), type: info.type, comment: info.comment, entries: new Set() });
  const add = (key: SetKey, entry: string) => sets.get(key)!.entries.add(entry);

  // nodeAddressSet: host addresses except kube-ipvs0, of this family, not loopback (nor IPv6 link-local).
  const nodeAddressSet = new Set<string>();
  for (const a of node.localAddresses ?? node.ips) {
    const b = parseIPSloppy(a);
    if (!b || isIPv4Bytes(b) === ipv6) continue;
    const s = formatIP(b);
    if (isLoopback(s) || (ipv6 && /^fe[89ab]/i.test(s))) continue;
    nodeAddressSet.add(s);
  }
  let hasNodePort = false;
  for (const sp of state.serviceMap.values()) if (sp.nodePort !== 0) hasNodePort = true;
  let nodeIPs: string[] = [];
  if (hasNodePort) {
    const npa = nodePortAddressesFor(config.nodePortAddresses, family, nodeIP);
    nodeIPs = npa.matchAll ? [...nodeAddressSet] : nodePortIPs(npa, [...nodeAddressSet]).filter((ip) => !isLoopback(ip));
  }

  const virtualServers: VirtualServer[] = [];
  // Services sharing an address:port/protocol share one kernel virtual server; kube-proxy syncs each in
  // turn and the last one's real servers stay (in Go's map order; here, the view's order).
  const vsIndex = new Map<string, number>();
  const bound = new Set<string>();
  const lbNoNodeAccess: Array<{ ip: string; proto: string; port: number }> = [];
  const previous = indexPrevious(input.previous);

  for (const [key, sp] of state.serviceMap) {
    const proto = sp.protocol.toLowerCase();
    const endpoints = state.endpointsMap.get(key) ?? [];
    for (const ep of endpoints) {
      if (ep.isLocal && ep.ip && ep.port) add('loopBack', `${ep.ip},${proto}:${ep.port},${ep.ip}`);
    }
    const cat = categorizeEndpoints(endpoints, sp, nodeName, nodeLabels);
    const pick = (onlyLocal: boolean): Endpoint[] => {
      if (onlyLocal) return cat.localEndpoints && cat.localEndpoints.length > 0 ? cat.localEndpoints : (cat.clusterEndpoints ?? []);
      return cat.clusterEndpoints ?? [];
    };
    const vs = (kind: VirtualServerKind, address: string, port: number, onlyLocal: boolean): void => {
      const v: VirtualServer = {
        protocol: sp.protocol,
        address,
        port,
        scheduler,
        schedFlags: [...schedFlags],
        persistentTimeout: sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.maxAgeSeconds : null,
        realServers: realServers(pick(onlyLocal), previous.get(vsKey(sp.protocol, address, port))),
        servicePort: key,
        kind,
      };
      const k = vsKey(v.protocol, address, port);
      const at = vsIndex.get(k);
      if (at === undefined) vsIndex.set(k, virtualServers.push(v) - 1);
      else virtualServers[at] = v;
    };

    add('clusterIP', `${sp.clusterIP},${proto}:${sp.port}`);
    vs('cluster IP', sp.clusterIP, sp.port, sp.internalPolicyLocal);
    bound.add(sp.clusterIP);

    for (const ip of sp.externalIPs) {
      add(sp.externalPolicyLocal ? 'externalIPLocal' : 'externalIP', `${ip},${proto}:${sp.port}`);
      vs('external IP', ip, sp.port, sp.externalPolicyLocal);
      if (!nodeAddressSet.has(ip)) bound.add(ip);
    }

    for (const ip of sp.loadBalancerVIPs) {
      const entry = `${ip},${proto}:${sp.port}`;
      add('loadBalancer', entry);
      if (sp.externalPolicyLocal) add('loadBalancerLocal', entry);
      if (sp.loadBalancerSourceRanges.length > 0) {
        add('loadBalancerFW', entry);
        let allowFromNode = false;
        for (const cidr of sp.loadBalancerSourceRanges) {
          add('loadBalancerSourceCIDR', `${ip},${proto}:${sp.port},${cidr}`);
          if (nodeIP !== null && cidrContains(cidr, nodeIP)) allowFromNode = true;
        }
        if (allowFromNode) add('loadBalancerSourceIP', `${ip},${proto}:${sp.port},${ip}`);
        else lbNoNodeAccess.push({ ip, proto, port: sp.port });
      }
      vs('loadbalancer IP', ip, sp.port, sp.externalPolicyLocal);
      if (!nodeAddressSet.has(ip)) bound.add(ip);
    }

    if (sp.nodePort !== 0) {
      if (nodeIPs.length === 0) continue; // upstream skips the rest of this service port, health check included
      const entries = proto === 'sctp' ? nodeIPs.map((ip) => `${ip},${proto}:${sp.nodePort}`) : [String(sp.nodePort)];
      const setKey: SetKey = proto === 'tcp' ? 'nodePortTCP' : proto === 'udp' ? 'nodePortUDP' : 'nodePortSCTP';
      for (const e of entries) add(setKey, e);
      if (sp.externalPolicyLocal) {
        const localKey: SetKey = proto === 'tcp' ? 'nodePortLocalTCP' : proto === 'udp' ? 'nodePortLocalUDP' : 'nodePortLocalSCTP';
        for (const e of entries) add(localKey, e);
      }
      for (const ip of nodeIPs) vs('nodePort', ip, sp.nodePort, sp.externalPolicyLocal);
    }

    if (sp.healthCheckNodePort !== 0) add('healthCheckNodePort', String(sp.healthCheckNodePort));
  }
  for (const ip of bound) add('ipvsIPs', ip);

  const ipsets: IPSet[] = IPSET_INFO.map((info) => {
    const s = sets.get(info.key)!;
    const set: IPSet = { name: s.name, type: s.type, comment: s.comment, members: [...s.entries].sort(byteOrder) };
    if (s.type === 'bitmap:port') set.range = '0-65535';
    else Object.assign(set, { family: ipv6 ? 'inet6' : 'inet', hashsize: 1024, maxelem: 65536 });
    return set;
  });

  const mark = input.masqueradeMark ?? formatMasqueradeMark(config.iptables.masqueradeBit);
  const iptables = writeIptablesRules({
    family,
    sets,
    mark,
    masqueradeAll: config.iptables.masqueradeAll,
    ifNotLocal: localDetectorWords(localDetectorFor(config, family, node.podCIDRs))?.ifNotLocal ?? null,
    randomFully: input.randomFully ?? true,
    lbNoNodeAccess,
  });

  const t = config.ipvs;
  const secs = (d: string) => Math.round(parseDuration(d) / 1000);
  const timeouts = [t.tcpTimeout, t.tcpFinTimeout, t.udpTimeout].some((d) => secs(d) > 0) ? { tcp: secs(t.tcpTimeout), tcpFin: secs(t.tcpFinTimeout), udp: secs(t.udpTimeout) } : null;

  return { family, virtualServers, addresses: [...bound], ipsets, iptables, jumps: ipvsJumpRules(), timeouts };
}

/** The jump rules kube-proxy ensures (prepends) in built-in chains, in order (createAndLinkKubeChain). */
export function ipvsJumpRules(): JumpRule[] {
  return IPTABLES_JUMP_CHAINS.map((j) => ({
    table: j.table,
    chain: j.from,
    target: j.to,
    words: ['-m', 'comment', '--comment', j.comment, '-j', j.to],
    position: 'prepend' as const,
    removedOnCleanup: true,
  }));
}

function vsKey(protocol: string, address: string, port: number): string {
  return `${protocol} ${address} ${port}`;
}

function indexPrevious(prev: IpvsState | undefined): Map<string, RealServer[]> {
  const m = new Map<string, RealServer[]>();
  for (const v of prev?.virtualServers ?? []) m.set(vsKey(v.protocol, v.address, v.port), v.realServers);
  return m;
}

function realServers(endpoints: readonly Endpoint[], previous: RealServer[] | undefined): RealServer[] {
  const out: RealServer[] = [];
  const seen = new Set<string>();
  for (const ep of endpoints) {
    if (!ep.ip || !ep.port || seen.has(ep.endpoint)) continue;
    seen.add(ep.endpoint);
    out.push({ address: ep.ip, port: ep.port, weight: 1, forward: 'Masq' });
  }
  // Graceful termination: a real server that is no longer wanted is set to weight 0 and deleted only once
  // its connections are gone; until then it is still listed.
  for (const rs of previous ?? []) {
    const id = rs.address.includes(':') ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ address: rs.address, port: rs.port, weight: 0, forward: 'Masq', terminating: true });
  }
  return out;
}

interface IptablesInput {
  family: 'IPv4' | 'IPv6';
  sets: Map<SetKey, SetData>;
  mark: string;
  masqueradeAll: boolean;
  ifNotLocal: string[] | null;
  randomFully: boolean;
  lbNoNodeAccess: Array<{ ip: string; proto: string; port: number }>;
}

/** writeIptablesRules: nat (chains, rules), then filter (chains, rules), as kube-proxy's restore input. */
function writeIptablesRules(x: IptablesInput): Ruleset {
  const nat = new TableWriter('nat');
  const filter = new TableWriter('filter');
  const w = (t: TableName) => (t === 'nat' ? nat : filter);
  for (const c of IPTABLES_CHAINS) w(c.table).declare(c.chain);
  const set = (k: SetKey) => x.sets.get(k)!;
  const empty = (k: SetKey) => set(k).entries.size === 0;
  const comment = (k: SetKey) => ['-m', 'comment', '--comment', set(k).comment];
  const match = (k: SetKey, m: string) => ['-m', 'set', '--match-set', set(k).name, m];

  nat.append(CHAIN.services, ['-s', x.family === 'IPv6' ? '::1/128' : '127.0.0.0/8', '-j', 'RETURN']);
  for (const s of IPSET_WITH_IPTABLES_CHAIN) {
    if (empty(s.key)) continue;
    w(s.table).append(s.from, [...(s.proto ? ['-p', s.proto] : []), ...comment(s.key), ...match(s.key, s.match), '-j', s.to]);
  }
  if (!empty('clusterIP')) {
    const args = [...comment('clusterIP'), '-m', 'set', '--match-set', set('clusterIP').name];
    if (x.masqueradeAll) nat.append(CHAIN.services, [...args, 'dst,dst', '-j', CHAIN.markMasq]);
    else if (x.ifNotLocal) nat.append(CHAIN.services, [...args, 'dst,dst', ...x.ifNotLocal, '-j', CHAIN.markMasq]);
    else nat.append(CHAIN.services, [...args, 'src,dst', '-j', CHAIN.markMasq]);
  }
  const externalIPRules = (args: string[]) => {
    nat.append(CHAIN.services, [...args, '-m', 'physdev', '!', '--physdev-is-in', '-m', 'addrtype', '!', '--src-type', 'LOCAL', '-j', 'ACCEPT']);
    nat.append(CHAIN.services, [...args, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT']);
  };
  if (!empty('externalIP')) {
    const args = [...comment('externalIP'), ...match('externalIP', 'dst,dst')];
    nat.append(CHAIN.services, [...args, '-j', CHAIN.markMasq]);
    externalIPRules(args);
  }
  if (!empty('externalIPLocal')) externalIPRules([...comment('externalIPLocal'), ...match('externalIPLocal', 'dst,dst')]);
  nat.append(CHAIN.services, ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN.nodePort]);
  nat.append(CHAIN.loadBalancer, ['-j', CHAIN.markMasq]);
  filter.append(CHAIN.sourceRangesFirewall, ['-j', 'DROP']);
  for (const e of x.lbNoNodeAccess) {
    filter.append(CHAIN.ipvsOutFilter, ['-s', e.ip, '-m', 'ipvs', '--vaddr', e.ip, '--vproto', e.proto, '--vport', String(e.port), '-j', 'DROP']);
  }
  // acceptIPVSTraffic
  for (const k of ['clusterIP', 'loadBalancer'] as const) {
    if (!empty(k)) nat.append(CHAIN.services, [...match(k, 'dst,dst'), '-j', 'ACCEPT']);
  }
  writeForwardAccepts(filter, x.mark);
  filter.append(CHAIN.nodePort, [...comment('healthCheckNodePort'), ...match('healthCheckNodePort', 'dst'), '-j', 'ACCEPT']);
  for (const k of ['loadBalancer', 'clusterIP', 'externalIP', 'externalIPLocal'] as const) filter.append(CHAIN.ipvsFilter, [...match(k, 'dst,dst'), '-j', 'RETURN']);
  filter.append(CHAIN.ipvsFilter, [...match('healthCheckNodePort', 'dst'), '-j', 'RETURN']);
  filter.append(CHAIN.ipvsFilter, ['-m', 'conntrack', '--ctstate', 'NEW', ...match('ipvsIPs', 'dst'), '-j', 'REJECT']);
  writeMasqueradeChains(nat, x.mark, x.randomFully);
  return { family: x.family, tables: [nat.finish(), filter.finish()] };
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { ServicePort };
