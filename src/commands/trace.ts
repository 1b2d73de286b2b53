import { Args, Flags, type Interfaces } from '@oclif/core';
import type { LoadedConfig } from '../core/config/index.js';
import { ExitCode, InputError, ProxymodeError } from '../core/errors.js';
import { ignoredServiceSentence } from '../core/model/skip.js';
import { dumpStates, modeFor, modeOfDump } from '../core/modes/registry.js';
import type { Dump, FamilyState, ProxyModeDefinition } from '../core/modes/types.js';
import { buildProxyView, type ProxyView } from '../core/proxy-view.js';
import type { Node, Service } from '../core/objects/types.js';
import { closeNames } from '../core/suggest.js';
import { targetsFromState, targetsFromSummaries, traceJson, type NodeContext, type Packet, type ServicePortTarget } from '../core/trace/index.js';
import { normalizeIP, parseCIDRSloppy } from '../core/model/index.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { NO_OBJECTS } from '../kube/no-objects.js';
import { readDumpFile, readNodeStates } from '../kube/node-rules.js';
import { checkNamespace, defaultNamespace, openSource, type ClusterSource } from '../kube/source.js';
import { makeColor } from '../ui/color.js';
import { formatData, warn, writeOut } from '../ui/print.js';
import { renderTrace } from '../ui/trace-view.js';
import { renderTraceCompare } from '../ui/trace-compare.js';
import { compareTraces } from '../core/whatif/index.js';
import { withWhatIf } from '../kube/whatif-source.js';
import { ProxymodeCommand } from './base.js';
import { compareFlag, ipFamilyFlag, kubeProxyVersionFlag, outputFlag, pickFamilies, proxyConfigFlags, serviceCIDRFlag, sourceFlags, whatIfFlags } from './flags.js';
import { podNamesByIP, resolveFrom, resolveTarget } from '../core/trace/resolve.js';
import { becauseOfHops, nodePortNotHere, provenance } from '../core/why/index.js';

