// `sync` on a host at scale (root; a fresh network namespace each): 10,000 services x 10 endpoints.
//  - sync-iptables: our whole first sync in iptables mode (view, render, plan, iptables-nft-restore, the
//    jump rules and nfacct counters kube-proxy ensures) against the time iptables-nft-restore itself spends
//    on the same text in the same sync (every command timed through the runner) and, as a check, loading
//    that text alone (the same `--noflush` invocation) into another fresh namespace. Target: the whole sync <= 1.2x the restore.
//    PM_BENCH_IPTABLES runs another iptables build (bench/iptables-tool.ts); both rows name the iptables they ran.
//  - sync-rss: the loop (Proxier with the system clock, the real host adapter) after its full sync and 10
//    one-endpoint changes, each synced partially; RSS after a GC is its steady state. Target <= 400 MB.
// Without root or namespaces a case says why and measures nothing.
import { spawnSync } from 'node:child_process';
import v8 from 'node:v8';
import { setDefaults } from '../../src/core/config/index.js';
import type { CommandRunner } from '../../src/core/host/backend.js';
import { localRunner, netnsRunner } from '../../src/core/host/runner.js';
import { modeFor } from '../../src/core/modes/registry.js';
import type { Plan } from '../../src/core/modes/types.js';
import { Proxier, modeHost, systemClock, type Clock } from '../../src/core/proxier/index.js';
import { nftablesLoop, startLoop } from '../sync-waiter.js';
import { median } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import { benchNft } from '../nft.js';
import { benchIptables } from '../iptables-tool.js';
import type { BenchCase, BenchResult } from '../types.js';

const iptables = modeFor('iptables', 'bench');
const config = () => setDefaults({ mode: 'iptables', clusterCIDR: '10.128.0.0/9', hostnameOverride: 'node-0' } as never);

function sh(args: string[], input?: string) {
  return spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** A fresh namespace for `fn`, deleted afterwards even when it throws. */
async function inNamespace<T>(tag: string, fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `pm-bench-${tag}-${process.pid}`;
  if (sh(['ip', 'netns', 'add', ns]).status !== 0) throw new Error(`ip netns add ${ns} failed`);
  try {
    sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    return await fn(ns);
  } finally {
    sh(['ip', 'netns', 'del', ns]);
  }
}

/** The runner, timing every command by its program. */
function timedRunner(ns: string, spent: Map<string, number>): CommandRunner {
  const run = netnsRunner(ns, localRunner({ timeoutMs: 1_800_000 }));
  return async (argv, stdin) => {
    const t0 = process.hrtime.bigint();
    const r = await run(argv, stdin);
    const key = argv[0]!;
    spent.set(key, (spent.get(key) ?? 0) + Number(process.hrtime.bigint() - t0) / 1e6);
    return r;
  };
}

/** A clock whose timers never fire: the bench drives syncs itself. */
const stillClock: Clock = { now: () => Date.now(), setTimer: () => ({ id: 0 }), clearTimer: () => {} };

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not measured: needs root';
  const ipt = benchIptables(); // PM_BENCH_IPTABLES, or iptables-nft from PATH (before the checks below look on PATH)
  if (ipt.error) return ipt.error;
  for (const tool of ['iptables-nft-restore', 'nfacct']) if (sh(['sh', '-c', `command -v ${tool}`]).status !== 0) return `not measured: ${tool} is missing`;
  return undefined;
}

const ROUNDS = Number(process.env.PM_BENCH_SYNC_ROUNDS ?? 1);
/** The scale (10,000 by the target; PM_BENCH_SYNC_SERVICES=2000 when a loaded machine cannot restore that much). */
const SERVICES = Number(process.env.PM_BENCH_SYNC_SERVICES ?? 10_000);
/** One-endpoint changes the RSS case syncs (each a partial sync). */
const CHANGES = 10;

const skipped = (why: string): BenchResult => ({ samplesMs: [], medianMs: NaN, maxRssMB: NaN, detail: why });

