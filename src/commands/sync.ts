import { Flags } from '@oclif/core';
import { ClusterError, ExitCode, InputError, ProxymodeError } from '../core/errors.js';
import type { CommandRunner } from '../core/host/backend.js';
import { localRunner, netnsRunner } from '../core/host/runner.js';
import { ServiceHealthServers, serveProxyHealth, type HealthCounters } from '../core/host/serve/health.js';
import { splitHostPort, type Served } from '../core/host/serve/listen.js';
import { serveMetrics } from '../core/host/serve/metrics.js';
import { modeFor } from '../core/modes/registry.js';
import { buildProxyView } from '../core/proxy-view.js';
import { Proxier, cleanupHost, modeHost, planAgainstHost, systemClock, type ClusterObjects, type HostTarget } from '../core/proxier/index.js';
import { loadProxyConfig, overridesFromFlags } from '../kube/proxy-config.js';
import { ApiSource, FileSource, openSource, type ClusterSource } from '../kube/source.js';
import { watchIntoProxier, type ProxierWatch } from '../kube/watch-proxier.js';
import { watchFiles } from '../kube/watch-files.js';
import { writeOut } from '../ui/print.js';
import { ProxymodeCommand } from './base.js';
import { kubeProxyVersionFlag, proxyConfigFlags, sourceFlags } from './flags.js';
import { checkMode } from './check-mode.js';
import { parseDuration, isDuration } from '../core/config/duration.js';
import { serveProxierChild } from '../core/host/userspace/index.js';
import { runSyncPod, SYNC_IMAGE } from '../kube/sync-pod.js';
import { onClusterFlags, runAllNodes, runOnNodeChecks, runRemove } from './sync-cluster.js';

const WHAT = '`kubectl proxymode sync`';

