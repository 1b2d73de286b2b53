// The equivalence report shares work between nodes (one model for every node's view, one tracer for nodes
// whose rules render alike, alike parts of states shared): these tests hold it to the answers each node
// gets on its own, on clusters where nodes differ in their local endpoints.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setDefaults } from '../../../src/core/config/index.js';
import { compareModes, type EquivalenceReport } from '../../../src/core/equivalence/compare.js';
import { sameData, shareWith } from '../../../src/core/equivalence/same.js';
import { nodeViews } from '../../../src/core/equivalence/views.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import type { EndpointSlice, Node, Service } from '../../../src/core/objects/types.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');

const node = (name: string, i: number): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`] },
  status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${10 + i}` }] },
});

/** A NodePort Service with externalTrafficPolicy Local whose endpoints all run on `on`, and a plain one. */
function cluster(on: string): { services: Service[]; endpointSlices: EndpointSlice[]; nodes: Node[] } {
  const svc = (name: string, ip: string, nodePort: number, local: boolean): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'NodePort',
      clusterIP: ip,
      clusterIPs: [ip],
      ipFamilies: ['IPv4'],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort }],
      ...(local ? { externalTrafficPolicy: 'Local' } : {}),
    },
  });
  const slice = (service: string, ips: Array<[string, string]>): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: ips.map(([ip, nodeName]) => ({ addresses: [ip], conditions: { ready: true }, nodeName })),
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  });
  return {
    services: [svc('local', '10.96.0.20', 30020, true), svc('plain', '10.96.0.30', 30030, false)],
    endpointSlices: [slice('local', [['10.244.0.5', on], ['10.244.0.6', on]]), slice('plain', [['10.244.1.7', 'node-b'], ['10.244.2.8', 'node-c']])],
    nodes: [node('node-a', 0), node('node-b', 1), node('node-c', 2)],
  };
}

const config = setDefaults({ mode: 'iptables', clusterCIDR: '10.244.0.0/16' });

function byNode(r: EquivalenceReport, name: string): string[] {
  return r.groups.flatMap((g) => g.paths.filter((p) => p.node === name).map((p) => `${g.aspect} ${g.change} ${p.servicePort} ${p.via} ${p.destination} from ${p.from}: ${p.current} -> ${p.target}`));
}

describe('nodeViews', () => {
  it('equals buildProxyView node by node (examples/, and nodes with different local endpoints)', async () => {
    const src = new FileSource([join(ROOT, 'examples')], () => {});
    const cfg = await loadProxyConfig(src, undefined, {}, { warn: () => {} });
    const [services, endpointSlices, nodes] = await Promise.all([src.services(), src.endpointSlices(), src.nodes()]);
    for (const [objects, c] of [[{ services, endpointSlices, nodes }, cfg.config], [cluster('node-a'), config]] as const) {
      const shared = nodeViews(objects, c, 'test');
      const own = objects.nodes.map((n) => buildProxyView(objects, { ...c, hostnameOverride: n.metadata!.name! }, 'test'));
      assert.equal(shared.length, own.length);
      for (let i = 0; i < own.length; i++) assert.deepStrictEqual(shared[i], own[i], `node ${own[i]!.nodeName}`);
    }
  });

  it('marks each node\'s own endpoints local, and only those', () => {
    const views = nodeViews(cluster('node-a'), config, 'test');
    const local = views.map((v) => [...v.families[0]!.state.endpointsMap.values()].flat().filter((e) => e.isLocal).map((e) => e.ip));
    assert.deepEqual(local, [['10.244.0.5', '10.244.0.6'], ['10.244.1.7'], ['10.244.2.8']]);
  });
});

