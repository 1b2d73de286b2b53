// Port of TestSyncProxyRulesRepeated, kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go
// @ 81810de635aa13aa0a32992f6def3aa9d6025ebc: sync after sync, each a plan from what the host holds
// to the new rendering, applied to the held table. After every step the held table (Fake.Dump(),
// normalised) equals upstream's expected text, and the sync transaction has upstream's number of
// operations (kube-proxy deletes aged stale chains in a transaction of their own; not counted).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlan, changedServicePorts, plan, type NftPlan } from '../../../src/core/nftables/plan.js';
import { dumpText } from '../../../src/core/nftables/serialize.js';
import type { NftTable } from '../../../src/core/nftables/types.js';
import type { EndpointSlice, Service } from '../../../src/core/objects/types.js';
import { readNft, renderCase, sortLikeUpstream, type UpstreamCase } from './upstream/harness.js';

function svc(ns: string, name: string, ip: string, portName: string, port: number): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: portName, port, protocol: 'TCP' }] } } as Service;
}
function eps(ns: string, name: string, ips: string[], portName: string, port: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: ips.map((a) => ({ addresses: [a] })),
    ports: [{ name: portName, port, protocol: 'TCP' }],
  } as EndpointSlice;
}

const E = (set: string, body: string) => `add element ip kube-proxy ${set} { ${body} }\n`;
const svc1 = `add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 }
add chain ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 ip saddr 10.0.1.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 meta l4proto tcp dnat to 10.0.1.1:80
`;
const svc2 = `add chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080
add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 numgen random mod 1 vmap { 0 : goto endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 }
add chain ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080
add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 ip saddr 10.0.2.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 meta l4proto tcp dnat to 10.0.2.1:8080
`;
const svc2Stale = `add chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080
add chain ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080
`;
const svc3 = `add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 }
add chain ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 ip saddr 10.0.3.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 meta l4proto tcp dnat to 10.0.3.1:80
`;
const svc3Moved = `add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80 }
add chain ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80
add chain ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80
add rule ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80 ip saddr 10.0.3.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80 meta l4proto tcp dnat to 10.0.3.2:80
`;
const svc3Two = `add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 2 vmap { 0 : goto endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80 , 1 : goto endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80 }
add chain ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80
add rule ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80 ip saddr 10.0.3.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80 meta l4proto tcp dnat to 10.0.3.2:80
add chain ip kube-proxy endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80
add rule ip kube-proxy endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80 ip saddr 10.0.3.3 jump mark-for-masquerade
add rule ip kube-proxy endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80 meta l4proto tcp dnat to 10.0.3.3:80
`;
const svc3Empty = `add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add chain ip kube-proxy endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80
add chain ip kube-proxy endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80
`;
const svc4 = `add chain ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80 }
add chain ip kube-proxy endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80
add rule ip kube-proxy endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80 ip saddr 10.0.4.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-WAHRBT2B-ns4/svc4/tcp/p80__10.0.4.1/80 meta l4proto tcp dnat to 10.0.4.1:80
`;
const cips = (...ips: string[]) => ips.map((ip) => E('cluster-ips', ip)).join('');
const sips = {
  1: E('service-ips', '172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80'),
  2: E('service-ips', '172.30.0.42 . tcp . 8080 : goto service-MHHHYRWA-ns2/svc2/tcp/p8080'),
  3: E('service-ips', '172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80'),
  4: E('service-ips', '172.30.0.44 . tcp . 80 : goto service-LAUZTJTB-ns4/svc4/tcp/p80'),
};

function render(services: Service[], slices: EndpointSlice[]): NftTable {
  const c = { file: 'repeated', upstream: 'TestSyncProxyRulesRepeated', services, endpointSlices: slices, nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'test-node' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] } }] } as unknown as UpstreamCase;
  return renderCase(c);
}

/** Operations of the sync transaction itself (aged stale chains go in a transaction of their own). */
function syncOps(p: NftPlan): number {
  return p.operations.filter((o) => !(o.data.op === 'delete chain' && o.data.stale)).length;
}

