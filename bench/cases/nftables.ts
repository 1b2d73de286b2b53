// nftables mode at scale: render + serialize kube-proxy's full-sync `nft -f` transaction for 10,000
// services / 100,000 endpoints, for each layout, beside the time `nft -f` takes to load the same text into
// a fresh network namespace (root only; about a minute at this size, kernel.md); and one endpoint's
// partial transaction at that size, planned and (root only) applied over the loaded table.
//
// Why applying one endpoint takes as long as it does: nft fills its cache from the table before a rule,
// element or `add table { … }` command — Debian 12's 1.0.6 (kube-proxy's own image's until mid-2026) every
// chain and every set (NFT_MSG_GETCHAIN and NFT_MSG_GETSET dumps), 1.0.6.1 (its image's since) and 1.1.3
// every set. The set dump carries each rule's anonymous map too, one per service in 1.36's `dnat … map
// { … }`, so the apply costs in proportion to the table, not to the transaction: 110,000 chains with the
// 1.34 layout's endpoint chains at this size, 11,000 chains and 10,000 anonymous maps with 1.36's. Most of
// the apply is kernel time (sys), which no nft version saves: the dump itself and, on commit, the kernel's
// validation of the whole table that a new rule sets off (perf, 1.1.3, 1.36 at 10k: a quarter each).
// `add chain` / `flush chain` alone fetch nothing. The partial case times each command kind alone, with the nft it runs (PM_BENCH_NFT picks
// another, bench/nft.ts). kube-proxy's knftables runs the same `nft -f -`.
import { applyPlatformDefaults, setDefaults } from '../../src/core/config/index.js';
import { buildProxyState } from '../../src/core/model/index.js';
import { LAYOUTS } from '../../src/core/nftables/layout.js';
import { plan } from '../../src/core/nftables/plan.js';
import { servicePortOfName } from '../../src/core/nftables/names.js';
import { servicePortIndex } from '../../src/core/nftables/index-table.js';
import { transactionText } from '../../src/core/nftables/serialize.js';
import { renderNftables } from '../../src/core/nftables/render.js';
import type { NftTable } from '../../src/core/nftables/types.js';
import type { EndpointSlice } from '../../src/core/objects/types.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { measure, median } from '../measure.js';
import { loadavg } from 'node:os';
import { syntheticCluster } from '../synthetic.js';
import { benchNft } from '../nft.js';
import type { BenchCase } from '../types.js';

// nodePortAddresses as kube-proxy 1.30+ defaults it in nftables mode (the mode face does this for the CLI)
const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.128.0.0/9', nodePortAddresses: ['primary'] } as never));
const node = { name: 'node-0', ips: ['192.168.0.0'], podCIDRs: ['10.128.0.0/24'] };

/** `phases`, when given, gets the wall ms of building the model (ProxyState) and of rendering. */
function renderAll(objects: ReturnType<typeof syntheticCluster>, layoutId: string, phases?: number[][]): NftTable {
  const t0 = performance.now();
  const state = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'node-0' });
  const t1 = performance.now();
  const table = renderNftables({ state, config, node, layout: LAYOUTS.find((l) => l.id === layoutId)! });
  phases?.push([t1 - t0, performance.now() - t1]);
  return table;
}

const sh = (args: string[], input?: string) => spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 28 });

/** Runs `fn` with a fresh namespace holding `text` loaded by `nft -f -`; why not, when it cannot. */
function withLoadedNamespace<T>(text: string, fn: (ns: string, loadSeconds: number) => T): T | string {
  if (process.getuid?.() !== 0) return 'not measured: needs root';
  const nft = benchNft();
  if (nft.error) return nft.error;
  const ns = `pm-bench-nft-${process.pid}`;
  try {
    if (sh(['ip', 'netns', 'add', ns]).status !== 0) return 'not measured: ip netns add failed';
    const t0 = process.hrtime.bigint();
    const r = sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], text);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) return `not measured: nft -f failed: ${r.stderr.split('\n')[0]}`;
    return fn(ns, s);
  } finally {
    sh(['ip', 'netns', 'del', ns]);
  }
}

