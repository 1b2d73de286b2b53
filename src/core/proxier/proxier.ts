// The proxier loop as kube-proxy runs it (pkg/proxy/iptables|nftables proxier.go syncProxyRules), for any
// registered mode: change trackers feed a BoundedFrequencyRunner; each sync builds the node's view, renders
// the mode's state per family and applies the mode's plan through the host adapter. Full syncs at start,
// after a failure, when the node's labels (topology) change, and every syncPeriod; partial syncs (only the
// changed services) otherwise: their view rebuilds only the changed services' entries, and a mode with a
// scoped render (renderChanged) renders only their service ports into what was last applied. A failed
// apply leaves the host as it was (the adapter's promise), is said once per failure, retried with
// back-off, and the next sync is full. Clock and host are injected.
import type { KubeProxyConfiguration } from '../config/index.js';
import { parseDuration } from '../config/duration.js';
import type { FamilyState, IPFamily, ProxyModeDefinition } from '../modes/types.js';
import { buildProxyView, type ProxyView } from '../proxy-view.js';
import { updateProxyView } from '../proxy-view-update.js';
import { ChangeTracker, type ClusterObjects } from './changes.js';
import type { Clock } from './clock.js';
import { ProxyHealth, serviceHealth, type ServiceHealth } from './health.js';
import type { ModeHost } from './host.js';
import { HISTORY_LENGTH, newMetrics, type ProxierMetrics, type SyncRecord } from './metrics.js';
import { BoundedFrequencyRunner } from './runner.js';
import { CanaryMonitor } from './canary.js';
import { staleConntrack } from './conntrack.js';

export interface ProxierOptions {
  def: ProxyModeDefinition<FamilyState>;
  config: KubeProxyConfiguration;
  host: ModeHost;
  clock: Clock;
  /** One line per event worth saying (a failed sync, a recovery). */
  log: (message: string) => void;
  kubeProxyVersion?: string;
  /** Where the objects came from, for messages. */
  source?: string;
  /** Told how long each step of a sync took (ms by the clock), for benchmarks: the view, the render, and each family's plan and apply. */
  onStep?: (step: SyncStep, ms: number) => void;
  /** Back-off after a failed sync: first and longest wait (default 1 s, doubling to 60 s... capped at syncPeriod). */
  retryInitialMs?: number;
}

export type SyncStep = 'view' | 'render' | 'plan' | 'apply';

export interface SyncOutcome {
  ok: boolean;
  full: boolean;
  error?: string;
  /** Plan operations applied, per family. */
  operations: number;
}

/** syncPeriod and minSyncPeriod of the mode's own configuration section (iptables, nftables, ipvs …). */
export function syncPeriods(config: KubeProxyConfiguration, mode: string): { syncPeriodMs: number; minSyncPeriodMs: number } {
  const section = (config as unknown as Record<string, { syncPeriod?: string; minSyncPeriod?: string } | undefined>)[mode];
  const ms = (v: string | undefined, d: number) => {
    try {
      return v ? parseDuration(v) : d;
    } catch {
      return d;
    }
  };
  return { syncPeriodMs: ms(section?.syncPeriod, 30_000), minSyncPeriodMs: ms(section?.minSyncPeriod, 1_000) };
}

export class Proxier {
  readonly tracker: ChangeTracker;
  readonly metrics: ProxierMetrics = newMetrics();
  readonly health: ProxyHealth;
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  private readonly runner: BoundedFrequencyRunner;
  /** What the host holds of ours per family, as we last wrote it (undefined: read the host on the next full sync). */
  private readonly applied = new Map<IPFamily, FamilyState>();
  private needFullSync = true;
  private lastFullSync = -Infinity;
  private failures = 0;
  private view: ProxyView | undefined;
  private readonly listeners: Array<(r: SyncRecord) => void> = [];
  private canary: CanaryMonitor | undefined;

  constructor(private readonly opts: ProxierOptions) {
    const { syncPeriodMs, minSyncPeriodMs } = syncPeriods(opts.config, (opts.host.def ?? opts.def).mode);
    this.syncPeriodMs = syncPeriodMs;
    this.minSyncPeriodMs = minSyncPeriodMs;
    this.tracker = new ChangeTracker(opts.config.hostnameOverride ?? '', opts.clock.now());
    this.health = new ProxyHealth(opts.clock, 2 * syncPeriodMs);
    this.runner = new BoundedFrequencyRunner(() => this.syncProxyRules().then(() => undefined), opts.clock, { minIntervalMs: minSyncPeriodMs, maxIntervalMs: syncPeriodMs });
  }

