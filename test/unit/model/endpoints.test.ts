// EndpointSlices -> endpoints per service port, as kube-proxy's EndpointSliceCache merges them.
// Cases follow upstream's endpointslicecache_test.go (TestEndpointsMapFromESC, TestEndpointInfoByServicePort)
// and endpointschangetracker.go / endpointslicecache.go behaviour.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, IPFamily, Service } from '../../../src/core/objects/types.js';
import { type ModelOptions, buildProxyState } from '../../../src/core/model/index.js';
import { objectsFromYAML } from './fixtures.js';

interface GenSlice {
  service: string;
  namespace: string;
  sliceNum: number;
  /** third octet of the addresses; defaults to sliceNum */
  offset?: number;
  count: number;
  /** every endpoint whose index is a multiple of this is not ready (not serving) */
  unreadyMod?: number;
  /** every endpoint whose index is a multiple of this is terminating */
  terminatingMod?: number;
  hosts?: string[];
  ports: Array<number | null>;
}

/** A slice of `count` IPv4 endpoints 10.0.<offset>.<i>, i from 1, with ports named port-0, port-1, ... */
function genSlice(g: GenSlice): EndpointSlice {
  const endpoints: NonNullable<EndpointSlice['endpoints']> = [];
  for (let i = 1; i <= g.count; i++) {
    const readyCond = i % (g.unreadyMod ?? 999) !== 0;
    const terminating = i % (g.terminatingMod ?? 999) === 0;
    const e: NonNullable<EndpointSlice['endpoints']>[number] = {
      addresses: [`10.0.${g.offset ?? g.sliceNum}.${i}`],
      conditions: { ready: readyCond && !terminating, serving: readyCond, terminating },
    };
    if (g.hosts && g.hosts.length > 0) e.nodeName = g.hosts[i % g.hosts.length]!;
    endpoints.push(e);
  }
  return {
    kind: 'EndpointSlice',
    metadata: { namespace: g.namespace, name: `${g.service}-${g.sliceNum}`, labels: { 'kubernetes.io/service-name': g.service } },
    addressType: 'IPv4',
    endpoints,
    ports: g.ports.map((p, i) => (p === null ? { name: `port-${i}`, protocol: 'TCP' as const } : { name: `port-${i}`, protocol: 'TCP' as const, port: p })),
  };
}

function build(endpointSlices: EndpointSlice[], opts: Partial<ModelOptions> = {}, services: Service[] = []) {
  return buildProxyState({ services, endpointSlices }, { ipFamily: 'IPv4', nodeName: '', ...opts });
}

/** endpoint string -> [isLocal, ready, serving, terminating] for one key */
function flags(state: ReturnType<typeof build>, key: string) {
  return (state.endpointsMap.get(key) ?? []).map((e) => [e.endpoint, e.isLocal, e.ready, e.serving, e.terminating]);
}

