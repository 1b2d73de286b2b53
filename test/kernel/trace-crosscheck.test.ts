// The tracer against the kernel: rules rendered for the harness topology are loaded into the node's
// namespace (iptables-nft, as kube-proxy syncs: nfacct counters, restore, jump rules), read back with
// iptables-save, and traced; then real connections go through the same rules. For every packet the
// tracer's prediction must be what happens: which pods answer (every predicted endpoint seen, none
// other), whether the pod sees a masqueraded source, and refusal for REJECT.
//
//   client 192.168.77.100 ── node (cni0 10.244.1.1) ── pod-1..3 10.244.1.x
//                         └─ node2 ── remote-1 10.244.2.x
import assert from 'node:assert/strict';
import test from 'node:test';
import { setDefaults } from '../../src/core/config/index.js';
import { IptablesCommandBackend, ensureNfacct, netnsRunner, nfacctNamesIn } from '../../src/core/host/index.js';
import { jumpRules, renderIptables, serializeRestore } from '../../src/core/iptables/index.js';
import { parseIptablesSave } from '../../src/core/iptables/parse.js';
import { buildProxyState } from '../../src/core/model/index.js';
import type { EndpointSlice, Service } from '../../src/core/objects/types.js';
import { iptablesEvaluator } from '../../src/core/trace/iptables.js';
import type { NodeContext, PacketEntry, TraceResult } from '../../src/core/trace/types.js';
import { announceSkip, connect, connectBatch, execOk, kernelSkipReason, parseReply, resetNetfilter, withTopology, type Host, type Proto } from './harness/index.js';

const skip = announceSkip(kernelSkipReason(['iptables-nft', 'iptables-nft-restore', 'iptables-nft-save', 'nfacct', 'conntrack']), 'trace cross-check');

const NS = 'tr';
const IP = { web: '10.96.0.20', local: '10.96.0.21', empty: '10.96.0.22', hairpin: '10.96.0.23', sticky: '10.96.0.24' };
const NODE_PORT = { web: 30180, local: 30190 };

function service(name: string, spec: NonNullable<Service['spec']>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', clusterIPs: [spec.clusterIP!], ...spec } };
}

