// The examples/ cluster as the commands see it, rendered and traced in one mode with provenance: what the
// why tests check reasons against. Objects are deep copies, so a test may edit one field and render again.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyOverrides, type LoadedConfig } from '../../../src/core/config/index.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import type { FamilyState, ProxyModeDefinition } from '../../../src/core/modes/types.js';
import type { EndpointSlice, Node, Service } from '../../../src/core/objects/types.js';
import { buildProxyView, type ProxyView } from '../../../src/core/proxy-view.js';
import type { Hop, Packet, TraceResult } from '../../../src/core/trace/types.js';
import { becauseOfHops, provenance, type Reason, type ReasonIndex } from '../../../src/core/why/index.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';

export const EXAMPLES = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'examples');

export interface Objects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

let cached: { objects: Objects; config: LoadedConfig } | undefined;

/** examples/ read once; each call gives fresh copies to edit. */
export async function examples(): Promise<{ objects: Objects; config: LoadedConfig }> {
  if (!cached) {
    const src = new FileSource([EXAMPLES], () => {});
    const [services, endpointSlices, nodes] = await Promise.all([src.services(), src.endpointSlices(), src.nodes()]);
    const config = await loadProxyConfig(src, undefined, {}, { warn: () => {} });
    cached = { objects: { services, endpointSlices, nodes }, config };
  }
  return structuredClone(cached);
}

export interface World {
  def: ProxyModeDefinition<FamilyState>;
  view: ProxyView;
  rendered: FamilyState[];
  index: ReasonIndex;
  trace(packet: Packet): TraceResult & { hops: Array<Hop & { because?: Reason[] }> };
}

/**
 * One node's rules in one mode, with their reasons; `config` defaults to examples/' ConfigMap. A mode may
 * name the kube-proxy version whose layout to render ("nftables@1.34", as --kube-proxy-version).
 */
export function world(variant: string, objects: Objects, loaded: LoadedConfig, node = 'worker-1'): World {
  const mode = modeOf(variant);
  const kubeProxyVersion = variant.includes('@') ? variant.slice(variant.indexOf('@') + 1) : undefined;
  const config = applyOverrides(loaded, { mode, hostnameOverride: node });
  const def = modeFor(mode, 'the why tests');
  const view = buildProxyView(objects, config.config, 'examples/');
  const rendered = def.render(view, config.config, kubeProxyVersion ? { kubeProxyVersion } : {});
  const index = provenance(def, rendered, { view, config: config.config, place: config, services: objects.services, endpointSlices: objects.endpointSlices })!;
  const fam = view.families[0]!;
  const ctx = { nodeName: node, localAddresses: fam.nodeIPs, podCIDRs: fam.podCIDRs };
  return {
    def,
    view,
    rendered,
    index,
    trace: (packet) => {
      const family = packet.dst.includes(':') ? 'IPv6' : 'IPv4';
      const f = view.families.find((x) => x.family === family)!;
      const r = def.tracer(rendered, { rendered: true }).trace(packet, { ...ctx, localAddresses: f.nodeIPs, podCIDRs: f.podCIDRs });
      return { ...r, hops: becauseOfHops(index, r.hops, packet) };
    },
  };
}

/** Every reason of every hop, as "object field=value". */
export function hopFields(r: { hops: Array<{ because?: Reason[] }> }): string[] {
  return r.hops.flatMap((h) => (h.because ?? []).map((b) => `${b.object} ${b.field}=${b.value}`));
}

/** The mode of a variant: "nftables@1.34" is nftables. */
export function modeOf(variant: string): string {
  return variant.split('@')[0]!;
}

/** nftables at each table layout kube-proxy has shipped (1.31–1.33, 1.34–1.35, 1.36+), never the default alone. */
export const NFT = ['nftables@1.31', 'nftables@1.34', 'nftables@1.36'] as const;

export const MODES = ['iptables', 'ipvs', ...NFT, 'userspace'] as const;

/** A pod on worker-1, the node itself, and a client outside the cluster. */
export const FROM = {
  pod: { src: '10.244.1.254', entry: 'pod-local' as const },
  node: { src: '192.168.10.21', entry: 'node' as const },
  outside: { src: '203.0.113.10', entry: 'external' as const },
  blocked: { src: '192.0.2.77', entry: 'external' as const },
};