describe('endpoints from slices (upstream TestEndpointsMapFromESC)', () => {
  it('1 slice, 2 hosts, ports 80 and 443: one list per port name, isLocal for this node', () => {
    const st = build([genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, count: 3, hosts: ['host1', 'host2'], ports: [80, 443] })], {
      nodeName: 'host1',
    });
    assert.deepEqual(flags(st, 'ns1/svc1:port-0'), [
      ['10.0.1.1:80', false, true, true, false],
      ['10.0.1.2:80', true, true, true, false],
      ['10.0.1.3:80', false, true, true, false],
    ]);
    assert.deepEqual(flags(st, 'ns1/svc1:port-1'), [
      ['10.0.1.1:443', false, true, true, false],
      ['10.0.1.2:443', true, true, true, false],
      ['10.0.1.3:443', false, true, true, false],
    ]);
    assert.deepEqual(st.endpointsMap.get('ns1/svc1:port-0')![1]!.nodeName, 'host1');
  });

  it('2 slices of one service are merged into one list', () => {
    const st = build([
      genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, count: 3, ports: [80] }),
      genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 2, count: 3, ports: [80] }),
    ]);
    assert.deepEqual(
      st.endpointsMap.get('ns1/svc1:port-0')!.map((e) => e.endpoint),
      ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80', '10.0.2.1:80', '10.0.2.2:80', '10.0.2.3:80'],
    );
  });

  it('overlapping slices give the union, each endpoint once', () => {
    const st = build([
      genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, offset: 1, count: 3, ports: [80] }),
      genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 2, offset: 1, count: 4, ports: [80] }),
    ]);
    assert.deepEqual(
      st.endpointsMap.get('ns1/svc1:port-0')!.map((e) => e.endpoint),
      ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80', '10.0.1.4:80'],
    );
  });

  it('sorts by the endpoint string byte by byte: 10.0.1.10 comes before 10.0.1.1', () => {
    const st = build([genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, count: 10, unreadyMod: 3, terminatingMod: 5, ports: [80] })]);
    assert.deepEqual(flags(st, 'ns1/svc1:port-0'), [
      ['10.0.1.10:80', false, false, true, true],
      ['10.0.1.1:80', false, true, true, false],
      ['10.0.1.2:80', false, true, true, false],
      ['10.0.1.3:80', false, false, false, false],
      ['10.0.1.4:80', false, true, true, false],
      ['10.0.1.5:80', false, false, true, true],
      ['10.0.1.6:80', false, false, false, false],
      ['10.0.1.7:80', false, true, true, false],
      ['10.0.1.8:80', false, true, true, false],
      ['10.0.1.9:80', false, false, false, false],
    ]);
  });

  it('slices of other services and namespaces stay apart', () => {
    const st = build([
      genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, count: 3, ports: [80] }),
      genSlice({ service: 'svc2', namespace: 'ns1', sliceNum: 2, count: 3, ports: [80] }),
      genSlice({ service: 'svc1', namespace: 'ns2', sliceNum: 3, count: 3, ports: [80] }),
    ]);
    assert.deepEqual([...st.endpointsMap.keys()], ['ns1/svc1:port-0', 'ns1/svc2:port-0', 'ns2/svc1:port-0']);
    assert.deepEqual(st.endpointsMap.get('ns1/svc1:port-0')!.map((e) => e.endpoint), ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80']);
  });

  it('a port without a number (or number 0) contributes nothing', () => {
    const st = build([genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, count: 3, hosts: ['host1'], ports: [null] })]);
    assert.equal(st.endpointsMap.size, 0);
    const zero = build([genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, count: 3, ports: [0] })]);
    assert.equal(zero.endpointsMap.size, 0);
  });

  it('the same IP on different port numbers under one port name gives two endpoints', () => {
    const st = build(
      [
        genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 1, offset: 1, count: 2, hosts: ['host1', 'host2'], ports: [80] }),
        genSlice({ service: 'svc1', namespace: 'ns1', sliceNum: 2, offset: 1, count: 2, hosts: ['host1', 'host2'], ports: [8080] }),
      ],
      { nodeName: 'host1' },
    );
    assert.deepEqual(flags(st, 'ns1/svc1:port-0'), [
      ['10.0.1.1:80', false, true, true, false],
      ['10.0.1.1:8080', false, true, true, false],
      ['10.0.1.2:80', true, true, true, false],
      ['10.0.1.2:8080', true, true, true, false],
    ]);
  });
});

describe('endpoint fields', () => {
  const slice = (endpoints: string, extra = '') =>
    objectsFromYAML(`
kind: EndpointSlice
metadata: {namespace: ns, name: s-1, labels: {kubernetes.io/service-name: s}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints: ${endpoints}
${extra}`).endpointSlices;

  it('conditions: absent ready and serving mean true, absent terminating means false', () => {
    const st = build(
      slice(`
- {addresses: [10.1.0.1]}
- {addresses: [10.1.0.2], conditions: {ready: false, serving: true, terminating: true}}
- {addresses: [10.1.0.3], conditions: {ready: false}}
- {addresses: [10.1.0.4], conditions: {ready: null, serving: null, terminating: null}}`),
    );
    assert.deepEqual(flags(st, 'ns/s:http'), [
      ['10.1.0.1:8080', false, true, true, false],
      ['10.1.0.2:8080', false, false, true, true],
      ['10.1.0.3:8080', false, false, true, false],
      ['10.1.0.4:8080', false, true, true, false],
    ]);
  });

  it('isLocal needs a node name equal to this node; with no node name nothing is local', () => {
    const eps = `
- {addresses: [10.1.0.1], nodeName: node-a}
- {addresses: [10.1.0.2], nodeName: node-b}
- {addresses: [10.1.0.3]}`;
    assert.deepEqual(build(slice(eps), { nodeName: 'node-a' }).endpointsMap.get('ns/s:http')!.map((e) => e.isLocal), [true, false, false]);
    assert.deepEqual(build(slice(eps), { nodeName: '' }).endpointsMap.get('ns/s:http')!.map((e) => e.isLocal), [false, false, false]);
    // an endpoint with an empty nodeName is not local to a node-less kube-proxy either
    assert.deepEqual(build(slice('[{addresses: [10.1.0.1], nodeName: ""}]'), { nodeName: '' }).endpointsMap.get('ns/s:http')![0]!.isLocal, false);
  });

  it('hints: zone and node hint names, null when absent; node hints dropped when PreferSameTrafficDistribution is off', () => {
    const eps = `
- {addresses: [10.1.0.1], zone: zone-a, hints: {forZones: [{name: zone-a}, {name: zone-b}], forNodes: [{name: node-a}]}}
- {addresses: [10.1.0.2], hints: {forZones: []}}`;
    const [a, b] = build(slice(eps)).endpointsMap.get('ns/s:http')!;
    assert.deepEqual(a!.zoneHints, ['zone-a', 'zone-b']);
    assert.deepEqual(a!.nodeHints, ['node-a']);
    assert.equal(a!.zone, 'zone-a');
    assert.equal(b!.zoneHints, null);
    assert.equal(b!.nodeHints, null);
    const [off] = build(slice(eps), { preferSameTrafficDistribution: false }).endpointsMap.get('ns/s:http')!;
    assert.equal(off!.nodeHints, null);
    assert.deepEqual(off!.zoneHints, ['zone-a', 'zone-b']);
  });

  it('uses the first address only, skips endpoints without addresses, keeps the targetRef', () => {
    const st = build(
      slice(`
- {addresses: [10.1.0.1, 10.1.0.9], targetRef: {kind: Pod, namespace: ns, name: web-1, uid: x}}
- {addresses: []}`),
    );
    const list = st.endpointsMap.get('ns/s:http')!;
    assert.deepEqual(list.map((e) => e.endpoint), ['10.1.0.1:8080']);
    assert.deepEqual(list[0]!.targetRef, { kind: 'Pod', namespace: 'ns', name: 'web-1' });
  });

  it('IPv6 endpoints are printed canonically and bracketed', () => {
    const { endpointSlices } = objectsFromYAML(`
kind: EndpointSlice
metadata: {namespace: ns1, name: ep1-x, labels: {kubernetes.io/service-name: ep1}}
addressType: IPv6
ports: [{name: p1, protocol: TCP, port: 11}]
endpoints: [{addresses: ["2001:db8:85a3:0:0:8a2e:370:7334"]}]
`);
    const st = build(endpointSlices, { ipFamily: 'IPv6' });
    const [e] = st.endpointsMap.get('ns1/ep1:p1')!;
    assert.equal(e!.ip, '2001:db8:85a3::8a2e:370:7334');
    assert.equal(e!.endpoint, '[2001:db8:85a3::8a2e:370:7334]:11');
  });
});

