// A node's view -> what the userspace proxier keeps for it: one proxy socket per service port and the
// portal rules sending each of the service port's addresses there (proxier.go mergeService, openPortal,
// openOnePortal, openNodePort). Service ports go in key order; upstream walks a Go map (random order)
// and appends each rule, so on a node the rules of different service ports may come in another order.
import type { KubeProxyConfiguration } from '../config/index.js';
import { parsePortRange } from '../config/net.js';
import type { Chain, Rule, Ruleset } from '../iptables/index.js';
import type { ServicePort } from '../model/index.js';
import { normalizeIP } from '../net/ip.js';
import type { IPFamily } from '../objects/types.js';
import type { FamilyView, ProxyView } from '../proxy-view.js';
import { CONTAINER_NODEPORT_CHAIN, CONTAINER_PORTAL_CHAIN, HOST_NODEPORT_CHAIN, HOST_PORTAL_CHAIN, NON_LOCAL_NODEPORT_CHAIN } from './names.js';
import { commonPortalWords, containerTargetWords, hostTargetWords, nonLocalNodePortWords, type ProxyAddress } from './portals.js';
import { renderedProxyPorts } from './ports.js';
import type { Portal, ProxiedServicePort, UserspaceState } from './types.js';

/** The protocols upstream's proxy sockets take (newProxySocket); an SCTP service port gets no proxy. */
export const PROXIED_PROTOCOLS = ['TCP', 'UDP'];

/** listenIP (bindAddress of this family, else unspecified) and the node IP host rules DNAT to. */
export function proxyAddressFor(config: KubeProxyConfiguration, family: IPFamily, nodeIPs: readonly string[]): ProxyAddress {
  const unspecified = family === 'IPv4' ? '0.0.0.0' : '::';
  const bound = normalizeIP((config.bindAddress ?? '').trim());
  const listenIP = bound && bound.family === family ? bound.ip : unspecified;
  // upstream picks the host interface's address when unspecified (ChooseHostInterface); the node IP here
  const hostIP = nodeIPs[0] ?? (family === 'IPv4' ? '127.0.0.1' : '::1');
  return { listenIP, hostIP };
}

/** The addresses a service port is reached on, in openPortal's order. */
export function portalsOf(sp: ServicePort): Portal[] {
  const out: Portal[] = [{ kind: 'cluster IP', ip: sp.clusterIP, port: sp.port }];
  for (const ip of sp.externalIPs) out.push({ kind: 'external IP', ip, port: sp.port });
  for (const ip of sp.loadBalancerVIPs) out.push({ kind: 'loadbalancer IP', ip, port: sp.port });
  if (sp.nodePort !== 0) out.push({ kind: 'nodePort', ip: null, port: sp.nodePort });
  return out;
}

/** The service ports a userspace proxier serves, in key order, with their ready endpoints and affinity. */
export function proxiedServicePorts(f: FamilyView, ports: readonly number[] | ((i: number) => number)): ProxiedServicePort[] {
  const sps = [...f.state.serviceMap.values()].filter((sp) => sp.clusterIP && sp.clusterIP !== 'None' && PROXIED_PROTOCOLS.includes(sp.protocol));
  return sps.map((sp, i) => ({
    servicePort: sp.key,
    protocol: sp.protocol,
    proxyPort: typeof ports === 'function' ? ports(i) : ports[i]!,
    portals: portalsOf(sp),
    // BuildPortsToEndpointsMap: the ready addresses only; no topology or traffic policy in this proxier
    endpoints: (f.state.endpointsMap.get(sp.key) ?? []).filter((e) => e.ready).map((e) => e.endpoint),
    affinitySeconds: sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.maxAgeSeconds || 10800 : null,
  }));
}