function slice(svc: string, eps: Array<{ host: Host; node: string }>, protocols: Proto[] = ['tcp']): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-x`, namespace: NS, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: eps.map(({ host, node }) => ({ addresses: [host.ipv4], conditions: { ready: true }, nodeName: node, targetRef: { kind: 'Pod', namespace: NS, name: host.name } })),
    ports: protocols.map((p) => ({ name: p, protocol: p.toUpperCase() as 'TCP' | 'UDP', port: 80 })),
  };
}

test('trace cross-check: predictions equal real connections through the same rules', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 3, remotePods: 1 }, async (topo) => {
    const [p1, p2, p3] = topo.pods;
    const [r1] = topo.remotePods;
    assert.ok(p1 && p2 && p3 && r1);
    await topo.serve([...topo.pods, r1], { tcp: [80], udp: [80] });
    const node = topo.node.ns;
    await execOk(node, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0', 'net.ipv4.icmp_ratelimit=0']);
    const gw = topo.node.podCIDR.replace(/\.0\/24$/, '.1');
    const on = (host: Host) => ({ host, node: host.name.startsWith('remote') ? 'node2' : 'node' });
    const tcp = (name: string) => ({ name, protocol: 'TCP' as const, port: 80, targetPort: 80 });
    const services = [
      service('web', { type: 'NodePort', clusterIP: IP.web, ports: [{ ...tcp('tcp'), nodePort: NODE_PORT.web }, { name: 'udp', protocol: 'UDP', port: 80, targetPort: 80 }] }),
      service('local', { type: 'NodePort', clusterIP: IP.local, ports: [{ ...tcp('tcp'), nodePort: NODE_PORT.local }], externalTrafficPolicy: 'Local' }),
      service('empty', { type: 'ClusterIP', clusterIP: IP.empty, ports: [tcp('tcp')] }),
      service('hairpin', { type: 'ClusterIP', clusterIP: IP.hairpin, ports: [tcp('tcp')] }),
      service('sticky', { type: 'ClusterIP', clusterIP: IP.sticky, ports: [tcp('tcp')], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }),
    ];
    const endpointSlices = [
      slice('web', [on(p1), on(p2), on(r1)], ['tcp', 'udp']),
      slice('local', [on(p1), on(r1)]),
      slice('empty', []),
      slice('hairpin', [on(p1)]),
      slice('sticky', [on(p2), on(p3)]),
    ];
    const cfg = setDefaults({ clusterCIDR: '10.244.0.0/16' });
    const rendered = renderIptables({
      state: buildProxyState({ services, endpointSlices }, { ipFamily: 'IPv4', nodeName: 'node' }),
      config: cfg,
      node: { name: 'node', ips: [topo.node.ipv4], podCIDRs: [topo.node.podCIDR], localAddresses: ['127.0.0.1', topo.node.ipv4, gw] },
    });
    const run = netnsRunner(node);
    const backend = new IptablesCommandBackend('nft', run, { waitSeconds: 10 });
    try {
      const text = serializeRestore(rendered);
      await ensureNfacct(run, nfacctNamesIn(text));
      await backend.restore('IPv4', text, { noflush: true });
      for (const j of jumpRules(cfg, 'IPv4')) {
        await backend.ensureChain('IPv4', j.table, j.target);
        await backend.ensureRule('IPv4', j.table, j.chain, j.words, j.position);
      }
      // Trace what the kernel holds (built-in chains included) and what we rendered: both must agree.
      const live = parseIptablesSave(await backend.save('IPv4'), { family: 'IPv4', source: 'node' });
      const ctx: NodeContext = { nodeName: 'node', localAddresses: ['127.0.0.1', topo.node.ipv4, gw], podCIDRs: [topo.node.podCIDR] };
      const liveTracer = iptablesEvaluator(live);
      const renderedTracer = iptablesEvaluator(rendered, { rendered: true });
      const byIP = new Map([...topo.pods, r1].map((h) => [h.ipv4, h.name]));

      const cases: Array<{ what: string; from: Host | 'node'; entry: PacketEntry; ip: string; port: number; proto: Proto }> = [
        { what: 'client -> ClusterIP tcp', from: topo.client, entry: 'external', ip: IP.web, port: 80, proto: 'tcp' },
        { what: 'client -> ClusterIP udp', from: topo.client, entry: 'external', ip: IP.web, port: 80, proto: 'udp' },
        { what: 'client -> NodePort (ETP Cluster)', from: topo.client, entry: 'external', ip: topo.node.ipv4, port: NODE_PORT.web, proto: 'tcp' },
        { what: 'client -> NodePort (ETP Local)', from: topo.client, entry: 'external', ip: topo.node.ipv4, port: NODE_PORT.local, proto: 'tcp' },
        { what: 'pod -> ClusterIP', from: p3, entry: 'pod-local', ip: IP.web, port: 80, proto: 'tcp' },
        { what: 'pod -> NodePort (ETP Local)', from: p3, entry: 'pod-local', ip: topo.node.ipv4, port: NODE_PORT.local, proto: 'tcp' },
        { what: 'pod -> its own service (hairpin)', from: p1, entry: 'pod-local', ip: IP.hairpin, port: 80, proto: 'tcp' },
        { what: 'pod -> sticky service', from: p3, entry: 'pod-local', ip: IP.sticky, port: 80, proto: 'tcp' },
        { what: 'node -> ClusterIP', from: 'node', entry: 'node', ip: IP.web, port: 80, proto: 'tcp' },
        { what: 'node -> its NodePort', from: 'node', entry: 'node', ip: topo.node.ipv4, port: NODE_PORT.web, proto: 'tcp' },
        { what: 'client -> service without endpoints', from: topo.client, entry: 'external', ip: IP.empty, port: 80, proto: 'tcp' },
        { what: 'pod -> service without endpoints', from: p3, entry: 'pod-local', ip: IP.empty, port: 80, proto: 'tcp' },
        { what: 'node -> service without endpoints', from: 'node', entry: 'node', ip: IP.empty, port: 80, proto: 'tcp' },
      ];
      const summary = (r: TraceResult) => ({ verdict: r.verdict, endpoints: r.endpoints.map((e) => byIP.get(e.ip) ?? e.ip).sort(), masquerade: r.masquerade });
      for (const c of cases) {
        const src = c.from === 'node' ? topo.node.ipv4 : c.from.ipv4;
        const packet = { src, dst: c.ip, dport: c.port, protocol: c.proto, entry: c.entry };
        const predicted = liveTracer.trace(packet, ctx);
        assert.deepEqual(predicted.qualifications, [], `${c.what}: the live rules trace exactly`);
        assert.deepEqual(summary(renderedTracer.trace(packet, ctx)), summary(predicted), `${c.what}: rendered and live rules trace alike`);
        const fromNs = c.from === 'node' ? node : c.from.ns;
        if (predicted.verdict === 'rejected') {
          const r = await connect(fromNs, c.ip, c.port, { proto: c.proto, timeoutMs: 3_000 });
          assert.deepEqual([r.ok, !r.ok && r.error], [false, 'refused'], `${c.what}: predicted rejected, got ${JSON.stringify(r)}`);
          continue;
        }
        assert.equal(predicted.verdict, 'forwarded', `${c.what}: ${predicted.verdict}`);
        const want = summary(predicted).endpoints;
        // Enough connections that every endpoint with a share of a third or more is seen (miss odds < 1e-5).
        const b = await connectBatch(fromNs, c.ip, c.port, { proto: c.proto, count: want.length > 1 ? 30 : 4, concurrency: 4, timeoutMs: 2_000 });
        const seen = new Set<string>();
        for (const r of b.results) {
          assert.ok(r.ok, `${c.what}: ${JSON.stringify(r)}`);
          const p = parseReply(r.reply);
          seen.add(p.name);
          const ep = predicted.endpoints.find((e) => byIP.get(e.ip) === p.name);
          assert.ok(ep, `${c.what}: ${p.name} answered, predicted ${want.join(', ')}`);
          // MASQUERADE takes the outgoing interface's address: cni0's towards local pods, the node IP towards
          // remote ones (so from the node itself to a remote pod, masquerading shows no change).
          const expected = ep.masquerade ? (p.name.startsWith('remote') ? topo.node.ipv4 : gw) : src;
          assert.equal(p.peerIp, expected, `${c.what}: ${p.name} saw source ${p.peerIp} (sent from ${src}); predicted masquerade ${ep.masquerade}`);
        }
        if (predicted.affinity) assert.equal(seen.size, 1, `${c.what}: sticky, one backend: ${[...seen].join(', ')}`);
        else assert.deepEqual([...seen].sort(), want, `${c.what}: every predicted endpoint answers`);
        t.diagnostic(`${c.what}: predicted ${want.map((w, i) => `${w} ${(predicted.endpoints[i]!.probability * 100).toFixed(0)}%`).join(', ')} masq=${predicted.masquerade}; seen ${JSON.stringify(b.counts)}`);
      }
    } finally {
      await resetNetfilter(node);
    }
  });
});
