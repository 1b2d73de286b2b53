import { createInterface } from 'node:readline/promises';
import { Args, Flags } from '@oclif/core';
import { PROXY_MODES } from '../core/config/index.js';
import { ExitCode, InputError, ProxymodeError } from '../core/errors.js';
import { planSetMode, type SetModePlan } from '../core/setmode/plan.js';
import { ipvsModules, schedulerProblem } from '../core/setmode/preflight.js';
import { renderPlan } from '../core/setmode/render.js';
import { parseTimeoutFlag } from '../kube/duration.js';
import { loadProxyConfig } from '../kube/proxy-config.js';
import { applyPlan, checkPermissions, gather, rollBackTo, type ApplyResult } from '../kube/set-mode.js';
import { defaultBackupDir, latestBackup } from '../kube/set-mode-api.js';
import { ApiSource, openSource } from '../kube/source.js';
import { cleanupLeftovers, listLeftovers, type CleanupResult } from '../kube/set-mode-leftovers.js';
import { SYNC_IMAGE } from '../kube/sync-pod.js';
import { kubeProxyPods } from '../kube/rollout.js';
import { selfCleanup, type NodeLeftovers } from '../core/setmode/leftovers.js';
import { parseVersion } from '../core/setmode/preflight.js';
import { renderLeftovers } from '../core/setmode/render.js';
import type { KubeClient } from '../kube/client.js';
import { formatData, writeOut } from '../ui/print.js';
import { Progress } from '../ui/progress.js';
import { ProxymodeCommand } from './base.js';
import { checkMode } from './check-mode.js';
import { outputFlag, setModeFlags, sourceFlags } from './flags.js';

export default class SetMode extends ProxymodeCommand {
  static override summary = 'Switch the cluster\'s kube-proxy mode safely, and prove it worked.';
  static override description =
    'Finds where the mode lives (as `get` does). Where the API cannot change it (EKS, AKS, GKE, k3s/RKE2, kind, a kube-proxy replacement) it changes nothing and prints what to run (exit 1). Otherwise: a pre-flight per node (kube-proxy version, kernel, IPVS), an equivalence report tracing every service port from a pod, the node and outside through both modes\' rendered rules, and the exact edit; then a backup, the edit of kube-proxy\'s ConfigMap config.conf (only mode and ipvs.scheduler; every other byte kept) or of the DaemonSet\'s --proxy-mode flag, a restart as `kubectl rollout restart` does, and a check that every node\'s new kube-proxy pod started the mode, rolling back when one does not. Exit 0 switched and verified (or nothing to do, or a dry run that would go ahead), 1 not switched (refused by pre-flight, differences without --yes, only changeable outside the API, or a node not verified), 2 bad input, 3 cluster unreachable or refused.';
  static override aliases = ['set'];
  static override usage = [
    'set MODE [--scheduler NAME] [--dry-run] [-y] [--force] [--timeout DURATION] [--no-rollback] [--backup-dir DIR] [-o human|wide|json|yaml] [-f PATH | --kubeconfig PATH --context NAME]',
    'set --rollback [--backup-dir DIR] [--timeout DURATION]',
    'set [MODE] --leftovers [--cleanup] [--image IMAGE]',
  ];
  static override args = { mode: Args.string({ required: false, ignoreStdin: true, description: 'iptables, ipvs, nftables or userspace.' }) };
  static override flags = {
    ...sourceFlags,
    output: outputFlag(),
    ...setModeFlags,
    'no-probe': Flags.boolean({ description: 'Switching to ipvs: do not run a pod per node to look for the IPVS kernel modules before the switch (the pre-flight then only warns).' }),
    leftovers: Flags.boolean({ description: 'List what an earlier mode left on each node (kube-proxy\'s iptables chains the running mode does not write, IPVS virtual servers, kube-ipvs0, ipsets, nft tables), read through its kube-proxy pod, and exit (1 when any are found). A switch lists them by itself once every node is verified.' }),
    cleanup: Flags.boolean({ description: 'Remove those leftovers, node by node, through a short-lived privileged pod of --image that runs exactly the listed removals (after a verified switch, or with --leftovers).' }),
    image: Flags.string({ description: 'The image of the --cleanup pods (this tool\'s Dockerfile).', default: SYNC_IMAGE }),
  };
  static override examples = [
    '<%= config.bin %> set ipvs --scheduler rr --dry-run',
    '<%= config.bin %> set ipvs -f examples/ --dry-run -o json',
    '<%= config.bin %> set nftables --yes --timeout 10m',
    '<%= config.bin %> set --rollback',
    '<%= config.bin %> set --leftovers --cleanup',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SetMode);
    const backupDir = flags['backup-dir'] ?? defaultBackupDir();
    const timeoutMs = parseTimeoutFlag(flags.timeout);
    const json = flags.output === 'json' || flags.output === 'yaml';
    const progress = new Progress(process.stderr.isTTY === true);
    const say = (t: string) => progress.say(t);

