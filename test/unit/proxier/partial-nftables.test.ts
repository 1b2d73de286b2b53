// Partial syncs in nftables mode through the proxier: one endpoint change among a few hundred services
// renders that service alone (the mode's scoped render, never the full one) and leaves the host as a full
// sync of the same objects would; a run of random changes keeps the host equal to a full render.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import type { FamilyState, IPFamily, Plan, ProxyModeDefinition } from '../../../src/core/modes/types.js';
import { canonicalLines } from '../../../src/core/nftables/canonical.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { applyPlan, type NftPlan } from '../../../src/core/nftables/plan.js';
import type { NftTable } from '../../../src/core/nftables/types.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { Proxier, type ModeHost } from '../../../src/core/proxier/index.js';
import { ClusterGen, NODE, randomChange, rng, type Cluster } from '../model/random-cluster.js';
import { FakeClock } from './fakes.js';

const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', hostnameOverride: NODE, clusterCIDR: '10.244.0.0/16,fd00:10:244::/48', nftables: { minSyncPeriod: '1s', syncPeriod: '1h' } } as never));

/** A host holding nftables tables in memory, changed by each plan's operations (knftables' Fake). */
class FakeNftHost implements ModeHost {
  readonly description = 'fake nft host';
  readonly tables = new Map<IPFamily, NftTable>();
  readonly plans: NftPlan[] = [];
  /** The next apply is refused whole, as nft refuses a transaction. */
  failNext = false;
  constructor(private readonly layout: string) {}
  async read(family: IPFamily): Promise<FamilyState | undefined> {
    return this.tables.get(family);
  }
  async apply(plan: Plan): Promise<void> {
    const p = plan as NftPlan;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('nft refused the transaction.');
    }
    this.plans.push(p);
    const like: NftTable = { family: p.family, name: 'kube-proxy', comment: 'rules for kube-proxy', chains: [], sets: [], layout: this.layout };
    this.tables.set(p.family, applyPlan(this.tables.get(p.family), p, like));
  }
}

/** nftablesMode with its renders counted, and the service ports each scoped render was given. */
function counted() {
  const calls = { render: 0, renderChanged: 0, changed: [] as string[][] };
  const def: ProxyModeDefinition<NftTable> = {
    ...nftablesMode,
    render: (...a) => {
      calls.render++;
      return nftablesMode.render(...a);
    },
    renderChanged: (previous, view, changed, ...rest) => {
      calls.renderChanged++;
      calls.changed.push([...changed]);
      return nftablesMode.renderChanged!(previous, view, changed, ...rest);
    },
  };
  return { def: def as unknown as ProxyModeDefinition<FamilyState>, calls };
}

/** A table as the host holds it, without the service chains a partial sync flushed (deleted by a later one). */
function held(t: NftTable | undefined): string[] {
  if (!t) return [];
  return canonicalLines({ ...t, chains: t.chains.filter((c) => !(c.name.includes('/') && c.rules.length === 0)) });
}

function fullRender(c: Cluster, version: string): Map<IPFamily, string[]> {
  const view = buildProxyView(c, config, 'test');
  return new Map(nftablesMode.render(view, config, { kubeProxyVersion: version }).map((t) => [t.family, canonicalLines(t)]));
}