  /** The mode programmed: the host's when it runs another than the one asked (ipvs falling back to iptables). */
  get def(): ProxyModeDefinition<FamilyState> {
    return this.opts.host.def ?? this.opts.def;
  }

  get mode(): string {
    return this.def.mode;
  }

  /** The next sync rewrites everything, as soon as minSyncPeriod allows (the canary monitor found a flush). */
  forceFullSync(): void {
    this.needFullSync = true;
    this.applied.clear();
    this.runner.run();
  }

  /** Called with every sync's record (the metrics server observes durations through it). */
  onSync(fn: (r: SyncRecord) => void): void {
    this.listeners.push(fn);
  }

  /** The objects changed (a re-read, a watch event batch): track them and ask for a sync. */
  replaceObjects(objects: ClusterObjects): number {
    const n = this.tracker.replaceAll(objects);
    if (n > 0) this.queued();
    return n;
  }

  /** After single tracker events (upsertService …): ask for a sync. */
  queued(): void {
    if (!this.tracker.hasPending()) return;
    for (const f of this.families()) this.health.queuedUpdate(f);
    this.metrics.lastQueuedTimestamp = this.opts.clock.now();
    this.refreshPending();
    this.runner.run();
  }

  start(): void {
    this.runner.start();
    const { host, clock, log } = this.opts;
    if (host.canary) {
      this.canary = new CanaryMonitor(host.canary, clock, this.syncPeriodMs, () => this.families(), () => this.forceFullSync(), log);
      this.canary.start();
    }
  }

  async stop(): Promise<void> {
    await this.canary?.stop();
    await this.runner.stop();
  }

  /** When the next sync is due (ms since the epoch; Infinity: none). */
  nextSyncAt(): number {
    return this.runner.nextRunAt();
  }

  /** The health-check node ports of the last view. */
  serviceHealth(): ServiceHealth[] {
    return this.view ? serviceHealth(this.view) : [];
  }

  /** One sync now (the runner calls this; `--once` calls it directly). */
  async syncProxyRules(): Promise<SyncOutcome> {
    const { clock, config, host } = this.opts;
    const def = this.def;
    const start = clock.now();
    const pending = this.tracker.take();
    const full = this.needFullSync || pending.nodeChanged || start - this.lastFullSync >= this.syncPeriodMs;
    const record: SyncRecord = { at: start, full, ok: false, seconds: 0, networkProgrammingSeconds: [] };
    let operations = 0;
    try {
      const step = this.stepTimer();
      const cfg = { ...config, hostnameOverride: this.tracker.nodeName || config.hostnameOverride };
      const source = this.opts.source ?? 'the objects';
      // a partial sync rebuilds only the changed services' entries, as kube-proxy's change trackers do
      const update = full || this.view === undefined ? undefined : updateProxyView(this.view, this.tracker.objectsOf(pending.services), pending.services, cfg, source);
      const view = update?.view ?? buildProxyView(this.tracker.objects(), cfg, source);
      const changed = update?.servicePorts;
      step('view');
      this.health.syncNode(view.node);
      const states = this.renderStates(def, view, update?.incremental ? changed : undefined);
      step('render');
      for (const next of states) {
        const previous = full ? await host.read(next.family) : this.applied.get(next.family);
        const plan = def.plan(previous, next, { full: full || previous === undefined, ...(changed ? { changed } : {}) });
        step('plan');
        await host.apply(plan);
        step('apply');
        operations += plan.operations.length;
        this.applied.set(next.family, next);
      }
      const before = this.view;
      this.view = view;
      if (host.conntrack) await this.clearConntrack(host.conntrack, before, view);
      const end = clock.now();
      record.ok = true;
      record.seconds = (end - start) / 1000;
      record.networkProgrammingSeconds = pending.triggerTimes.map((t) => Math.max(0, (end - t) / 1000));
      record.rulesByTable = countRules(states);
      this.metrics.rulesByTable = record.rulesByTable ?? {};
      this.metrics.noLocalEndpoints = noLocalEndpoints(view);
      this.metrics.lastSyncTimestamp = end;
      if (full) this.lastFullSync = start;
      this.needFullSync = false;
      if (this.failures > 0) this.opts.log(`sync succeeded after ${this.failures} failed ${this.failures === 1 ? 'attempt' : 'attempts'}; the rules are current.`);
      this.failures = 0;
      for (const f of states) this.health.updated(f.family);
    } catch (e) {
      // what failed to apply left the host as it was; the next sync rewrites everything
      this.needFullSync = true;
      this.applied.clear();
      this.failures++;
      this.metrics.failures++;
      for (const f of this.families()) this.health.queuedUpdate(f);
      const reason = (e as Error).message.replace(/\s+/g, ' ').trim();
      record.error = reason;
      record.seconds = (clock.now() - start) / 1000;
      const wait = this.backoff();
      this.opts.log(`sync failed (${full ? 'full' : 'partial'}), the previous rules stay in place: ${reason} Retrying in ${wait / 1000}s with a full sync.`);
      this.runner.retryAfter(wait);
    }
    this.metrics.syncs++;
    if (full) this.metrics.fullSyncs++;
    else this.metrics.partialSyncs++;
    this.refreshPending();
    this.metrics.history.push(record);
    if (this.metrics.history.length > HISTORY_LENGTH) this.metrics.history.shift();
    for (const l of this.listeners) l(record);
    return { ok: record.ok, full, operations, ...(record.error ? { error: record.error } : {}) };
  }

