import { Args, Flags } from '@oclif/core';
import type { LoadedConfig, ProxyMode } from '../core/config/index.js';
import { ExitCode, InputError, NotImplementedError, ProxymodeError } from '../core/errors.js';
import { engineFor } from '../core/modes.js';
import { buildProxyView, type ProxyView } from '../core/proxy-view.js';
import type { Ruleset } from '../core/iptables/types.js';
import { splitDump, stateFromText } from '../core/ipvs/parse.js';
import type { IpvsState } from '../core/ipvs/types.js';
import type { EndpointSlice, Node } from '../core/objects/types.js';
import { closeNames } from '../core/suggest.js';
import {
  addressNearTop,
  clusterCIDRFromRules,
  detectDumpKind,
  DUMP_MODE,
  targetsFromRules,
  targetsFromState,
  traceJson,
  tracerFor,
  type NodeContext,
  type Packet,
  type PacketEntry,
  type ServicePortTarget,
} from '../core/trace/index.js';
import { nodeIPs, normalizeIP, parseCIDRSloppy } from '../core/model/index.js';
import { hostRulesReader, type LiveRulesReader } from '../kube/live-rules.js';
import { readText } from '../kube/files.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { ApiSource, openSource, type ClusterSource } from '../kube/source.js';
import { makeColor } from '../ui/color.js';
import { formatData, warn, writeOut } from '../ui/print.js';
import { renderTrace } from '../ui/trace-view.js';
import { ProxymodeCommand } from './base.js';
import { outputFlag, proxyConfigFlags, sourceFlags } from './flags.js';
import { checkMode } from './not-built.js';

