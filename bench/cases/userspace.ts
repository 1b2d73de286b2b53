// The userspace proxy against the kernel's DNAT, in network namespaces (root), through what users run:
// the built CLI's `sync --mode userspace --netns NODE` (the proxy in a child process inside the node
// namespace, portal rules written by the sync). One pod behind two ClusterIPs, one served by the proxy,
// one by a plain nat DNAT rule (what the iptables mode does). Measured from the client namespace:
//   - a 64 MiB transfer each way (median of 5; the case's time) and the proxy's share of DNAT's rate;
//   - new connections per second for a few seconds each: a C epoll client (bench/conn-client.c: connect, read
//     the greeting, close, 128 at a time) against a C greeting server in the pod (bench/hello-server.c: accept,
//     write, close), both compiled with the machine's cc into a temporary folder, the same for both paths,
//     with the CPU time each party spent per connection (client, proxy, pod's server): on a small machine the
//     three share the cores, so that split is where the rate goes;
//   - 100,000 connections through the proxy (the same client, stopping there): its process's open
//     descriptors and RSS before and after.
// The client and node namespaces get a wide ephemeral port range and tcp_tw_reuse, so the load generator and
// the proxy's own outgoing connections do not run out of ports. The load average is recorded with the
// figures: other work on the machine slows every path. Without root, namespaces or a C compiler the case
// says which is missing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createTopology, execOk, exec, hasTool, kernelSkipReason, netnsPids, run, type Topology } from '../../test/kernel/harness/index.js';
import { spawnInNs } from '../../test/kernel/userspace/process.js';
import { median } from '../measure.js';
import type { BenchCase, BenchResult } from '../types.js';

const HERE = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = HERE('../../bin/kubectl-proxymode');
const BULK = HERE('../../test/kernel/userspace/bulk.mjs');
const HELLO_C = HERE('../hello-server.c');
const CLIENT_C = HERE('../conn-client.c');
const MB = 64;
const VIA_PROXY = '10.96.0.30';
const VIA_DNAT = '10.96.0.31';
/** Seconds of new connections per path (after a one-second warm-up through the proxy). */
const RATE_SECONDS = 5;
const LEAK_CONNECTIONS = 100_000;
/** The client's connections open at a time: 128 keeps each event loop busy with batches (64 cost the proxy ~7% more). */
const CONCURRENCY = 128;
/**
 * RSS growth over the 100,000 connections still counted as no leak: the proxy's heap swings by ~30 MB either
 * way with its collections (seen across runs, descriptors unchanged); a leaked socket would show in the
 * descriptors, and per-connection state left behind (500 bytes or more each) would reach this.
 */
const RSS_MARGIN_MB = 50;
/** /proc/PID/stat counts CPU time in USER_HZ ticks: 100 a second on Linux. */
const CLK_TCK = 100;

async function transferMs(topo: Topology, ip: string): Promise<number> {
  const r = await run('ip', ['netns', 'exec', topo.client.ns, process.execPath, BULK, JSON.stringify({ ip, port: 80 })], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`transfer to ${ip} failed: ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as { bytes: number; ms: number };
  if (out.bytes !== MB << 20) throw new Error(`transfer to ${ip}: ${out.bytes} bytes`);
  return out.ms;
}

interface ConnsResult {
  ok: number;
  failed: number;
  ms: number;
  errors: Record<string, number>;
  /** the client's CPU time, µs */
  cpuUs: number;
}

/** The C client from the client namespace for `seconds`, or until `stopAfter` connections got their greeting. */
async function connections(topo: Topology, client: string, ip: string, seconds: number, stopAfter?: number): Promise<ConnsResult> {
  const args = [client, ip, '8080', String(seconds), String(CONCURRENCY), ...(stopAfter === undefined ? [] : [String(stopAfter)])];
  const r = await run('ip', ['netns', 'exec', topo.client.ns, ...args], { timeoutMs: (seconds + 60) * 1000 });
  if (r.code !== 0) throw new Error(`connections to ${ip} failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as ConnsResult;
}

/** CPU time (user + system, ms) a process has used. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** A rate run with each party's CPU time per connection (µs): where a connection's cost goes. */
async function measuredConnections(topo: Topology, client: string, ip: string, seconds: number, proxyPid: number, serverPid: number): Promise<ConnsResult & { proxyUs: number; serverUs: number }> {
  const p0 = cpuMs(proxyPid);
  const s0 = cpuMs(serverPid);
  const c = await connections(topo, client, ip, seconds);
  return { ...c, proxyUs: ((cpuMs(proxyPid) - p0) * 1000) / c.ok, serverUs: ((cpuMs(serverPid) - s0) * 1000) / c.ok };
}

/** Open descriptors and resident memory (MB) of a process. */
function usage(pid: number): { fds: number; rssMB: number } {
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssMB: rss ? Number(rss[1]) / 1024 : Number.NaN };
}