describe('proxier partial syncs, nftables mode', () => {
  it('one endpoint change among 300 services renders that service alone and leaves the host as a full sync would', async () => {
    const g = new ClusterGen(rng(11));
    const cluster = g.cluster(300);
    const host = new FakeNftHost('1.36');
    const { def, calls } = counted();
    const proxier = new Proxier({ def, config, host, clock: new FakeClock(), log: () => {}, kubeProxyVersion: '1.36' });
    proxier.replaceObjects(cluster);
    assert.equal((await proxier.syncProxyRules()).full, true);
    assert.deepEqual([calls.render, calls.renderChanged], [1, 0]);

    // one new endpoint in one slice of a service with ready endpoints
    const i = cluster.endpointSlices.findIndex((s) => s.addressType === 'IPv4' && (s.endpoints ?? []).some((e) => e.conditions?.ready));
    const slice = structuredClone(cluster.endpointSlices[i]!);
    slice.endpoints!.push({ addresses: ['10.244.9.99'], conditions: { ready: true }, nodeName: 'node-1' });
    const changed: Cluster = { ...cluster, endpointSlices: cluster.endpointSlices.map((s, j) => (j === i ? slice : s)) };
    const svc = `${slice.metadata!.namespace}/${slice.metadata!.labels!['kubernetes.io/service-name']}`;
    const before = host.plans.length;
    proxier.replaceObjects(changed);
    const out = await proxier.syncProxyRules();
    assert.equal(out.ok, true);
    assert.equal(out.full, false);
    assert.deepEqual([calls.render, calls.renderChanged], [1, 1], 'the partial sync used the scoped render, not the full one');
    assert.ok(calls.changed[0]!.length > 0 && calls.changed[0]!.every((k) => k.startsWith(`${svc}:`) || k === svc), `only ${svc}'s service ports: ${calls.changed[0]}`);
    const plans = host.plans.slice(before);
    const text = plans.map((p) => p.text()).join('');
    assert.match(text, /10\.244\.9\.99/);
    // every chain the partial plan writes or flushes is the changed service's
    for (const p of plans) for (const o of p.operations) if (o.op.endsWith('chain') || o.op === 'add rule') assert.ok(o.object.includes(`-${svc}/`), `${o.op} ${o.object}`);

    // the host now holds what a full sync of the same objects gives
    const expected = fullRender(changed, '1.36');
    for (const [family, lines] of expected) assert.deepStrictEqual(held(host.tables.get(family)), lines, family);
    const fresh = new FakeNftHost('1.36');
    const again = new Proxier({ def: nftablesMode as unknown as ProxyModeDefinition<FamilyState>, config, host: fresh, clock: new FakeClock(), log: () => {}, kubeProxyVersion: '1.36' });
    again.replaceObjects(changed);
    assert.equal((await again.syncProxyRules()).full, true);
    for (const family of expected.keys()) assert.deepStrictEqual(held(host.tables.get(family)), held(fresh.tables.get(family)), family);
  });

  for (const version of ['1.29', '1.31', '1.36']) {
    it(`${version}: a run of random changes, each a partial sync, keeps the host equal to a full render`, async () => {
      const g = new ClusterGen(rng(version.length * 100 + Number(version.slice(2))));
      let cluster = g.cluster(40);
      const host = new FakeNftHost(version);
      const { def, calls } = counted();
      const proxier = new Proxier({ def, config, host, clock: new FakeClock(), log: () => {}, kubeProxyVersion: version });
      proxier.replaceObjects(cluster);
      await proxier.syncProxyRules();
      for (let step = 0; step < 25; step++) {
        const ch = randomChange(g, cluster);
        cluster = ch.cluster;
        if (proxier.replaceObjects(cluster) === 0) continue;
        const out = await proxier.syncProxyRules();
        assert.equal(out.ok, true, out.error);
        assert.equal(out.full, false);
        for (const [family, lines] of fullRender(cluster, version)) assert.deepStrictEqual(held(host.tables.get(family)), lines, `step ${step} (${ch.what}), ${family}`);
      }
      assert.equal(calls.render, 1, 'only the first (full) sync rendered everything');
      assert.ok(calls.renderChanged > 10);
    });
  }

  it('a refused partial apply keeps the host as it was; the next sync is full and renders everything', async () => {
    const g = new ClusterGen(rng(21));
    let cluster = g.cluster(60);
    const host = new FakeNftHost('1.36');
    const { def, calls } = counted();
    const proxier = new Proxier({ def, config, host, clock: new FakeClock(), log: () => {}, kubeProxyVersion: '1.36', retryInitialMs: 1_000 });
    proxier.replaceObjects(cluster);
    await proxier.syncProxyRules();
    const held0 = [...host.tables].map(([f, t]) => [f, held(t)]);
    let ch = randomChange(g, cluster);
    while (proxier.replaceObjects(ch.cluster) === 0) ch = randomChange(g, ch.cluster);
    cluster = ch.cluster;
    host.failNext = true;
    const failed = await proxier.syncProxyRules();
    assert.deepEqual([failed.ok, failed.full], [false, false]);
    assert.equal(calls.renderChanged, 1);
    assert.deepStrictEqual([...host.tables].map(([f, t]) => [f, held(t)]), held0, 'nothing of the refused transaction reached the host');
    const retried = await proxier.syncProxyRules();
    assert.deepEqual([retried.ok, retried.full], [true, true]);
    assert.deepEqual([calls.render, calls.renderChanged], [2, 1], 'the retry rendered everything');
    for (const [family, lines] of fullRender(cluster, '1.36')) assert.deepStrictEqual(held(host.tables.get(family)), lines, family);
    // and the partial syncs after it start from what the full one applied
    ch = randomChange(g, cluster);
    while (proxier.replaceObjects(ch.cluster) === 0) ch = randomChange(g, ch.cluster);
    const after = await proxier.syncProxyRules();
    assert.deepEqual([after.ok, after.full], [true, false]);
    for (const [family, lines] of fullRender(ch.cluster, '1.36')) assert.deepStrictEqual(held(host.tables.get(family)), lines, family);
  });
});
