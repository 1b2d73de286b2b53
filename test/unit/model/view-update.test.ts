// updateProxyView against buildProxyView: after random changes to random clusters (endpoints added,
// removed, readiness flipped, services added, deleted, re-ported, externalTrafficPolicy and affinity
// flipped, slices added and deleted, single and dual stack), the incremental view is the full one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setDefaults } from '../../../src/core/config/index.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { updateProxyView } from '../../../src/core/proxy-view-update.js';
import { serviceHealth } from '../../../src/core/proxier/health.js';
import { ClusterGen, NODE, randomChange, rng } from './random-cluster.js';

const config = setDefaults({ mode: 'nftables', hostnameOverride: NODE } as never);

/** The view as plain data, maps as entry lists in their order (render walks them in order). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Map ? { map: [...x.entries()] } : x)));
}

describe('updateProxyView', () => {
  for (let seed = 1; seed <= 60; seed++) {
    it(`equals the full view after random changes (seed ${seed})`, () => {
      const g = new ClusterGen(rng(seed));
      let cluster = g.cluster(4 + (seed % 12));
      let view = buildProxyView(cluster, config, 'test');
      for (let step = 0; step < 8; step++) {
        const batch = 1 + Math.floor(g.r() * 3);
        const touched = new Set<string>();
        const what: string[] = [];
        for (let i = 0; i < batch; i++) {
          const ch = randomChange(g, cluster);
          cluster = ch.cluster;
          what.push(ch.what);
          for (const s of ch.services) touched.add(s);
        }
        const full = buildProxyView(cluster, config, 'test');
        const up = updateProxyView(view, cluster, touched, config, 'test');
        assert.equal(up.incremental, true);
        assert.deepStrictEqual(plain(up.view), plain(full), `step ${step}: ${what.join(', ')}`);
        assert.deepStrictEqual(serviceHealth(up.view), serviceHealth(full));
        // the service ports named are exactly those of the touched services, before and after
        const expected = new Set<string>();
        for (const v of [view, full]) {
          for (const f of v.families) {
            for (const k of [...f.state.serviceMap.keys(), ...f.state.endpointsMap.keys()]) if (touched.has(k.replace(/:[^/:]*$/, ''))) expected.add(k);
          }
        }
        assert.deepStrictEqual(new Set(up.servicePorts), expected);
        view = up.view;
      }
    });
  }

  it('needs only the changed services objects (the tracker hands over just those)', () => {
    const g = new ClusterGen(rng(99));
    let cluster = g.cluster(20);
    const view = buildProxyView(cluster, config, 'test');
    const ch = randomChange(g, cluster);
    cluster = ch.cluster;
    const ofChanged = {
      services: cluster.services.filter((s) => ch.services.has(`${s.metadata!.namespace}/${s.metadata!.name}`)),
      endpointSlices: cluster.endpointSlices.filter((s) => ch.services.has(`${s.metadata!.namespace}/${s.metadata!.labels!['kubernetes.io/service-name']}`)),
      nodes: cluster.nodes,
    };
    assert.ok(ofChanged.services.length < cluster.services.length);
    assert.deepStrictEqual(plain(updateProxyView(view, ofChanged, ch.services, config, 'test').view), plain(buildProxyView(cluster, config, 'test')));
  });

  it('rebuilds the whole view when what it reads of the node changed', () => {
    const g = new ClusterGen(rng(7));
    const cluster = g.cluster(6);
    const view = buildProxyView(cluster, config, 'test');
    const moved = { ...cluster, nodes: cluster.nodes.map((n) => (n.metadata!.name === NODE ? { ...n, metadata: { ...n.metadata, labels: { 'topology.kubernetes.io/zone': 'zone-9' } } } : n)) };
    const up = updateProxyView(view, moved, new Set(), config, 'test');
    assert.equal(up.incremental, false);
    assert.deepStrictEqual(plain(up.view), plain(buildProxyView(moved, config, 'test')));
    // a new object for the same node, same labels, addresses and CIDRs (a status heartbeat): still incremental
    const beat = { ...cluster, nodes: cluster.nodes.map((n) => ({ ...n, metadata: { ...n.metadata, resourceVersion: '2' } })) };
    const again = updateProxyView(view, beat, new Set(), config, 'test');
    assert.equal(again.incremental, true);
    assert.equal(again.view.node, beat.nodes[0]);
  });
});
