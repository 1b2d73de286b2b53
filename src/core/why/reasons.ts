// Reason builders, mode-neutral: from a node's view (service ports and endpoints as the model gives them),
// the objects (to name an endpoint's EndpointSlice) and kube-proxy's configuration (to name a field's line).
// A mode's why.ts decides which of these a rendered item stands on.
import type { KubeProxyConfiguration } from '../config/index.js';
import { DefaultClientIPServiceAffinitySeconds, type Endpoint, type ServicePort } from '../model/index.js';
import { normalizeIP } from '../net/ip.js';
import type { EndpointSlice, IPFamily } from '../objects/types.js';
import type { FamilyView } from '../proxy-view.js';
import type { ConfigPlace, Reason, WhyInput } from './types.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const NO_MATCH: Reason = {
  object: '-',
  field: '-',
  value: '-',
  sentence: "no rendered rule matches: not kube-proxy's, or from objects we were not given",
};

/** The expected side of a drift that only the node has: nothing given makes kube-proxy write it. */
export const NOT_EXPECTED: Reason = {
  object: '-',
  field: '-',
  value: '-',
  sentence: 'nothing in the given objects makes kube-proxy write it',
};

/** "Service shop/web spec.externalTrafficPolicy=Local (file:12)": how a reason prints in one line. */
export function reasonText(r: Reason): string {
  if (r === NO_MATCH || r.object === '-') return r.sentence;
  return `${r.object} ${r.field}=${r.value}${r.source ? ` (${r.source})` : ''}`;
}

/** The reasons a mode's items stand on, for one family of one node. */
export class ReasonBook {
  readonly family: IPFamily;
  readonly config: KubeProxyConfiguration;
  private readonly fam: FamilyView | undefined;
  private readonly nodeName: string;
  private readonly slices: readonly EndpointSlice[];
  private readonly place: ConfigPlace | undefined;

  constructor(input: WhyInput, family: IPFamily) {
    this.family = family;
    this.config = input.config;
    this.fam = [...input.view.families, ...(input.view.otherFamilies ?? [])].find((f) => f.family === family);
    this.nodeName = input.view.nodeName;
    this.slices = (input.endpointSlices ?? []).filter((s) => s.addressType === family);
    this.place = input.place;
  }

  servicePorts(): ServicePort[] {
    return [...(this.fam?.state.serviceMap.values() ?? [])];
  }

  servicePort(key: string | undefined): ServicePort | undefined {
    return key === undefined ? undefined : this.fam?.state.serviceMap.get(key);
  }

  endpoints(key: string): Endpoint[] {
    return this.fam?.state.endpointsMap.get(key) ?? [];
  }

  /** The service port whose cluster IP, external IP, load balancer IP or node port is `ip`/`port`. */
  servicePortAt(ip: string | null, port: number, protocol?: string): ServicePort | undefined {
    const n = ip === null ? null : (normalizeIP(ip)?.ip ?? ip);
    return this.servicePorts().find(
      (sp) =>
        (!protocol || sp.protocol === protocol.toUpperCase()) &&
        ((n !== null && sp.port === port && (sp.clusterIP === n || sp.externalIPs.includes(n) || sp.loadBalancerVIPs.includes(n))) ||
          (sp.nodePort === port && sp.nodePort !== 0) ||
          (sp.healthCheckNodePort === port && sp.healthCheckNodePort !== 0)),
    );
  }

  // ---- the Service ----

  private svc(sp: ServicePort): string {
    return `Service ${sp.name.namespace}/${sp.name.name}`;
  }

  private portField(sp: ServicePort, leaf: string): string {
    return `spec.ports[${sp.name.port === '' ? `port=${sp.port}` : sp.name.port}].${leaf}`;
  }

  clusterIP(sp: ServicePort): Reason {
    return { object: this.svc(sp), field: 'spec.clusterIP', value: `${sp.clusterIP}:${sp.port}/${sp.protocol}`, sentence: `${sp.key} is reached on its cluster IP ${sp.clusterIP} port ${sp.port}` };
  }

  externalIP(sp: ServicePort, ip?: string): Reason {
    return { object: this.svc(sp), field: 'spec.externalIPs', value: ip ?? sp.externalIPs.join(','), sentence: `${sp.key} is reached on external IP ${ip ?? sp.externalIPs.join(', ')}` };
  }