describe('TestSyncProxyRulesRepeated (partial syncs)', () => {
  it('each step leaves upstream’s table and uses upstream’s number of operations', () => {
    const base = readNft('base.nft');
    const s1 = svc('ns1', 'svc1', '172.30.0.41', 'p80', 80);
    const s2 = svc('ns2', 'svc2', '172.30.0.42', 'p8080', 8080);
    const s3 = svc('ns3', 'svc3', '172.30.0.43', 'p80', 80);
    const s4 = svc('ns4', 'svc4', '172.30.0.44', 'p80', 80);
    const e1 = eps('ns1', 'svc1', ['10.0.1.1'], 'p80', 80);
    const e2 = eps('ns2', 'svc2', ['10.0.2.1'], 'p8080', 8080);
    const e3 = eps('ns3', 'svc3', ['10.0.3.1'], 'p80', 80);
    const e3b = eps('ns3', 'svc3', ['10.0.3.2'], 'p80', 80);
    const e3c = eps('ns3', 'svc3', ['10.0.3.2', '10.0.3.3'], 'p80', 80);
    const e3d = eps('ns3', 'svc3', [], 'p80', 80);
    const e4 = eps('ns4', 'svc4', ['10.0.4.1'], 'p80', 80);

    let held: NftTable | undefined;
    const step = (services: Service[], slices: EndpointSlice[], expected: string, ops: number | null, changed?: string[]) => {
      const next = render(services, slices);
      const p = plan(held, next, changed ? { changed } : {});
      if (held) {
        // told which service ports changed (kube-proxy's change tracker), the plan looks only at them
        const scoped = plan(held, next, { changed: [...changedServicePorts(held, next)] });
        assert.deepEqual(scoped.operations.map((o) => o.text).sort(), p.operations.map((o) => o.text).sort());
      }
      held = applyPlan(held, p, next);
      assert.equal(sortLikeUpstream(dumpText(held)), sortLikeUpstream(base + expected));
      if (ops !== null) assert.equal(syncOps(p), ops, p.text());
    };

    step([s1, s2], [e1, e2], cips('172.30.0.41', '172.30.0.42') + sips[1] + sips[2] + svc1 + svc2, null);
    step([s1, s2, s3], [e1, e2, e3], cips('172.30.0.41', '172.30.0.42', '172.30.0.43') + sips[1] + sips[2] + sips[3] + svc1 + svc2 + svc3, 10);
    step([s1, s3], [e1, e2, e3], cips('172.30.0.41', '172.30.0.43') + sips[1] + sips[3] + svc1 + svc2Stale + svc3, 4);
    step([s1, s3], [e1, e2, e3], cips('172.30.0.41', '172.30.0.43') + sips[1] + sips[3] + svc1 + svc3, 0);
    const noEp4 = E('no-endpoint-services', '172.30.0.44 . tcp . 80 comment "ns4/svc4:p80" : goto reject-chain');
    step([s1, s3, s4], [e1, e2, e3], cips('172.30.0.41', '172.30.0.43', '172.30.0.44') + sips[1] + sips[3] + svc1 + svc3 + noEp4, 2);
    const all = cips('172.30.0.41', '172.30.0.43', '172.30.0.44');
    step([s1, s3, s4], [e1, e2, e3, e4], all + sips[1] + sips[3] + sips[4] + svc1 + svc3 + svc4, 10);
    step([s1, s3, s4], [e1, e2, e3b, e4], all + sips[1] + sips[3] + sips[4] + svc1 + svc3Moved + svc4, 9);
    // (the old svc3 endpoint chain ages, and goes before the next sync)
    step([s1, s3, s4], [e1, e2, e3c, e4], all + sips[1] + sips[3] + sips[4] + svc1 + svc3Two + svc4, 12);
    const noEp3 = E('no-endpoint-services', '172.30.0.43 . tcp . 80 comment "ns3/svc3:p80" : goto reject-chain');
    step([s1, s3, s4], [e1, e2, e3d, e4], all + sips[1] + noEp3 + sips[4] + svc1 + svc3Empty + svc4, 5);
    const restored = all + sips[1] + sips[3] + sips[4] + svc1 + svc3Two + svc4;
    step([s1, s3, s4], [e1, e2, e3c, e4], restored, 14);
    step([s1, s3, s4], [e1, e2, e3c, e4], restored, 0);
  });
});

describe('TestSyncProxyRulesStartup (a full sync over what a restarted kube-proxy finds)', () => {
  it('leaves upstream’s table', () => {
    const s1 = svc('ns1', 'svc1', '172.30.0.41', 'p80', 80);
    const s2 = svc('ns2', 'svc2', '172.30.0.42', 'p8080', 8080);
    const s3 = svc('ns3', 'svc3', '172.30.0.43', 'p80', 80);
    // what the host holds: upstream's ParseDump of baseRules and part of the services
    const held = render([s1, s2], [eps('ns1', 'svc1', ['10.0.1.1'], 'p80', 80), eps('ns2', 'svc2', ['10.0.2.1'], 'p8080', 8080)]);
    const next = render([s1, s2, s3], [eps('ns1', 'svc1', ['10.0.1.1', '10.0.1.2'], 'p80', 80), eps('ns2', 'svc2', ['10.0.2.1'], 'p8080', 8080)]);
    const p = plan(held, next, { full: true });
    const after = applyPlan(held, p, next);
    const svc1Two = svc1
      .replace('numgen random mod 1 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 }', 'numgen random mod 2 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 , 1 : goto endpoint-ZCZBVNAZ-ns1/svc1/tcp/p80__10.0.1.2/80 }')
      .concat(`add chain ip kube-proxy endpoint-ZCZBVNAZ-ns1/svc1/tcp/p80__10.0.1.2/80
add rule ip kube-proxy endpoint-ZCZBVNAZ-ns1/svc1/tcp/p80__10.0.1.2/80 ip saddr 10.0.1.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-ZCZBVNAZ-ns1/svc1/tcp/p80__10.0.1.2/80 meta l4proto tcp dnat to 10.0.1.2:80
`);
    const expected =
      cips('172.30.0.41', '172.30.0.42', '172.30.0.43') + sips[1] + sips[2] + E('no-endpoint-services', '172.30.0.43 . tcp . 80 comment "ns3/svc3:p80" : goto reject-chain') + svc1Two + svc2;
    assert.equal(sortLikeUpstream(dumpText(after)), sortLikeUpstream(readNft('base.nft') + expected));
    // the full sync re-creates the base chains once (add + delete), as kube-proxy does after a restart
    assert.ok(p.text().includes('add chain ip kube-proxy nat-prerouting\ndelete chain ip kube-proxy nat-prerouting\n'));
  });
});
