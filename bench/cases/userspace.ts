// The userspace proxy against the kernel's DNAT, in network namespaces (root), through what users run:
// the built CLI's `sync --mode userspace --netns NODE` (the proxy in a child process inside the node
// namespace, portal rules written by the sync). One pod behind two ClusterIPs, one served by the proxy,
// one by a plain nat DNAT rule (what the iptables mode does). Measured from the client namespace:
//   - a 64 MiB transfer each way (median of 5; the case's time) and the proxy's share of DNAT's rate;
//   - new connections per second: wrk (C, epoll) for a few seconds with `Connection: close`, so every request
//     is a new connection, against a tiny C epoll HTTP server in the pod (bench/hello-server.c, compiled with
//     the machine's cc into a temporary folder), the same client and server for both paths, with the CPU time
//     each party spent per connection (client, proxy, pod's server): on a small machine the three share the
//     cores, so that split is where the rate goes;
//   - 100,000 connections through the proxy (wrk again, stopping after that many): its process's open
//     descriptors and RSS before and after.
// The client and node namespaces get a wide ephemeral port range and tcp_tw_reuse, so the load generator and
// the proxy's own outgoing connections do not run out of ports. The load average is recorded with the
// figures: other work on the machine slows every path. Without root, namespaces, wrk or a C compiler the
// case says which is missing.
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
const WRK_SCRIPT = HERE('../wrk-report.lua');
const MB = 64;
const VIA_PROXY = '10.96.0.30';
const VIA_DNAT = '10.96.0.31';
/** Seconds of new connections per path (after a one-second warm-up through the proxy). */
const RATE_SECONDS = 5;
const LEAK_CONNECTIONS = 100_000;
/** wrk's open connections (each a new TCP connection per request) and its threads (event loops). */
const CONCURRENCY = 64;
const WRK_THREADS = 1;
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
  /** the client's (wrk's) CPU time, µs */
  cpuUs: number;
}

/**
 * wrk from the client namespace for `seconds` (each thread stopping after `stopAfter` responses, if given).
 * The shell around it prints its own /proc stat once wrk has been waited for: its children's CPU time is wrk's.
 */
async function connections(topo: Topology, ip: string, seconds: number, stopAfter?: number): Promise<ConnsResult> {
  const wrk = ['-t', String(WRK_THREADS), '-c', String(CONCURRENCY), '-d', `${seconds}s`, '--timeout', '5s', '-H', 'Connection: close', '-s', WRK_SCRIPT, `http://${ip}:8080/`];
  if (stopAfter !== undefined) wrk.push(String(Math.ceil(stopAfter / WRK_THREADS)));
  const r = await run('ip', ['netns', 'exec', topo.client.ns, 'sh', '-c', 'wrk "$@" >&2 && cat /proc/$$/stat', 'sh', ...wrk], { timeoutMs: (seconds + 60) * 1000 });
  if (r.code !== 0) throw new Error(`wrk to ${ip} failed: ${r.stderr.trim()}`);
  const json = /^\{"requests".*$/m.exec(r.stderr);
  if (!json) throw new Error(`wrk to ${ip} printed no summary: ${r.stderr.trim()}`);
  const w = JSON.parse(json[0]) as { requests: number; us: number; connect: number; read: number; write: number; status: number; timeout: number };
  const errors: Record<string, number> = {};
  for (const k of ['connect', 'read', 'write', 'status', 'timeout'] as const) if (w[k]) errors[k] = w[k];
  const f = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  const cpuUs = ((Number(f[13]) + Number(f[14])) * 1e6) / CLK_TCK; // cutime + cstime
  const failed = Object.values(errors).reduce((a, n) => a + n, 0);
  return { ok: w.requests - w.status, failed, ms: w.us / 1000, errors, cpuUs };
}

/** CPU time (user + system, ms) a process has used. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** A rate run with each party's CPU time per connection (µs): where a connection's cost goes. */
async function measuredConnections(topo: Topology, ip: string, seconds: number, proxyPid: number, serverPid: number): Promise<ConnsResult & { proxyUs: number; serverUs: number }> {
  const p0 = cpuMs(proxyPid);
  const s0 = cpuMs(serverPid);
  const c = await connections(topo, ip, seconds);
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
    const missing = [hasTool('wrk') ? '' : 'wrk (Debian package wrk)', hasTool('cc') ? '' : 'a C compiler, cc (Debian package gcc)'].filter(Boolean);
    const why = skip ?? (missing.length ? `the new-connection load needs ${missing.join(' and ')}` : undefined);
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
      const helloBin = join(dir, 'hello-server');
      const cc = await run('cc', ['-O2', '-o', helloBin, HELLO_C], { timeoutMs: 60_000 });
      if (cc.code !== 0) throw new Error(`cc ${HELLO_C} failed: ${cc.stderr.trim()}`);
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

      await connections(topo, VIA_PROXY, 1); // warm-up
      const cp = await measuredConnections(topo, VIA_PROXY, RATE_SECONDS, proxyPid, hello.pid!);
      const cd = await measuredConnections(topo, VIA_DNAT, RATE_SECONDS, proxyPid, hello.pid!);
      const cps = (c: ConnsResult) => (c.ok / c.ms) * 1000;
      const costs = (c: ConnsResult & { proxyUs: number; serverUs: number }) => `client ${(c.cpuUs / c.ok).toFixed(0)}, proxy ${c.proxyUs.toFixed(0)}, server ${c.serverUs.toFixed(0)}`;

      await new Promise((r) => setTimeout(r, 1_000));
      const before = usage(proxyPid);
      // long enough for LEAK_CONNECTIONS at the rate just measured; wrk stops there (and says if it fell short)
      const leak = await connections(topo, VIA_PROXY, Math.ceil((LEAK_CONNECTIONS / cps(cp)) * 1.3) + 2, LEAK_CONNECTIONS);
      await new Promise((r) => setTimeout(r, 2_000)); // closes in flight settle
      const after = usage(proxyPid);
      const load1 = loadavg();

      sync.kill('SIGTERM');
      const code = await syncExit;
      sync = undefined;
      const errs = (c: ConnsResult) => (c.failed ? ` (${c.failed} failed: ${JSON.stringify(c.errors)})` : '');
      const verdicts = [
        `throughput ≥ 50% of DNAT ${share >= 0.5 ? 'met' : 'MISSED'}`,
        `≥ 5000 connections/s ${cps(cp) >= 5000 ? 'met' : 'MISSED'}`,
        leak.ok < LEAK_CONNECTIONS ? `leak check of ${LEAK_CONNECTIONS} connections MISSED (${leak.ok} made)` : `leak ${after.fds <= before.fds && after.rssMB - before.rssMB < 20 && leak.failed === 0 ? 'none' : 'SEEN'}`,
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