describe('compareModes shares between nodes without leaking', () => {
  for (const target of ['ipvs', 'nftables'] as const) {
    it(`iptables -> ${target}: each node's part of the report is what that node gets alone`, () => {
      const views = nodeViews(cluster('node-a'), config, 'test');
      const all = compareModes({ views, currentConfig: config, targetConfig: { ...config, mode: target } });
      for (const v of views) {
        const alone = compareModes({ views: [v], currentConfig: config, targetConfig: { ...config, mode: target } });
        assert.deepEqual(byNode(all, v.nodeName), byNode(alone, v.nodeName), v.nodeName);
      }
      assert.equal(all.pathsTraced, 3 * compareModes({ views: [views[0]!], currentConfig: config, targetConfig: { ...config, mode: target } }).pathsTraced);
    });
  }

  it('iptables -> ipvs: the Local NodePort differs only on the nodes without its endpoints', () => {
    // iptables drops a Local NodePort's outside traffic where no endpoint runs, ipvs does not; where the
    // endpoints run both forward to them. A node given another node's tracer would get the other's answer.
    for (const on of ['node-a', 'node-c']) {
      const r = compareModes({ views: nodeViews(cluster(on), config, 'test'), currentConfig: config, targetConfig: { ...config, mode: 'ipvs' } });
      const dropped = (name: string) => byNode(r, name).filter((d) => /^verdict dropped -> \S+ default\/local:http node port \S+ from outside/.test(d));
      for (const n of ['node-a', 'node-b', 'node-c']) {
        if (n === on) assert.deepEqual(dropped(n), [], `${n} runs the endpoints`);
        else assert.ok(dropped(n).length > 0, `${n} has no endpoint of default/local: ${JSON.stringify(byNode(r, n))}`);
      }
    }
  });

  it('the nodes\' rules are the same data only where nothing local differs (what decides sharing a tracer)', () => {
    const views = nodeViews(cluster('node-a'), config, 'test');
    const ipt = modeFor('iptables', 'test');
    const ipvs = modeFor('ipvs', 'test');
    const render = (m: typeof ipt, i: number) => m.render(views[i]!, { ...config, mode: m.mode as 'iptables' });
    // node-b and node-c run no endpoint of the Local service: iptables writes them the same rules
    assert.ok(sameData(render(ipt, 1), render(ipt, 2)));
    assert.ok(!sameData(render(ipt, 0), render(ipt, 1)), 'node-a has the Local service\'s endpoints');
    // ipvs binds each node's own address for node ports
    assert.ok(!sameData(render(ipvs, 1), render(ipvs, 2)));
  });
});

describe('shareWith', () => {
  it('gives the next state\'s data, with the parts alike taken from the previous one, changing neither', () => {
    const prev = { a: [1, { x: 'p' }], b: { c: [1, 2], d: new Map([['k', [1]]]) }, e: 'same' };
    const next = { a: [1, { x: 'q' }], b: { c: [1, 2], d: new Map([['k', [1]]]) }, e: 'same' };
    const before = structuredClone([prev, next]);
    const r = shareWith(prev, next);
    assert.ok(sameData(r, next));
    assert.ok(!sameData(r, prev));
    assert.equal(r.b, prev.b, 'an alike part is the previous one');
    assert.equal(r.a[0], 1);
    assert.notEqual(r.a, prev.a);
    assert.ok(sameData(r.a[1], next.a[1]) && r.a[1] !== prev.a[1], 'a differing part is the next one\'s data');
    assert.deepStrictEqual([prev, next], before);
    assert.equal(shareWith(prev, structuredClone(prev)), prev, 'all alike: the previous state itself');
  });

  it('shares nothing of another shape: other keys, lengths or classes', () => {
    class Box {
      constructor(readonly v: number) {}
    }
    const box = new Box(1);
    assert.deepEqual(shareWith({ a: [1, 2] }, { a: [1, 2, 3] }), { a: [1, 2, 3] });
    assert.deepEqual(Object.keys(shareWith({ a: 1, b: 2 }, { b: 2, a: 1 })), ['b', 'a']);
    assert.equal(shareWith({ v: box }, { v: new Box(1) }).v === box, false, 'a class instance is never taken for another');
    assert.ok(!sameData(new Box(1), new Box(1)));
    assert.ok(sameData(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
    assert.ok(!sameData(new Set([1, 2]), new Set([2, 1])), 'order counts: a tracer may walk it in order');
  });
});
