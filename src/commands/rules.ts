import { Args, Flags } from '@oclif/core';
import { InputError } from '../core/errors.js';
import { engineFor, type LiveReader, type ModeEngine, type TextOutput } from '../core/modes.js';
import { closeNames } from '../core/suggest.js';
import { buildProxyView } from '../core/proxy-view.js';
import type { IPFamily } from '../core/iptables/types.js';
import { hostRulesReader } from '../kube/live-rules.js';
import { readText } from '../kube/files.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { ApiSource, openSource } from '../kube/source.js';
import { makeColor } from '../ui/color.js';
import { colourDiff, unifiedDiff } from '../ui/diff.js';
import { formatData, warn, writeOut } from '../ui/print.js';
import { renderDrift, renderServiceRules } from '../ui/rules-view.js';
import { renderTable } from '../ui/table.js';
import { ProxymodeCommand } from './base.js';
import { outputFlag, proxyConfigFlags, sourceFlags } from './flags.js';
import { checkMode } from './not-built.js';

export default class Rules extends ProxymodeCommand {
  static override summary = 'Show the rules a node should have for a proxy mode, the rules it has, and the difference.';
  static override description =
    'Renders the rules kube-proxy would write on a node (--node; node-local policies differ per node) from the cluster or -f objects. --actual reads the node\'s live rules (in its kube-proxy pod, or on this host with -f), --rules reads a saved iptables-save dump, and --diff compares them per service (exit 1 on drift).';
  static override args = { service: Args.string({ ignoreStdin: true, description: 'Only this Service: NAME (with -n), NAMESPACE/NAME, or NAMESPACE/NAME:PORT.' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    output: outputFlag(['restore', 'nft', 'ipvsadm']),
    actual: Flags.boolean({ description: 'Show the node\'s live rules instead of rendering them.' }),
    diff: Flags.boolean({ description: 'Compare rendered and live rules; exit 1 on drift.' }),
    rules: Flags.string({ description: 'A saved dump to use as the live rules: iptables-save output; for mode ipvs, `ipvsadm -Sn` and `ipset save` output (with iptables-save output) in one file.' }),
  };
  static override examples = [
    '<%= config.bin %> rules -f examples/ --mode iptables --node worker-1',
    '<%= config.bin %> rules shop/web -f examples/ --mode iptables -o restore',
    '<%= config.bin %> rules --diff --node worker-1',
    '<%= config.bin %> rules -f examples/ --mode ipvs --node worker-1 -o ipvsadm',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rules);
    checkMode(flags.mode);
    const source = openSource(flags);
    const config = await loadProxyConfig(source, flags.config, overridesFromFlags(flags));
    const engine = engineFor(config.effectiveMode, '`kubectl proxymode rules`');
    const textOutputs: readonly string[] = engine.textOutputs;
    if (['restore', 'nft', 'ipvsadm'].includes(flags.output) && !textOutputs.includes(flags.output)) {
      const owner = flags.output === 'nft' ? 'nftables' : flags.output === 'ipvsadm' ? 'ipvs' : 'iptables and ipvs';
      throw new InputError(`-o ${flags.output} is for mode ${owner}; this is mode ${engine.mode}: use ${textOutputs.map((o) => `-o ${o}`).join(' or ')}.`);
    }
    const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
    const view = buildProxyView({ services, endpointSlices, nodes }, config.config, source.description);
    if (view.nodeDefaulted && nodes.length > 1) warn(`no --node given: showing node ${view.nodeName}'s view (node-local policies differ per node).`);
    const prefix = args.service ? servicePrefix(args.service, flags.namespace) : flags.namespace;
    const color = makeColor({ noColor: flags['no-color'] });

    // A saved dump holds one family's rules: compare it with the node's primary family only.
    const families = flags.rules ? view.families.slice(0, 1) : view.families;
    const expected = engine.render({ ...view, families }, config.config);
    const live = flags.actual || flags.diff || flags.rules ? await this.liveRulesets(engine, families.map((f) => f.family), source, view.nodeName, flags.rules) : undefined;
    if (live && engine.annotate) live.rulesets = live.rulesets.map((r, i) => (expected[i] ? engine.annotate!(r, expected[i]) : r));
    type R = { family: IPFamily };
    const narrow = (rs: R[]) => (prefix ? rs.map((r) => engine.narrow(r, prefix)) : rs);
    const header = `Source: ${source.description} · node ${view.nodeName || '<none>'} · mode ${engine.mode} · ${config.source}`;

    if (flags.diff) {
      if (!live) throw new InputError('--diff needs live rules: use it with the cluster, --rules FILE, or on this host.');
      const exp = narrow(expected);
      const act = narrow(live.rulesets);
      const drift = exp.flatMap((rs, i) => engine.drift(rs, act[i]).map((d) => ({ family: rs.family, ...d })));
      const diffText = exp
        .map((rs, i) => unifiedDiff(engine.canonicalLines(rs), engine.canonicalLines(act[i]), [`expected (${rs.family})`, `${live.description} (${rs.family})`]))
        .filter((d) => d.includes('@@'))
        .join('\n');
      if (flags.output === 'json' || flags.output === 'yaml') writeOut(formatData(flags.output, { source: source.description, node: view.nodeName, mode: engine.mode, live: live.description, inSync: drift.length === 0, drift, diff: diffText }));
      else writeOut([`${header}\nLive: ${live.description}`, '', renderDrift(drift, color), ...(diffText ? ['', colourDiff(diffText, color)] : [])].join('\n'));
      if (drift.length) process.exitCode = 1;
      return;
    }

    // Narrowed to one service, a family the service has no rules in is left out.
    const shown = narrow(live ? live.rulesets : expected).filter((rs) => !prefix || engine.servicePorts(rs).length > 0);
    if (prefix && shown.length === 0) {
      const close = closeNames(prefix, expected.flatMap((rs) => engine.servicePorts(rs).map((s) => s.split(':')[0])));
      throw new InputError(`no rules for service ${prefix} in ${live ? live.description : source.description}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; check the name and namespace.`);
    }
    switch (flags.output) {
      case 'restore':
      case 'nft':
      case 'ipvsadm':
        writeOut(engine.text(flags.output as TextOutput, shown));
        break;
      case 'json':
      case 'yaml':
        writeOut(formatData(flags.output, { source: live ? live.description : source.description, node: view.nodeName, mode: engine.mode, rulesets: shown }));
        break;
      default: {
        const parts = [live ? `${header}\nLive: ${live.description}` : header];
        for (const rs of shown) {
          if (shown.length > 1) parts.push('', rs.family);
          if (engine.summarize) parts.push('', renderServiceRules(engine.summarize(rs), { wide: flags.output === 'wide', color }));
          else if (engine.table) {
            const t = engine.table([rs], flags.output === 'wide');
            parts.push('', t.rows.length ? renderTable(t.headers, t.rows) : 'No virtual servers.');
          }
        }
        writeOut(parts.join('\n'));
      }
    }
  }

  private async liveRulesets(
    engine: ModeEngine<any>,
    families: IPFamily[],
    source: ReturnType<typeof openSource>,
    node: string,
    dump: string | undefined,
  ): Promise<{ description: string; rulesets: Array<{ family: IPFamily }> }> {
    if (dump) {
      const text = readText(dump);
      return { description: `dump ${dump}`, rulesets: families.map((f) => engine.parseDump(text, f, dump)) };
    }
    const reader: LiveReader = source instanceof ApiSource ? await source.liveRules(node) : await hostRulesReader();
    const rulesets = await Promise.all(families.map((f) => engine.readLive(reader, f)));
    return { description: reader.description, rulesets };
  }
}

/** "web" (with -n), "shop/web", "shop/web:http" → the prefix kube-proxy's comments start with. */
function servicePrefix(arg: string, namespace: string | undefined): string {
  const name = arg.replace(/^(svc|service|services)\//, '');
  if (name.includes('/')) return name;
  return `${namespace ?? 'default'}/${name}`;
}