describe('which slices and ports count', () => {
  const doc = (meta: string, addressType: IPFamily | 'FQDN', ports: string, addr = '10.2.0.1') => `
kind: EndpointSlice
metadata: ${meta}
addressType: ${addressType}
ports: ${ports}
endpoints: [{addresses: ["${addr}"]}]
---`;
  const meta = (labels: string, name = 's-abc') => `{namespace: ns, name: ${name}, labels: {${labels}}}`;
  const svcLabel = 'kubernetes.io/service-name: web';

  it('slices are tied to services by the kubernetes.io/service-name label only', () => {
    const { endpointSlices } = objectsFromYAML(
      doc(meta(svcLabel, 'unrelated-name'), 'IPv4', '[{name: http, port: 80}]') + doc(meta('app: web'), 'IPv4', '[{name: http, port: 81}]'),
    );
    const st = build(endpointSlices);
    assert.deepEqual([...st.endpointsMap.keys()], ['ns/web:http']);
    assert.equal(st.endpointsMap.get('ns/web:http')![0]!.port, 80);
  });

  it('slices of the other family and FQDN slices are ignored', () => {
    const { endpointSlices } = objectsFromYAML(
      doc(meta(svcLabel, 'a'), 'IPv6', '[{name: http, port: 80}]', 'fd00::1') + doc(meta(svcLabel, 'b'), 'FQDN', '[{name: http, port: 80}]', 'example.com'),
    );
    assert.equal(build(endpointSlices).endpointsMap.size, 0);
    assert.deepEqual(build(endpointSlices, { ipFamily: 'IPv6' }).endpointsMap.get('ns/web:http')!.map((e) => e.endpoint), ['[fd00::1]:80']);
  });

  it('slices labelled for another proxy or as headless are ignored', () => {
    const { endpointSlices } = objectsFromYAML(
      doc(meta(`${svcLabel}, service.kubernetes.io/headless: ""`, 'a'), 'IPv4', '[{name: http, port: 80}]') +
        doc(meta(`${svcLabel}, service.kubernetes.io/service-proxy-name: other`, 'b'), 'IPv4', '[{name: http, port: 80}]'),
    );
    assert.equal(build(endpointSlices).endpointsMap.size, 0);
  });

  it('a port with no name field is ignored; an empty name is the unnamed port "ns/svc"', () => {
    const { endpointSlices } = objectsFromYAML(
      doc(meta(svcLabel, 'a'), 'IPv4', '[{port: 80, protocol: TCP}]') + doc(meta(svcLabel, 'b'), 'IPv4', '[{name: "", port: 81, protocol: TCP}]'),
    );
    const st = build(endpointSlices);
    assert.deepEqual([...st.endpointsMap.keys()], ['ns/web']);
    assert.deepEqual(st.endpointsMap.get('ns/web')!.map((e) => e.endpoint), ['10.2.0.1:81']);
  });

  it('protocol is part of the service port name: a UDP slice port does not feed a TCP service port', () => {
    const { services, endpointSlices } = objectsFromYAML(`
kind: Service
metadata: {namespace: ns, name: web}
spec: {clusterIP: 10.96.0.5, ports: [{name: dns, protocol: TCP, port: 53}]}
---
${doc(meta(svcLabel, 'a'), 'IPv4', '[{name: dns, protocol: UDP, port: 5353}]')}
${doc(meta(svcLabel, 'b'), 'IPv4', '[{name: dns, port: 5354}]', '10.2.0.2')}
`);
    const st = build(endpointSlices, {}, services);
    // the slice port without a protocol is TCP (the API default) and matches; the UDP one does not
    assert.deepEqual(st.endpointsMap.get('ns/web:dns')!.map((e) => e.endpoint), ['10.2.0.2:5354']);
    // with only the UDP slice the TCP service port has no endpoints at all
    const udpOnly = build(endpointSlices.slice(0, 1), {}, services);
    assert.equal(udpOnly.endpointsMap.has('ns/web:dns'), false);
  });

  it('slices without a service-name label, namespace or name are ignored', () => {
    const { endpointSlices } = objectsFromYAML(
      doc('{namespace: ns, name: a}', 'IPv4', '[{name: http, port: 80}]') +
        doc('{name: b, labels: {kubernetes.io/service-name: web}}', 'IPv4', '[{name: http, port: 80}]') +
        doc('{namespace: ns, labels: {kubernetes.io/service-name: web}}', 'IPv4', '[{name: http, port: 80}]') +
        doc(meta('kubernetes.io/service-name: ""', 'c'), 'IPv4', '[{name: http, port: 80}]'),
    );
    assert.equal(build(endpointSlices).endpointsMap.size, 0);
  });
});