  loadBalancerIP(sp: ServicePort, ip?: string): Reason {
    return { object: this.svc(sp), field: 'status.loadBalancer.ingress[].ip', value: ip ?? sp.loadBalancerVIPs.join(','), sentence: `${sp.key} is reached on load balancer IP ${ip ?? sp.loadBalancerVIPs.join(', ')}` };
  }

  nodePort(sp: ServicePort): Reason {
    return { object: this.svc(sp), field: this.portField(sp, 'nodePort'), value: String(sp.nodePort), sentence: `${sp.key} is reached on node port ${sp.nodePort}` };
  }

  healthCheckNodePort(sp: ServicePort): Reason {
    return { object: this.svc(sp), field: 'spec.healthCheckNodePort', value: String(sp.healthCheckNodePort), sentence: `the load balancer asks port ${sp.healthCheckNodePort} whether this node has a local endpoint of ${sp.key} (externalTrafficPolicy Local)` };
  }

  /** Where a packet to an external address goes: the external traffic policy. */
  externalPolicy(sp: ServicePort): Reason {
    return sp.externalPolicyLocal
      ? { object: this.svc(sp), field: 'spec.externalTrafficPolicy', value: 'Local', sentence: `external traffic to ${sp.key} goes only to endpoints on this node and keeps its source address; traffic from pods and the node itself is short-circuited to every endpoint` }
      : { object: this.svc(sp), field: 'spec.externalTrafficPolicy', value: 'Cluster', sentence: `external traffic to ${sp.key} may go to any endpoint, so its source is masqueraded` };
  }

  internalPolicy(sp: ServicePort): Reason {
    return sp.internalPolicyLocal
      ? { object: this.svc(sp), field: 'spec.internalTrafficPolicy', value: 'Local', sentence: `traffic from inside the cluster to ${sp.key} goes only to endpoints on this node` }
      : { object: this.svc(sp), field: 'spec.internalTrafficPolicy', value: 'Cluster', sentence: `traffic from inside the cluster to ${sp.key} may go to any endpoint` };
  }

