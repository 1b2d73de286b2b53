// core/why: provenance. Every rule, set element, virtual server and proxy port a mode renders is tied to
// the object and field that made kube-proxy write it. Modes list their rendered items (by the identity
// their renderer already gives them: chain, comment, set and key, virtual server address); the shared
// matcher (match.ts) ties trace hops, summaries and drift to those items.
import type { KubeProxyConfiguration } from '../config/index.js';
import type { IPFamily } from '../objects/types.js';
import type { EndpointSlice, Service } from '../objects/types.js';
import type { ProxyView } from '../proxy-view.js';

/** Why something exists: one object's field and its value, in one sentence. */
export interface Reason {
  /** "Service shop/web", "EndpointSlice shop/web-abc12", "ConfigMap kube-system/kube-proxy", "Node worker-1". */
  object: string;
  /** "spec.externalTrafficPolicy", "endpoints[10.244.1.5].conditions.ready", "nodePortAddresses". */
  field: string;
  value: string;
  sentence: string;
  /** Where the field was written, when known: "examples/kube-proxy-configmap.yaml:64". */
  source?: string;
}

export type ItemKind = 'rule' | 'set element' | 'map element' | 'virtual server' | 'real server' | 'address' | 'proxy port';

/** One rendered thing and why it is there. */
export interface ReasonedItem {
  family: IPFamily;
  kind: ItemKind;
  /** As trace hops name them: "nat", "filter", "ip kube-proxy", "ipvs", "ipset", "proxy". */
  table: string;
  /** The chain, set, map, virtual server ("10.96.0.10:53/UDP") or proxy port ("proxy port 32775/TCP"). */
  chain: string;
  /** The rule's text, the element's key (and value), the real server's address. */
  text: string;
  /** "ns/name:port" it serves; absent for node-wide items. */
  servicePort?: string;
  reasons: Reason[];
}

/** Where kube-proxy's configuration was read (a LoadedConfig is one), for naming a field's line. */
export interface ConfigPlace {
  source: string;
  origin: { kind: 'file' } | { kind: 'configmap'; key: string; fileLine?: number; file?: string } | { kind: 'defaults' };
  lines: ReadonlyMap<string, number>;
  /** The configuration as written, before defaults (a LoadedConfig's `written`): tells a default from a value. */
  written?: { nodePortAddresses?: unknown };
  /** Fields a flag overrode (ConfigOverrides keys: mode, clusterCIDR, masqueradeAll, hostnameOverride, nodeIP). */
  overridden?: readonly string[];
}

/** What provenance is built from: the same inputs the rendering had, plus the objects to name. */
export interface WhyInput {
  view: ProxyView;
  config: KubeProxyConfiguration;
  place?: ConfigPlace;
  services?: readonly Service[];
  endpointSlices?: readonly EndpointSlice[];
}