    if (flags.rollback) {
      if (args.mode) throw new InputError('--rollback restores the last backup and takes no MODE; leave MODE out.');
      if (flags.filename?.length) throw new InputError('--rollback changes the cluster and cannot work on -f files.');
      const source = openSource(flags) as ApiSource;
      const found = latestBackup(backupDir, source.kubeClient.at.server);
      if (!found) throw new InputError(`no backup of the cluster at ${source.kubeClient.at.server} in ${backupDir}; give --backup-dir where set-mode wrote it.`);
      say(`restoring ${found.file} …`);
      const r = await rollBackTo(source.kubeClient, found.backup, found.backup.kind === 'DaemonSet' ? found.backup.namespace : 'kube-system', found.backup.kind === 'DaemonSet' ? found.backup.name : 'kube-proxy', { timeoutMs, onProgress: say, backupDir });
      progress.done();
      if (json) writeOut(formatData(flags.output as 'json', { rollback: { file: found.file, ...r } }));
      else writeOut(`${r.text[0].toUpperCase()}${r.text.slice(1)}.`);
      if (!r.done) process.exitCode = ExitCode.PROBLEM;
      return;
    }

    if (flags.cleanup && flags['dry-run']) throw new InputError('--cleanup removes rules from the nodes; leave out --dry-run.');
    if (flags.leftovers) {
      if (flags.filename?.length) throw new InputError('--leftovers reads the nodes\' rules and cannot work on -f files.');
      if (args.mode) checkMode(args.mode, 'MODE');
      return this.leftoversOnly(args.mode, flags, progress);
    }
    if (!args.mode) throw new InputError(`set-mode needs a MODE: one of ${PROXY_MODES.join(', ')} (or --rollback).`);
    checkMode(args.mode, 'MODE');
    const schedulerWrong = flags.scheduler === undefined ? undefined : schedulerProblem(args.mode, flags.scheduler);
    if (schedulerWrong) throw new InputError(schedulerWrong);
    const offline = !!flags.filename?.length;
    if (offline && flags.cleanup) throw new InputError('--cleanup removes rules from the nodes and cannot work on -f files.');
    if (offline && !flags['dry-run']) throw new InputError('with -f there is no cluster to change; add --dry-run to see the plan for the saved objects.');

    const source = openSource(flags);
    progress.update(`reading nodes and kube-proxy's configuration from ${source.description} …`);
    let plan: SetModePlan;
    let nftGate: boolean | undefined;
    try {
      const config = await loadProxyConfig(source, undefined, {}, { refuse: false, needs: ['ConfigMap', 'Node', 'Service', 'EndpointSlice'] });
      nftGate = config.config.featureGates?.NFTablesProxyMode;
      const probe = args.mode === 'ipvs' && !flags['no-probe'] ? { modules: ipvsModules(flags.scheduler || config.config.ipvs?.scheduler || 'rr') } : undefined;
      const g = await gather(source, config, flags.filename, (t) => progress.update(t), probe);
      progress.update('tracing every service port through both modes\' rules …');
      plan = planSetMode({ source: source.description, mode: args.mode, scheduler: flags.scheduler, config, ...g });
    } finally {
      progress.done();
    }

    const show = (result?: ApplyResult | null, outcome?: string) => {
      if (json) writeOut(formatData(flags.output as 'json', { ...plan, dryRun: !!flags['dry-run'], outcome: outcome ?? null, result: result ?? null }));
    };
    if (!json) writeOut(renderPlan(plan, { verbose: flags.output === 'wide' }));

