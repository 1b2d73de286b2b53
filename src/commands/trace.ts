import { Args, Flags } from '@oclif/core';
import type { LoadedConfig, ProxyMode } from '../core/config/index.js';
import { ExitCode, InputError, NotImplementedError, ProxymodeError } from '../core/errors.js';
import { engineFor } from '../core/modes.js';
import { buildProxyView, type ProxyView } from '../core/proxy-view.js';
import type { Ruleset } from '../core/iptables/types.js';
import { splitDump, stateFromText } from '../core/ipvs/parse.js';
import type { IpvsState } from '../core/ipvs/types.js';
import type { Node } from '../core/objects/types.js';
import {
  clusterCIDRFromRules,
  detectDumpKind,
  DUMP_MODE,
  targetsFromRules,
  targetsFromState,
  traceJson,
  tracerFor,
  type NodeContext,
  type Packet,
} from '../core/trace/index.js';
import { normalizeIP, parseCIDRSloppy } from '../core/model/index.js';
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
import { dumpFamily, iptablesByFamily } from '../core/trace/dumps.js';
import { podNamesByIP, resolveFrom, resolveTarget } from '../core/trace/resolve.js';

const TARGET = /^(svc\/[a-z0-9][-a-z0-9.]*|[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*|\[?[0-9a-fA-F:.]+\]?:\d+)$/;
/** TEST-NET-3: the source of `--from external` (documentation addresses reach no real client). */

/** No cluster and no files: a dump alone. */
const NO_OBJECTS: ClusterSource = {
  description: 'no objects',
  nodes: async () => [],
  services: async () => [],
  endpointSlices: async () => [],
  proxyConfigMaps: async () => [],
  others: async () => [],
};

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