/** The portal rules of all proxied service ports: filter (KUBE-NODEPORT-NON-LOCAL) then nat, as kube-proxy orders tables. */
export function portalRules(family: IPFamily, proxies: readonly ProxiedServicePort[], addr: ProxyAddress): Ruleset {
  const chains = new Map<string, Rule[]>([CONTAINER_PORTAL_CHAIN, HOST_PORTAL_CHAIN, CONTAINER_NODEPORT_CHAIN, HOST_NODEPORT_CHAIN, NON_LOCAL_NODEPORT_CHAIN].map((c) => [c, []]));
  const add = (chain: string, words: string[]) => chains.get(chain)!.push({ words });
  for (const p of proxies) {
    const { servicePort: name, protocol, proxyPort } = p;
    for (const portal of p.portals) {
      if (portal.kind === 'nodePort') {
        add(CONTAINER_NODEPORT_CHAIN, [...commonPortalWords(name, protocol, null, portal.port, family), ...containerTargetWords(addr, proxyPort)]);
        add(HOST_NODEPORT_CHAIN, [...commonPortalWords(name, protocol, null, portal.port, family), ...hostTargetWords(addr, proxyPort)]);
        add(NON_LOCAL_NODEPORT_CHAIN, nonLocalNodePortWords(name, protocol, proxyPort, family));
      } else if (portal.kind === 'external IP') {
        // from outside (not bridged in), then to a local address from pods, then from the host to a local address
        add(CONTAINER_PORTAL_CHAIN, [...commonPortalWords(name, protocol, portal.ip, portal.port, family, { physdevNotIn: true }), ...containerTargetWords(addr, proxyPort)]);
        add(CONTAINER_PORTAL_CHAIN, [...commonPortalWords(name, protocol, portal.ip, portal.port, family, { dstLocal: true }), ...containerTargetWords(addr, proxyPort)]);
        add(HOST_PORTAL_CHAIN, [...commonPortalWords(name, protocol, portal.ip, portal.port, family, { dstLocal: true }), ...hostTargetWords(addr, proxyPort)]);
      } else {
        add(CONTAINER_PORTAL_CHAIN, [...commonPortalWords(name, protocol, portal.ip, portal.port, family), ...containerTargetWords(addr, proxyPort)]);
        add(HOST_PORTAL_CHAIN, [...commonPortalWords(name, protocol, portal.ip, portal.port, family), ...hostTargetWords(addr, proxyPort)]);
      }
    }
  }
  const chain = (name: string): Chain => ({ name, policy: '-', rules: chains.get(name)! });
  return {
    family,
    tables: [
      { name: 'filter', chains: [chain(NON_LOCAL_NODEPORT_CHAIN)] },
      { name: 'nat', chains: [chain(CONTAINER_PORTAL_CHAIN), chain(HOST_PORTAL_CHAIN), chain(CONTAINER_NODEPORT_CHAIN), chain(HOST_NODEPORT_CHAIN)] },
    ],
  };
}

/** One family's state, with stand-in proxy ports (ports.ts) unless `proxyPorts` gives the real ones by service port. */
export function renderUserspaceFamily(f: FamilyView, config: KubeProxyConfiguration, proxyPorts?: ReadonlyMap<string, number>): UserspaceState {
  const count = [...f.state.serviceMap.values()].length;
  const standIns = renderedProxyPorts(count, parsePortRange(config.portRange ?? ''));
  const keys = [...f.state.serviceMap.values()].filter((sp) => sp.clusterIP && sp.clusterIP !== 'None' && PROXIED_PROTOCOLS.includes(sp.protocol)).map((sp) => sp.key);
  const proxies = proxiedServicePorts(f, (i) => proxyPorts?.get(keys[i]!) ?? standIns[i]!);
  const address = proxyAddressFor(config, f.family, f.nodeIPs);
  return { family: f.family, rules: portalRules(f.family, proxies, address), proxies, rendered: true, address };
}

/**
 * The one family a userspace proxier serves: it never ran dual-stack (one proxier, one listen address).
 * bindAddress's family when it names an address, else the node's primary IP's (its first InternalIP,
 * then ExternalIP), else the first the view has.
 */
export function userspaceFamily(view: ProxyView, config: KubeProxyConfiguration): IPFamily | undefined {
  const bound = normalizeIP((config.bindAddress ?? '').trim());
  if (bound && bound.ip !== '0.0.0.0' && bound.ip !== '::') return bound.family;
  const addresses = view.node?.status?.addresses ?? [];
  for (const type of ['InternalIP', 'ExternalIP']) {
    const a = addresses.find((x) => x.type === type && normalizeIP(x.address ?? ''));
    if (a) return normalizeIP(a.address!)!.family;
  }
  return view.families[0]?.family;
}

export function renderUserspace(view: ProxyView, config: KubeProxyConfiguration): UserspaceState[] {
  const family = userspaceFamily(view, config);
  return view.families.filter((f) => f.family === family).map((f) => renderUserspaceFamily(f, config));
}

/**
 * The service ports as a running proxier serves them: only those with a socket, each with the port it
 * really got, and only the portals it could claim (a prefix: openPortal stops at the first failure, so a
 * node port that cannot be claimed gets no rules).
 */
export function servedProxies(proxies: readonly ProxiedServicePort[], ports: ReadonlyMap<string, number>, open: ReadonlyMap<string, number>): ProxiedServicePort[] {
  return proxies.filter((p) => ports.has(p.servicePort)).map((p) => ({ ...p, proxyPort: ports.get(p.servicePort)!, portals: p.portals.slice(0, open.get(p.servicePort) ?? p.portals.length) }));
}
