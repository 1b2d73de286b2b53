// examples/ is the demo every command uses: check it holds what examples/README.md says, as kube-proxy sees it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findKubeProxyConfigMap, configFromConfigMap } from '../../src/core/config/index.js';
import { buildProxyState, categorizeEndpoints, type ProxyState } from '../../src/core/model/index.js';
import { FileSource } from '../../src/kube/source.js';

const EXAMPLES = join(fileURLToPath(import.meta.url), '..', '..', '..', 'examples');

async function load() {
  const src = new FileSource([EXAMPLES]);
  const [services, endpointSlices, nodes, configMaps] = await Promise.all([src.services(), src.endpointSlices(), src.nodes(), src.proxyConfigMaps()]);
  return { services, endpointSlices, nodes, configMaps };
}

function eps(state: ProxyState, key: string) {
  return (state.endpointsMap.get(key) ?? []).map((e) => `${e.endpoint}${e.ready ? '' : e.serving ? ' serving' : ' not-serving'}${e.terminating ? ' terminating' : ''}${e.isLocal ? ' local' : ''}`);
}

describe('examples/', () => {
  it('configures ipvs with rr through kubeadm\'s ConfigMap', async () => {
    const { configMaps } = await load();
    const cm = findKubeProxyConfigMap(configMaps);
    assert.equal(cm?.metadata?.name, 'kube-proxy');
    const loaded = configFromConfigMap(cm!, 'examples');
    assert.equal(loaded.effectiveMode, 'ipvs');
    assert.equal(loaded.config.ipvs.scheduler, 'rr');
    assert.deepEqual(loaded.warnings, []);
  });

  it('holds every kind of Service kube-proxy handles, and skips the ones it ignores', async () => {
    const objs = await load();
    const v4 = buildProxyState(objs, { ipFamily: 'IPv4', nodeName: 'worker-1' });
    const names = new Set([...v4.serviceMap.values()].map((sp) => `${sp.name.namespace}/${sp.name.name}`));
    for (const kept of ['default/kubernetes', 'kube-system/kube-dns', 'shop/web', 'shop/recommendations', 'shop/checkout', 'shop/admin', 'shop/cart', 'shop/gateway', 'shop/api-public', 'shop/erp', 'shop/api', 'shop/otel-agent', 'shop/search', 'shop/sms-gateway']) {
      assert.ok(names.has(kept), kept);
    }
    for (const skipped of ['shop/postgres', 'shop/payments-psp', 'shop/grpc-internal']) assert.ok(!names.has(skipped), skipped);
  });

  it('shows the endpoint cases: none, terminating, local, dual stack', async () => {
    const objs = await load();
    const v4 = buildProxyState(objs, { ipFamily: 'IPv4', nodeName: 'worker-2' });
    const v6 = buildProxyState(objs, { ipFamily: 'IPv6', nodeName: 'worker-2' });
    const keyOf = (state: ProxyState, ns: string, name: string) => [...state.serviceMap.keys()].filter((k) => k.startsWith(`${ns}/${name}:`) || k === `${ns}/${name}`);
    assert.deepEqual(keyOf(v4, 'shop', 'recommendations').flatMap((k) => eps(v4, k)), []);
    // Mid rollout: the old pod on worker-1 terminates but still serves; the new one on worker-2 is ready.
    assert.deepEqual(eps(v4, 'shop/checkout:http'), ['10.244.1.15:8080 serving terminating', '10.244.2.13:8080 local']);
    const web = keyOf(v4, 'shop', 'web').flatMap((k) => eps(v4, k));
    assert.equal(web.length, 3);
    assert.equal(web.filter((e) => e.endsWith(' local')).length, 1, 'one web pod on worker-2');
    // Dual stack: only the dual-stack Service (and no single-stack one) appears in the IPv6 view.
    const v6names = new Set([...v6.serviceMap.values()].map((sp) => sp.name.name));
    assert.ok(v6names.has('api'));
    assert.ok(!v6names.has('web'));
    for (const k of keyOf(v6, 'shop', 'api')) assert.ok(eps(v6, k).every((e) => e.startsWith('[')), 'IPv6 endpoints');
  });

  it('gateway: ETP Local with a health-check node port and source ranges; api-public\'s Proxy ingress is no VIP', async () => {
    const objs = await load();
    const state = buildProxyState(objs, { ipFamily: 'IPv4', nodeName: 'cp-1' });
    const gateway = [...state.serviceMap.values()].filter((sp) => sp.name.name === 'gateway');
    assert.ok(gateway.length >= 1);
    for (const sp of gateway) {
      assert.equal(sp.externalPolicyLocal, true);
      assert.equal(sp.healthCheckNodePort, 32145);
      assert.deepEqual(sp.loadBalancerVIPs, ['192.168.10.240']);
      assert.ok(sp.loadBalancerSourceRanges.length > 0);
      // No gateway pod on cp-1: external traffic there has no local endpoint to go to.
      const cat = categorizeEndpoints(state.endpointsMap.get(sp.key) ?? [], sp, 'cp-1', undefined);
      assert.deepEqual(cat.localEndpoints, []);
    }
    const apiPublic = [...state.serviceMap.values()].filter((sp) => sp.name.name === 'api-public');
    assert.ok(apiPublic.length >= 1);
    for (const sp of apiPublic) assert.deepEqual(sp.loadBalancerVIPs, []);
    const cart = [...state.serviceMap.values()].find((sp) => sp.name.name === 'cart');
    assert.deepEqual(cart?.sessionAffinity, { type: 'ClientIP', maxAgeSeconds: 3600 });
  });
});