    if (plan.where.kind === 'manual') {
      show(null, 'not changed: only changeable outside the API');
      process.stderr.write(`${plan.where.distribution === 'unknown' ? 'kube-proxy\'s mode' : `On ${plan.where.distribution}, kube-proxy's mode`} cannot be changed through the API; nothing was changed — run the commands above.\n`);
      process.exitCode = ExitCode.PROBLEM;
      return;
    }
    if (plan.already) {
      show(null, 'nothing to do');
      process.stderr.write(`kube-proxy is already configured for ${args.mode} and every node that says runs it; nothing to do${flags.cleanup && !json ? ' but remove what an earlier mode left' : ''}.\n`);
      // --cleanup still removes what an earlier switch left behind
      if (flags.cleanup && !json && source instanceof ApiSource) return this.leftoversOnly(args.mode, flags, progress);
      return;
    }
    if (plan.preflight.failed && !flags.force) {
      show(null, 'refused by pre-flight');
      const failing = plan.preflight.nodes.filter((n) => n.level === 'fail').map((n) => n.node);
      process.stderr.write(`pre-flight refused ${args.mode} on ${failing.length ? failing.join(', ') : 'the cluster'}; nothing was changed — fix what it names, or add --force to switch anyway.\n`);
      process.exitCode = ExitCode.PROBLEM;
      return;
    }
    if (flags['dry-run']) {
      show(null, 'dry run: nothing written');
      process.stderr.write(`dry run: nothing was written.${!plan.equivalence.equivalent ? ' The switch would need --yes (the modes differ or are unproven).' : ''}\n`);
      return;
    }
    if (!plan.equivalence.equivalent && !flags.yes) {
      const ok = process.stdin.isTTY === true && process.stderr.isTTY === true && !json ? await confirm(`switch to ${args.mode} although the modes ${plan.equivalence.available ? 'treat some packets differently' : 'could not be compared'}? [y/N] `) : false;
      if (!ok) {
        show(null, 'not changed: needs --yes');
        process.stderr.write(`the switch to ${args.mode} changes how some packets are handled (${plan.equivalence.available ? 'see EQUIVALENCE' : 'unproven'}); nothing was changed — add --yes to switch anyway.\n`);
        process.exitCode = ExitCode.PROBLEM;
        return;
      }
    }

    const client = (source as ApiSource).kubeClient;
    await checkPermissions(client, plan.where);
    let interruptedState: string | null = null;
    const onSignal = () => {
      if (interruptedState) process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}interrupted during the switch: ${interruptedState}\n`);
    };
    process.prependListener('SIGINT', onSignal);
    process.prependListener('SIGTERM', onSignal);
    let result: ApplyResult;
    try {
      result = await applyPlan(client, plan, { backupDir, timeoutMs, rollback: !flags['no-rollback'], onProgress: say, onState: (s) => (interruptedState = s) });
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      progress.done();
    }
    const failed = result.nodes.filter((n) => !n.ok);
    // Once every node runs the new mode, what the old one left is listed (and removed with --cleanup).
    let left: Awaited<ReturnType<SetMode['leftovers']>> | undefined;
    if (result.verified) {
      const minors = plan.preflight.nodes.map((n) => parseVersion(n.kubeProxyVersion)?.minor).filter((m): m is number => m !== undefined);
      // 1.29–1.32 remove nftables leftovers only with the NFTablesProxyMode gate on: the configuration's gate decides
      const note = selfCleanup(plan.current.mode, plan.mode, minors.length ? Math.min(...minors) : undefined, nftGate);
      if (!json) writeOut(verifyText(plan.mode, result));
      left = await this.leftovers(client, result.nodes.map((n) => n.node), plan.mode, flags, progress, note);
    }
    if (json) {
      const outcome = result.verified ? 'switched and verified' : result.rolledBack?.done ? 'rolled back' : 'not verified';
      writeOut(formatData(flags.output as 'json', { ...plan, dryRun: false, outcome, result, leftovers: left?.found ?? null, cleanup: left?.removed ?? null }));
    } else if (!result.verified) writeOut(verifyText(plan.mode, result));
    if (result.verified) {
      process.stderr.write(`switched to ${plan.mode}: ${result.nodes.length} node${result.nodes.length === 1 ? '' : 's'} verified; the previous configuration is in ${result.backup}.\n`);
      return;
    }
    const why = failed.map((n) => `${n.node} (${n.evidence})`).join('; ');
    const after = result.rolledBack ? (result.rolledBack.done ? 'rolled back to the previous configuration' : result.rolledBack.text) : `left as it is (--no-rollback); undo with kubectl proxymode set --rollback --backup-dir ${backupDir}`;
    throw new ProxymodeError(`not every node came up in ${plan.mode} within ${flags.timeout}: ${why}; ${after}.`, ExitCode.PROBLEM);
  }

  /** `set --leftovers [--cleanup]`: no switch, the nodes' leftovers against the running mode. */
  private async leftoversOnly(mode: string | undefined, flags: LeftoverFlags & Record<string, unknown>, progress: Progress): Promise<void> {
    const source = openSource(flags as never);
    if (!(source instanceof ApiSource)) throw new InputError('--leftovers needs a cluster.');
    const client = source.kubeClient;
    progress.update('reading kube-proxy\'s configuration and pods …');
    let running: string;
    let nodes: string[];
    try {
      running = await runningMode(source, mode);
      nodes = [...new Set((await kubeProxyPods(client)).map((p) => p.node))].sort();
    } finally {
      progress.done();
    }
    const l = await this.leftovers(client, nodes, running, flags, progress, undefined, true);
    if (flags.output === 'json' || flags.output === 'yaml') writeOut(formatData(flags.output as 'json', { mode: running, leftovers: l.found, cleanup: l.removed ?? null }));
    const left = l.found.some((n) => n.leftovers.length) && (!l.removed || l.removed.some((r) => r.error || r.steps.some((s) => !s.ok)));
    if (left) process.exitCode = ExitCode.PROBLEM;
  }

  /** Lists each node's leftovers (and removes them with --cleanup); prints the LEFTOVERS section. */
  private async leftovers(client: KubeClient, nodes: string[], mode: string, flags: LeftoverFlags, progress: Progress, note?: string, alone = false): Promise<{ found: NodeLeftovers[]; removed?: CleanupResult[] }> {
    let found: NodeLeftovers[];
    let removed: CleanupResult[] | undefined;
    try {
      found = await listLeftovers(client, nodes, { newMode: mode, onProgress: (t) => progress.update(t) });
      if (flags.cleanup) removed = await cleanupLeftovers(client, found, { image: flags.image, onProgress: (t) => progress.say(t) });
    } finally {
      progress.done();
    }
    const json = flags.output === 'json' || flags.output === 'yaml';
    const text = renderLeftovers(found, { mode, note, removed, verbose: flags.output === 'wide' });
    if (!json) writeOut(alone ? text.replace(/^\n/, '') : text);
    const any = found.some((n) => n.leftovers.length);
    if (any && !flags.cleanup) process.stderr.write('leftovers of an earlier mode are still on some nodes; remove them with: kubectl proxymode set --leftovers --cleanup\n');
    return { found, removed };
  }
}

function verifyText(mode: string, result: ApplyResult): string {
  const lines = ['', 'VERIFY', `  backup: ${result.backup}`, `  wrote ${result.written}`, `  rollout: ${result.rollout.status}`];
  for (const n of result.nodes) lines.push(`  ${n.ok ? 'ok  ' : 'FAIL'}  ${n.node}  ${n.ok ? `runs ${mode}` : n.evidence}`);
  if (result.rolledBack) lines.push(`  rollback: ${result.rolledBack.text}.`);
  return lines.join('\n');
}

type LeftoverFlags = { cleanup?: boolean; image: string; output?: string };

/** The mode kube-proxy runs now, as `set` would report it: MODE when given, else the configured mode. */
async function runningMode(source: ApiSource, given: string | undefined): Promise<string> {
  if (given) return given;
  const config = await loadProxyConfig(source, undefined, {}, { refuse: false, needs: ['ConfigMap'] });
  return config.effectiveMode;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
