import { Args, Flags } from '@oclif/core';
import { buildModeReport, checkPasses, type ModeEvidence } from '../core/report/mode.js';
import { discoverModeEvidence } from '../kube/discovery.js';
import { PROBE_IMAGE, PROBE_NAMESPACE } from '../kube/probe-pod.js';
import { fileModeEvidence } from '../kube/discovery-files.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { ApiSource, openSource } from '../kube/source.js';
import { makeColor } from '../ui/color.js';
import { modeStderrLines, renderModeReport } from '../ui/mode-view.js';
import { Progress } from '../ui/progress.js';
import { writeOut } from '../ui/print.js';
import { ProxymodeCommand } from './base.js';
import { noHeadersFlag, objectOutputFlag, proxyConfigFlags, sourceFlags } from './flags.js';
import { formatObjects, parseObjectOutput } from '../ui/objects-output.js';

export default class Mode extends ProxymodeCommand {
  static override summary = 'Show which proxy mode every node runs, beside what is configured.';
  static override description =
    'Reads kube-proxy\'s configuration (the kube-proxy ConfigMap or kube-proxy-config, the DaemonSet\'s or static pod\'s --proxy-mode, k3s/RKE2 --kube-proxy-arg node annotations, or --config) and, per node, what its kube-proxy pod says it started (its log\'s "Using … Proxier" line, fallbacks and crash loops, restarts, image version). With --probe the node\'s live rules decide. Detects what replaced kube-proxy (Cilium, Calico eBPF, kube-router, Antrea proxyAll, OVN-Kubernetes). With -f it works offline on saved objects, and on logs saved as kube-proxy-logs/<pod>.log (or .txt) beside them.';
  static override aliases = ['get'];
  static override strict = false;
  static override args = { node: Args.string({ ignoreStdin: true, description: 'Only these nodes.' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    output: objectOutputFlag(),
    'no-headers': noHeadersFlag,
    check: Flags.boolean({ description: 'Exit 1 when any node runs another mode than configured (fallback, crash loop or mismatch), when a node\'s running or configured mode could not be read, or when kube-proxy would refuse its configuration; one summary line on stderr says what was checked.' }),
    probe: Flags.boolean({
      description:
        'Read kube-proxy\'s own answer, GET /proxyMode on its metrics address (127.0.0.1:10249), through a short-lived hostNetwork probe pod per node (always deleted, also on Ctrl-C or SIGTERM, which then exit 130 or 143; needs "create", "get", "delete" on "pods" and "get" on "pods/log" in the probe namespace); where that fails, read the node\'s live rules (nft, iptables-save, ipvsadm) by exec in its kube-proxy pod ("create" on "pods/exec").',
    }),
    'probe-image': Flags.string({ description: `The probe pod's image; it needs wget (default ${PROBE_IMAGE}).`, dependsOn: ['probe'] }),
    'probe-namespace': Flags.string({ description: `Where probe pods run; Pod Security admission must allow hostNetwork there (default ${PROBE_NAMESPACE}).`, dependsOn: ['probe'] }),
  };
  static override examples = [
    '<%= config.bin %> get',
    '<%= config.bin %> get -f examples/',
    '<%= config.bin %> get worker-1 -o json',
    '<%= config.bin %> get --check',
    '<%= config.bin %> get -f examples/ -o custom-columns=NODE:.node,RUNNING:.running --no-headers',
    '<%= config.bin %> get -f examples/ -o jsonpath=\'{range .nodes[*]}{.node}{"\\t"}{.running}{"\\n"}{end}\'',
  ];

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Mode);
    const only = argv as string[];
    const output = parseObjectOutput(flags.output);
    const offline = !!flags.filename?.length;
    const source = openSource(flags);
    // Files read in an instant; only the cluster is worth a progress line.
    const progress = new Progress(!offline && process.stderr.isTTY === true);
    progress.update(`reading nodes and kube-proxy's configuration from ${source.description} …`);
    let evidence: ModeEvidence | undefined;
    let runningEvidence: string | undefined;
    try {
      // A configuration kube-proxy refuses is a finding here, not a reason to stop; one that cannot be read is unknown.
      const configOpts = { refuse: false, tolerateUnreadable: true, needs: offline ? (['ConfigMap', 'Node'] as const) : [] };
      const [config, nodes] = await Promise.all([loadProxyConfig(source, flags.config, overridesFromFlags(flags), configOpts), source.nodes()]);
      if (offline) {
        evidence = fileModeEvidence(flags.filename!, await source.others(), await source.proxyConfigMaps());
        if (!evidence.pods.length && !evidence.replacement && !evidence.daemonSetCommand) {
          evidence = undefined;
          runningEvidence = 'the saved objects hold no kube-proxy Pods (save them with kubectl -n kube-system get pods -l k8s-app=kube-proxy -o yaml, and their logs as kube-proxy-logs/<pod>.log)';
        }
      } else {
        const client = (source as ApiSource).kubeClient;
        progress.update('listing kube-proxy pods and what may replace kube-proxy …');
        evidence = await discoverModeEvidence(client, {
          nodes: only,
          probe: flags.probe,
          probeNodes: only.length ? only : nodes.map((n) => n.metadata?.name ?? '').filter(Boolean),
          probePod: { image: flags['probe-image'], namespace: flags['probe-namespace'], metricsBindAddress: config.config.metricsBindAddress },
          onProgress: (t, lasting) => (lasting ? progress.say(t) : progress.update(t)),
        });
        if (evidence.unavailable) runningEvidence = evidence.unavailable;
      }
      progress.done();
      const report = buildModeReport({ source: source.description, nodes, config, only, evidence, runningEvidence, modeOverridden: !!flags.mode, configLookedIn: offline ? 'among the files' : 'in the cluster' });
      const items = report.nodes.map((n) => ({ kind: 'node', name: n.node, value: n }));
      const machine = formatObjects(output, report, items, flags['no-headers']);
      if (machine !== undefined) writeOut(machine);
      else writeOut(renderModeReport(report, { wide: flags.output === 'wide', color: makeColor({ noColor: flags['no-color'] }), noHeaders: flags['no-headers'] }));
      for (const line of modeStderrLines(report, { check: flags.check })) process.stderr.write(`${line}\n`);
      if (flags.check && !checkPasses(report)) process.exitCode = 1;
    } finally {
      progress.done();
    }
  }
}
