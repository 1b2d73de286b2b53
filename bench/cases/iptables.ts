// iptables engine at scale: render + serialize 10,000 services / 100,000 endpoints, beside the time
// iptables-nft-restore needs to load the same text into a fresh network namespace (root only), and a
// one-endpoint change written as kube-proxy's partial restore.
import { spawnSync } from 'node:child_process';
import { setDefaults } from '../../src/core/config/index.js';
import { renderIptables, serializeRestore } from '../../src/core/iptables/index.js';
import { planIptables } from '../../src/core/iptables/plan.js';
import { buildProxyState } from '../../src/core/model/index.js';
import { measure, median } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import type { BenchCase } from '../types.js';
import { benchIptables } from '../iptables-tool.js';

const config = setDefaults({ clusterCIDR: '10.128.0.0/9' });
const node = { name: 'node-0', ips: ['192.168.0.0'], podCIDRs: ['10.128.0.0/24'] };

function renderText(objects: ReturnType<typeof syntheticCluster>) {
  const state = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'node-0' });
  const rs = renderIptables({ state, config, node });
  return { rs, text: serializeRestore(rs) };
}

/** Seconds iptables-nft-restore takes to load `text` into a new namespace, or why it was not measured. */
function applySeconds(text: string): number | string {
  if (process.getuid?.() !== 0) return 'not measured: needs root';
  const ipt = benchIptables(); // PM_BENCH_IPTABLES, or iptables-nft from PATH
  if (ipt.error) return ipt.error;
  const ns = `pm-bench-${process.pid}`;
  const sh = (args: string[], input?: string) => spawnSync(args[0], args.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  try {
    if (sh(['ip', 'netns', 'add', ns]).status !== 0) return 'not measured: ip netns add failed';
    for (const c of ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts']) sh(['ip', 'netns', 'exec', ns, 'nfacct', 'add', c]);
    const t0 = process.hrtime.bigint();
    // A fresh namespace: a plain (flushing) restore, as kube-proxy's first sync on a clean node; --noflush of
    // a file this size is far slower in iptables 1.8.9's userland (kernel.md).
    const r = sh(['ip', 'netns', 'exec', ns, 'iptables-nft-restore'], text);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return r.status === 0 ? s : `not measured: iptables-nft-restore failed: ${r.stderr.split('\n')[0]}`;
  } finally {
    sh(['ip', 'netns', 'del', ns]);
  }
}

export const iptablesRender: BenchCase = {
  name: 'iptables render + serialize: 10,000 services / 100,000 endpoints',
  targetMs: 1000,
  targetRssMB: 512,
  async run() {
    const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
    let text = '';
    const m = await measure(() => {
      text = renderText(objects).text;
    }, 5, 1);
    const apply = applySeconds(text);
    const ratio = typeof apply === 'number' ? `; iptables-nft-restore (${benchIptables().label}) loads it in ${apply.toFixed(1)} s, render is ${((m.medianMs / 1000 / apply) * 100).toFixed(1)}% of that (target ≤ 10%)` : `; apply ${apply}`;
    return { ...m, detail: `${(text.length / 1e6).toFixed(1)} MB, ${text.split('\n').filter((l) => l.startsWith('-A')).length} rules${ratio}` };
  },
};

export const iptablesPartial: BenchCase = {
  name: 'iptables partial restore after a one-endpoint change (10,000 services)',
  targetMs: 20,
  async run() {
    const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
    const prev = renderText(objects).rs;
    // The first service's first endpoint moves to a new pod IP.
    const slice = objects.endpointSlices[0];
    slice.endpoints = slice.endpoints!.map((e, i) => (i === 0 ? { ...e, addresses: ['10.255.255.254'] } : e));
    const next = renderText(objects).rs;
    let plan = planIptables(prev, next, { changed: ['ns-0/svc-0:http'] });
    const m = await measure(() => {
      plan = planIptables(prev, next, { changed: ['ns-0/svc-0:http'] });
      plan.text();
    }, 11, 2);
    const text = plan.text();
    const operations = plan.operations.length; // (read after: a sync runs the text)
    const rerender = await measure(() => renderText(objects), 3, 0);
    return { ...m, detail: `${(text.length / 1024).toFixed(0)} KB written, ${operations} operations; planning it from the previous and next rulesets and writing its text (the full re-render before it: ${median(rerender.samplesMs).toFixed(0)} ms)` };
  },
};
