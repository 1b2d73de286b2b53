// Provenance follows the field: examples/ with one field changed at a time, rendered again in every mode
// whose rules that field changes; the reasons of the service port's rules must name the new value, and the
// old one nowhere. Modes whose rules the field does not change say so by naming it nowhere.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseKubeProxyConfiguration, type LoadedConfig } from '../../../src/core/config/index.js';
import { nodePortNotHere, type Reason } from '../../../src/core/why/index.js';
import { examples, FROM, MODES, modeOf, NFT, world, type Objects } from './world.js';

let base: { objects: Objects; config: LoadedConfig };

before(async () => {
  base = await examples();
});

const text = (r: Reason) => `${r.object} ${r.field}=${r.value}`;

/** Every reason of the rendered items of one service port (or of every item when servicePort is undefined). */
function reasons(mode: string, objects: Objects, config: LoadedConfig, servicePort?: string): Reason[] {
  const w = world(mode, objects, config);
  return w.index.items.filter((i) => servicePort === undefined || i.servicePort === servicePort).flatMap((i) => i.reasons);
}

function fresh(): Objects {
  return structuredClone(base.objects);
}

function service(objects: Objects, name: string) {
  const s = objects.services.find((x) => x.metadata?.namespace === 'shop' && x.metadata?.name === name);
  assert.ok(s, `examples/ has shop/${name}`);
  return s;
}

function slice(objects: Objects, name: string) {
  const s = objects.endpointSlices.find((x) => x.metadata?.namespace === 'shop' && x.metadata?.name === name);
  assert.ok(s, `examples/ has EndpointSlice shop/${name}`);
  return s;
}