function objects(topo: Topology, pod: string): string {
  const docs = [
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node' }, status: { addresses: [{ type: 'InternalIP', address: topo.node.ipv4 }] } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bulk', namespace: 'bench' },
      spec: { clusterIP: VIA_PROXY, clusterIPs: [VIA_PROXY], ipFamilies: ['IPv4'], ports: [{ name: 'bulk', port: 80, targetPort: 9100, protocol: 'TCP' }, { name: 'hello', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'bulk-1', namespace: 'bench', labels: { 'kubernetes.io/service-name': 'bulk' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [pod], conditions: { ready: true } }],
      ports: [{ name: 'bulk', port: 9100, protocol: 'TCP' }, { name: 'hello', port: 8080, protocol: 'TCP' }],
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const userspaceProxy: BenchCase = {
  name: `userspace proxy (sync --mode userspace --netns) vs DNAT: ${MB} MiB transfer, new connections/s, ${LEAK_CONNECTIONS.toLocaleString('en')} connections`,
  async run(): Promise<BenchResult> {
    const skip = kernelSkipReason(['iptables-nft', 'iptables-nft-restore', 'iptables-nft-save']);
    const why = skip ?? (hasTool('cc') ? undefined : 'the new-connection load needs a C compiler, cc (Debian package gcc)');
    if (why) return { samplesMs: [], medianMs: Number.NaN, maxRssMB: Number.NaN, detail: `not measured: ${why}` };
    const load0 = loadavg();
    const topo = await createTopology({ pods: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'pm-bench-us-'));
    const children = [];
    let sync: ReturnType<typeof spawn> | undefined;
    try {
      const pod = topo.pods[0]!;
      for (const ns of [topo.client.ns, topo.node.ns]) {
        await execOk(ns, ['sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65535', 'net.ipv4.tcp_tw_reuse=1']);
      }
      const bulk = spawnInNs(pod.ns, [process.execPath, BULK, JSON.stringify({ serve: 9100, mb: MB })]);
      children.push(bulk);
      await bulk.next();
      const [helloBin, clientBin] = [join(dir, 'hello-server'), join(dir, 'conn-client')];
      for (const [bin, src] of [[helloBin, HELLO_C], [clientBin, CLIENT_C]] as const) {
        const cc = await run('cc', ['-O2', '-o', bin, src], { timeoutMs: 60_000 });
        if (cc.code !== 0) throw new Error(`cc ${src} failed: ${cc.stderr.trim()}`);
      }
      const hello = spawnInNs(pod.ns, [helloBin, '8080']);
      children.push(hello);
      await hello.next();
      const file = join(dir, 'cluster.yaml');
      writeFileSync(file, objects(topo, pod.ipv4));
      let stderr = '';
      sync = spawn(BIN, ['sync', '-f', file, '--mode', 'userspace', '--node', 'node', '--netns', topo.node.ns, '--healthz-bind-address', 'off', '--metrics-bind-address', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
      sync.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const syncExit = new Promise<number | null>((r) => sync!.once('exit', (code) => r(code)));
      await until(async () => ((await exec(topo.node.ns, ['iptables-nft-save', '-t', 'nat'])).stdout.match(/^-A KUBE-PORTALS-CONTAINER /gm) ?? []).length === 2, 60_000, `the sync's portal rules (${stderr.trim()})`);
      const proxyPid = netnsPids(topo.node.ns).find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--userspace-proxy-child');
        } catch {
          return false; // a command of the sync's that ended meanwhile
        }
      });
      if (!proxyPid) throw new Error('no proxy process in the node namespace');
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
      const rate = (ms: number) => (MB / ms) * 1000;
      const share = rate(median(viaProxy)) / rate(median(viaDnat));

      await connections(topo, clientBin, VIA_PROXY, 1); // warm-up
      const cp = await measuredConnections(topo, clientBin, VIA_PROXY, RATE_SECONDS, proxyPid, hello.pid!);
      const cd = await measuredConnections(topo, clientBin, VIA_DNAT, RATE_SECONDS, proxyPid, hello.pid!);
      const cps = (c: ConnsResult) => (c.ok / c.ms) * 1000;
      const costs = (c: ConnsResult & { proxyUs: number; serverUs: number }) => `client ${(c.cpuUs / c.ok).toFixed(0)}, proxy ${c.proxyUs.toFixed(0)}, server ${c.serverUs.toFixed(0)}`;

      await new Promise((r) => setTimeout(r, 1_000));
      const before = usage(proxyPid);
      const leak = await connections(topo, clientBin, VIA_PROXY, 600, LEAK_CONNECTIONS); // stops at LEAK_CONNECTIONS
      // closes in flight settle; the proxy's heap shrinks at its next collection, which may take a few
      // idle seconds (V8's memory reducer): RSS is read until it is back within the margin, 15 s at most
      await new Promise((r) => setTimeout(r, 2_000));
      let after = usage(proxyPid);
      for (let waited = 0; after.rssMB - before.rssMB >= RSS_MARGIN_MB && waited < 15_000; waited += 1_000) {
        await new Promise((r) => setTimeout(r, 1_000));
        after = usage(proxyPid);
      }
      const load1 = loadavg();

      sync.kill('SIGTERM');
      const code = await syncExit;
      sync = undefined;
      const errs = (c: ConnsResult) => (c.failed ? ` (${c.failed} failed: ${JSON.stringify(c.errors)})` : '');
      const verdicts = [
        `throughput ≥ 50% of DNAT ${share >= 0.5 ? 'met' : 'MISSED'}`,
        `≥ 5000 connections/s ${cps(cp) >= 5000 ? 'met' : 'MISSED'}`,
        leak.ok < LEAK_CONNECTIONS ? `leak check of ${LEAK_CONNECTIONS} connections MISSED (${leak.ok} made)` : `leak ${after.fds <= before.fds && after.rssMB - before.rssMB < RSS_MARGIN_MB && leak.failed === 0 ? 'none' : 'SEEN'}`,
      ];
      return {
        samplesMs: viaProxy,
        medianMs: median(viaProxy),
        maxRssMB: process.resourceUsage().maxRSS / 1024,
        missed: verdicts.filter((v) => /MISSED|SEEN/.test(v)).map((v) => v.replace(/ (MISSED|SEEN)( \(.*\))?$/, '')),
        detail:
          `proxy ${rate(median(viaProxy)).toFixed(0)} MiB/s vs DNAT ${rate(median(viaDnat)).toFixed(0)} MiB/s (${(share * 100).toFixed(0)}%); ` +
          `new connections proxy ${cps(cp).toFixed(0)}/s${errs(cp)} vs DNAT ${cps(cd).toFixed(0)}/s${errs(cd)} ` +
          `(CPU µs per connection: through the proxy ${costs(cp)}; DNAT ${costs(cd)}); ` +
          `${LEAK_CONNECTIONS.toLocaleString('en')} connections (${leak.ok} ok${errs(leak)}): proxy fds ${before.fds} -> ${after.fds}, RSS ${before.rssMB.toFixed(0)} -> ${after.rssMB.toFixed(0)} MB; ` +
          `sync exit ${code}; load average ${load0.map((l) => l.toFixed(1)).join(' ')} before, ${load1.map((l) => l.toFixed(1)).join(' ')} after; ${verdicts.join(', ')}`,
      };
    } finally {
      if (sync && sync.exitCode === null) sync.kill('SIGKILL');
      for (const c of children) await c.stop();
      await topo.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