/** `also`: another layout measured in the same run, for comparison in the detail. */
function renderCase(layoutId: string, also?: string): BenchCase {
  return {
    name: `nftables render + serialize (full-sync nft -f transaction), ${layoutId} layout: 10,000 services / 100,000 endpoints`,
    targetMs: 1000,
    targetRssMB: 512,
    async run() {
      const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
      let text = '';
      const cpu: number[] = [];
      const m = await measure(() => {
        const c0 = process.cpuUsage();
        text = transactionText(renderAll(objects, layoutId));
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }, 5, 1);
      let other = '';
      const missed: string[] = [];
      if (also !== undefined) {
        let t = '';
        const oc: number[] = [];
        const phases: number[][] = [];
        const o = await measure(() => {
          const c0 = process.cpuUsage();
          t = transactionText(renderAll(objects, also, phases));
          const c = process.cpuUsage(c0);
          oc.push((c.user + c.system) / 1000);
        }, 3, 1);
        const ph = (i: number) => median(phases.slice(1).map((p) => p[i]!)).toFixed(0);
        other = `; the ${also} layout in the same run: ${o.medianMs.toFixed(0)} ms (${median(oc.slice(1)).toFixed(0)} ms CPU; model ${ph(0)} ms, render ${ph(1)} ms, the rest serialize) for ${(t.length / 1e6).toFixed(1)} MB`;
        if (o.medianMs > 1000) missed.push(`${also} layout ≤ 1000 ms`);
      }
      const load = withLoadedNamespace(text, (_ns, secs) => secs);
      if (typeof load === 'number' && m.medianMs / 1000 / load > 0.1) missed.push('≤ 10% of nft -f');
      const ratio = typeof load === 'number' ? `; nft -f (${benchNft().label}) loads it in ${load.toFixed(1)} s, render + serialize is ${((m.medianMs / 1000 / load) * 100).toFixed(1)}% of that (target ≤ 10%)` : `; load ${load}`;
      // process CPU (the garbage collector's threads included) beside the wall time: on a shared machine the
      // wall time is mostly waiting for a CPU
      const cpuMs = median(cpu.slice(1));
      return { ...m, missed, detail: `${(text.length / 1e6).toFixed(1)} MB, ${text.split('\n').filter((l) => l.startsWith('add rule')).length} rules, ${cpuMs.toFixed(0)} ms CPU, load average ${loadavg()[0]!.toFixed(1)}${other}${ratio}` };
    },
  };
}

/** The newest layout (offline default), with 1.34–1.35 beside it. */
export const nftablesRender = renderCase('1.36', '1.34');
export const nftablesRender131 = renderCase('1.31');

const PARTIAL_LAYOUT = '1.36';

