// nftables mode over IPv6: the `ip6 kube-proxy` table rendered for a dual-stack node, applied with
// `nft -f -`, then real TCP and UDP to an IPv6 ClusterIP and NodePort from the client, a pod and the
// node: landing and source as kube-proxy intends and as the tracer predicts, and no endpoints refused;
// for every rendered layout (1.29 under nodePortAddresses "all", its default: `ip6 daddr != ::1`).
import assert from 'node:assert/strict';
import test from 'node:test';
import { applyPlatformDefaults, setDefaults } from '../../src/core/config/index.js';
import { netnsRunner } from '../../src/core/host/index.js';
import { NftCommandBackend } from '../../src/core/host/nft.js';
import { buildProxyState } from '../../src/core/model/index.js';
import { tableDrift } from '../../src/core/nftables/drift.js';
import { layoutForVersion } from '../../src/core/nftables/layout.js';
import { plan } from '../../src/core/nftables/plan.js';
import { renderNftables } from '../../src/core/nftables/render.js';
import { traceTable } from '../../src/core/nftables/tracer.js';
import type { EndpointSlice, Service } from '../../src/core/objects/types.js';
import type { PacketEntry } from '../../src/core/trace/types.js';
import { announceSkip, connect, connectBatch, kernelSkipReason, parseReply, withTopology, SERVICE_CIDR6, type Host, type Proto } from './harness/index.js';

const skip = announceSkip(kernelSkipReason(['nft']), 'nftables mode over IPv6');
const WEB = 'fd00:10:96::10';
const EMPTY = 'fd00:10:96::12';
const NODE_PORT = 30080;

function service(name: string, clusterIP: string, nodePort?: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'pm' },
    spec: {
      type: nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv6'],
      ipFamilyPolicy: 'SingleStack',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 80, ...(nodePort ? { nodePort } : {}) },
        { name: 'udp', protocol: 'UDP', port: 80, targetPort: 80, ...(nodePort ? { nodePort: nodePort + 1 } : {}) },
      ],
    },
  };
}

function slice(name: string, pods: readonly Host[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-v6`, namespace: 'pm', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv6',
    endpoints: pods.map((p) => ({ addresses: [p.ipv6!], conditions: { ready: true }, nodeName: 'node' })),
    ports: [
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: 'udp', protocol: 'UDP', port: 80 },
    ],
  };
}

for (const version of ['1.36', '1.34', '1.31', '1.29']) {
  const layout = layoutForVersion(version);
  test(`nftables mode over IPv6, ${layout.versions} layout: packets through the rendered ip6 table`, { skip, timeout: 120_000 }, async (t) => {
    await withTopology(t, { pods: 3, dualStack: true }, async (topo) => {
      const [p1, p2, p3] = topo.pods;
      assert.ok(p1 && p2 && p3 && topo.node.ipv6 && topo.client.ipv6);
      await topo.serve([p1, p2], { tcp: [80], udp: [80] });
      const nodePortAddresses = layout.firstMerged ? ['0.0.0.0/0', '::/0'] : [];
      const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.244.0.0/16,fd00:10:244::/56', nodePortAddresses } as never));
      const state = buildProxyState({ services: [service('web', WEB, NODE_PORT), service('empty', EMPTY)], endpointSlices: [slice('web', [p1, p2]), slice('empty', [])] }, { ipFamily: 'IPv6', nodeName: 'node' });
      const gw6 = topo.node.podCIDR6!.replace(/::\/64$/, '::1');
      const local = ['::1', topo.node.ipv6, gw6];
      const table = renderNftables({ state, config, node: { name: 'node', ips: [topo.node.ipv6], podCIDRs: [topo.node.podCIDR6!], localAddresses: local }, serviceCIDRs: [SERVICE_CIDR6], layout });
      const nft = new NftCommandBackend(netnsRunner(topo.node.ns));
      await nft.apply(plan(undefined, table).text());
      assert.deepEqual(tableDrift(table, (await nft.readTable('IPv6'))!), []);

      const web = [p1.name, p2.name];
      const masq = gw6;
      const cases: Array<{ what: string; from: Host | 'node'; entry: PacketEntry; ip: string; port: number; proto: Proto; masqueraded: boolean }> = [
        { what: 'client -> ClusterIP tcp (masqueraded)', from: topo.client, entry: 'external', ip: WEB, port: 80, proto: 'tcp', masqueraded: true },
        { what: 'client -> ClusterIP udp', from: topo.client, entry: 'external', ip: WEB, port: 80, proto: 'udp', masqueraded: true },
        { what: 'client -> NodePort tcp', from: topo.client, entry: 'external', ip: topo.node.ipv6, port: NODE_PORT, proto: 'tcp', masqueraded: true },
        { what: 'pod -> ClusterIP tcp (pod IP kept)', from: p3, entry: 'pod-local', ip: WEB, port: 80, proto: 'tcp', masqueraded: false },
        { what: 'pod -> ClusterIP udp', from: p3, entry: 'pod-local', ip: WEB, port: 80, proto: 'udp', masqueraded: false },
        { what: 'node -> ClusterIP tcp', from: 'node', entry: 'node', ip: WEB, port: 80, proto: 'tcp', masqueraded: true },
      ];
      for (const c of cases) {
        const src: string = c.from === 'node' ? topo.node.ipv6 : c.from.ipv6!;
        const predicted = traceTable(table, { src, dst: c.ip, dport: c.port, protocol: c.proto, entry: c.entry }, { localAddresses: local });
        assert.deepEqual(predicted.endpoints.map((e) => [e.ip, e.masquerade]), [[p1.ipv6, c.masqueraded], [p2.ipv6, c.masqueraded]], `${c.what}: tracer`);
        const b = await connectBatch(c.from === 'node' ? topo.node.ns : c.from.ns, c.ip, c.port, { proto: c.proto, count: 4, timeoutMs: 2_000 });
        for (const r of b.results) {
          assert.ok(r.ok, `${c.what}: ${JSON.stringify(r)}`);
          const p = parseReply(r.reply);
          assert.ok(web.includes(p.name), `${c.what}: landed on ${p.name}`);
          assert.equal(p.peerIp, c.masqueraded ? masq : src, `${c.what}: source seen by ${p.name}`);
        }
      }
      for (const [from, proto] of [[topo.client.ns, 'tcp'], [p3.ns, 'udp'], [topo.node.ns, 'tcp']] as const) {
        const r = await connect(from, EMPTY, 80, { proto, timeoutMs: 3_000 });
        assert.deepEqual([r.ok, !r.ok && r.error], [false, 'refused'], `${from} ${proto} to a service without endpoints: ${JSON.stringify(r)}`);
      }
    });
  });
}