  affinity(sp: ServicePort): Reason | undefined {
    if (sp.sessionAffinity.type !== 'ClientIP') return undefined;
    const s = sp.sessionAffinity.maxAgeSeconds;
    return s === DefaultClientIPServiceAffinitySeconds
      ? { object: this.svc(sp), field: 'spec.sessionAffinity', value: 'ClientIP', sentence: `a client stays on the endpoint it first reached for ${s}s (the default timeout)` }
      : { object: this.svc(sp), field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', value: String(s), sentence: `a client stays on the endpoint it first reached for ${s}s` };
  }

  sourceRanges(sp: ServicePort, range?: string): Reason {
    const all = sp.loadBalancerSourceRanges.join(',');
    return {
      object: this.svc(sp),
      field: 'spec.loadBalancerSourceRanges',
      value: range ?? (all || '[]'),
      sentence: range ? `sources in ${range} may reach the load balancer IP of ${sp.key}` : `only sources in ${all || 'no range'} may reach the load balancer IP of ${sp.key}; other traffic to it is dropped`,
    };
  }

  // ---- endpoints ----

  /** The slice (and its endpoint) that lists `ip` for the service port's Service. */
  private sliceOf(sp: ServicePort, ip: string): { slice: EndpointSlice; ep: NonNullable<EndpointSlice['endpoints']>[number] } | undefined {
    for (const s of this.slicesOf(sp)) {
      for (const ep of s.endpoints ?? []) {
        if (ep?.addresses?.[0] !== undefined && normalizeIP(ep.addresses[0])?.ip === ip) return { slice: s, ep };
      }
    }
    return undefined;
  }

  private slicesOf(sp: ServicePort): EndpointSlice[] {
    return this.slices
      .filter((s) => s.metadata?.namespace === sp.name.namespace && s.metadata?.labels?.[SERVICE_NAME_LABEL] === sp.name.name)
      .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  }

  /** Why this endpoint ("ip:port") takes the service port's traffic. */
  endpoint(sp: ServicePort, endpoint: string): Reason {
    const ep = this.endpoints(sp.key).find((e) => e.endpoint === endpoint);
    const ip = ep?.ip ?? endpoint.replace(/^\[/, '').replace(/\]?:\d+$/, '');
    const found = this.sliceOf(sp, ip);
    const object = found ? `EndpointSlice ${sp.name.namespace}/${found.slice.metadata?.name}` : this.svc(sp);
    const pod = found?.ep?.targetRef?.name ? ` (pod ${found.ep.targetRef.name}${found.ep.nodeName ? ` on ${found.ep.nodeName}` : ''})` : '';
    if (ep && !ep.ready && ep.serving && ep.terminating) {
      return { object, field: `endpoints[${ip}].conditions.terminating`, value: 'true', sentence: `endpoint ${endpoint}${pod} is terminating but still serving; kube-proxy uses it because ${sp.key} has no ready endpoint` };
    }
    return { object, field: `endpoints[${ip}].conditions.ready`, value: ep ? String(ep.ready) : 'true', sentence: `endpoint ${endpoint}${pod} is ready${found ? '' : ' (no EndpointSlice was given to name)'}` };
  }

  /** Why the endpoint is in the local set: it runs on this node. */
  localEndpoint(sp: ServicePort, endpoint: string): Reason {
    const base = this.endpoint(sp, endpoint);
    if (!this.endpoints(sp.key).some((e) => e.endpoint === endpoint && e.isLocal)) return base;
    const ip = endpoint.replace(/^\[/, '').replace(/\]?:\d+$/, '');
    return { ...base, field: `endpoints[${ip}].nodeName`, value: this.nodeName, sentence: `${base.sentence}, on this node (${this.nodeName})` };
  }

  private endpointCounts(sp: ServicePort): string {
    const slices = this.slicesOf(sp);
    if (slices.length === 0) return `no EndpointSlice of ${this.svc(sp)} was given`;
    return slices
      .map((s) => {
        const eps = (s.endpoints ?? []).filter(Boolean);
        const terminating = eps.filter((e) => e.conditions?.terminating === true).length;
        const notReady = eps.filter((e) => e.conditions?.ready === false && e.conditions?.terminating !== true).length;
        const parts = [terminating ? `${numberWord(terminating)} terminating` : '', notReady ? `${numberWord(notReady)} not ready` : ''].filter(Boolean);
        return `EndpointSlice ${sp.name.namespace}/${s.metadata?.name}${parts.length ? ` (${parts.join(', ')})` : eps.length ? '' : ' (empty)'}`;
      })
      .join(', ');
  }

  /** Why the service port's traffic is rejected: no usable endpoint. */
  noEndpoints(sp: ServicePort): Reason {
    const slices = this.slicesOf(sp);
    return {
      object: slices.length ? `EndpointSlice ${sp.name.namespace}/${slices[0]!.metadata?.name}` : this.svc(sp),
      field: slices.length ? 'endpoints[].conditions.ready' : 'metadata.name (no EndpointSlice)',
      value: 'none ready',
      sentence: `${sp.key} has no ready endpoint in ${this.endpointCounts(sp)}`,
    };
  }

  /** Why external traffic is dropped here: Local policy and no endpoint on this node. */
  noLocalEndpoints(sp: ServicePort): Reason {
    return {
      object: this.svc(sp),
      field: sp.externalPolicyLocal ? 'spec.externalTrafficPolicy' : 'spec.internalTrafficPolicy',
      value: 'Local',
      sentence: `${sp.key} has no ready endpoint on this node (${this.nodeName || 'unnamed'}), and its policy allows no other`,
    };
  }

  // ---- the configuration ----

  /** A field of kube-proxy's configuration, with the line it was written on (or "default"). */
  configField(path: string, value: string, sentence: string): Reason {
    const place = this.place;
    const object = !place || place.origin.kind === 'defaults' ? 'KubeProxyConfiguration' : place.origin.kind === 'file' ? `KubeProxyConfiguration ${place.source}` : place.source;
    const line = place?.lines.get(path);
    const flag = OVERRIDE_FLAGS[path.replace(/^(iptables|nftables)\./, '')];
    // a command-line flag set the value: the flag is the reason, the configuration it overrides is said
    if (flag && place?.overridden?.includes(path.replace(/^(iptables|nftables)\./, ''))) return { object: 'flag', field: flag, value, sentence, source: `overrides ${object} ${path}` };
    const out: Reason = { object, field: path, value, sentence };
    if (line !== undefined && place) out.source = locate(place, line);
    else if (!place || !place.lines.has(path)) out.source = "kube-proxy's default";
    return out;
  }

  /** The proxy mode itself: node-wide rules every node of this mode has. */
  mode(mode: string, what = 'a base rule'): Reason {
    const sentence = `${what} kube-proxy's ${mode} proxier keeps on every node, whatever the Services`;
    if ((this.config.mode || 'iptables') === mode) return this.configField('mode', mode, sentence);
    // the rules at hand are of another mode than the configuration names (a dump of a node that runs it)
    return { object: 'KubeProxyConfiguration', field: 'mode', value: mode, sentence, source: `the mode of the rules at hand; the configuration says ${this.config.mode || 'iptables'}` };
  }

  /** What makes traffic "from outside" (masqueraded): the local-traffic detector. */
  localTraffic(): Reason {
    const c = this.config;
    const mode = c.detectLocalMode === '' ? 'ClusterCIDR' : c.detectLocalMode;
    switch (mode) {
      case 'NodeCIDR':
        return { object: `Node ${this.nodeName}`, field: 'spec.podCIDRs', value: (this.fam?.podCIDRs ?? []).join(','), sentence: "traffic from outside this node's pod CIDR is masqueraded (detectLocalMode NodeCIDR)" };
      case 'BridgeInterface':
        return this.configField('detectLocal.bridgeInterface', c.detectLocal.bridgeInterface, 'traffic not from this bridge is masqueraded');
      case 'InterfaceNamePrefix':
        return this.configField('detectLocal.interfaceNamePrefix', c.detectLocal.interfaceNamePrefix, 'traffic not from interfaces with this prefix is masqueraded');
      default:
        return this.configField('clusterCIDR', c.clusterCIDR || '""', `traffic from outside the cluster CIDR ${c.clusterCIDR || '(none set)'} is masqueraded`);
    }
  }

  masqueradeAll(section: 'iptables' | 'nftables'): Reason {
    return this.configField(`${section}.masqueradeAll`, 'true', 'every packet to a service is masqueraded');
  }

  nodePortAddresses(): Reason {
    const v = this.config.nodePortAddresses ?? [];
    const ips = this.fam?.nodeIPs ?? [];
    const shown = v.length ? `[${v.join(', ')}]` : '[] (every local address)';
    const sentence = v.length
      ? `node ports are answered only on the addresses ${shown} names${v.length === 1 && v[0] === 'primary' ? ` (the node IP ${ips[0] ?? 'unknown'})` : ''}; no NodePort rule on any other address`
      : 'node ports are answered on every local address';
    const out = this.configField('nodePortAddresses', shown, sentence);
    const written = this.place?.written?.nodePortAddresses;
    // written empty or null: the value is the platform default (["primary"] for nftables), not the line's
    if (this.place?.written && (written === undefined || written === null || (Array.isArray(written) && written.length === 0)) && v.length) out.source = `kube-proxy's default for ${this.config.mode}, the field being unset`;
    return out;
  }

  localhostNodePorts(): Reason {
    return this.configField('iptables.localhostNodePorts', String(this.config.iptables.localhostNodePorts), 'node ports are answered on 127.0.0.1 too');
  }

  scheduler(name: string): Reason {
    return this.configField('ipvs.scheduler', name, `IPVS picks an endpoint with the ${name} scheduler`);
  }

  /** The routing decision between hooks: not a rule, the node's addresses and pod CIDRs. */
  routing(): Reason {
    return { object: `Node ${this.nodeName || '(unnamed)'}`, field: 'spec.podCIDRs', value: (this.fam?.podCIDRs ?? []).join(',') || '-', sentence: "the kernel's routing decision, from the node's addresses and pod CIDRs (not a kube-proxy rule)" };
  }
}

/** Configuration fields a flag of ours overrides, by ConfigOverrides key. */
const OVERRIDE_FLAGS: Record<string, string> = { mode: '--mode', clusterCIDR: '--cluster-cidr', masqueradeAll: '--masquerade-all' };

function numberWord(n: number): string {
  return ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'][n] ?? String(n);
}

/** "examples/cm.yaml:64", "config.conf line 58", "kube-proxy.conf:12". */
function locate(place: ConfigPlace, line: number): string {
  const o = place.origin;
  if (o.kind === 'configmap') {
    if (o.fileLine !== undefined && o.file !== undefined) return `${o.file}:${o.fileLine + line}`;
    if (o.fileLine !== undefined) return `${place.source}:${o.fileLine + line}`;
    return `${o.key} line ${line}`;
  }
  if (o.kind === 'file') return `${place.source}:${line}`;
  return place.source;
}
