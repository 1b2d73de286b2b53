// The scoped render against the full one: after random changes to random clusters, the previous table
// with only the changed service ports rendered again is the table a full render gives (same canonical
// lines, no drift) and a partial plan from the previous table writes the same transaction, for every
// layout (1.29, 1.31, 1.34, 1.36), single and dual stack.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import { canonicalLines } from '../../../src/core/nftables/canonical.js';
import { tableDrift } from '../../../src/core/nftables/drift.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { plan } from '../../../src/core/nftables/plan.js';
import { servicePortIndex } from '../../../src/core/nftables/index-table.js';
import { renderNftablesChanged } from '../../../src/core/nftables/render-changed.js';
import { renderNftables } from '../../../src/core/nftables/render.js';
import { layoutForVersion } from '../../../src/core/nftables/layout.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { updateProxyView } from '../../../src/core/proxy-view-update.js';
import { ClusterGen, NODE, randomChange, rng } from '../model/random-cluster.js';
import { ep, sp as fixtureSP } from '../model/fixtures.js';
import type { ProxyState, ServicePort } from '../../../src/core/model/index.js';

/** An index with its maps as sorted entry lists (the order of service ports in a map does not matter, within one it does). */
function plainIndex(ix: ReturnType<typeof servicePortIndex>): unknown {
  const m = <T>(x: Map<string, T>) => [...x.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    chains: m(ix.chains),
    empty: ix.empty.map((c) => c.name).sort(),
    affinitySets: m(ix.affinitySets),
    elements: m(ix.elements).map(([k, v]) => [k, m(v)]),
  };
}

const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', hostnameOverride: NODE, clusterCIDR: '10.244.0.0/16,fd00:10:244::/48' } as never));

describe('renderChanged (nftables)', () => {
  for (const version of ['1.29', '1.31', '1.34', '1.36']) {
    for (let seed = 1; seed <= 25; seed++) {
      it(`${version}: equals the full render after random changes (seed ${seed})`, () => {
        const opts = { kubeProxyVersion: version };
        const g = new ClusterGen(rng(seed * 31 + Number(version.slice(2))));
        let cluster = g.cluster(5 + (seed % 10));
        let view = buildProxyView(cluster, config, 'test');
        let tables = nftablesMode.render(view, config, opts);
        for (let step = 0; step < 6; step++) {
          const touched = new Set<string>();
          const what: string[] = [];
          for (let i = 0, n = 1 + Math.floor(g.r() * 2); i < n; i++) {
            const ch = randomChange(g, cluster);
            cluster = ch.cluster;
            what.push(ch.what);
            for (const s of ch.services) touched.add(s);
          }
          const up = updateProxyView(view, cluster, touched, config, 'test');
          const full = nftablesMode.render(up.view, config, opts);
          const spliced = nftablesMode.renderChanged!({ states: tables, view }, up.view, up.servicePorts, config, opts);
          assert.ok(spliced, 'the scoped render applies');
          assert.equal(spliced.length, full.length);
          for (const [i, t] of spliced.entries()) {
            const at = `step ${step} (${what.join(', ')}), ${t.family}`;
            assert.deepStrictEqual(canonicalLines(t), canonicalLines(full[i]!), at);
            assert.deepStrictEqual(tableDrift(full[i]!, t), [], at);
            const held = tables.find((x) => x.family === t.family)!;
            assert.equal(plan(held, t, { changed: up.servicePorts }).text(), plan(held, full[i]!, { changed: up.servicePorts }).text(), at);
            // the index the scoped render left for the plan is the one a walk of the table gives
            assert.deepStrictEqual(plainIndex(servicePortIndex(t)), plainIndex(servicePortIndex(structuredClone(t))), `${at}: index`);
          }
          view = up.view;
          tables = spliced;
        }
      });
    }
  }

  it('keeps a hairpin entry another service still writes, drops it when none does', () => {
    const state = (eps: Record<string, boolean>): ProxyState => {
      const sp = (name: string, ip: string): ServicePort => fixtureSP({ name: { namespace: 'ns', name, port: 'p', protocol: 'TCP' }, key: `ns/${name}:p`, clusterIP: ip });
      const local = ep('10.244.0.5:8080', { isLocal: true, ready: true, serving: true });
      return {
        ipFamily: 'IPv4',
        nodeName: NODE,
        serviceMap: new Map([
          ['ns/a:p', sp('a', '172.30.0.1')],
          ['ns/b:p', sp('b', '172.30.0.2')],
        ]),
        endpointsMap: new Map(Object.entries(eps).filter(([, on]) => on).map(([k]) => [k, [local]])),
      };
    };
    const base = { config, node: { name: NODE, ips: ['192.168.0.10'], podCIDRs: ['10.244.0.0/24'] }, layout: layoutForVersion('1.36') };
    const hairpin = (t: ReturnType<typeof renderNftables>) => t.sets.find((s) => s.name === 'hairpin-connections')!.elements.map((e) => e.key.join(' . '));
    const both = state({ 'ns/a:p': true, 'ns/b:p': true });
    const onlyB = state({ 'ns/a:p': false, 'ns/b:p': true });
    const none = state({ 'ns/a:p': false, 'ns/b:p': false });
    const previous = renderNftables({ ...base, state: both });
    assert.deepEqual(hairpin(previous), ['10.244.0.5 . 10.244.0.5 . tcp . 8080']);
    // service a loses the pod: b still sends it to itself
    const t1 = renderNftablesChanged({ ...base, previous, previousState: both, state: onlyB, changed: ['ns/a:p'] });
    assert.deepEqual(hairpin(t1), ['10.244.0.5 . 10.244.0.5 . tcp . 8080']);
    assert.deepStrictEqual(canonicalLines(t1), canonicalLines(renderNftables({ ...base, state: onlyB })));
    // then b loses it too: nothing writes it any more
    const t2 = renderNftablesChanged({ ...base, previous: t1, previousState: onlyB, state: none, changed: ['ns/b:p'] });
    assert.deepEqual(hairpin(t2), []);
    assert.deepStrictEqual(canonicalLines(t2), canonicalLines(renderNftables({ ...base, state: none })));
  });

  it('leaves the full render to the caller when the previous table is of another layout', () => {
    const g = new ClusterGen(rng(5));
    const cluster = g.cluster(4);
    const view = buildProxyView(cluster, config, 'test');
    const tables = nftablesMode.render(view, config, { kubeProxyVersion: '1.31' });
    assert.equal(nftablesMode.renderChanged!({ states: tables, view }, view, [], config, { kubeProxyVersion: '1.36' }), undefined);
  });
});
