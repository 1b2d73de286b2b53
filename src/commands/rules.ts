import { Args, Flags } from '@oclif/core';
import { InputError, ProxymodeError, ExitCode } from '../core/errors.js';
import { compareStates } from '../core/modes/compare.js';
import { dumpStates, modeFor, modeOfDump, textFormats } from '../core/modes/registry.js';
import type { Dump, FamilyState, IPFamily, ProxyModeDefinition } from '../core/modes/types.js';
import { ignoredServiceSentence } from '../core/model/skip.js';
import { closeNames } from '../core/suggest.js';
import { buildProxyView } from '../core/proxy-view.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { NO_OBJECTS } from '../kube/no-objects.js';
import { readDumpFile, readNodeStates } from '../kube/node-rules.js';
import { checkNamespace, defaultNamespace, openSource } from '../kube/source.js';
import { withWhatIf } from '../kube/whatif-source.js';
import { makeColor } from '../ui/color.js';
import { colourDiff, unifiedDiff } from '../ui/diff.js';
import { formatData, OUTPUT_FORMATS, warn, writeOut } from '../ui/print.js';
import { renderDrift, renderServiceRules } from '../ui/rules-view.js';
import { provenance, servicePortReasonText } from '../core/why/index.js';
import { ProxymodeCommand } from './base.js';
import { ipFamilyFlag, iptablesVersionFlag, kubeProxyVersionFlag, pickFamilies, proxyConfigFlags, serviceCIDRFlag, sourceFlags, whatIfFlags } from './flags.js';

const formatHelp = () => [...textFormats()].map(([f, modes]) => `${f} (${modes.join(', ')})`).join(', ');

