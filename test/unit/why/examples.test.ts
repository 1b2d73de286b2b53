// The reason of every hop on examples/, for each Service kind there, in every mode: rendered rules always
// have a reason (never "no rendered rule matches"), and the hop that decides carries the field that made it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseKubeProxyConfiguration, type LoadedConfig } from '../../../src/core/config/index.js';
import type { Packet } from '../../../src/core/trace/types.js';
import type { Reason } from '../../../src/core/why/index.js';
import { examples, FROM, MODES, NFT, world, type Objects, type World } from './world.js';

let objects: Objects;
let config: LoadedConfig;
const worlds = new Map<string, World>();

before(async () => {
  ({ objects, config } = await examples());
  for (const m of MODES) worlds.set(m, world(m, objects, config));
});

type Traced = ReturnType<World['trace']>;
const text = (b: Reason) => `${b.object} ${b.field}=${b.value}`;

function trace(mode: string, p: Omit<Packet, 'protocol'> & { protocol?: string }): Traced {
  return worlds.get(mode)!.trace({ protocol: 'TCP', ...p });
}

/** Every hop has at least one reason, and none of a rendered rule says nothing matched. */
function everyHopReasoned(r: Traced, what: string): void {
  assert.ok(r.hops.length > 0, `${what}: no hops`);
  for (const h of r.hops) {
    assert.ok(h.because && h.because.length > 0, `${what}: ${h.table} ${h.chain} ${h.rule} has no because`);
    assert.ok(!h.because.some((b) => b.object === '-'), `${what}: ${h.table} ${h.chain} ${h.rule}: ${h.because.map((b) => b.sentence).join('; ')}`);
  }
}

/** The hops whose reasons name `pattern` ("Service shop/web spec.clusterIP=…"). */
function hopsWith(r: Traced, pattern: RegExp): Traced['hops'] {
  return r.hops.filter((h) => (h.because ?? []).some((b) => pattern.test(text(b))));
}

function assertReason(r: Traced, pattern: RegExp, what: string): void {
  assert.ok(hopsWith(r, pattern).length > 0, `${what}: no hop because ${pattern}\n${r.hops.map((h) => `${h.chain}: ${h.rule} -> ${(h.because ?? []).map(text).join('; ')}`).join('\n')}`);
}

