// What the user named, resolved against what the rules and objects hold: the target Service port (or
// IP:PORT) and where the packet comes from (an IP, pod/NAME, node/NAME or outside the cluster).
import { joinHostPort } from '../net/ip.js';
import { InputError } from '../errors.js';
import { nodeIPs, normalizeIP, parseCIDRSloppy } from '../model/index.js';
import type { EndpointSlice, Node } from '../objects/types.js';
import type { ProxyView } from '../proxy-view.js';
import { closeNames } from '../suggest.js';
import { addressNearTop } from './index.js';
import type { PacketEntry, ServicePortTarget } from './index.js';

export const EXTERNAL_SOURCE = { IPv4: '203.0.113.10', IPv6: '2001:db8:ffff::10' };

export interface ResolvedSource {
  ip: string;
  entry: PacketEntry;
  /** For the output's "from": "10.244.1.254 (a pod on worker-1)". */
  text: string;
}

export function resolveTarget(
  target: string,
  flags: { namespace?: string; port?: string },
  protocolFlag: string | undefined,
  targets: ServicePortTarget[],
  searched: string,
): { dst: string; dport: number; protocol: string; label: string } {
  const addr = /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(target);
  if (addr && normalizeIP(addr[1]!)) {
    const dst = normalizeIP(addr[1]!)!.ip;
    const dport = Number(addr[2]);
    if (dport < 1 || dport > 65535) throw new InputError(`port ${dport} in "${target}" is out of range; use 1-65535.`);
    const protocol = protocolFlag ?? 'TCP';
    const known = targets.find((t) => t.ip === dst && t.port === dport && t.protocol === protocol);
    const hostPort = joinHostPort(dst, dport);
    return { dst, dport, protocol, label: known ? `${known.service}${known.portName ? `:${known.portName}` : ''} (${hostPort}/${protocol})` : `${hostPort}/${protocol}` };
  }
  if (addr) throw new InputError(`"${addr[1]}" in "${target}" is not an IP address; give IP:PORT, svc/NAME or NAMESPACE/NAME.`);
  const bare = target.replace(/^svc\//, '');
  const [namespace, name] = bare.includes('/') ? bare.split('/') : [flags.namespace ?? 'default', bare];
  const key = `${namespace}/${name}`;
  let ports = targets.filter((t) => t.service === key);
  if (ports.length === 0) {
    const inNs = targets.filter((t) => t.service.startsWith(`${namespace}/`)).map((t) => t.service.split('/')[1]!);
    const close = closeNames(name!, inNs);
    const elsewhere = [...new Set(targets.filter((t) => t.service.endsWith(`/${name}`)).map((t) => t.service))];
    throw new InputError(
      `service "${name}" not found in namespace ${namespace} (searched ${searched})${close.length ? `; did you mean ${close.join(', ')}?` : elsewhere.length ? `; it exists as ${elsewhere.join(', ')}: give NAMESPACE/NAME or -n.` : '; check the name and namespace (-n).'}`,
    );
  }
  const portList = (list: ServicePortTarget[]) => [...new Set(list.map((t) => `${t.portName || '<unnamed>'} ${t.port}/${t.protocol}`))].join(', ');
  if (flags.port !== undefined) {
    const want = flags.port;
    const matched = ports.filter((t) => t.portName === want || String(t.port) === want);
    if (matched.length === 0) throw new InputError(`service ${key} has no port "${want}"; its ports are ${portList(ports)}.`);
    ports = matched;
  }
  if (protocolFlag) {
    const matched = ports.filter((t) => t.protocol === protocolFlag);
    if (matched.length === 0) throw new InputError(`service ${key}${flags.port ? ` port ${flags.port}` : ''} has no ${protocolFlag} port; its ports are ${portList(ports)}.`);
    ports = matched;
  }
  // One port per family (dual stack): the first family's.
  const distinct = [...new Set(ports.map((t) => `${t.portName}|${t.port}|${t.protocol}`))];
  if (distinct.length > 1) throw new InputError(`service ${key} has several ports (${portList(ports)}); pick one with --port NAME or --port NUMBER${flags.port ? ' and --protocol' : ''}.`);
  const t = ports[0]!;
  const hostPort = joinHostPort(t.ip, t.port);
  return { dst: t.ip, dport: t.port, protocol: t.protocol, label: `${t.service}${t.portName ? `:${t.portName}` : ''} (${hostPort}/${t.protocol})` };
}

export interface FromContext {
  family: 'IPv4' | 'IPv6';
  view: ProxyView;
  nodeIPs: string[];
  podCIDRs: string[];
  clusterCIDR?: string;
  endpointSlices: EndpointSlice[];
  nodes: Node[];
  namespace?: string;
}

function inCIDR(ip: string, cidr: string | undefined): boolean {
  if (!cidr) return false;
  const c = parseCIDRSloppy(cidr);
  if (!c) return false;
  const masked = parseCIDRSloppy(`${ip}/${c.prefix}`);
  return masked?.cidr === c.cidr;
}

export function resolveFrom(from: string | undefined, c: FromContext): ResolvedSource {
  const node = c.view.nodeName || 'the node';
  if (from === undefined) {
    const cidr = c.podCIDRs[0] ?? c.clusterCIDR;
    const ip = cidr ? addressNearTop(cidr) : null;
    if (ip) return { ip, entry: 'pod-local', text: `${ip} (a pod on ${node}${c.podCIDRs[0] ? '' : `, taken from the cluster CIDR ${cidr}`})` };
    const ext = EXTERNAL_SOURCE[c.family];
    return { ip: ext, entry: 'external', text: `${ext} (outside the cluster: no pod CIDR is known; use --from)` };
  }
  if (from === 'external') return { ip: EXTERNAL_SOURCE[c.family], entry: 'external', text: `${EXTERNAL_SOURCE[c.family]} (outside the cluster)` };
  if (from.startsWith('node/')) {
    const name = from.slice(5);
    const n = c.nodes.find((x) => x.metadata?.name === name);
    if (!n) {
      const close = closeNames(name, c.nodes.map((x) => x.metadata?.name ?? ''));
      throw new InputError(`node "${name}" not found${c.nodes.length ? '' : ' (no Node objects: give -f or the cluster)'}${close.length ? `; did you mean ${close.join(', ')}?` : '.'}`);
    }
    const ip = name === c.view.nodeName ? c.nodeIPs[0] : nodeIPs(n, c.family)[0];
    if (!ip) throw new InputError(`node "${name}" has no ${c.family} address; use --from IP.`);
    return name === c.view.nodeName ? { ip, entry: 'node', text: `${ip} (node ${name} itself)` } : { ip, entry: 'external', text: `${ip} (node ${name}, arriving on the uplink)` };
  }
  if (from.startsWith('pod/')) {
    const name = from.slice(4);
    const all: Array<{ name: string; namespace: string; ip: string; nodeName?: string }> = [];
    for (const s of c.endpointSlices) {
      if ((s.addressType ?? 'IPv4') !== c.family) continue;
      for (const e of s.endpoints ?? []) {
        if (e.targetRef?.kind !== 'Pod' || !e.targetRef.name) continue;
        all.push({ name: e.targetRef.name, namespace: e.targetRef.namespace ?? s.metadata?.namespace ?? 'default', ip: e.addresses?.[0] ?? '', nodeName: e.nodeName });
      }
    }
    const found = all.find((p) => p.name === name && (!c.namespace || p.namespace === c.namespace));
    if (!found || !found.ip) {
      const close = closeNames(name, all.map((p) => p.name));
      throw new InputError(`pod "${name}" is not an endpoint of any Service${c.namespace ? ` in namespace ${c.namespace}` : ''} (looked in EndpointSlices' targetRefs${c.endpointSlices.length ? '' : ', and there are none: give -f or the cluster'})${close.length ? `; did you mean ${close.join(', ')}?` : '; use --from IP instead.'}`);
    }
    const local = found.nodeName ? found.nodeName === c.view.nodeName : c.podCIDRs.some((p) => inCIDR(found.ip, p));
    return { ip: found.ip, entry: local ? 'pod-local' : 'pod-remote', text: `${found.ip} (pod ${found.namespace}/${found.name} on ${found.nodeName ?? (local ? node : 'another node')})` };
  }
  const ip = normalizeIP(from);
  if (!ip) throw new InputError(`--from "${from}" is not an IP, pod/NAME, node/NAME or external.`);
  if (ip.family !== c.family) throw new InputError(`--from ${from} is ${ip.family} but the target is ${c.family}; trace within one family.`);
  const a = ip.ip;
  if (c.nodeIPs.includes(a) || a.startsWith('127.') || a === '::1') return { ip: a, entry: 'node', text: `${a} (${node} itself)` };
  if (c.podCIDRs.some((p) => inCIDR(a, p))) return { ip: a, entry: 'pod-local', text: `${a} (a pod on ${node})` };
  if (inCIDR(a, c.clusterCIDR)) return { ip: a, entry: 'pod-remote', text: `${a} (a pod on another node)` };
  return { ip: a, entry: 'external', text: `${a} (outside the cluster)` };
}

export function podNamesByIP(slices: EndpointSlice[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of slices) {
    for (const e of s.endpoints ?? []) {
      if (e.targetRef?.kind !== 'Pod' || !e.targetRef.name) continue;
      for (const a of e.addresses ?? []) {
        const ip = normalizeIP(a)?.ip;
        if (ip) out.set(ip, `${e.targetRef.namespace ?? s.metadata?.namespace ?? 'default'}/${e.targetRef.name}`);
      }
    }
  }
  return out;
}