export default class Rules extends ProxymodeCommand {
  static override summary = 'Show the rules a node should have for a proxy mode, the rules it has, and the difference.';
  static override description =
    'Renders the rules kube-proxy would write on a node (--node; node-local policies differ per node) from the cluster or -f objects. --actual reads the node\'s live rules (in its kube-proxy pod, or on this host with -f), --rules reads a saved dump (no cluster needed to show it), and --diff compares them per service (exit 1 on drift).';
  static override args = { service: Args.string({ ignoreStdin: true, description: 'Only this Service: NAME (with -n), NAMESPACE/NAME, or NAMESPACE/NAME:PORT.' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    ...whatIfFlags,
    output: Flags.string({ char: 'o', default: 'human', description: `Output format: ${OUTPUT_FORMATS.join(', ')}, or the mode's own text: ${formatHelp()}.` }),
    'ip-family': ipFamilyFlag,
    'kube-proxy-version': kubeProxyVersionFlag,
    'iptables-version': iptablesVersionFlag,
    'service-cidr': serviceCIDRFlag,
    actual: Flags.boolean({ description: 'Show the node\'s live rules instead of rendering them.' }),
    diff: Flags.boolean({ description: 'Compare rendered and live rules; exit 1 on drift.' }),
    rules: Flags.string({ description: 'A saved dump to use as the live rules: iptables-save (and ip6tables-save) output; for ipvs, ipvsadm -Sn or -Ln with ipset save or list and iptables-save, in any order in one file.' }),
  };
  static override examples = [
    '<%= config.bin %> rules -f examples/ --mode iptables --node worker-1',
    '<%= config.bin %> rules shop/web -f examples/ --mode iptables -o restore',
    '<%= config.bin %> rules --diff --node worker-1',
    '<%= config.bin %> rules -f examples/ --mode ipvs --node worker-1 -o ipvsadm',
    '<%= config.bin %> rules shop/web -f examples/ --mode iptables --set svc/web:spec.sessionAffinity=ClientIP -o restore   # what if',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rules);
    const dump = flags.rules ? readDumpFile(flags.rules) : undefined;
    // A dump on its own is shown without reading anything else; comparing it needs the objects.
    const read = dump && !flags.filename?.length && !flags.diff ? NO_OBJECTS : openSource(flags);
    // What if: rules rendered from the edited objects (compared with the live ones by --diff).
    const whatIf = await withWhatIf(read === NO_OBJECTS ? undefined : read, flags, { namespace: defaultNamespace(flags), namespaceExplicit: Boolean(flags.namespace), configFile: flags.config });
    if (whatIf && (flags.actual || dump) && !flags.diff) throw new InputError(`${whatIf.applied[0]!.flag}: what-if edits change the rules rendered from objects, and ${dump ? `--rules ${flags.rules}` : '--actual'} shows rules already written; add --diff to compare them with the edited rendering.`);
    const source = whatIf?.source ?? read;
    const edits = whatIf ? { edits: whatIf.applied } : {};
    const config = await loadProxyConfig(source, flags.config, overridesFromFlags(flags));
    const def = pickMode(dump, flags.mode, config.effectiveMode, flags.diff, config.source);
    checkOutput(flags.output, def);

    const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
    checkNamespace(services, flags.namespace, source.description);
    const whole = buildProxyView({ services, endpointSlices, nodes }, config.config, source.description);
    const view = {
      ...whole,
      families: dump && !flags.filename?.length ? whole.families : pickFamilies(whole.families, flags['ip-family'], whole.nodeName),
      // --ip-family keeps only that family of the ones kube-proxy runs without a node address too
      otherFamilies: whole.otherFamilies?.filter((f) => !flags['ip-family'] || f.family === flags['ip-family']),
    };
    if (view.nodeDefaulted && nodes.length > 1) warn(`no --node given: showing node ${view.nodeName}'s view (node-local policies differ per node).`);
    const prefix = args.service ? servicePrefix(args.service, defaultNamespace(flags)) : flags.namespace;
    const color = makeColor({ noColor: flags['no-color'] });

    const families = view.families.map((f) => f.family);
    const live = dump
      ? { description: dump.source, states: dumpStates(def, dump).filter((s) => !flags['ip-family'] || s.family === flags['ip-family']) }
      : flags.actual || flags.diff
        ? await readNodeStates(def, source, view.nodeName, families)
        : undefined;
    // Rendered for the version asked, else the node's running kube-proxy, else the newest (said once on stderr
    // when comparing with a dump); for the iptables asked, else the one the live rules show (iptables-save's
    // header, else `iptables --version` on the node); both named on the header line.
    const notes: string[] = [];
    let assumedVersion: string | undefined;
    let assumedHost = false; // a host setting the rendering could not read (nftables 1.29: be_liberal): said even offline
    // the node's running kube-proxy, when the live rules were read from it and no version was given
    const running = flags['kube-proxy-version'] ? undefined : live && 'kubeProxyVersion' in live ? live.kubeProxyVersion : undefined;
    const renderWith = (kubeProxyVersion: string | undefined) =>
      def.render(view, config.config, {
        kubeProxyVersion,
        ...(flags['service-cidr'] ? { serviceCIDRs: flags['service-cidr'] } : {}),
        otherFamilies: true,
        ...(flags['iptables-version'] ? { iptablesVersion: flags['iptables-version'] } : {}),
        ...(live && 'iptablesVersion' in live && live.iptablesVersion ? { nodeIptablesVersion: live.iptablesVersion } : {}),
        ...(live ? { live: live.states } : {}),
        note: (kind, text, assumed) => {
          notes.push(kind === 'version' && running && kubeProxyVersion === running.version ? `${text} (node's, from its ${running.from})` : text);
          if (assumed && kind === 'version') assumedVersion = text.replace(/ \(.*$/, '');
          if (assumed && kind === 'host') assumedHost = true;
        },
      });
    let expected: FamilyState[];
    try {
      expected = renderWith(flags['kube-proxy-version'] ?? running?.version);
    } catch (e) {
      // a running version this tool does not model: said, and the newest rendered instead
      if (!(running && e instanceof InputError)) throw e;
      warn(`${live!.description} runs kube-proxy ${running.version}: ${e.message.replace(/\.$/, '')}; comparing with the newest known instead.`);
      notes.length = 0;
      assumedHost = false;
      expected = renderWith(undefined);
    }
    if (live && def.annotate) {
      live.states = live.states.map((s) => {
        const e = expected.find((x) => x.family === s.family);
        return e ? def.annotate!(s, e) : s;
      });
    }
    // Why each rendered rule is there; rules read from a node or a dump are matched to these.
    const why = flags.diff || ['wide', 'json', 'yaml'].includes(flags.output) ? provenance(def, expected, { view, config: config.config, place: config, services, endpointSlices }) : undefined;
    const narrow = <S extends FamilyState>(ss: S[]) => (prefix ? ss.map((s) => def.narrow(s, prefix)) : ss);
    const header = `Source: ${source.description} · node ${view.nodeName || '<none>'} · mode ${def.mode} · ${config.source}${(live || assumedHost) && notes.length ? ` · ${notes.join(' · ')}` : ''}`;

    if (flags.diff) {
      if (!live) throw new InputError('--diff needs live rules: use it with the cluster, --rules FILE, or on this host.');
      const cmp = compareStates(def, narrow(expected), narrow(live.states), families, why);
      for (const f of cmp.missingLive) warn(`${live.description} holds no ${f} rules: ${f} was not compared.`);
      for (const f of cmp.unexpectedLive) warn(`${live.description} holds ${f} rules, but node ${view.nodeName || '<none>'} has no ${f} address: ${f} was not compared.`);
      const drift = cmp.drift;
      const diffText = cmp.pairs
        .map((p) => unifiedDiff(p.expected, p.live, [`expected (${p.family})`, `${live.description} (${p.family})`]))
        .filter((d) => d.includes('@@'))
        .join('\n');
      if (flags.output === 'json' || flags.output === 'yaml') writeOut(formatData(flags.output, { source: source.description, node: view.nodeName, mode: def.mode, live: live.description, inSync: drift.length === 0, drift, diff: diffText, ...edits }));
      else writeOut([`${header}\nLive: ${live.description}`, '', renderDrift(drift, color), ...(diffText ? ['', colourDiff(diffText, color)] : [])].join('\n'));
      // drift found against a dump with no version given: the version taken may be why, said once
      if (drift.length && dump && assumedVersion) warn(`no --kube-proxy-version: compared ${dump.source} with the rules of ${assumedVersion}, the newest known; pass the node's version if it is older.`);
      if (drift.length) process.exitCode = 1;
      return;
    }

    // Narrowed to one service, a family the service has no rules in is left out; so is a family a dump lacks.
    const shown = narrow(live ? live.states : expected).filter((s) => !prefix || def.summarize(s).length > 0);
    if (prefix && shown.length === 0 && args.service) {
      const [namespace, name] = prefix.replace(/:[^/]*$/, '').split('/');
      const ignored = ignoredServiceSentence(services, namespace!, name!);
      if (ignored) {
        writeOut(ignored);
        return;
      }
    }
    if (prefix && shown.length === 0) {
      const close = closeNames(prefix, expected.flatMap((s) => def.summarize(s).map((x) => x.servicePort.split(':')[0]!)));
      throw new InputError(`no rules for service ${prefix} in ${live ? live.description : source.description}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; check the name and namespace.`);
    }
    const format = def.formats[flags.output];
    if (format) writeOut(format.write(shown));
    else if (flags.output === 'json' || flags.output === 'yaml') {
      // the rendered rules carry their reasons (rules read from a node are matched to them by trace and --diff)
      const reasons = !live && why ? why.items.filter((i) => !prefix || i.servicePort?.startsWith(prefix)) : undefined;
      writeOut(formatData(flags.output, { source: live ? live.description : source.description, node: view.nodeName, mode: def.mode, rulesets: shown, ...edits, ...(reasons ? { why: reasons } : {}) }));
    } else {
      const parts = [live ? `${header}\nLive: ${live.description}` : header];
      for (const s of shown) {
        if (shown.length > 1) parts.push('', s.family);
        parts.push('', renderServiceRules(def.summarize(s), { wide: flags.output === 'wide', color, ...(why ? { reasons: (sp: string) => servicePortReasonText(why, sp) } : {}) }));
      }
      writeOut(parts.join('\n'));
    }
  }
}

/**
 * The mode to show or compare: --mode, else a dump's own mode, else the configured one. Comparing a dump of
 * another mode than the configured one would list every rule as drift: that is one finding, said once.
 */
function pickMode(dump: Dump | undefined, flagMode: string | undefined, configured: string, diff: boolean, configSource: string): ProxyModeDefinition<FamilyState> {
  const what = '`kubectl proxymode rules`';
  if (!dump) return modeFor(configured, what);
  const dumped = modeOfDump(dump);
  if (flagMode) {
    const def = modeFor(flagMode, what);
    if (def !== dumped) throw new InputError(`--mode ${flagMode} does not match ${dump.source}, which holds ${dumped.mode} mode's rules; leave --mode out or give ${/^[aeiou]/.test(flagMode) ? 'an' : 'a'} ${flagMode} dump.`);
    return def;
  }
  if (diff && dumped.mode !== configured) {
    throw new ProxymodeError(`${dump.source} holds ${dumped.mode} mode's rules, but kube-proxy is configured for ${configured} (${configSource}): the node does not run its configured mode; pass --mode ${dumped.mode} to compare within ${dumped.mode}.`, ExitCode.PROBLEM);
  }
  return dumped;
}

function checkOutput(output: string, def: ProxyModeDefinition<FamilyState>): void {
  if ((OUTPUT_FORMATS as readonly string[]).includes(output) || def.formats[output]) return;
  const own = Object.keys(def.formats).map((o) => `-o ${o}`);
  const owners = textFormats().get(output);
  const why = owners ? `-o ${output} is for mode ${owners.join(' and ')}; this is mode ${def.mode}` : `-o ${output} is not an output format`;
  throw new InputError(`${why}: use ${[...OUTPUT_FORMATS.map((o) => `-o ${o}`), ...own].join(', ')}.`);
}

/** "web" (with -n), "shop/web", "shop/web:http" → the prefix kube-proxy's comments start with. */
function servicePrefix(arg: string, namespace: string | undefined): string {
  const name = arg.replace(/^(svc|service|services)\//, '');
  if (name.includes('/')) return name;
  return `${namespace ?? 'default'}/${name}`;
}