describe('why: the reason follows the field', () => {
  describe('spec.externalTrafficPolicy (shop/api-public: Cluster, then Local)', () => {
    for (const mode of ['iptables', 'ipvs', ...NFT]) {
      it(mode, () => {
        const before = reasons(mode, base.objects, base.config, 'shop/api-public:https').filter((r) => r.field === 'spec.externalTrafficPolicy');
        assert.ok(before.length > 0 && before.every((r) => r.value === 'Cluster'), before.map(text).join('; '));
        const objects = fresh();
        service(objects, 'api-public').spec!.externalTrafficPolicy = 'Local';
        const after = reasons(mode, objects, base.config, 'shop/api-public:https').filter((r) => r.field === 'spec.externalTrafficPolicy');
        assert.ok(after.length > 0 && after.every((r) => r.value === 'Local'), after.map(text).join('; '));
        // and a packet from outside to its node port says so on the way
        const r = world(mode, objects, base.config).trace({ dst: '192.168.10.21', dport: 30443, protocol: 'TCP', ...FROM.outside });
        assert.ok(r.hops.some((h) => (h.because ?? []).some((b) => b.field === 'spec.externalTrafficPolicy' && b.value === 'Local')));
      });
    }
    it('userspace: the userspace proxy has no traffic policies, so no rule names one', () => {
      const objects = fresh();
      service(objects, 'api-public').spec!.externalTrafficPolicy = 'Local';
      assert.deepEqual(reasons('userspace', objects, base.config).filter((r) => r.field === 'spec.externalTrafficPolicy'), []);
    });
  });

  describe('spec.sessionAffinityConfig.clientIP.timeoutSeconds (shop/cart: 3600, then 600, then no affinity)', () => {
    for (const mode of MODES) {
      it(mode, () => {
        const field = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';
        assert.ok(reasons(mode, base.objects, base.config, 'shop/cart:http').some((r) => r.field === field && r.value === '3600'));
        const objects = fresh();
        service(objects, 'cart').spec!.sessionAffinityConfig = { clientIP: { timeoutSeconds: 600 } };
        const after = reasons(mode, objects, base.config, 'shop/cart:http').filter((r) => /sessionAffinity/.test(r.field));
        assert.ok(after.length > 0, 'no affinity reason after the change');
        assert.deepEqual([...new Set(after.map(text))], [`Service shop/cart ${field}=600`]);
        assert.match(after[0]!.sentence, /600s/);
        const none = fresh();
        service(none, 'cart').spec!.sessionAffinity = 'None';
        assert.deepEqual(reasons(mode, none, base.config, 'shop/cart:http').filter((r) => /sessionAffinity/.test(r.field)), []);
      });
    }
  });

  describe('endpoints (shop/web, EndpointSlice web-fn8j6)', () => {
    for (const mode of MODES) {
      it(`${mode}: none at all: the reject names the slice`, () => {
        const objects = fresh();
        slice(objects, 'web-fn8j6').endpoints = [];
        const rs = reasons(mode, objects, base.config, 'shop/web:http');
        assert.ok(!rs.some((r) => /^endpoints\[[^\]]/.test(r.field)), rs.map(text).join('; '));
        const none = rs.find((r) => r.value === 'none ready');
        assert.ok(none, rs.map(text).join('; '));
        assert.equal(none.object, 'EndpointSlice shop/web-fn8j6');
        assert.match(none.sentence, /^shop\/web:http has no ready endpoint in EndpointSlice shop\/web-fn8j6 \(empty\)$/);
        const r = world(mode, objects, base.config).trace({ dst: '10.103.81.20', dport: 80, protocol: 'TCP', ...FROM.pod });
        assert.equal(r.verdict, 'rejected');
        assert.ok(r.hops.some((h) => (h.because ?? []).some((b) => b.value === 'none ready' && b.object === 'EndpointSlice shop/web-fn8j6')));
      });

      it(`${mode}: only terminating and not serving: none ready, "three terminating"`, () => {
        const objects = fresh();
        for (const ep of slice(objects, 'web-fn8j6').endpoints ?? []) ep.conditions = { ready: false, serving: false, terminating: true };
        const none = reasons(mode, objects, base.config, 'shop/web:http').find((r) => r.value === 'none ready');
        assert.ok(none);
        assert.match(none.sentence, /EndpointSlice shop\/web-fn8j6 \(three terminating\)$/);
      });

      it(`${mode}: only terminating but serving: upstream's fallback is named, or the reject when the mode has none`, () => {
        const objects = fresh();
        for (const ep of slice(objects, 'web-fn8j6').endpoints ?? []) ep.conditions = { ready: false, serving: true, terminating: true };
        const rs = reasons(mode, objects, base.config, 'shop/web:http');
        const fallback = rs.filter((r) => /\.conditions\.terminating$/.test(r.field));
        if (mode === 'userspace') {
          // the userspace proxier only ever used ready endpoints
          assert.deepEqual(fallback, []);
          assert.ok(rs.some((r) => r.value === 'none ready'));
        } else {
          assert.deepEqual([...new Set(fallback.map((r) => r.field))].sort(), ['endpoints[10.244.0.5].conditions.terminating', 'endpoints[10.244.1.7].conditions.terminating', 'endpoints[10.244.2.4].conditions.terminating']);
          assert.ok(fallback.every((r) => r.object === 'EndpointSlice shop/web-fn8j6' && /terminating but still serving; kube-proxy uses it because shop\/web:http has no ready endpoint/.test(r.sentence)));
          assert.ok(!rs.some((r) => r.value === 'none ready'));
        }
      });
    }
  });

  describe('spec.loadBalancerSourceRanges (shop/gateway: two ranges, then 10.0.0.0/8, then none)', () => {
    for (const mode of ['iptables', 'ipvs', ...NFT]) {
      it(mode, () => {
        const before = reasons(mode, base.objects, base.config, 'shop/gateway:http').filter((r) => r.field === 'spec.loadBalancerSourceRanges');
        assert.ok(before.some((r) => r.value === '203.0.113.0/24,198.51.100.0/24'));
        const objects = fresh();
        service(objects, 'gateway').spec!.loadBalancerSourceRanges = ['10.0.0.0/8'];
        const after = reasons(mode, objects, base.config, 'shop/gateway:http').filter((r) => r.field === 'spec.loadBalancerSourceRanges');
        assert.ok(after.length > 0);
        assert.deepEqual([...new Set(after.map((r) => r.value))], ['10.0.0.0/8']);
        const r = world(mode, objects, base.config).trace({ dst: '192.168.10.240', dport: 80, protocol: 'TCP', ...FROM.outside });
        assert.equal(r.verdict, 'dropped');
        assert.ok(r.hops.some((h) => (h.because ?? []).some((b) => b.field === 'spec.loadBalancerSourceRanges' && b.value === '10.0.0.0/8')));
        const open = fresh();
        delete service(open, 'gateway').spec!.loadBalancerSourceRanges;
        assert.deepEqual(reasons(mode, open, base.config, 'shop/gateway:http').filter((r) => r.field === 'spec.loadBalancerSourceRanges'), []);
      });
    }
  });

  describe('nodePortAddresses (a config file with the field on line 4)', () => {
    const file = (value: string) =>
      parseKubeProxyConfiguration(`apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16,fd00:10:244::/56\nnodePortAddresses: ${value}\n`, 'kube-proxy.yaml');
    for (const mode of ['iptables', 'ipvs', ...NFT]) {
      it(mode, () => {
        const rs = (config: LoadedConfig) => reasons(mode, base.objects, config).filter((r) => r.field === 'nodePortAddresses');
        const cidr = rs(file('[192.168.10.0/24]'));
        assert.ok(cidr.length > 0);
        assert.ok(cidr.every((r) => r.object === 'KubeProxyConfiguration kube-proxy.yaml' && r.value === '[192.168.10.0/24]' && r.source === 'kube-proxy.yaml:4' && /no NodePort rule on any other address/.test(r.sentence)), cidr.map(text).join('; '));
        const primary = rs(file('[primary]'));
        assert.ok(primary.every((r) => r.value === '[primary]' && /the node IP (192\.168\.10\.21|2001:db8:10::21)\)/.test(r.sentence) && r.source === 'kube-proxy.yaml:4'), primary.map(text).join('; '));
        // unset: every address (iptables, ipvs) or the platform default (nftables), never a line of the file
        const unset = parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\n', 'kube-proxy.yaml');
        const dflt = rs(unset);
        assert.ok(dflt.length > 0 && dflt.every((r) => r.source === (modeOf(mode) === 'nftables' ? "kube-proxy's default for nftables, the field being unset" : "kube-proxy's default")), dflt.map((r) => `${text(r)} ${r.source}`).join('; '));
        assert.ok(dflt.every((r) => r.value === (modeOf(mode) === 'nftables' ? '[primary]' : '[] (every local address)')));
        // an address nodePortAddresses leaves out: no rule matches, and the hop added after the trace says why
        const config = file('[10.0.0.0/8]');
        const w = world(mode, base.objects, config);
        const packet = { dst: '192.168.10.21', dport: 30443, protocol: 'TCP', ...FROM.outside };
        const r = w.trace(packet);
        assert.equal(r.verdict, 'not-matched');
        const why = nodePortNotHere({ view: w.view, config: config.config, place: config, services: base.objects.services, endpointSlices: base.objects.endpointSlices }, packet, r.verdict);
        assert.deepEqual(why?.because.map(text), ['KubeProxyConfiguration kube-proxy.yaml nodePortAddresses=[10.0.0.0/8]', 'Service shop/api-public spec.ports[https].nodePort=30443']);
        assert.equal(why?.because[0]!.source, 'kube-proxy.yaml:4');
        // on an address it names, a node port is answered: nothing to explain
        const answered = world(mode, base.objects, file('[192.168.10.0/24]')).trace(packet);
        assert.notEqual(answered.verdict, 'not-matched');
        assert.equal(nodePortNotHere({ view: w.view, config: config.config }, packet, answered.verdict), undefined);
      });
    }
  });
});