  /** After a successful apply: the UDP entries that still point where the rules no longer go. A failure is said, not retried. */
  private async clearConntrack(ct: NonNullable<ModeHost['conntrack']>, before: ProxyView | undefined, after: ProxyView): Promise<void> {
    const stale = staleConntrack(before, after);
    if (stale.length === 0) return;
    try {
      await ct.clear(stale);
      this.metrics.conntrackDeletions += stale.length;
    } catch (e) {
      this.opts.log(`deleting stale UDP conntrack entries failed: ${(e as Error).message}`);
    }
  }

  /**
   * The mode's states for `view`: on a partial sync (`changed` given) through the mode's scoped render
   * from what was applied for the previous view, where the mode has one; otherwise everything.
   */
  private renderStates(def: ProxyModeDefinition<FamilyState>, view: ProxyView, changed: string[] | undefined): FamilyState[] {
    const opts = { kubeProxyVersion: this.opts.kubeProxyVersion };
    if (changed && def.renderChanged && this.view) {
      const previous = view.families.map((f) => this.applied.get(f.family));
      if (previous.every((p) => p !== undefined)) {
        const states = def.renderChanged({ states: previous as FamilyState[], view: this.view }, view, changed, this.opts.config, opts);
        if (states) return states;
      }
    }
    return def.render(view, this.opts.config, opts);
  }

  /** Reports the time since the last step to `opts.onStep` (the bench's split of a sync). */
  private stepTimer(): (name: SyncStep) => void {
    const report = this.opts.onStep;
    if (!report) return () => {};
    let last = this.opts.clock.now();
    return (name) => {
      const now = this.opts.clock.now();
      report(name, now - last);
      last = now;
    };
  }

  private backoff(): number {
    const first = this.opts.retryInitialMs ?? 1_000;
    return Math.min(first * 2 ** (this.failures - 1), Math.max(first, this.syncPeriodMs));
  }

  private refreshPending(): void {
    this.metrics.serviceChangesPending = this.tracker.serviceChangesPending;
    this.metrics.endpointChangesPending = this.tracker.endpointChangesPending;
    this.metrics.serviceChangesTotal = this.tracker.serviceChangesTotal;
    this.metrics.endpointChangesTotal = this.tracker.endpointChangesTotal;
  }

  private families(): IPFamily[] {
    return this.view ? this.view.families.map((f) => f.family) : ['IPv4'];
  }
}

/** Rules per table of states that have tables of chains of rules (the iptables modes). */
function countRules(states: readonly FamilyState[]): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  let any = false;
  for (const s of states) {
    const tables = (s as { tables?: Array<{ name?: unknown; chains?: Array<{ rules?: unknown[] }> }> }).tables;
    if (!Array.isArray(tables)) continue;
    for (const t of tables) {
      if (typeof t.name !== 'string' || !Array.isArray(t.chains)) continue;
      any = true;
      out[t.name] = (out[t.name] ?? 0) + t.chains.reduce((n, c) => n + (c.rules?.length ?? 0), 0);
    }
  }
  return any ? out : undefined;
}

/** kubeproxy_sync_proxy_rules_no_local_endpoints_total: Local-policy service ports without a local endpoint. */
function noLocalEndpoints(view: ProxyView): { internal: number; external: number } {
  let internal = 0;
  let external = 0;
  for (const f of view.families) {
    for (const [key, sp] of f.state.serviceMap) {
      const eps = f.state.endpointsMap.get(key) ?? [];
      if (eps.length === 0) continue;
      const hasLocal = eps.some((e) => e.isLocal && e.ready);
      if (hasLocal) continue;
      if (sp.internalPolicyLocal) internal++;
      if (sp.externalPolicyLocal) external++;
    }
  }
  return { internal, external };
}
