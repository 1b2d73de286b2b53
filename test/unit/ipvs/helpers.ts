// Builders shaped like upstream's proxier_test helpers (makeTestService, makeTestEndpointSlice, NewFakeProxier).
import { setDefaults, type KubeProxyConfiguration } from '../../../src/core/config/index.js';
import { renderIpvs, type IpvsState } from '../../../src/core/ipvs/index.js';
import { buildProxyState } from '../../../src/core/model/index.js';
import type { EndpointSlice, IPFamily, Service } from '../../../src/core/objects/types.js';

export const testHostname = 'test-hostname';

export function makeTestService(ns: string, name: string, spec: NonNullable<Service['spec']>, lbIPs: string[] = []): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { clusterIPs: spec.clusterIP ? [spec.clusterIP] : undefined, ...spec },
    ...(lbIPs.length ? { status: { loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } } } : {}),
  } as Service;
}

export function makeTestEndpointSlice(
  ns: string,
  svc: string,
  n: number,
  addressType: 'IPv4' | 'IPv6',
  endpoints: Array<{ ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }>,
  ports: Array<{ name: string; port: number; protocol: 'TCP' | 'UDP' | 'SCTP' }>,
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-${n}`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.node ? { nodeName: e.node } : {}),
      conditions: { ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false },
    })),
    ports,
  } as EndpointSlice;
}

/** NewFakeProxier: node testHostname, nodeIPs as the host's addresses, masquerade mark as upstream's fake ("0x4000"), no --random-fully. */
export function fakeSync(opts: {
  services: Service[];
  slices: EndpointSlice[];
  nodeIPs: string[];
  family?: IPFamily;
  config?: Parameters<typeof setDefaults>[0];
  previous?: IpvsState;
}): IpvsState {
  const family = opts.family ?? 'IPv4';
  const config: KubeProxyConfiguration = setDefaults({ mode: 'ipvs', ...(opts.config ?? {}) } as Parameters<typeof setDefaults>[0]);
  const state = buildProxyState({ services: opts.services, endpointSlices: opts.slices }, { ipFamily: family, nodeName: testHostname });
  return renderIpvs({
    state,
    config,
    node: { name: testHostname, ips: opts.nodeIPs, podCIDRs: [], localAddresses: opts.nodeIPs },
    masqueradeMark: '0x4000',
    randomFully: false,
    ...(opts.previous ? { previous: opts.previous } : {}),
  });
}

/** The virtual servers as upstream's FakeIPVS keys them: "IP:PORT/PROTO" -> real servers "IP:PORT w". */
export function ipvsMap(st: IpvsState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of st.virtualServers) out[`${v.address}:${v.port}/${v.protocol} ${v.scheduler}${v.persistentTimeout !== null ? ` persistent ${v.persistentTimeout}` : ''}`] = v.realServers.map((r) => `${r.address}:${r.port} w${r.weight}`).sort();
  return out;
}

export function members(st: IpvsState, name: string): string[] {
  return st.ipsets.find((s) => s.name === name)?.members ?? [];
}

/** checkIptables: per chain, the (jump target, matched set) pairs in order, as upstream's ExpectedIptablesChain. */
export function chainJumps(st: IpvsState, table: 'nat' | 'filter', chain: string): Array<{ jump: string; set: string }> {
  const c = st.iptables.tables.find((t) => t.name === table)?.chains.find((x) => x.name === chain);
  return (c?.rules ?? []).map((r) => {
    const w = r.words;
    const j = w.indexOf('-j');
    const s = w.indexOf('--match-set');
    return { jump: w[j + 1] ?? '', set: s >= 0 ? w[s + 1]! : '' };
  });
}
