// sync-partial: one endpoint change through the real proxier loop in nftables mode (1.36 layout), at
// 10,000 services x 10 endpoints (PM_BENCH_SYNC_SERVICES to change), in a fresh network namespace as root:
// the watch event (the tracker's upsert) -> the partial sync's `nft -f` applied, median of 15 changes, split
// into the sync's steps (view, render, plan, apply). For comparison, what the same sync cost before
// partial syncs were incremental: the whole view and the whole render, timed on the same objects.
// Target: <= 100 ms. PM_BENCH_NFT runs another nft (bench/nft.ts); the result says which nft it measured.
// Without root, nft or namespaces the case says why and measures nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Plan } from '../../src/core/modes/types.js';
import { buildProxyView } from '../../src/core/proxy-view.js';
import { Proxier, systemClock, type Clock } from '../../src/core/proxier/index.js';
import { nftablesLoop, startLoop } from '../sync-waiter.js';
import type { SyncStep } from '../../src/core/proxier/proxier.js';
import { median } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import { benchNft } from '../nft.js';
import type { BenchCase, BenchResult } from '../types.js';

const SERVICES = Number(process.env.PM_BENCH_SYNC_SERVICES ?? 10_000);
const CHANGES = 15;
const TARGET_MS = 100;

const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const skipped = (why: string): BenchResult => ({ samplesMs: [], medianMs: NaN, maxRssMB: NaN, detail: why });
const nowMs = () => performance.timeOrigin + performance.now();
/** User + sys ms of this process's finished children (/proc/self/stat cutime, cstime; 10 ms ticks): the apply's
 * nft, a figure the load of a shared machine does not inflate as it does the wall time. */
const childCpuMs = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
};

export const syncPartial: BenchCase = {
  name: `sync loop, nftables mode (1.36 layout): one endpoint change, watch event -> partial sync's nft applied, 10,000 services × 10 endpoints unless PM_BENCH_SYNC_SERVICES says otherwise (median of ${CHANGES}, in a namespace)`,
  targetMs: TARGET_MS,
  async run() {
    if (process.getuid?.() !== 0) return skipped('not measured: needs root');
    if (sh(['sh', '-c', 'command -v ip']).status !== 0) return skipped('not measured: ip is missing');
    const nft = benchNft();
    if (nft.error) return skipped(nft.error);
    const ns = `pm-bench-partial-${process.pid}`;
    if (sh(['ip', 'netns', 'add', ns]).status !== 0) return skipped(`not measured: ip netns add ${ns} failed`);
    try {
      return await measureIn(ns);
    } finally {
      sh(['ip', 'netns', 'del', ns]);
    }
  },
};

async function measureIn(ns: string): Promise<BenchResult> {
  const objects = syntheticCluster({ services: SERVICES, endpointsPerService: 10, seed: 42 });
  const { nftables, cfg, host: inner } = await nftablesLoop(ns);
  let appliedAt = 0;
  let nftCpu = 0;
  let ops = 0;
  const host = {
    ...inner,
    apply: async (p: Plan) => {
      ops = p.operations.length;
      const c0 = childCpuMs();
      await inner.apply(p);
      appliedAt = nowMs();
      nftCpu = childCpuMs() - c0;
    },
  };
  // the system clock's timers, with sub-millisecond now() so the steps are timed finely
  const clock: Clock = { ...systemClock(), now: nowMs };
  const steps: Record<SyncStep, number> = { view: 0, render: 0, plan: 0, apply: 0 };
  const proxier = new Proxier({
    def: nftables,
    config: cfg,
    host,
    clock,
    log: (m) => process.stderr.write(`${m}\n`),
    kubeProxyVersion: '1.36',
    onStep: (s, ms) => (steps[s] += ms),
  });
  let fullMs = 0;
  const next = await startLoop(proxier, objects, (r) => {
    if (r.full) fullMs = r.seconds * 1000;
  });
  if (proxier.metrics.failures > 0) throw new Error('the full sync failed');
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const latency: number[] = [];
  const split: Array<Record<SyncStep | 'ops' | 'nftCpu', number>> = [];
  for (let i = 0; i < CHANGES; i++) {
    // one watch event: a new object for one slice whose first endpoint moved to a new pod IP
    const slice = objects.endpointSlices[i * 7]!;
    const moved = { ...slice, endpoints: slice.endpoints!.map((e, j) => (j === 0 ? { ...e, addresses: [`10.255.${i}.1`] } : e)) };
    objects.endpointSlices[i * 7] = moved;
    gc();
    for (const k of Object.keys(steps) as SyncStep[]) steps[k] = 0;
    const w = next();
    const t0 = nowMs();
    if (!proxier.tracker.upsertSlice(moved)) throw new Error('the change was not seen');
    proxier.queued();
    await w;
    if (proxier.metrics.failures > 0) throw new Error(`partial sync ${i + 1} failed`);
    latency.push(appliedAt - t0);
    split.push({ ...steps, ops, nftCpu });
  }
  const partials = proxier.metrics.partialSyncs;
  await proxier.stop();
  // what every partial sync did before: the whole view, the whole render (same objects, same process)
  const before = { view: [] as number[], render: [] as number[] };
  for (let i = 0; i < 3; i++) {
    gc();
    let t = nowMs();
    const view = buildProxyView(proxier.tracker.objects(), cfg, 'bench');
    before.view.push(nowMs() - t);
    t = nowMs();
    nftables.render(view, cfg, { kubeProxyVersion: '1.36' });
    before.render.push(nowMs() - t);
  }
  const lat = median(latency);
  const step = (k: SyncStep | 'ops' | 'nftCpu', digits = 1) => median(split.map((s) => s[k])).toFixed(digits);
  const missed = lat > TARGET_MS ? [`one endpoint change applied ≤ ${TARGET_MS} ms`] : [];
  return {
    samplesMs: latency,
    medianMs: lat,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    missed,
    detail:
      `${benchNft().label}; ${SERVICES} services x 10 endpoints: event → nft applied median ${lat.toFixed(1)} ms (target ≤ ${TARGET_MS} ms: ${missed.length ? 'MISSED' : 'met'}); ` +
      `medians of its steps: view ${step('view')} ms, render ${step('render')} ms, plan ${step('plan')} ms (${step('ops', 0)} operations), nft -f ${step('apply')} ms (nft CPU ${step('nftCpu', 0)} ms); ` +
      `before (every partial sync rebuilt the whole view and render): view ${median(before.view).toFixed(0)} ms + render ${median(before.render).toFixed(0)} ms; ` +
      `full sync ${fullMs.toFixed(0)} ms; ${proxier.metrics.fullSyncs} full / ${partials} partial; load ${sh(['cat', '/proc/loadavg']).stdout.split(' ').slice(0, 3).join(' ')}`,
  };
}