export default class Sync extends ProxymodeCommand {
  static override summary = 'Run the proxier engine: program this host or a network namespace, once or as a loop, or show what it would do.';
  static override description =
    'Runs kube-proxy\'s sync loop with this tool\'s engine: reads Services, EndpointSlices and Nodes (-f files, re-read when they change, or the cluster), renders the node\'s rules for the configured mode and applies them atomically, in full at start and every syncPeriod, partially in between; a refused apply leaves the rules as they were and is retried. Serves /healthz and /livez (healthzBindAddress), /metrics and /proxyMode (metricsBindAddress) and health-check node ports, as kube-proxy does. Stops cleanly on SIGINT or SIGTERM. Exit codes: 0 ok (or stopped by a signal), 1 a sync failed (--once), 2 bad input or a mode this command cannot apply yet, 3 the host or namespace refused or could not be reached.';
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    'kube-proxy-version': kubeProxyVersionFlag,
    once: Flags.boolean({ description: 'Sync once (in full) and exit.' }),
    'dry-run': Flags.boolean({ description: 'Print the script a full sync would run against the host\'s current rules; change nothing.' }),
    netns: Flags.string({ description: 'Program this network namespace (ip netns exec NAME) instead of the host\'s own; the health, metrics and health-check node port servers listen inside it too, and in userspace mode the proxy runs in a child process inside it.' }),
    cleanup: Flags.boolean({ description: 'Remove what kube-proxy\'s modes write (iptables KUBE-* chains and the jumps to them, the nft kube-proxy tables, its ipsets) and exit.' }),
    'healthz-bind-address': Flags.string({ description: 'Where /healthz, /livez and the health-check node ports listen (default: healthzBindAddress, 0.0.0.0:10256); "" or "off" serves none.' }),
    'metrics-bind-address': Flags.string({ description: 'Where /metrics and /proxyMode listen (default: metricsBindAddress, 127.0.0.1:10249); "" or "off" serves none.' }),
    'on-node': Flags.string({ description: 'Run sync on this node in a privileged hostNetwork pod of --image, as a ServiceAccount of its own with the least RBAC (or --service-account); the pod and its RBAC are deleted when it ends, fails or on Ctrl-C.' }),
    image: Flags.string({ description: 'The image for --on-node and --all-nodes (this tool\'s Dockerfile).', default: SYNC_IMAGE }),
    deadline: Flags.string({ description: 'With --on-node: the pod ends by itself after this long (activeDeadlineSeconds).', default: '1h' }),
    'userspace-proxy-child': Flags.string({ hidden: true, description: 'Internal: serve the userspace proxy inside --netns for a parent sync (JSON options).' }),
    ...onClusterFlags,
  };
  static override examples = [
    '<%= config.bin %> sync -f examples/ --mode iptables --dry-run',
    'sudo <%= config.bin %> sync -f cluster/ --mode nftables --node worker-1 --netns test-node --once',
    'sudo <%= config.bin %> sync -f cluster/ --netns test-node --healthz-bind-address 127.0.0.1:10256',
    'sudo <%= config.bin %> sync --cleanup --netns test-node',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Sync);
    const child = flags['userspace-proxy-child'];
    if (child !== undefined) return serveProxierChild(child, (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`${l}\n`));
    checkMode(flags.mode);
    if (flags.remove) return runRemove(flags);
    if (flags['all-nodes']) return runAllNodes(flags);
    if (flags.timeout !== undefined) throw new InputError('--timeout is how long --all-nodes waits for its pods to be ready; without --all-nodes leave it out.');
    if (flags['on-node']) return this.onNode(flags['on-node'], flags);
    const exclusive = ['once', 'dry-run', 'cleanup'].filter((f) => flags[f as 'once']);
    if (exclusive.length > 1) throw new InputError(`--${exclusive.join(' and --')} cannot be combined; give one.`);
    // bind addresses are checked before anything touches the host
    if (flags['healthz-bind-address'] !== undefined) bindAddress(flags['healthz-bind-address'], '--healthz-bind-address', 10256);
    if (flags['metrics-bind-address'] !== undefined) bindAddress(flags['metrics-bind-address'], '--metrics-bind-address', 10249);
    const log = (m: string) => process.stderr.write(`sync: ${m}\n`);
    const target: HostTarget = { ...(await hostTarget(flags.netns)), kubeProxyVersion: flags['kube-proxy-version'], log };

    if (flags.cleanup) {
      const removed = await cleanupHost(target);
      writeOut(removed.length ? `removed from ${target.description}:\n${removed.map((r) => `  ${r}`).join('\n')}` : `${target.description} holds nothing of kube-proxy's.`);
      return;
    }

    const files = flags.filename ?? [];
    let source: ClusterSource = openSource(flags);
    const loaded = await loadProxyConfig(source, flags.config, overridesFromFlags(flags));
    const config = loaded.config;
    const host = await modeHost(modeFor(loaded.effectiveMode, WHAT), target, config);
    const def = host.def ?? modeFor(loaded.effectiveMode, WHAT);
    const read = async (s: ClusterSource): Promise<ClusterObjects> => {
      const [services, endpointSlices, nodes] = await Promise.all([s.services(flags.namespace), s.endpointSlices(flags.namespace), s.nodes()]);
      return { services, endpointSlices, nodes };
    };
    const objects = await read(source);

    if (flags['dry-run']) {
      const view = buildProxyView(objects, config, source.description);
      const states = def.render(view, config, { kubeProxyVersion: flags['kube-proxy-version'] });
      const parts: string[] = [];
      for (const s of states) {
        const plan = await planAgainstHost(def, host, s);
        parts.push(`${states.length > 1 ? `# ${s.family}\n` : ''}${plan.text()}`);
      }
      writeOut(parts.join('\n').replace(/\n$/, ''));
      return;
    }

    const proxier = new Proxier({ def, config, host, clock: systemClock(), log, kubeProxyVersion: flags['kube-proxy-version'], source: source.description });
    proxier.replaceObjects(objects);
    if (!proxier.tracker.nodeName) proxier.tracker.nodeName = buildProxyView(objects, config, source.description).nodeName;

    if (flags.once) {
      const outcome = await proxier.syncProxyRules().finally(() => host.close?.());
      if (!outcome.ok) throw new ProxymodeError(`the sync of node ${proxier.tracker.nodeName || '<none>'} on ${host.description} failed and its rules were left as they were: ${outcome.error}`, ExitCode.PROBLEM);
      writeOut(`synced node ${proxier.tracker.nodeName || '<none>'} on ${host.description}: mode ${def.mode}, full, ${outcome.operations} operations.${host.close ? ' What lives only while sync runs (the userspace proxy and its portal rules) is gone again.' : ''}`);
      return;
    }

    await this.loop(proxier, config, flags, files, () => source, (s) => (source = s), read, log, host.close?.bind(host));
  }

  /** --on-node: the same sync in a pod on that node; its log is printed, its phase is the exit code. */
  private async onNode(node: string, flags: Record<string, unknown>): Promise<void> {
    if ((flags.filename as string[] | undefined)?.length) throw new InputError('--on-node reads the cluster from inside the pod; leave out -f.');
    if (flags.netns) throw new InputError('--on-node programs the node itself; leave out --netns.');
    const deadline = String(flags.deadline);
    if (!isDuration(deadline) || parseDuration(deadline) < 1000) throw new InputError(`--deadline "${deadline}" is not a duration of a second or more (e.g. 10m, 1h).`);
    const source = openSource(flags as never);
    if (!(source instanceof ApiSource)) throw new InputError('--on-node needs a cluster.');
    await runOnNodeChecks(source.kubeClient, node, flags);
    const pass: string[] = [];
    for (const f of ['mode', 'cluster-cidr', 'node-ip', 'kube-proxy-version', 'healthz-bind-address', 'metrics-bind-address', 'namespace']) {
      if (typeof flags[f] === 'string') pass.push(`--${f}`, flags[f] as string);
    }
    for (const f of ['once', 'dry-run', 'cleanup', 'masquerade-all']) if (flags[f] === true) pass.push(`--${f}`);
    const r = await runSyncPod(source.kubeClient, node, { image: String(flags.image), args: pass, serviceAccount: flags['service-account'] as string | undefined, deadlineSeconds: Math.ceil(parseDuration(deadline) / 1000), follow: (t) => process.stdout.write(t) });
    if (r.phase !== 'Succeeded') throw new ProxymodeError(`the sync pod on node ${node} ended ${r.phase}; its log is above and the pod was deleted.`, ExitCode.PROBLEM);
  }

  private async loop(
    proxier: Proxier,
    config: { healthzBindAddress: string; metricsBindAddress: string },
    flags: { 'healthz-bind-address'?: string; 'metrics-bind-address'?: string; filename?: string[]; namespace?: string; netns?: string },
    files: string[],
    getSource: () => ClusterSource,
    setSource: (s: ClusterSource) => void,
    read: (s: ClusterSource) => Promise<ClusterObjects>,
    log: (m: string) => void,
    closeHost?: () => Promise<void>,
  ): Promise<void> {
    const served: Served[] = [];
    const counters: HealthCounters = { healthz: {}, livez: {} };
    const healthAddr = bindAddress(flags['healthz-bind-address'] ?? config.healthzBindAddress, '--healthz-bind-address', 10256);
    const metricsAddr = bindAddress(flags['metrics-bind-address'] ?? config.metricsBindAddress, '--metrics-bind-address', 10249);
    const listen = { netns: flags.netns };
    const serviceHealth = healthAddr ? new ServiceHealthServers(proxier, healthAddr.host, log, listen) : undefined;
    let stopping = false;
    let watch: { close(): void } | undefined;
    let apiWatch: ProxierWatch | undefined;
    const stop = async () => {
      watch?.close();
      await apiWatch?.stop();
      await proxier.stop();
      await closeHost?.().catch((e: Error) => log(`stopping: ${e.message}`));
      await serviceHealth?.close();
      for (const s of served) await s.close();
    };
    try {
      if (healthAddr) served.push(await serveProxyHealth(proxier, healthAddr, counters, listen));
      if (metricsAddr) served.push(await serveMetrics(proxier, metricsAddr, counters, listen));
    } catch (e) {
      await stop();
      throw e;
    }
    if (served.length) log(`serving ${served.map((s) => s.address).join(' and ')}${flags.netns ? ` in network namespace ${flags.netns}` : ''}`);
    proxier.onSync((r) => {
      if (r.ok) void serviceHealth?.sync();
    });

    const reread = async () => {
      if (stopping) return;
      try {
        const s = files.length ? new FileSource(files, () => {}) : getSource();
        const objects = await read(s);
        setSource(s);
        const n = proxier.replaceObjects(objects);
        if (n > 0) log(`${n} ${n === 1 ? 'change' : 'changes'} read from ${s.description}`);
      } catch (e) {
        log(`re-reading failed, the objects read before stay in force: ${(e as Error).message}`);
      }
    };
    const source = getSource();
    if (files.length) watch = watchFiles(files, 200, () => void reread(), log);
    else if (source instanceof ApiSource) {
      try {
        apiWatch = await watchIntoProxier(source.kubeClient.kubeConfig, proxier, { namespace: flags.namespace, log });
      } catch (e) {
        await stop();
        throw new ClusterError(`cannot list and watch ${source.description}: ${(e as Error).message}.`);
      }
    }

    // our own signal handling: stop the loop and the servers, then exit 0 (the base command's handlers exit at once)
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log(`${signal}: stopping (${closeHost ? 'removing what lives only while sync runs' : 'the rules stay as the last sync wrote them'})`);
        void stop().then(resolve, resolve);
      };
      process.on('SIGINT', () => onSignal('SIGINT'));
      process.on('SIGTERM', () => onSignal('SIGTERM'));
      proxier.start();
    });
  }
}