export const syncIptables: BenchCase = {
  name: 'sync, iptables mode: the whole first sync vs iptables-nft-restore of its text (10,000 services × 10 endpoints unless PM_BENCH_SYNC_SERVICES says otherwise; the scale is in the result)',
  async run() {
    const why = skipReason();
    if (why) return skipped(why);
    const objects = syntheticCluster({ services: SERVICES, endpointsPerService: 10, seed: 42 });
    const rounds: Array<{ syncMs: number; restoreMs: number; aloneMs: number; commands: string }> = [];
    // one round: at this size a --noflush restore takes minutes (iptables-nft 1.8.9 and 1.8.11 alike: per rule it
    // inserts the rule's chains into a sorted list of the chains to fetch, so rules x chains string compares)
    for (let i = 0; i < ROUNDS; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      const spent = new Map<string, number>();
      let text = '';
      const syncMs = await inNamespace(`s${i}`, async (ns) => {
        const host = await modeHost(iptables, { run: timedRunner(ns, spent), description: ns }, config());
        const recording = { ...host, apply: async (p: Plan) => ((text = p.text()), host.apply(p)) };
        spent.clear(); // (detecting the backend is start-up, not the sync)
        const proxier = new Proxier({ def: iptables, config: config(), host: recording, clock: stillClock, log: () => {} });
        const t0 = process.hrtime.bigint();
        proxier.replaceObjects(objects);
        const out = await proxier.syncProxyRules();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (!out.ok) throw new Error(`the sync failed: ${out.error}`);
        return ms;
      });
      const aloneMs = await inNamespace(`r${i}`, async (ns) => {
        for (const c of ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts']) sh(['ip', 'netns', 'exec', ns, 'nfacct', 'add', c]);
        const t0 = process.hrtime.bigint();
        // the same invocation kube-proxy (and our backend) uses: --noflush, waiting for the xtables lock
        const r = sh(['ip', 'netns', 'exec', ns, 'iptables-nft-restore', '-w', '5', '-W', '100000', '--noflush'], text);
        if (r.status !== 0) throw new Error(`iptables-nft-restore alone failed: ${r.stderr.split('\n')[0]}`);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      });
      rounds.push({ syncMs, restoreMs: spentRestore(spent), aloneMs, commands: [...spent].map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ') });
    }
    const syncMs = median(rounds.map((r) => r.syncMs));
    const restoreMs = median(rounds.map((r) => r.restoreMs));
    const aloneMs = median(rounds.map((r) => r.aloneMs));
    const ratio = syncMs / restoreMs;
    return {
      samplesMs: rounds.map((r) => r.syncMs),
      medianMs: syncMs,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      ...(ratio > 1.2 ? { missed: ['whole sync ≤ 1.2× the restore'] } : {}),
      detail: `${benchIptables().label}; ${SERVICES} services x 10 endpoints: iptables-nft-restore inside the sync ${restoreMs.toFixed(0)} ms, the same text restored alone ${aloneMs.toFixed(0)} ms; whole sync / restore = ${ratio.toFixed(2)}x (target <= 1.2x: ${ratio <= 1.2 ? 'met' : 'MISSED'}); load ${loadavg()}; commands of the last sync: ${rounds.at(-1)!.commands}`,
    };
  },
};

/** The restore commands' share (the runner keys by the program, before `ip netns exec NS` is put in front). */
function spentRestore(spent: Map<string, number>): number {
  let ms = 0;
  for (const [k, v] of spent) if (/restore$/.test(k)) ms += v;
  return ms;
}

function loadavg(): string {
  return sh(['cat', '/proc/loadavg']).stdout.split(' ').slice(0, 3).join(' ');
}

export const syncRss: BenchCase = {
  name: 'sync loop, iptables mode: steady-state RSS, 10,000 services × 10 endpoints unless PM_BENCH_SYNC_SERVICES says otherwise (full sync + 10 partial syncs, in a namespace)',
  targetRssMB: 400,
  async run() {
    const why = skipReason();
    if (why) return skipped(why);
    const objects = syntheticCluster({ services: SERVICES, endpointsPerService: 10, seed: 42 });
    return inNamespace('rss', async (ns) => {
      const host = await modeHost(iptables, { run: netnsRunner(ns, localRunner({ timeoutMs: 1_800_000 })), description: ns }, config());
      const cfg = setDefaults({ mode: 'iptables', clusterCIDR: '10.128.0.0/9', hostnameOverride: 'node-0', iptables: { minSyncPeriod: '0s', syncPeriod: '1h' } } as never);
      const proxier = new Proxier({ def: iptables, config: cfg, host, clock: systemClock(), log: (m) => process.stderr.write(`${m}\n`) });
      const synced: number[] = [];
      const next = await startLoop(proxier, objects, (r) => synced.push(r.seconds * 1000));
      const rss: number[] = [];
      for (let i = 0; i < CHANGES; i++) {
        // a new slice object (the tracker keeps the old one): its first endpoint moves to a new pod IP
        const slice = objects.endpointSlices[i]!;
        objects.endpointSlices[i] = { ...slice, endpoints: slice.endpoints!.map((e, j) => (j === 0 ? { ...e, addresses: [`10.255.${i}.1`] } : e)) };
        const w = next();
        if (proxier.replaceObjects(objects) !== 1) throw new Error('the change was not seen');
        await w;
        (globalThis as { gc?: () => void }).gc?.();
        rss.push(process.memoryUsage().rss / 2 ** 20);
      }
      await proxier.stop();
      const steady = median(rss.slice(-Math.ceil(CHANGES / 2)));
      return {
        samplesMs: synced.slice(1),
        medianMs: median(synced.slice(1)),
        maxRssMB: steady,
        detail: `${benchIptables().label}; ${SERVICES} services x 10 endpoints: steady-state RSS ${steady.toFixed(0)} MB (median after GC over the last ${Math.ceil(CHANGES / 2)} partial syncs; peak of the process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB); full sync ${synced[0]!.toFixed(0)} ms, partial syncs median ${median(synced.slice(1)).toFixed(0)} ms; ${proxier.metrics.fullSyncs} full / ${proxier.metrics.partialSyncs} partial; load ${loadavg()}`,
      };
    });
  },
};

/** `fn` with its wall time added to `add`'s total. */
function timed<A extends unknown[], R>(fn: (...a: A) => R, add: (ms: number) => void): (...a: A) => R {
  return (...a) => {
    const t0 = process.hrtime.bigint();
    try {
      return fn(...a);
    } finally {
      add(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
}

/** A mode definition whose render and plan are timed, to split a sync into its steps. */
function timedDef(def: ReturnType<typeof modeFor>, spent: { renderMs: number; planMs: number }): ReturnType<typeof modeFor> {
  const render = (ms: number) => (spent.renderMs += ms);
  return {
    ...def,
    render: timed(def.render, render),
    // a partial sync renders through renderChanged where the mode has it: counted as render too
    ...(def.renderChanged ? { renderChanged: timed(def.renderChanged, render) } : {}),
    plan: timed(def.plan, (ms) => (spent.planMs += ms)),
  };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export const syncNftables: BenchCase = {
  name: 'sync loop, nftables mode (1.36 layout): one endpoint change from the watch event to nft applied, and steady-state RSS, 10,000 services × 10 endpoints unless PM_BENCH_SYNC_SERVICES says otherwise (full sync + 10 partial syncs, in a namespace)',
  targetRssMB: 400,
  async run() {
    if (process.getuid?.() !== 0) return skipped('not measured: needs root');
    const nft = benchNft(); // PM_BENCH_NFT, or nft from PATH; the result names it
    if (nft.error) return skipped(nft.error);
    const objects = syntheticCluster({ services: SERVICES, endpointsPerService: 10, seed: 42 });
    return inNamespace('nft', async (ns) => {
      const { nftables, cfg, host: inner } = await nftablesLoop(ns);
      let appliedAt = 0;
      let applyMs = 0;
      let ops = 0;
      const host = {
        ...inner,
        apply: async (p: Plan) => {
          const t0 = process.hrtime.bigint();
          ops = p.operations.length;
          await inner.apply(p);
          appliedAt = Number(process.hrtime.bigint()) / 1e6;
          applyMs = Number(process.hrtime.bigint() - t0) / 1e6;
        },
      };
      const spent = { renderMs: 0, planMs: 0 };
      const proxier = new Proxier({ def: timedDef(nftables, spent), config: cfg, host, clock: systemClock(), log: (m) => process.stderr.write(`${m}\n`), kubeProxyVersion: '1.36' });
      const synced: number[] = [];
      const next = await startLoop(proxier, objects, (r) => synced.push(r.seconds * 1000));
      if (proxier.metrics.failures > 0) throw new Error('the full sync failed');
      const fullApplyMs = applyMs;
      const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
      const rss: number[] = [];
      const latency: number[] = [];
      const steps: Array<{ render: number; plan: number; apply: number; rest: number; ops: number }> = [];
      let mem = process.memoryUsage();
      for (let i = 0; i < CHANGES; i++) {
        // one watch event: a new slice object whose first endpoint moved to a new pod IP
        const slice = objects.endpointSlices[i]!;
        const moved = { ...slice, endpoints: slice.endpoints!.map((e, j) => (j === 0 ? { ...e, addresses: [`10.255.${i}.1`] } : e)) };
        objects.endpointSlices[i] = moved;
        gc();
        spent.renderMs = spent.planMs = 0;
        const w = next();
        const t0 = Number(process.hrtime.bigint()) / 1e6;
        if (!proxier.tracker.upsertSlice(moved)) throw new Error('the change was not seen');
        proxier.queued();
        await w;
        if (proxier.metrics.failures > 0) throw new Error(`partial sync ${i + 1} failed`);
        latency.push(appliedAt - t0);
        steps.push({ render: spent.renderMs, plan: spent.planMs, apply: applyMs, rest: appliedAt - t0 - spent.renderMs - spent.planMs - applyMs, ops });
        gc();
        mem = process.memoryUsage();
        rss.push(mem.rss / 2 ** 20);
      }
      const heap = v8.getHeapStatistics();
      await proxier.stop();
      const steady = median(rss.slice(-Math.ceil(CHANGES / 2)));
      const lat = median(latency);
      const step = (k: 'render' | 'plan' | 'apply' | 'rest' | 'ops') => median(steps.map((s) => s[k])).toFixed(0);
      const missed = lat > 100 ? ['one endpoint change applied ≤ 100 ms'] : [];
      return {
        samplesMs: latency,
        medianMs: lat,
        maxRssMB: steady,
        missed,
        detail: `${nft.label}; ${SERVICES} services x 10 endpoints: event → nft applied median ${lat.toFixed(0)} ms (target ≤ 100 ms: ${missed.length ? 'MISSED' : 'met'}; medians of its steps: render (the changed service ports) ${step('render')} ms, plan ${step('plan')} ms (${step('ops')} operations), nft -f ${step('apply')} ms, the rest (change tracking, the changed services' view, scheduling, GC) ${step('rest')} ms); steady-state RSS ${steady.toFixed(0)} MB (median after GC over the last ${Math.ceil(CHANGES / 2)} partial syncs; heap used ${mb(mem.heapUsed)} MB, external ${mb(mem.external)} MB, V8 heap limit ${mb(heap.heap_size_limit)} MB; peak of the process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB); full sync ${synced[0]!.toFixed(0)} ms of which nft -f ${fullApplyMs.toFixed(0)} ms; ${proxier.metrics.fullSyncs} full / ${proxier.metrics.partialSyncs} partial; load ${loadavg()}`,
      };
    });
  },
};
