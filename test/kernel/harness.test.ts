// Tests of the kernel harness itself: if these fail, engine tests built on it cannot be trusted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import test from 'node:test';
import {
  connect,
  connectBatch,
  exec,
  iptablesRestore,
  iptablesSave,
  kernelSkip,
  kernelSkipReason,
  listNamespaces,
  parseReply,
  pidAlive,
  resetNetfilter,
  sweepStale,
  withTopology,
  type IptablesBackend,
} from './harness/index.js';

const skip = kernelSkip(['iptables-nft-restore', 'iptables-legacy-restore', 'iptables-nft-save', 'iptables-legacy-save', 'ip6tables-nft-restore', 'ip6tables-legacy-restore', 'nft', 'conntrack'], 'kernel harness');
const SERVICE_IP = '10.96.0.10';
const SERVICE_IP6 = 'fd00:10:96::10';

test('kernel harness', { skip, timeout: 60_000 }, async (t) => {
  await withTopology(t, { pods: 2, remotePods: 1, dualStack: true }, async (topo) => {
    const [pod1, pod2] = topo.pods;
    const remote1 = topo.remotePods[0];
    assert.ok(pod1 && pod2 && remote1);
    const client = topo.client;
    await topo.serve([pod1, pod2, remote1], { tcp: [80], udp: [53] });

    await t.test('client reaches a pod directly, and the pod sees the client IP (tcp, udp, ipv6)', async () => {
      for (const [ip, port, proto, who, src] of [
        [pod1.ipv4, 80, 'tcp', 'pod-1', client.ipv4],
        [pod1.ipv4, 53, 'udp', 'pod-1', client.ipv4],
        [pod2.ipv6!, 80, 'tcp', 'pod-2', client.ipv6!],
      ] as const) {
        const r = await connect(client.ns, ip, port, { proto });
        assert.ok(r.ok, `${proto} ${ip}:${port}: ${JSON.stringify(r)}`);
        const seen = parseReply(r.reply);
        assert.equal(seen.name, who);
        assert.equal(seen.peerIp, src);
        assert.equal(`${seen.peerIp}:${seen.peerPort}`, r.local, 'the pod saw our own source port: no NAT');
      }
    });

    await t.test('pod to pod, on the same node and across nodes', async () => {
      for (const [dst, who] of [[pod2, 'pod-2'], [remote1, 'remote-1']] as const) {
        const r = await connect(pod1.ns, dst.ipv4, 80);
        assert.ok(r.ok, JSON.stringify(r));
        assert.deepEqual([parseReply(r.reply).name, parseReply(r.reply).peerIp], [who, pod1.ipv4]);
      }
    });

    for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
      await t.test(`iptables-restore DNAT of a service IP to pod-2, IPv4 and IPv6 (${backend} backend)`, async () => {
        const rules = [
          '*nat',
          ':PREROUTING ACCEPT [0:0]',
          ':HARNESS-SVC - [0:0]',
          `-A PREROUTING -d ${SERVICE_IP}/32 -p tcp -m tcp --dport 80 -j HARNESS-SVC`,
          `-A HARNESS-SVC -p tcp -j DNAT --to-destination ${pod2.ipv4}:80`,
          'COMMIT',
          '',
        ].join('\n');
        const rules6 = rules.replace(`${SERVICE_IP}/32`, `${SERVICE_IP6}/128`).replace(`${pod2.ipv4}:80`, `[${pod2.ipv6}]:80`);
        await iptablesRestore(topo.node.ns, rules, { backend });
        await iptablesRestore(topo.node.ns, rules6, { backend, family: 6 });
        try {
          assert.match(await iptablesSave(topo.node.ns, backend, { table: 'nat' }), new RegExp(`--to-destination ${pod2.ipv4}:80`));
          for (const [ip, src] of [[SERVICE_IP, client.ipv4], [SERVICE_IP6, client.ipv6!]]) {
            const r = await connect(client.ns, ip, 80);
            assert.ok(r.ok, `${ip}: ${JSON.stringify(r)}`);
            assert.deepEqual([parseReply(r.reply).name, parseReply(r.reply).peerIp], ['pod-2', src]);
          }
        } finally {
          await resetNetfilter(topo.node.ns);
        }
        assert.doesNotMatch(await iptablesSave(topo.node.ns, backend, { table: 'nat' }), /HARNESS-SVC/, 'reset cleared the rules');
      });
    }

    await t.test('a port nobody listens on is refused, quickly (tcp and udp)', async () => {
      for (const proto of ['tcp', 'udp'] as const) {
        const t0 = Date.now();
        const r = await connect(client.ns, pod1.ipv4, 81, { proto, timeoutMs: 2_000 });
        assert.deepEqual([r.ok, !r.ok && r.error], [false, 'refused'], JSON.stringify(r));
        assert.ok(Date.now() - t0 < 1_500, `refused within the time-out (${Date.now() - t0} ms)`);
      }
    });

    await t.test('a dropped destination times out (service IP nobody DNATs goes into the sink)', async () => {
      const t0 = Date.now();
      const r = await connect(client.ns, '10.96.0.99', 80, { timeoutMs: 400 });
      assert.deepEqual([r.ok, !r.ok && r.error], [false, 'timeout'], JSON.stringify(r));
      assert.ok(Date.now() - t0 >= 400);
    });

    await t.test('batch: independent connections (new source port each) spread by -m statistic', async () => {
      const rules = [
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        `-A PREROUTING -d ${SERVICE_IP}/32 -p tcp --dport 80 -m statistic --mode random --probability 0.5 -j DNAT --to-destination ${pod1.ipv4}:80`,
        `-A PREROUTING -d ${SERVICE_IP}/32 -p tcp --dport 80 -j DNAT --to-destination ${pod2.ipv4}:80`,
        'COMMIT',
        '',
      ].join('\n');
      await iptablesRestore(topo.node.ns, rules, { backend: 'nft' });
      try {
        const b = await connectBatch(client.ns, SERVICE_IP, 80, { count: 40, concurrency: 4 });
        assert.equal(b.complete, true);
        assert.equal(b.results.length, 40);
        assert.equal((b.counts['pod-1'] ?? 0) + (b.counts['pod-2'] ?? 0), 40, JSON.stringify(b.counts));
        assert.ok(b.counts['pod-1']! > 0 && b.counts['pod-2']! > 0, `both endpoints chosen: ${JSON.stringify(b.counts)}`);
        assert.equal(new Set(b.results.map((r) => r.local)).size, 40, 'each connection had its own source port');
      } finally {
        await resetNetfilter(topo.node.ns);
      }
    });

    await t.test('a missing tool is a skip reason', () => {
      assert.match(kernelSkipReason(['no-such-tool-for-harness']) ?? '', /missing tools: no-such-tool-for-harness/);
    });

    await t.test('destroy() kills every process and deletes every namespace of this run', async () => {
      const names = [...topo.namespaces];
      const pids = topo.servers.map((s) => s.pid);
      assert.equal(pids.length, 3);
      assert.ok(pids.every(pidAlive));
      // A process the topology did not start as a server: destroy finds it through `ip netns pids`.
      const stray = exec(pod2.ns, ['sleep', '30']);
      await topo.destroy();
      const strayResult = await stray;
      assert.equal(strayResult.signal, 'SIGKILL');
      const left = new Set(listNamespaces());
      assert.deepEqual(names.filter((n) => left.has(n)), []);
      assert.deepEqual(pids.filter(pidAlive), []);
      await topo.destroy(); // idempotent: the t.after call is a no-op
    });
  });
});

test('sweepStale removes leftovers of dead runs only', { skip, timeout: 10_000 }, () => {
  const prefix = 'pmsweeptest-';
  // a pid that surely exited: a finished child of ours
  const dead = spawnSync('true').pid;
  assert.ok(dead);
  const stale = `${prefix}${dead}-1-node`;
  const live = `${prefix}${process.pid}-1-node`;
  for (const ns of [stale, live]) assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  try {
    const removed = sweepStale(prefix);
    assert.deepEqual(removed, [stale]);
    const left = listNamespaces();
    assert.ok(!left.includes(stale) && left.includes(live));
  } finally {
    for (const ns of [stale, live]) spawnSync('ip', ['netns', 'del', ns]);
  }
});
