import { Args, Flags } from '@oclif/core';
import { buildModeReport } from '../core/report/mode.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { openSource } from '../kube/source.js';
import { makeColor } from '../ui/color.js';
import { renderModeReport } from '../ui/mode-view.js';
import { Progress } from '../ui/progress.js';
import { formatData, writeOut } from '../ui/print.js';
import { ProxymodeCommand } from './base.js';
import { outputFlag, proxyConfigFlags, sourceFlags } from './flags.js';

export default class Mode extends ProxymodeCommand {
  static override summary = 'Show which proxy mode every node runs, beside what is configured.';
  static override description =
    'Reads kube-proxy\'s configuration (the kube-proxy ConfigMap, or --config) and the Nodes, and shows per node the configured mode, the running mode, the IPVS scheduler and the kube-proxy version. With -f it works offline on saved objects.';
  static override aliases = ['get'];
  static override strict = false;
  static override args = { node: Args.string({ ignoreStdin: true, description: 'Only these nodes.' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    output: outputFlag(),
    check: Flags.boolean({ description: 'Exit 1 when any node runs another mode than configured.' }),
  };
  static override examples = [
    '<%= config.bin %> get',
    '<%= config.bin %> get -f examples/',
    '<%= config.bin %> get worker-1 -o json',
  ];

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Mode);
    const source = openSource(flags);
    // Files read in an instant; only the cluster is worth a progress line.
    const progress = new Progress(!flags.filename?.length && process.stderr.isTTY === true);
    progress.update(`reading nodes and kube-proxy's configuration from ${source.description} …`);
    const [config, nodes] = await Promise.all([loadProxyConfig(source, flags.config, overridesFromFlags(flags)), source.nodes()]).finally(() =>
      progress.done(),
    );
    const report = buildModeReport({
      source: source.description,
      nodes,
      config,
      only: argv as string[],
      runningEvidence: flags.filename?.length ? 'saved objects carry no kube-proxy logs or rules' : 'reading kube-proxy logs and rules is not built yet',
    });
    if (flags.output === 'json' || flags.output === 'yaml') writeOut(formatData(flags.output, report));
    else writeOut(renderModeReport(report, { wide: flags.output === 'wide', color: makeColor({ noColor: flags['no-color'] }) }));
    if (flags.check && report.nodes.some((n) => n.running !== null && n.running !== n.configured)) process.exitCode = 1;
  }
}