/** "HOST:PORT" (a bare IP gets the default port); "", "off" or port 0 of kube-proxy's "disable" means none. */
function bindAddress(value: string, what: string, defaultPort: number): { host: string; port: number } | undefined {
  const v = value.trim();
  if (v === '' || v === 'off') return undefined;
  const withPort = /:\d+$/.test(v) && !/^[0-9a-f:]+$/i.test(v.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')) ? v : /^\[.*\]:\d+$/.test(v) || /^[^:]*:\d+$/.test(v) ? v : `${v.includes(':') ? `[${v}]` : v}:${defaultPort}`;
  return splitHostPort(withPort, what);
}

/** This host or a network namespace, proven reachable (one sentence and exit 2 or 3 when not). */
async function hostTarget(netns: string | undefined): Promise<HostTarget> {
  const run: CommandRunner = netns ? netnsRunner(netns, localRunner()) : localRunner();
  const description = netns ? `network namespace ${netns}` : 'this host';
  if (netns) {
    if (!/^[A-Za-z0-9_.-]+$/.test(netns)) throw new InputError(`--netns "${netns}" is not a network namespace name (letters, digits, ".", "_", "-").`);
    const r = await run(['true']);
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n')[0] ?? '';
      if (/No such file or directory/.test(why)) throw new InputError(`network namespace "${netns}" does not exist (see \`ip netns list\`).`);
      throw new ClusterError(`cannot run commands in network namespace ${netns}: ${why || `exit ${r.code}`}; run as root.`);
    }
  }
  return { run, description, ...(netns ? { netns } : {}) };
}