const TARGET = /^(svc\/[a-z0-9][-a-z0-9.]*|[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*|\[?[0-9a-fA-F:.]+\]?:\d+)$/;
const ADDRESS_TARGET = /^\[?[0-9a-fA-F:.]+\]?:\d+$/;

export default class Trace extends ProxymodeCommand {
  static override summary = 'Follow one packet to a Service, hop by hop, to the pods it may reach.';
  static override description =
    'Walks one new connection through the node\'s kube-proxy rules in netfilter\'s order (nat PREROUTING or OUTPUT, filter FORWARD/INPUT/OUTPUT, nat POSTROUTING) and prints each rule it meets, the endpoints it may reach with each one\'s share, whether its source is masqueraded, and the verdict (exit 0 forwarded or accepted, 1 rejected, dropped or not matched). Rules are rendered from the cluster or -f objects, read live (--actual), or read from a saved dump (--rules FILE, no cluster needed). Without --from the packet comes from a pod on the traced node (an address at the top of its pod CIDR).';
  static override args = { target: Args.string({ required: true, ignoreStdin: true, description: 'svc/NAME (with -n), NAMESPACE/NAME or IP:PORT.' }) };
  static override flags = {
    ...sourceFlags,
    // trace follows one Service: -A finds its namespace rather than listing every one
    'all-namespaces': Flags.boolean({ ...sourceFlags['all-namespaces'], description: 'With svc/NAME: look the Service up in every namespace (one match is traced; several are listed), as kubectl\'s -A.' }),
    ...proxyConfigFlags,
    ...whatIfFlags,
    compare: compareFlag,
    output: outputFlag(),
    port: Flags.string({ description: 'Service port name or number (needed when the Service has several).' }),
    protocol: Flags.string({ options: ['TCP', 'UDP', 'SCTP', 'tcp', 'udp', 'sctp'], description: 'Protocol of the packet (default: the port\'s, else TCP).' }),
    from: Flags.string({ description: 'Where the packet comes from: IP, pod/NAME, node/NAME or external (default: a pod on the traced node).' }),
    'ip-family': ipFamilyFlag,
    'kube-proxy-version': kubeProxyVersionFlag,
    'service-cidr': serviceCIDRFlag,
    actual: Flags.boolean({ description: 'Trace through the node\'s live rules.' }),
    rules: Flags.string({ description: 'Trace through a saved dump: iptables-save; ipvsadm -Sn (or -Ln --stats) + ipset save + iptables-save concatenated; nft list ruleset (or nft -j); a userspace node\'s iptables-save.' }),
  };
  static override examples = [
    '<%= config.bin %> trace svc/web -n shop -f examples/ --mode iptables --node worker-1',
    '<%= config.bin %> trace kube-system/kube-dns --port dns -f examples/ --mode iptables --from pod/web-5d9c8b7f4-l7k9q',
    '<%= config.bin %> trace 10.96.0.10:53 --protocol UDP --rules node1.iptables-save',
    '<%= config.bin %> trace svc/web -n shop -f examples/ --mode ipvs --from 10.244.2.9',
    '<%= config.bin %> trace 10.96.0.10:53 --protocol UDP --rules node1.ipvs-dump   # ipvsadm -Sn; ipset save; iptables-save',
    '<%= config.bin %> trace svc/web -n shop -f examples/ --mode iptables --node worker-1 --drain node/worker-2 --compare   # what if',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Trace);
    // A bare NAME is a Service (with -n, as the help says); names resolve in the context's namespace as kubectl's do.
    if (/^[a-z0-9][-a-z0-9.]*$/.test(args.target) && !/^[0-9.]+$/.test(args.target)) args.target = `svc/${args.target}`;
    let namespace = args.target.startsWith('svc/') ? defaultNamespace(flags) : flags.namespace;
    if (!TARGET.test(args.target)) {
      throw new InputError(`target "${args.target}" is not svc/NAME, NAMESPACE/NAME or IP:PORT; name the Service or its address.`);
    }
    if (flags.actual && flags.rules) throw new InputError('--actual and --rules both name the rules to trace through; give one.');
    const protocolFlag = flags.protocol?.toUpperCase();

    // A dump needs no cluster: objects only when -f names them.
    const dump = flags.rules ? readDumpFile(flags.rules) : undefined;
    const read: ClusterSource | undefined = dump && !flags.filename?.length ? undefined : openSource(flags);
    // What if: the same trace through the edited objects (and, with --compare, through the objects as read too).
    const whatIf = await withWhatIf(read, flags, { namespace: namespace ?? defaultNamespace(flags), namespaceExplicit: Boolean(flags.namespace), configFile: flags.config });
    if (whatIf && (dump || flags.actual)) throw new InputError(`${whatIf.applied[0]!.flag}: what-if edits change the objects rules are rendered from, and ${dump ? `--rules ${flags.rules}` : '--actual'} traces rules already written; leave out ${dump ? '--rules' : '--actual'}.`);
    if (flags.compare && !whatIf) throw new InputError('--compare shows what edits change: add --set, --scale-endpoints or --drain.');
    const after = await this.traceOnce(args.target, flags, namespace, protocolFlag, dump, whatIf?.source ?? read);
    const before = flags.compare ? await this.traceOnce(args.target, flags, namespace, protocolFlag, dump, read, true) : undefined;
    const { result, label, from, view, protocol, rulesDescription, podNames } = after;
    const edits = whatIf?.applied;
    if (before) {
      const changes = compareTraces(before.result, result);
      if (flags.output === 'json' || flags.output === 'yaml') {
        writeOut(formatData(flags.output, { edits, before: traceJson(before.label, before.from.text, before.result), after: traceJson(label, from.text, result), changes }));
      } else {
        const header = (t: Traced) => ({ packet: t.protocol, from: t.from.text, target: t.label, node: t.view.nodeName || '<unnamed>', rules: t.rulesDescription });
        const opts = (t: Traced) => ({ wide: flags.output === 'wide', color: makeColor({ noColor: flags['no-color'] }), podNames: t.podNames });
        writeOut(renderTraceCompare({ text: renderTrace(before.result, header(before), opts(before)), result: before.result }, { text: renderTrace(result, header(after), opts(after)), result }, changes, { color: makeColor({ noColor: flags['no-color'] }) }));
      }
      if (!['forwarded', 'accepted'].includes(result.verdict)) process.exitCode = 1;
      return;
    }

    if (flags.output === 'json' || flags.output === 'yaml') {
      writeOut(formatData(flags.output, { ...traceJson(label, from.text, result), ...(edits ? { edits } : {}) }));
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

  /** One trace: the rules (rendered from `source`, live, or a dump), the target and source resolved, the packet walked. */
  private async traceOnce(target: string, flags: TraceFlags, namespace: string | undefined, protocolFlag: string | undefined, dump: Dump | undefined, source: ClusterSource | undefined, quiet = false) {
    const args = { target };
    const config: LoadedConfig = await loadProxyConfig(source ?? NO_OBJECTS, flags.config, overridesFromFlags(flags), quiet ? { warn: () => {} } : {});
    const def = dump ? dumpMode(dump, flags.mode) : modeFor(config.effectiveMode, 'tracing');

    const objects = source
      ? await Promise.all([source.services(), source.endpointSlices(), source.nodes()]).then(([services, endpointSlices, nodes]) => ({ services, endpointSlices, nodes }))
      : { services: [], endpointSlices: [], nodes: [] as Node[] };
    if (source) checkNamespace(objects.services, flags.namespace, source.description);
    const view: ProxyView = buildProxyView(objects, config.config, source?.description ?? 'no objects');
    if (!quiet && source && view.nodeDefaulted && objects.nodes.length > 1) warn(`no --node given: tracing on node ${view.nodeName} (node-local policies differ per node).`);

    // The rules: a dump, the live rules, or rendered by the engine.
    let states: FamilyState[];
    let rulesDescription: string;
    if (dump) {
      states = dumpStates(def, dump);
      rulesDescription = dump.source;
    } else if (flags.actual) {
      const live = await readNodeStates(def, source, view.nodeName, view.families.map((f) => f.family));
      states = live.states;
      rulesDescription = `live, ${live.description}`;
    } else {
      states = def.render(view, config.config, { kubeProxyVersion: flags['kube-proxy-version'], ...(flags['service-cidr'] ? { serviceCIDRs: flags['service-cidr'] } : {}) });
      rulesDescription = `rendered from ${source!.description}`;
    }

    // The target: a service port's cluster IP, or an address.
    const targets = objects.services.length ? targetsFromState(view.families.map((f) => f.state)) : targetsFromSummaries(states.flatMap((s) => def.summarize(s)));
    if (dump && !objects.services.length && targets.length === 0 && !ADDRESS_TARGET.test(args.target)) {
      throw new InputError(`${dump.source} names no Services (${def.mode} mode's dumps carry no Service names); trace the address as IP:PORT, or give -f with the Service objects.`);
    }
    // -A: the Service's namespace is wherever its name is, as long as that is one namespace.
    if (flags['all-namespaces'] && args.target.startsWith('svc/')) namespace = namespaceOfService(args.target.slice(4), objects.services, targets, source?.description ?? dump!.source);
    if (!ADDRESS_TARGET.test(args.target)) {
      const bare = args.target.replace(/^svc\//, '');
      const [ns, name] = bare.includes('/') ? bare.split('/') : [namespace ?? 'default', bare];
      const ignored = ignoredServiceSentence(objects.services, ns!, name!);
      if (ignored) throw new ProxymodeError(ignored, ExitCode.PROBLEM);
    }
    if (flags['ip-family']) pickFamilies([{ family: 'IPv4' }, { family: 'IPv6' }], flags['ip-family'], view.nodeName);
    const familyTargets = flags['ip-family'] ? targets.filter((t) => t.ip.includes(':') === (flags['ip-family'] === 'IPv6')) : targets;
    const { dst, dport, protocol, label } = resolveTarget(args.target, { ...flags, namespace }, protocolFlag, familyTargets, source?.description ?? dump!.source);
    const family = dst.includes(':') ? 'IPv6' : 'IPv4';
    const fam = view.families.find((f) => f.family === family);
    const nodeIPList = [...(fam?.nodeIPs ?? []), ...(fam || !flags['node-ip'] ? [] : flags['node-ip'].split(',').map((s) => s.trim()).filter((s) => normalizeIP(s)?.family === family))];
    const podCIDRs = fam?.podCIDRs ?? [];
    const ctx: NodeContext = {
      nodeName: view.nodeName || undefined,
      localAddresses: nodeIPList.length ? nodeIPList : undefined,
      podCIDRs,
    };
    const clusterCIDR = (config.config.clusterCIDR ?? '').split(',').map((c) => c.trim()).find((c) => parseCIDRSloppy(c)?.family === family) ?? states.map((s) => def.localTrafficCIDR?.(s)).find(Boolean);
    const from = resolveFrom(flags.from, { family, view, nodeIPs: nodeIPList, podCIDRs, clusterCIDR, endpointSlices: objects.endpointSlices, nodes: objects.nodes, namespace: flags.namespace });

    const packet: Packet = { src: from.ip, dst, dport, protocol, entry: from.entry };
    const traced = def.tracer(states, { rendered: !dump && !flags.actual }).trace(packet, ctx);
    // Why each hop is there: from the rendered view (rules read from a node or a dump are matched to it).
    const rendered = !dump && !flags.actual ? states : def.render(view, config.config, { kubeProxyVersion: flags['kube-proxy-version'], live: states });
    const whyInput = { view, config: config.config, place: config, services: objects.services, endpointSlices: objects.endpointSlices };
    const why = provenance(def, rendered, whyInput);
    const absent = why ? nodePortNotHere(whyInput, packet, traced.verdict) : undefined;
    const result = { ...traced, hops: [...becauseOfHops(why, traced.hops, packet), ...(absent ? [absent] : [])] };

    const podNames = podNamesByIP(objects.endpointSlices);
    return { result, label, from, view, protocol, rulesDescription, podNames };
  }
}

type TraceFlags = Interfaces.InferredFlags<typeof Trace.flags>;
type Traced = Awaited<ReturnType<Trace['traceOnce']>>;

/** -A: the one namespace holding a Service called `name`; none or several is one sentence. */
function namespaceOfService(name: string, services: Service[], targets: ServicePortTarget[], searched: string): string {
  const names = [...services.map((s) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`), ...targets.map((t) => t.service)];
  const found = [...new Set(names.filter((n) => n.endsWith(`/${name}`)))].sort();
  if (found.length === 1) return found[0]!.split('/')[0]!;
  if (found.length > 1) throw new InputError(`service "${name}" exists in ${found.length} namespaces (${found.join(', ')}); name one with -n NAMESPACE or NAMESPACE/NAME.`);
  const close = closeNames(name, new Set(names.map((n) => n.split('/')[1]!)));
  throw new InputError(`service "${name}" not found in any namespace (searched ${searched})${close.length ? `; did you mean ${close.join(', ')}?` : '; check the name.'}`);
}

/** The mode of a dump; --mode, when given, must agree with it. */
function dumpMode(dump: Dump, flagMode: string | undefined): ProxyModeDefinition<FamilyState> {
  const def = modeOfDump(dump);
  if (flagMode && flagMode !== def.mode) throw new InputError(`--mode ${flagMode} does not match ${dump.source}, which holds ${def.mode} mode's rules; leave --mode out.`);
  return def;
}
