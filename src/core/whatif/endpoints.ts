// --scale-endpoints and --drain: the two edits operators ask about most, made to EndpointSlices as the
// EndpointSlice controller would leave them.
import { InputError } from '../errors.js';
import { LabelServiceName } from '../model/labels.js';
import { podCIDRs } from '../model/node.js';
import { formatIP, normalizeIP, parseCIDRSloppy, parseIPSloppy } from '../net/ip.js';
import type { EndpointSlice, Node, Service, SliceEndpoint } from '../objects/types.js';

interface Objects {
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

const isReady = (ep: SliceEndpoint) => ep.conditions?.ready !== false; // absent means ready (discovery/v1)

/**
 * The Service keeps N ready endpoints in each address family its slices carry: scaling down removes the
 * ready endpoints past the first N (slices by name, endpoints in order); scaling up clones its ready
 * endpoints in turn, each clone on the same node with the next free address of that node's pod CIDR.
 * Endpoints that are not ready (terminating ones) are left as they are, as a Deployment's scale leaves them.
 */
export function scaleEndpoints(objects: Objects, svc: Service, replicas: number, flag: string): { endpointSlices: EndpointSlice[]; change: string } {
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const mine = (s: EndpointSlice) => (s.metadata?.namespace ?? 'default') === ns && s.metadata?.labels?.[LabelServiceName] === name && s.addressType !== 'FQDN';
  const slices = objects.endpointSlices.map((s, i) => [s, i] as const).filter(([s]) => mine(s)).sort(([a], [b]) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (slices.length === 0 && replicas > 0) throw new InputError(`${flag}: Service ${ns}/${name} has no EndpointSlice, so there is no endpoint to clone.`);
  const out = [...objects.endpointSlices];
  const used = new Set(objects.endpointSlices.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses.map((a) => normalizeIP(a)?.ip ?? a))));
  const notes: string[] = [];
  for (const family of ['IPv4', 'IPv6'] as const) {
    const fam = slices.filter(([s]) => s.addressType === family);
    if (fam.length === 0) continue;
    const copies = new Map(fam.map(([s, i]) => [i, { ...s, endpoints: [...(s.endpoints ?? [])] }]));
    const ready = [...copies.entries()].flatMap(([i, s]) => s.endpoints.filter(isReady).map((ep) => ({ i, ep })));
    if (replicas < ready.length) {
      const gone = ready.slice(replicas);
      for (const { i, ep } of gone) copies.get(i)!.endpoints = copies.get(i)!.endpoints.filter((e) => e !== ep);
      notes.push(`${family}: ${ready.length} → ${replicas} ready (removed ${gone.map((g) => g.ep.addresses[0]).join(', ')})`);
    } else if (replicas > ready.length) {
      if (ready.length === 0) throw new InputError(`${flag}: Service ${ns}/${name} has no ready ${family} endpoint to clone; scaling up copies existing ones.`);
      const added: string[] = [];
      for (let k = 0; k < replicas - ready.length; k++) {
        const from = ready[k % ready.length]!;
        const address = nextAddress(from.ep, family, objects.nodes, used, flag);
        used.add(address);
        copies.get(from.i)!.endpoints.push(cloneEndpoint(from.ep, address, k));
        added.push(`${address}${from.ep.nodeName ? ` on ${from.ep.nodeName}` : ''}`);
      }
      notes.push(`${family}: ${ready.length} → ${replicas} ready (cloned: ${added.join(', ')}, addresses from each node's pod CIDR)`);
    } else notes.push(`${family}: already ${replicas} ready`);
    for (const [i, s] of copies) out[i] = s;
  }
  return { endpointSlices: out, change: `endpoints scaled: ${notes.join('; ')}` };
}

function cloneEndpoint(ep: SliceEndpoint, address: string, k: number): SliceEndpoint {
  const copy: SliceEndpoint = { ...structuredClone(ep), addresses: [address], conditions: { ready: true, serving: true, terminating: false } };
  delete copy.hostname;
  if (copy.targetRef) {
    copy.targetRef = { ...copy.targetRef, name: `${copy.targetRef.name ?? 'pod'}-whatif-${k + 1}` };
    delete copy.targetRef.uid;
  }
  return copy;
}

/** The lowest free address of the endpoint's node's pod CIDR (from .2: the first is the network, the next the gateway by custom). */
function nextAddress(ep: SliceEndpoint, family: 'IPv4' | 'IPv6', nodes: Node[], used: Set<string>, flag: string): string {
  const node = nodes.find((n) => n.metadata?.name === ep.nodeName);
  const cidr = node ? podCIDRs(node).map((c) => parseCIDRSloppy(c)).find((c) => c?.family === family) : undefined;
  if (!cidr) throw new InputError(`${flag}: endpoint ${ep.addresses[0]} is on ${ep.nodeName ? `node ${ep.nodeName}, which has no ${family} pod CIDR` : 'no node'}, so a clone of it has no address to take; give the Node objects (-f) with spec.podCIDRs.`);
  const base = parseIPSloppy(cidr.cidr.split('/')[0]!)!;
  const hostBits = (family === 'IPv4' ? 32 : 128) - cidr.prefix;
  const size = hostBits >= 24 ? 1 << 24 : 2 ** hostBits;
  for (let n = 2; n < size - (family === 'IPv4' ? 1 : 0); n++) {
    const ip = new Uint8Array(base);
    let carry = n;
    for (let b = 15; b >= 0 && carry > 0; b--) {
      const sum = ip[b]! + (carry & 0xff);
      ip[b] = sum & 0xff;
      carry = (carry >>> 8) + (sum >> 8);
    }
    const text = formatIP(ip);
    if (!used.has(text)) return text;
  }
  throw new InputError(`${flag}: node ${ep.nodeName}'s pod CIDR ${cidr.cidr} has no free address left for a clone.`);
}

/**
 * --drain node/NAME: as `kubectl drain` evicts its pods, their endpoints become terminating. The EndpointSlice
 * controller (podToEndpoint in k8s.io/endpointslice, utils.go) writes serving = the pod's readiness,
 * terminating = true, ready = serving && !terminating, so false, unless the Service publishes not-ready
 * addresses (then ready stays true). The Node is cordoned (spec.unschedulable), which kube-proxy does not read.
 */
export function drainNode(objects: Objects & { services: Service[] }, node: Node): { node: Node; endpointSlices: EndpointSlice[]; change: string } {
  const name = node.metadata?.name;
  const publishes = new Set(objects.services.filter((s) => s.spec?.publishNotReadyAddresses === true).map((s) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`));
  let count = 0;
  const endpointSlices = objects.endpointSlices.map((s) => {
    if (!(s.endpoints ?? []).some((ep) => ep.nodeName === name && !ep.conditions?.terminating)) return s;
    const ready = publishes.has(`${s.metadata?.namespace ?? 'default'}/${s.metadata?.labels?.[LabelServiceName]}`);
    return {
      ...s,
      endpoints: s.endpoints!.map((ep) => {
        if (ep.nodeName !== name || ep.conditions?.terminating) return ep;
        count++;
        const serving = ep.conditions?.serving ?? ep.conditions?.ready ?? true;
        return { ...ep, conditions: { ready, serving, terminating: true } };
      }),
    };
  });
  const cordoned: Node = { ...node, spec: { ...node.spec, unschedulable: true } };
  return { node: cordoned, endpointSlices, change: `drained: ${count} endpoint${count === 1 ? '' : 's'} on it now terminating (ready=false unless the Service publishes not-ready addresses, serving as the pod's readiness, terminating=true); cordoned (spec.unschedulable=true)` };
}