const TARGET = /^(svc\/[a-z0-9][-a-z0-9.]*|[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*|\[?[0-9a-fA-F:.]+\]?:\d+)$/;
/** TEST-NET-3: the source of `--from external` (documentation addresses reach no real client). */
const EXTERNAL_SOURCE = { IPv4: '203.0.113.10', IPv6: '2001:db8:ffff::10' };

/** No cluster and no files: a dump alone. */
const NO_OBJECTS: ClusterSource = {
  description: 'no objects',
  nodes: async () => [],
  services: async () => [],
  endpointSlices: async () => [],
  proxyConfigMaps: async () => [],
  others: async () => [],
};

/** ip6tables-save output names IPv6 addresses only. */
function dumpFamily(text: string): 'IPv4' | 'IPv6' {
  const v6 = /^-A \S+ .*-[sd] [0-9a-fA-F]*:[0-9a-fA-F:]*[/ ]/m.test(text);
  const v4 = /^-A \S+ .*-[sd] \d+\.\d+\.\d+\.\d+/m.test(text);
  return v6 && !v4 ? 'IPv6' : 'IPv4';
}

/** The iptables-save blocks of a combined dump by family (iptables-save and ip6tables-save output may both be there). */
function iptablesByFamily(text: string): Record<'IPv4' | 'IPv6', string> {
  const out = { IPv4: '', IPv6: '' };
  const blocks = text.split(/^(?=\*)/m).filter((b) => b.trim());
  for (const b of blocks) {
    const v6 = /^-A \S+ .*-[sd] [0-9a-fA-F]*:[0-9a-fA-F:]*[/ ]/m.test(b) || /--match-set KUBE-6-/.test(b);
    const v4 = /^-A \S+ .*-[sd] \d+\.\d+\.\d+\.\d+/m.test(b) || /--match-set KUBE-(?!6-)/.test(b);
    // A block naming no address of either family (kube-proxy's filter table) goes to both; one naming its
    // family's addresses or ipsets only to that family; a later block of the same table replaces an earlier one.
    for (const f of ['IPv4', 'IPv6'] as const) {
      if ((f === 'IPv4' && v6 && !v4) || (f === 'IPv6' && (v4 || !v6))) continue;
      const name = /^\*(\S+)/.exec(b)?.[1];
      out[f] = out[f].split(/^(?=\*)/m).filter((x) => x.trim() && /^\*(\S+)/.exec(x)?.[1] !== name).join('') + (b.endsWith('\n') ? b : `${b}\n`);
    }
  }
  return out;
}

interface ResolvedSource {
  ip: string;
  entry: PacketEntry;
  /** For the output's "from": "10.244.1.254 (a pod on worker-1)". */
  text: string;
}

export default class Trace extends ProxymodeCommand {
  static override summary = 'Follow one packet to a Service, hop by hop, to the pods it may reach.';
  static override description =
    'Walks one new connection through the node\'s kube-proxy rules in netfilter\'s order (nat PREROUTING or OUTPUT, filter FORWARD/INPUT/OUTPUT, nat POSTROUTING) and prints each rule it meets, the endpoints it may reach with each one\'s share, whether its source is masqueraded, and the verdict (exit 0 forwarded or accepted, 1 rejected, dropped or not matched). Rules are rendered from the cluster or -f objects, read live (--actual), or read from a saved dump (--rules FILE, no cluster needed). Without --from the packet comes from a pod on the traced node (an address at the top of its pod CIDR).';
  static override args = { target: Args.string({ required: true, ignoreStdin: true, description: 'svc/NAME (with -n), NAMESPACE/NAME or IP:PORT.' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    output: outputFlag(),
    port: Flags.string({ description: 'Service port name or number (needed when the Service has several).' }),
    protocol: Flags.string({ options: ['TCP', 'UDP', 'SCTP', 'tcp', 'udp', 'sctp'], description: 'Protocol of the packet (default: the port\'s, else TCP).' }),
    from: Flags.string({ description: 'Where the packet comes from: IP, pod/NAME, node/NAME or external (default: a pod on the traced node).' }),
    actual: Flags.boolean({ description: 'Trace through the node\'s live rules.' }),
    rules: Flags.string({ description: 'Trace through a saved dump: iptables-save, or ipvsadm -Sn (or -Ln --stats) + ipset save + iptables-save concatenated (nft list ruleset dumps are recognised, not yet traced).' }),
  };
  static override examples = [
    '<%= config.bin %> trace svc/web -n shop -f examples/ --mode iptables --node worker-1',
    '<%= config.bin %> trace kube-system/kube-dns --port dns -f examples/ --mode iptables --from pod/web-7d9c6b5f4-2x8kq',
    '<%= config.bin %> trace 10.96.0.10:53 --protocol UDP --rules node1.iptables-save',
    '<%= config.bin %> trace svc/web -n shop -f examples/ --mode ipvs --from 10.244.2.9',
    '<%= config.bin %> trace 10.96.0.10:53 --protocol UDP --rules node1.ipvs-dump   # ipvsadm -Sn; ipset save; iptables-save',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Trace);
    if (!TARGET.test(args.target)) {
      throw new InputError(`target "${args.target}" is not svc/NAME, NAMESPACE/NAME or IP:PORT; name the Service or its address.`);
    }
    checkMode(flags.mode);
    if (flags.actual && flags.rules) throw new InputError('--actual and --rules both name the rules to trace through; give one.');
    const protocolFlag = flags.protocol?.toUpperCase();

    // A dump needs no cluster: objects only when -f names them.
    let dumpText: string | undefined;
    let mode: ProxyMode;
    if (flags.rules) {
      dumpText = readText(flags.rules);
      let kind = detectDumpKind(dumpText);
      // an `ipvsadm -Ln` listing (live counts) is an ipvs dump too
      if (kind === 'unknown' && /^(TCP|UDP|SCTP)\s+\S+:\d+\s+\w+/m.test(dumpText) && /^\s*->\s+\S+:\d+\s/m.test(dumpText)) kind = 'ipvsadm';
      if (kind === 'unknown') throw new InputError(`${flags.rules} is not an iptables-save, nft list ruleset or ipvsadm -Sn dump; save the node's rules with iptables-save and trace that.`);
      if (kind === 'nft') throw new NotImplementedError(`tracing a \`nft list ruleset\` dump (mode ${DUMP_MODE[kind]}) from ${flags.rules}`);
      const dumpMode = DUMP_MODE[kind] as ProxyMode;
      if (flags.mode && flags.mode !== dumpMode) throw new InputError(`--mode ${flags.mode} does not match ${flags.rules}, which is ${kind === 'ipvsadm' ? 'an ipvsadm -Sn' : 'an iptables-save'} dump; leave --mode out.`);
      mode = dumpMode;
    }
    const source: ClusterSource | undefined = flags.rules && !flags.filename?.length ? undefined : openSource(flags);
    const overrides = overridesFromFlags(flags);
    const config: LoadedConfig = await loadProxyConfig(source ?? NO_OBJECTS, flags.config, overrides);
    mode = flags.rules ? mode! : config.effectiveMode;
    if (mode !== 'iptables' && mode !== 'ipvs') {
      throw new ProxymodeError(`tracing mode ${mode}${flags.mode ? '' : ', the configured mode,'} is not implemented yet in this version of kubectl proxymode; trace the rules iptables mode would write with --mode iptables.`, ExitCode.USAGE);
    }

    const objects = source
      ? await Promise.all([source.services(), source.endpointSlices(), source.nodes()]).then(([services, endpointSlices, nodes]) => ({ services, endpointSlices, nodes }))
      : { services: [], endpointSlices: [], nodes: [] as Node[] };
    const view: ProxyView = buildProxyView(objects, config.config, source?.description ?? 'no objects');
    if (source && view.nodeDefaulted && objects.nodes.length > 1) warn(`no --node given: tracing on node ${view.nodeName} (node-local policies differ per node).`);

    // The rules: a dump, the live rules, or rendered by the engine.
    let rulesets: Ruleset[];
    let ipvsStates: IpvsState[] | undefined;
    let rulesDescription: string;
    const engine = engineFor('iptables', '`kubectl proxymode trace`');
    if (mode === 'ipvs') {
      const ipvs = engineFor('ipvs', '`kubectl proxymode trace`');
      if (dumpText !== undefined) {
        // The iptables-save part is one family's (iptables-save or ip6tables-save); the IPVS part may hold both.
        const parts = splitDump(dumpText);
        const tables = iptablesByFamily(parts.iptables);
        ipvsStates = (['IPv4', 'IPv6'] as const)
          .map((f) => stateFromText({ ...parts, iptables: tables[f] }, f, flags.rules!))
          .filter((st) => st.virtualServers.length > 0 || st.family === 'IPv4');
        rulesDescription = `dump ${flags.rules}`;
      } else if (flags.actual) {
        const reader: LiveRulesReader = source instanceof ApiSource ? await source.liveRules(view.nodeName) : await hostRulesReader();
        ipvsStates = await Promise.all(view.families.map((f) => ipvs.readLive(reader, f.family) as Promise<IpvsState>));
        rulesDescription = `live, ${reader.description}`;
      } else {
        ipvsStates = ipvs.render(view, config.config) as IpvsState[];
        rulesDescription = `rendered from ${source!.description}`;
      }
      rulesets = ipvsStates.map((st) => st.iptables);
    } else if (dumpText !== undefined) {
      rulesets = [engine.parseLive(dumpText, dumpFamily(dumpText), flags.rules!)];
      rulesDescription = `dump ${flags.rules}`;
    } else if (flags.actual) {
      const reader: LiveRulesReader = source instanceof ApiSource ? await source.liveRules(view.nodeName) : await hostRulesReader();
      rulesets = await Promise.all(view.families.map(async (f) => engine.parseLive(await reader.iptablesSave(f.family), f.family, reader.description)));
      rulesDescription = `live, ${reader.description}`;
    } else {
      rulesets = engine.render(view, config.config);
      rulesDescription = `rendered from ${source!.description}`;
    }

    // The target: a service port's cluster IP, or an address.
    const targets = objects.services.length ? targetsFromState(view.families.map((f) => f.state)) : targetsFromRules(rulesets);
    if (ipvsStates && dumpText !== undefined && !objects.services.length && !/^\[?[0-9a-fA-F:.]+\]?:\d+$/.test(args.target)) {
      throw new InputError(`${flags.rules} is an ipvsadm dump, which names no Services; trace the virtual server's address as IP:PORT (see its -A lines), or give -f with the Service objects.`);
    }
    const { dst, dport, protocol, label } = resolveTarget(args.target, flags, protocolFlag, targets, source?.description ?? `dump ${flags.rules}`);
    const family = dst.includes(':') ? 'IPv6' : 'IPv4';
    const fam = view.families.find((f) => f.family === family);
    const nodeIPList = [...(fam?.nodeIPs ?? []), ...(fam || !flags['node-ip'] ? [] : flags['node-ip'].split(',').map((s) => s.trim()).filter((s) => normalizeIP(s)?.family === family))];
    const podCIDRs = fam?.podCIDRs ?? [];
    const ctx: NodeContext = {
      nodeName: view.nodeName || undefined,
      localAddresses: nodeIPList.length ? nodeIPList : undefined,
      podCIDRs,
    };
    const clusterCIDR = (config.config.clusterCIDR ?? '').split(',').map((c) => c.trim()).find((c) => parseCIDRSloppy(c)?.family === family) ?? rulesets.map(clusterCIDRFromRules).find(Boolean);
    const from = resolveFrom(flags.from, { family, view, nodeIPs: nodeIPList, podCIDRs, clusterCIDR, endpointSlices: objects.endpointSlices, nodes: objects.nodes, namespace: flags.namespace });

    const packet: Packet = { src: from.ip, dst, dport, protocol, entry: from.entry };
    const result = tracerFor(mode, { iptables: rulesets, ipvs: ipvsStates, rendered: dumpText === undefined && !flags.actual }).trace(packet, ctx);

    const podNames = podNamesByIP(objects.endpointSlices);
    if (flags.output === 'json' || flags.output === 'yaml') {
      writeOut(formatData(flags.output, traceJson(label, from.text, result)));
    } else {
      const color = makeColor({ noColor: flags['no-color'] });
      writeOut(
        renderTrace(
          result,
          {
            packet: protocol,
            from: from.text,
            target: label,
            node: view.nodeName || '<unnamed>',
            rules: rulesDescription,
          },
          { wide: flags.output === 'wide', color, podNames },
        ),
      );
    }
    if (!['forwarded', 'accepted'].includes(result.verdict)) process.exitCode = 1;
  }
}

function resolveTarget(
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
    const hostPort = dst.includes(':') ? `[${dst}]:${dport}` : `${dst}:${dport}`;
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
  const hostPort = t.ip.includes(':') ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`;
  return { dst: t.ip, dport: t.port, protocol: t.protocol, label: `${t.service}${t.portName ? `:${t.portName}` : ''} (${hostPort}/${t.protocol})` };
}

interface FromContext {
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

function resolveFrom(from: string | undefined, c: FromContext): ResolvedSource {
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

function podNamesByIP(slices: EndpointSlice[]): Map<string, string> {
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