describe('why: the reason of every hop on examples/, each Service kind, every mode', () => {
  for (const mode of MODES) {
    describe(mode, () => {
      it('ClusterIP (shop/web): the cluster IP, and each endpoint its EndpointSlice entry', () => {
        const r = trace(mode, { dst: '10.103.81.20', dport: 80, ...FROM.pod });
        assert.equal(r.verdict, 'forwarded');
        everyHopReasoned(r, 'shop/web');
        assertReason(r, /^Service shop\/web spec\.clusterIP=10\.103\.81\.20:80\/TCP$/, 'shop/web');
        for (const e of r.endpoints) assertReason(r, new RegExp(`^EndpointSlice shop/web-fn8j6 endpoints\\[${e.ip.replace(/\./g, '\\.')}\\]\\.conditions\\.ready=true$`), `shop/web ${e.ip}`);
      });

      it('UDP (kube-system/kube-dns:dns): the cluster IP of the UDP port', () => {
        const r = trace(mode, { dst: '10.96.0.10', dport: 53, protocol: 'UDP', ...FROM.pod });
        everyHopReasoned(r, 'kube-dns');
        assertReason(r, /^Service kube-system\/kube-dns spec\.clusterIP=10\.96\.0\.10:53\/UDP$/, 'kube-dns');
      });

      it('no endpoints (shop/recommendations): the reject names its EndpointSlice', () => {
        const r = trace(mode, { dst: '10.110.4.133', dport: 80, ...FROM.pod });
        assert.equal(r.verdict, 'rejected');
        everyHopReasoned(r, 'shop/recommendations');
        // the hop that decides: the reject itself (iptables, ipvs, userspace) or the verdict map element sending it to nft's reject-chain
        const none = r.hops.flatMap((h) => h.because ?? []).find((b) => b.value === 'none ready');
        assert.ok(none, `no hop names the missing endpoints: ${r.hops.map((h) => `${h.chain}: ${(h.because ?? []).map(text).join('; ')}`).join(' | ')}`);
        assert.equal(none.object, 'EndpointSlice shop/recommendations-zm52r');
        assert.match(none.sentence, /shop\/recommendations:http has no ready endpoint in EndpointSlice shop\/recommendations-zm52r/);
      });

      it('ClientIP affinity (shop/cart): timeoutSeconds=3600', () => {
        const r = trace(mode, { dst: '10.105.63.211', dport: 80, ...FROM.pod });
        everyHopReasoned(r, 'shop/cart');
        assertReason(r, /^Service shop\/cart spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds=3600$/, 'shop/cart');
      });

      it('NodePort (shop/admin): the node port, and nodePortAddresses for the address', () => {
        const r = trace(mode, { dst: '192.168.10.21', dport: 30080, ...FROM.outside });
        everyHopReasoned(r, 'shop/admin node port');
        assertReason(r, /^Service shop\/admin spec\.ports\[http\]\.nodePort=30080$/, 'shop/admin');
        if (mode !== 'userspace') assertReason(r, /^ConfigMap kube-system\/kube-proxy nodePortAddresses=/, 'shop/admin');
      });

      it('externalIPs (shop/erp): the external IP', () => {
        const r = trace(mode, { dst: '192.168.10.250', dport: 8069, ...FROM.outside });
        assert.equal(r.verdict, 'forwarded');
        everyHopReasoned(r, 'shop/erp');
        assertReason(r, /^Service shop\/erp spec\.externalIPs=192\.168\.10\.250$/, 'shop/erp');
      });

      it('LoadBalancer (shop/gateway): the load balancer IP', () => {
        const r = trace(mode, { dst: '192.168.10.240', dport: 80, ...FROM.outside });
        assert.equal(r.verdict, 'forwarded');
        everyHopReasoned(r, 'shop/gateway');
        assertReason(r, /^Service shop\/gateway status\.loadBalancer\.ingress\[\]\.ip=192\.168\.10\.240$/, 'shop/gateway');
      });

      if (mode !== 'userspace') {
        // the userspace proxy predates dual stack, traffic policies, source ranges and SCTP: its rules show none of them
        it('dual stack (shop/api over IPv6): the IPv6 cluster IP', () => {
          const r = trace(mode, { dst: 'fd00:10:96::5c1a', dport: 80, src: 'fd00:10:244:1::fffe', entry: 'pod-local' });
          assert.equal(r.verdict, 'forwarded');
          everyHopReasoned(r, 'shop/api IPv6');
          assertReason(r, /^Service shop\/api spec\.clusterIP=fd00:10:96::5c1a:80\/TCP$/, 'shop/api');
          for (const h of r.hops.filter((x) => x.table === 'routing')) assert.deepEqual(h.because!.map(text), ['Node worker-1 spec.podCIDRs=fd00:10:244:1::/64']);
        });

        it('externalTrafficPolicy Local (shop/admin): no endpoint on worker-1, and the node itself is short-circuited', () => {
          const outside = trace(mode, { dst: '192.168.10.21', dport: 30080, ...FROM.outside });
          assertReason(outside, /^Service shop\/admin spec\.externalTrafficPolicy=Local$/, 'shop/admin from outside');
          if (outside.verdict === 'dropped') {
            const drop = outside.hops.at(-1)!;
            assert.ok(drop.because!.some((b) => b.field === 'spec.externalTrafficPolicy' && b.value === 'Local' && /no ready endpoint on this node \(worker-1\)/.test(b.sentence)), drop.because!.map((b) => b.sentence).join('; '));
          }
          const self = trace(mode, { dst: '192.168.10.21', dport: 30080, ...FROM.node });
          everyHopReasoned(self, 'shop/admin from the node');
          assertReason(self, /^Service shop\/admin spec\.externalTrafficPolicy=Local$/, 'shop/admin from the node');
        });

        it('externalTrafficPolicy Cluster (shop/api-public node port)', () => {
          const r = trace(mode, { dst: '192.168.10.21', dport: 30443, ...FROM.outside });
          everyHopReasoned(r, 'shop/api-public');
          assertReason(r, /^Service shop\/api-public spec\.externalTrafficPolicy=Cluster$/, 'shop/api-public');
        });

        it('loadBalancerSourceRanges (shop/gateway): the range let in, and the drop of any other source', () => {
          const allowed = trace(mode, { dst: '192.168.10.240', dport: 80, ...FROM.outside });
          assertReason(allowed, /^Service shop\/gateway spec\.loadBalancerSourceRanges=/, 'shop/gateway allowed');
          const blocked = trace(mode, { dst: '192.168.10.240', dport: 80, ...FROM.blocked });
          assert.equal(blocked.verdict, 'dropped');
          everyHopReasoned(blocked, 'shop/gateway blocked');
          const all = blocked.hops.flatMap((h) => h.because ?? []);
          assert.ok(all.some((b) => b.field === 'spec.loadBalancerSourceRanges' && b.value === '203.0.113.0/24,198.51.100.0/24' && /other traffic to it is dropped/.test(b.sentence)), all.map(text).join('; '));
          assert.ok(!all.some((b) => b.field === 'spec.loadBalancerSourceRanges' && b.value === '203.0.113.0/24'), 'a blocked source is not "let in" by a range');
        });

        it('internalTrafficPolicy Local (shop/otel-agent)', () => {
          const r = trace(mode, { dst: '10.102.77.150', dport: 4317, ...FROM.pod });
          everyHopReasoned(r, 'shop/otel-agent');
          assertReason(r, /^Service shop\/otel-agent spec\.internalTrafficPolicy=Local$/, 'shop/otel-agent');
          assertReason(r, /^EndpointSlice shop\/otel-agent-\w+ endpoints\[10\.244\.1\.9\]\.nodeName=worker-1$/, 'shop/otel-agent');
        });

        it('SCTP (shop/sms-gateway)', () => {
          const r = trace(mode, { dst: '10.100.212.58', dport: 2905, protocol: 'SCTP', ...FROM.pod });
          everyHopReasoned(r, 'shop/sms-gateway');
          assertReason(r, /^Service shop\/sms-gateway spec\.clusterIP=10\.100\.212\.58:2905\/SCTP$/, 'shop/sms-gateway');
        });
      }

      it('masquerade from outside the cluster CIDR names clusterCIDR and its line in the ConfigMap', () => {
        if (mode === 'userspace') return; // the userspace proxy opens its own connection: no masquerade rule
        const r = trace(mode, { dst: '10.103.81.20', dport: 80, ...FROM.outside });
        const masq = r.hops.flatMap((h) => h.because ?? []).find((b) => b.field === 'clusterCIDR');
        assert.ok(masq, 'no hop because clusterCIDR');
        assert.equal(masq.value, '10.244.0.0/16,fd00:10:244::/56');
        assert.match(masq.source ?? '', /(^|\/)examples\/kube-proxy-configmap\.yaml:13$/);
      });
    });
  }
});