export const nftablesPartial: BenchCase = {
  name: 'nftables partial transaction for one changed endpoint at 10,000 services (1.36 layout)',
  targetMs: 20,
  async run() {
    const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
    const before = renderAll(objects, PARTIAL_LAYOUT);
    // one endpoint of one service moves to a new address
    const slices = [...objects.endpointSlices];
    const i = slices.findIndex((s) => (s.endpoints ?? []).length > 0);
    const moved: EndpointSlice = structuredClone(slices[i]!);
    moved.endpoints![0]!.addresses = ['10.255.255.254'];
    slices[i] = moved;
    const after = renderAll({ ...objects, endpointSlices: slices }, PARTIAL_LAYOUT);
    // kube-proxy's change tracker names the changed service; so does this plan
    const changed = [...after.chains].map((c) => c.name).filter((n) => n.includes('/') && n.includes(`-${moved.metadata!.namespace}/${moved.metadata!.labels!['kubernetes.io/service-name']}/`));
    const changedPorts = [...new Set(changed.map((n) => servicePortOfName(n)!))];
    // kube-proxy keeps its tables' state between syncs: the index by service port is part of that state
    servicePortIndex(before);
    servicePortIndex(after);
    let ops = 0;
    let partial = '';
    const m = await measure(() => {
      const p = plan(before, after, { changed: changedPorts });
      ops = p.operations.length;
      partial = p.text();
    }, 5, 1);
    const full = transactionText(before);
    const applied = withLoadedNamespace(full, (ns, loadSeconds) => {
      // median of 5 runs of each (the transactions are idempotent); user+sys of nft beside the wall time,
      // since on a shared machine the wall time is mostly waiting for a CPU
      const timed = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%U %S'] : [];
      type Run = { ms: number; cpu: number; user: number; sys: number };
      const runs = (enter: string[], argv: string[], input?: string): Run | string => {
        const out: Run[] = [];
        for (let k = 0; k < 5; k++) {
          const t0 = process.hrtime.bigint();
          const r = sh([...enter, ...timed, ...argv], input);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (r.status !== 0) return `${argv.join(' ')} failed: ${r.stderr.split('\n')[0]}`;
          const [u, s] = timed.length ? r.stderr.trim().split('\n').pop()!.split(' ').map(Number) : [NaN, NaN];
          out.push({ ms, cpu: ((u ?? NaN) + (s ?? NaN)) * 1000, user: (u ?? NaN) * 1000, sys: (s ?? NaN) * 1000 });
        }
        out.sort((a, b) => a.ms - b.ms);
        return out[2]!;
      };
      const netnsExec = ['ip', 'netns', 'exec', ns];
      const whole = runs(netnsExec, ['nft', '-f', '-'], partial);
      if (typeof whole === 'string') return whole;
      // where the time goes: entering the namespace, and each command kind alone. The transaction's own
      // kinds (its chain lines, its rules) and, as probes of what else fills nft's cache, the full sync's
      // `add table` line (with its comment, as knftables writes it) and `add element` of an element the
      // table already holds (both change nothing). Which kinds fetch which objects is the nft's own choice
      // (its cache.c): 1.0.6 dumps chains and sets before a rule, 1.0.6.1 and 1.1.3 the sets alone.
      const enter = runs(netnsExec, ['true']);
      const nsenter = runs(['nsenter', `--net=/run/netns/${ns}`], ['true']);
      const lines = partial.split('\n');
      const member = [...before.sets].find((x) => x.name === 'cluster-ips')?.elements[0]?.key.join(' . ');
      const kinds: Array<[string, string]> = [
        ['its add/flush chain lines', lines.filter((l) => /^(add|flush) chain /.test(l)).join('\n')],
        ['its add rule lines', lines.filter((l) => l.startsWith('add rule ')).join('\n')],
        ['add table', full.slice(0, full.indexOf('\n')).startsWith('add table ') ? full.slice(0, full.indexOf('\n')) : ''],
        ['add element', member === undefined ? '' : `add element ip kube-proxy cluster-ips { ${member} }`],
      ];
      // /usr/bin/time counts in 10 ms steps
      const f = (x: Run | string, cpu = true) => (typeof x === 'string' ? x : `${x.ms.toFixed(0)} ms${cpu ? ` (nft CPU ${x.cpu.toFixed(0)} ms: user ${x.user.toFixed(0)}, sys ${x.sys.toFixed(0)})` : ''}`);
      const alone = kinds.filter(([, text]) => text !== '').map(([what, text]) => `${what} ${f(runs(netnsExec, ['nft', '-f', '-'], `${text}\n`))}`);
      const chains = before.chains.length;
      return {
        wallMs: whole.ms,
        text: `${benchNft().label}: applied in ${whole.ms.toFixed(0)} ms wall, nft CPU ${whole.cpu.toFixed(0)} ms (user ${whole.user.toFixed(0)}, sys ${whole.sys.toFixed(0)}), over the loaded table of ${chains} chains (loaded by nft -f in ${loadSeconds.toFixed(1)} s; target ≤ 100 ms); of that, entering the namespace ${f(enter, false)} (nsenter ${f(nsenter, false)}); each alone: ${alone.join(', ')}; load average ${loadavg()[0]!.toFixed(1)}`,
      };
    });
    const said = typeof applied === 'string' ? applied : applied.text;
    const missed = typeof applied !== 'string' && applied.wallMs > 100 ? ['applied ≤ 100 ms'] : [];
    return { ...m, missed, detail: `${ops} operations (render and the per-table index by service port not counted: kube-proxy keeps that state between syncs); ${said}` };
  },
};
