// The userspace proxy against the kernel's DNAT, in network namespaces (root): one pod behind two
// ClusterIPs, one through our userspace proxier (portal REDIRECT into the proxy process on the node), one
// through a plain nat DNAT rule (what the iptables mode does). Measured from the client namespace: a 64 MiB
// transfer (median of 5; the case's time), and new connections per second (500 connections, 16 at a time).
// Without root or namespaces the case says why and measures nothing.
import { fileURLToPath } from 'node:url';
import { renderUserspaceFamily, portalJumpRules, jumpRuleArgv, portalRestoreText } from '../../src/core/userspace/index.js';
import { view } from '../../test/unit/userspace/fixtures.js';
import { connectBatch, createTopology, execOk, iptablesRestore, kernelSkipReason, run, type Topology } from '../../test/kernel/harness/index.js';
import { spawnInNs } from '../../test/kernel/userspace/process.js';
import { median } from '../measure.js';
import type { BenchCase, BenchResult } from '../types.js';

const HERE = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BULK = HERE('../../test/kernel/userspace/bulk.mjs');
const PROXY_CHILD = HERE('../../test/kernel/userspace/proxy-child.ts');
const MB = 64;
const VIA_PROXY = '10.96.0.30';
const VIA_DNAT = '10.96.0.31';

async function transferMs(topo: Topology, ip: string): Promise<number> {
  const r = await run('ip', ['netns', 'exec', topo.client.ns, process.execPath, BULK, JSON.stringify({ ip, port: 80 })], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`transfer to ${ip} failed: ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as { bytes: number; ms: number };
  if (out.bytes !== MB << 20) throw new Error(`transfer to ${ip}: ${out.bytes} bytes`);
  return out.ms;
}

async function connsPerSecond(topo: Topology, ip: string): Promise<number> {
  const t0 = Date.now();
  const r = await connectBatch(topo.client.ns, ip, 8080, { count: 500, concurrency: 16, timeoutMs: 3000 });
  const ms = Date.now() - t0;
  const ok = r.results.filter((x) => x.ok).length;
  return (ok / ms) * 1000;
}

export const userspaceProxy: BenchCase = {
  name: `userspace proxy vs DNAT in namespaces: ${MB} MiB transfer, new connections/s`,
  async run(): Promise<BenchResult> {
    const skip = kernelSkipReason(['iptables-nft', 'iptables-nft-restore']);
    if (skip) return { samplesMs: [], medianMs: Number.NaN, maxRssMB: Number.NaN, detail: `not measured: ${skip}` };
    const topo = await createTopology({ pods: 1 });
    const children = [];
    try {
      const pod = topo.pods[0]!;
      await topo.serve([pod], { tcp: [8080] });
      const bulk = spawnInNs(pod.ns, [process.execPath, BULK, JSON.stringify({ serve: 9100, mb: MB })]);
      children.push(bulk);
      await bulk.next();
      const proxy = spawnInNs(topo.node.ns, [process.execPath, '--import', 'tsx', PROXY_CHILD, JSON.stringify({ listenIP: '0.0.0.0' })]);
      children.push(proxy);
      await proxy.next(30_000);
      const { view: v, config } = view(
        [
          { name: 'bulk', clusterIP: VIA_PROXY, ports: [{ name: 'bulk', port: 80, targetPort: 9100 }, { name: 'hello', port: 8080 }], endpoints: [pod.ipv4] },
        ],
        {},
        [topo.node.ipv4],
      );
      const family = v.families[0]!;
      proxy.send(JSON.stringify({ op: 'sync', services: renderUserspaceFamily(family, config).proxies }));
      const ports = (JSON.parse(await proxy.next()) as { ports: Record<string, number> }).ports;
      await iptablesRestore(topo.node.ns, portalRestoreText([renderUserspaceFamily(family, config, new Map(Object.entries(ports)))]), { backend: 'nft', noflush: true });
      for (const j of portalJumpRules()) await execOk(topo.node.ns, ['iptables-nft', ...jumpRuleArgv(j)]);
      for (const [port, target] of [[80, 9100], [8080, 8080]] as const) {
        await execOk(topo.node.ns, ['iptables-nft', '-t', 'nat', '-A', 'PREROUTING', '-d', `${VIA_DNAT}/32`, '-p', 'tcp', '--dport', String(port), '-j', 'DNAT', '--to-destination', `${pod.ipv4}:${target}`]);
      }
      const viaProxy: number[] = [];
      const viaDnat: number[] = [];
      await transferMs(topo, VIA_PROXY); // warm-up
      for (let i = 0; i < 5; i++) {
        viaProxy.push(await transferMs(topo, VIA_PROXY));
        viaDnat.push(await transferMs(topo, VIA_DNAT));
      }
      const mbps = (ms: number) => ((MB / ms) * 1000).toFixed(0);
      const cps = [await connsPerSecond(topo, VIA_PROXY), await connsPerSecond(topo, VIA_DNAT)];
      return {
        samplesMs: viaProxy,
        medianMs: median(viaProxy),
        maxRssMB: process.resourceUsage().maxRSS / 1024,
        detail: `proxy ${mbps(median(viaProxy))} MiB/s vs DNAT ${mbps(median(viaDnat))} MiB/s; new connections proxy ${cps[0]!.toFixed(0)}/s vs DNAT ${cps[1]!.toFixed(0)}/s (client process start-up included)`,
      };
    } finally {
      for (const c of children) await c.stop();
      await topo.destroy();
    }
  },
};