// 1.36 dropped the per-endpoint chains (a numgen DNAT map instead), the mark-for-masquerade chain (the mark
// set inline) and the per-service ClusterIP masquerade rules (one on @cluster-ips); what replaced them must
// stand on the same fields as what was there at 1.31–1.35.
describe('why: nftables at every layout gives the same reasons', () => {
  for (const variant of NFT) {
    describe(variant, () => {
      it("every item of a service port stands on one of its fields, not on the mode alone", () => {
        const w = worlds.get(variant)!;
        const bare = w.index.items.filter((i) => i.servicePort && i.reasons.every((r) => r.field === 'mode'));
        assert.deepEqual(bare.map((i) => `${i.chain}: ${i.text}`), []);
      });

      it('a balancing hop names the endpoint it took, and only that one', () => {
        const r = trace(variant, { dst: '10.103.81.20', dport: 80, ...FROM.pod });
        for (const e of r.endpoints) {
          const hops = hopsWith(r, new RegExp(`^EndpointSlice shop/web-fn8j6 endpoints\\[${e.ip.replace(/\./g, '\\.')}\\]`));
          assert.ok(hops.length > 0, e.ip);
          for (const h of hops) {
            const eps = (h.because ?? []).filter((b) => b.field.startsWith('endpoints['));
            assert.deepEqual(eps.map((b) => b.field), [`endpoints[${e.ip}].conditions.ready`], `${h.chain}: ${h.action}`);
          }
        }
      });

      it('a pod reaching itself through its service (hairpin) names its endpoint', () => {
        const r = trace(variant, { dst: '10.103.81.20', dport: 80, src: '10.244.1.7', entry: 'pod-local' });
        assertReason(r, /^EndpointSlice shop\/web-fn8j6 endpoints\[10\.244\.1\.7\]\.(conditions\.ready=true|nodeName=worker-1)$/, 'hairpin');
        const masq = r.hops.filter((h) => /hairpin-connections|ip saddr 10\.244\.1\.7 jump mark-for-masquerade/.test(h.rule));
        assert.ok(masq.length > 0, r.hops.map((h) => h.rule).join('\n'));
        for (const h of masq) assert.ok((h.because ?? []).some((b) => /^endpoints\[10\.244\.1\.7\]\./.test(b.field)), `${h.rule}: ${(h.because ?? []).map(text).join('; ')}`);
      });

      it('hairpin-connections elements (1.36+) each name their local endpoint', () => {
        const els = worlds.get(variant)!.index.items.filter((i) => i.chain === 'hairpin-connections');
        if (variant !== 'nftables@1.36') return assert.deepEqual(els, []);
        assert.ok(els.length > 0);
        for (const el of els) {
          const ip = el.text.split(' . ')[0]!;
          assert.ok(el.servicePort, el.text);
          assert.ok(el.reasons.length > 0 && el.reasons.every((b) => b.field === `endpoints[${ip}].nodeName` && b.value === 'worker-1'), `${el.text}: ${el.reasons.map(text).join('; ')}`);
        }
      });

      it('masqueradeAll: the masquerade hop names nftables.masqueradeAll and its line', () => {
        // only the nftables section: kube-proxy's nftables proxier reads nftables.masqueradeAll (NewDualStackProxier)
        const loaded = parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nclusterCIDR: 10.244.0.0/16\nnftables:\n  masqueradeAll: true\n', 'kube-proxy.yaml');
        const r = world(variant, objects, loaded).trace({ protocol: 'TCP', dst: '10.103.81.20', dport: 80, ...FROM.pod });
        const all = r.hops.flatMap((h) => h.because ?? []).find((b) => b.field === 'nftables.masqueradeAll');
        assert.ok(all, r.hops.map((h) => `${h.chain}: ${h.rule} -> ${(h.because ?? []).map(text).join('; ')}`).join('\n'));
        assert.equal(all.value, 'true');
        assert.equal(all.source, 'kube-proxy.yaml:6');
      });
    });
  }
});