describe('duplicate endpoints across slices', () => {
  const twoSlices = (first: string, second: string) =>
    objectsFromYAML(`
kind: EndpointSlice
metadata: {namespace: ns, name: web-a, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 80}]
endpoints: [${first}]
---
kind: EndpointSlice
metadata: {namespace: ns, name: web-b, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 80}]
endpoints: [${second}]
`).endpointSlices;
  const one = (slices: EndpointSlice[], nodeName = 'node-a') => {
    const list = build(slices, { nodeName }).endpointsMap.get('ns/web:http')!;
    assert.equal(list.length, 1);
    return list[0]!;
  };

  it('a non-terminating copy wins over a terminating one, whichever slice holds it', () => {
    const terminatingLocal = '{addresses: [10.3.0.1], nodeName: node-a, conditions: {ready: false, serving: true, terminating: true}, targetRef: {name: old}}';
    const runningRemote = '{addresses: [10.3.0.1], nodeName: node-b, targetRef: {name: new}}';
    // upstream once preferred the local copy; now the running pod wins even when the other copy is local
    for (const slices of [twoSlices(terminatingLocal, runningRemote), twoSlices(runningRemote, terminatingLocal)]) {
      const e = one(slices);
      assert.equal(e.targetRef?.name, 'new');
      assert.equal(e.terminating, false);
      assert.equal(e.isLocal, false);
    }
  });

  it('between two non-terminating copies the later slice (by name) wins, deterministically', () => {
    const x = '{addresses: [10.3.0.1], targetRef: {name: x}}';
    const y = '{addresses: [10.3.0.1], targetRef: {name: y}}';
    assert.equal(one(twoSlices(x, y)).targetRef?.name, 'y');
    const [a, b] = twoSlices(x, y);
    assert.equal(one([b!, a!]).targetRef?.name, 'y'); // input order does not matter
  });

  it('two slices with the same name: the last one given replaces the first', () => {
    const [a, b] = twoSlices('{addresses: [10.3.0.1]}', '{addresses: [10.3.0.2]}');
    const renamed = { ...b!, metadata: { ...b!.metadata, name: 'web-a' } };
    assert.equal(one([a!, renamed]).endpoint, '10.3.0.2:80');
  });
});

describe('endpointsMap', () => {
  it('orders keys and keeps slices whose service is unknown (as upstream keeps them)', () => {
    const st = build([
      genSlice({ service: 'zz', namespace: 'ns1', sliceNum: 1, count: 1, ports: [80] }),
      genSlice({ service: 'aa', namespace: 'ns1', sliceNum: 2, count: 1, ports: [80] }),
    ]);
    assert.deepEqual([...st.endpointsMap.keys()], ['ns1/aa:port-0', 'ns1/zz:port-0']);
  });
});
