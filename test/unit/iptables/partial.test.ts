// partialRestore: kube-proxy's partial syncs. The sequence is upstream's TestSyncProxyRulesRepeated
// (pkg/proxy/iptables/proxier_test.go @ 531be81208e2274ef42e72525a26610a9622bcdf), each step's restore
// input compared, after upstream's own normalisation, with upstream's expected text; then the partial
// part of TestSyncProxyRulesLargeClusterMode.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../../../src/core/objects/types.js';
import {
  partialRestore,
  serializeRestore,
  sortRestoreLikeUpstream,
  type Ruleset,
} from '../../../src/core/iptables/index.js';
import { planIptables } from '../../../src/core/iptables/plan.js';
import { loadCase, readRules, renderCase, type UpstreamCase } from './upstream/harness.js';

interface Step {
  name: string;
  objects: string[];
  changed?: string[];
  full?: boolean;
  expect: string;
}

function ref(o: Service | EndpointSlice): string {
  const v = o.metadata?.annotations?.['test.proxymode/version'];
  return `${o.metadata?.namespace}/${o.metadata?.name}${v ? `@${v}` : ''}`;
}

function stepCase(c: UpstreamCase, objects: string[]): UpstreamCase {
  const want = new Set(objects);
  return { ...c, services: c.services.filter((s) => want.has(ref(s))), endpointSlices: c.endpointSlices.filter((s) => want.has(ref(s))) };
}

function changedList(names: string[]): Array<{ name: string; protocol: string }> {
  return names.map((name) => ({ name, protocol: 'TCP' }));
}

describe('TestSyncProxyRulesRepeated', () => {
  const c = loadCase('TestSyncProxyRulesRepeated.yaml');
  const steps = (c as unknown as { steps: Step[] }).steps;

  it('every step writes upstream’s expected restore input (changes found by comparing the rules)', () => {
    let prev: Ruleset | undefined;
    for (const step of steps) {
      const next = renderCase(stepCase(c, step.objects));
      const text = partialRestore(prev, next, step.full ? { full: true } : {});
      assert.equal(sortRestoreLikeUpstream(text), readRules(step.expect), step.name);
      prev = next;
    }
  });

  it('and the same with the changed service ports named, as upstream’s change trackers would', () => {
    let prev: Ruleset | undefined;
    for (const step of steps) {
      const next = renderCase(stepCase(c, step.objects));
      const opts = step.full ? { full: true } : step.changed ? { changed: changedList(step.changed) } : {};
      assert.equal(sortRestoreLikeUpstream(partialRestore(prev, next, opts)), readRules(step.expect), step.name);
      prev = next;
    }
  });

  it('a first sync is the full restore input', () => {
    const next = renderCase(stepCase(c, steps[0]!.objects));
    assert.equal(partialRestore(undefined, next), serializeRestore(next));
  });

  it('writes -X lines after every rule but the final KUBE-NODEPORTS jump, in kube-proxy’s line order', () => {
    const before = renderCase(stepCase(c, steps[4]!.objects));
    const after = renderCase(stepCase(c, steps[5]!.objects));
    const lines = partialRestore(before, after).split('\n');
    const nat = lines.slice(lines.indexOf('*nat'));
    assert.deepEqual(nat.slice(0, 8), [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]',
      ':KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]',
      ':KUBE-SEP-BSWRHOQ77KEXZLNL - [0:0]',
    ]);
    const x = nat.indexOf('-X KUBE-SEP-BSWRHOQ77KEXZLNL');
    assert.ok(x > 0);
    assert.match(nat[x + 1]!, /^-A KUBE-SERVICES .*-j KUBE-NODEPORTS$/);
    assert.equal(nat[x + 2], 'COMMIT');
  });

  it('a plan is the same script as data: a full one is the full restore input, one operation a line', () => {
    const next = renderCase(stepCase(c, steps[0]!.objects));
    const plan = planIptables(undefined, next);
    assert.equal(plan.full, true);
    assert.equal(plan.text(), serializeRestore(next));
    assert.equal(plan.operations.map((o) => o.text + '\n').join(''), plan.text());
    assert.deepEqual(plan.operations.slice(0, 2).map((o) => JSON.parse(JSON.stringify(o))), [
      { op: 'begin table', object: 'filter', text: '*filter' },
      { op: 'declare chain', object: 'filter/KUBE-SERVICES', text: ':KUBE-SERVICES - [0:0]' },
    ]);
    assert.equal(plan.operations.at(-1)!.op, 'commit');
  });

  it('a partial plan flushes and deletes stale chains, in the order of the restore input', () => {
    const before = renderCase(stepCase(c, steps[4]!.objects));
    const after = renderCase(stepCase(c, steps[5]!.objects));
    const plan = planIptables(before, after);
    assert.equal(plan.full, false);
    assert.equal(plan.text(), partialRestore(before, after));
    const ops = plan.operations;
    assert.equal(ops.map((o) => o.text + '\n').join(''), plan.text());
    const flush = ops.filter((o) => o.op === 'flush chain').map((o) => o.object);
    const deleted = ops.filter((o) => o.op === 'delete chain').map((o) => o.object);
    assert.ok(flush.length > 0);
    assert.deepEqual(deleted, flush);
    const lastDelete = ops.map((o) => o.op).lastIndexOf('delete chain');
    assert.deepEqual(ops.slice(lastDelete + 1).map((o) => [o.op, o.object]), [
      ['add rule', 'nat/KUBE-SERVICES'],
      ['commit', 'nat'],
    ]);
    const rule = ops.find((o) => o.op === 'add rule' && o.chain!.startsWith('KUBE-SEP-'))!;
    assert.equal(rule.text, `-A ${rule.chain} ${rule.rule!.words.map((w) => (w.includes(' ') ? `"${w}"` : w)).join(' ')}`);
  });

  it('changed service ports named as upstream names them ("ns/name:port") give the same plan as with their protocol', () => {
    for (let i = 1; i < steps.length; i++) {
      if (!steps[i]!.changed) continue;
      const before = renderCase(stepCase(c, steps[i - 1]!.objects));
      const after = renderCase(stepCase(c, steps[i]!.objects));
      assert.equal(planIptables(before, after, { changed: steps[i]!.changed }).text(), partialRestore(before, after, { changed: changedList(steps[i]!.changed!) }), steps[i]!.name);
    }
  });

  it('deleteStale: false leaves stale chains alone (upstream, in large clusters between cleanups)', () => {
    const before = renderCase(stepCase(c, steps[1]!.objects));
    const after = renderCase(stepCase(c, steps[2]!.objects));
    assert.doesNotMatch(partialRestore(before, after, { deleteStale: false }), /-X |KUBE-SVC-2VJB64SDSIJUP5T6/);
  });
});

describe('TestSyncProxyRulesLargeClusterMode, partial syncs', () => {
  // Endpoints 10.0.i%256.i/256 (svc1) and 10.1.… (svc2), 499 each: just under the threshold of 1000.
  function slice(ns: string, name: string, port: string, portNum: number, addrs: string[]): EndpointSlice {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: ns, name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: addrs.map((a) => ({ addresses: [a] })),
      ports: [{ name: port, port: portNum, protocol: 'TCP' }],
    };
  }
  function service(ns: string, name: string, ip: string, port: string, portNum: number): Service {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: ns, name },
      spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: port, port: portNum, protocol: 'TCP' }] },
    };
  }
  const half = 1000 / 2 - 1;
  const a1 = Array.from({ length: half }, (_, i) => `10.0.${i % 256}.${Math.floor(i / 256)}`);
  const a2 = Array.from({ length: half }, (_, i) => `10.1.${i % 256}.${Math.floor(i / 256)}`);
  const base: UpstreamCase = {
    file: 'generated',
    upstream: 'TestSyncProxyRulesLargeClusterMode',
    config: { iptables: { masqueradeAll: true } },
    services: [service('ns1', 'svc1', '172.30.0.41', 'p80', 80), service('ns2', 'svc2', '172.30.0.42', 'p8080', 8080), service('ns3', 'svc3', '172.30.0.43', 'p8081', 8081)],
    endpointSlices: [slice('ns1', 'svc1', 'p80', 80, a1), slice('ns2', 'svc2', 'p8080', 8080, a2)],
    nodes: [],
  };
  const sepDNATs = (text: string) => text.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('-j DNAT'));

  it('crossing the threshold in a partial sync rewrites only the changed service, without comments', () => {
    const first = renderCase(base);
    const firstText = serializeRestore(first);
    assert.equal(sepDNATs(firstText).length, 2 * half);
    assert.ok(sepDNATs(firstText).every((l) => l.includes('--comment')));
    assert.ok(firstText.includes('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n'));

    const withSvc3 = { ...base, endpointSlices: [...base.endpointSlices, slice('ns3', 'svc3', 'p8081', 8081, ['203.0.113.4', '203.0.113.8', '203.0.113.12'])] };
    const second = renderCase(withSvc3);
    // upstream's change tracking rewrites svc3 only, even though the others' comments would now change
    const partial = partialRestore(first, second, { changed: [{ name: 'ns3/svc3:p8081', protocol: 'TCP' }] });
    const dnats = sepDNATs(partial);
    assert.equal(dnats.length, 3);
    assert.ok(dnats.includes('-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081'));
    assert.ok(dnats.every((l) => !l.includes('--comment')));

    // a full resync rewrites the older services without comments as well
    const full = sepDNATs(partialRestore(first, second, { full: true }));
    assert.equal(full.length, 2 * half + 3);
    assert.ok(full.includes('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80'));
    assert.ok(full.every((l) => !l.includes('--comment')));
  });

  it('adding and deleting a service in large-cluster mode', () => {
    const svc3 = slice('ns3', 'svc3', 'p8081', 8081, ['203.0.113.4', '203.0.113.8', '203.0.113.12']);
    const withSvc3: UpstreamCase = { ...base, endpointSlices: [...base.endpointSlices, svc3] };
    const before = renderCase(withSvc3);
    const svc4 = service('ns4', 'svc4', '172.30.0.44', 'p8082', 8082);
    const withSvc4: UpstreamCase = {
      ...withSvc3,
      services: [...withSvc3.services, svc4],
      endpointSlices: [...withSvc3.endpointSlices, slice('ns4', 'svc4', 'p8082', 8082, ['10.4.0.1'])],
    };
    const added = renderCase(withSvc4);
    const addText = partialRestore(before, added, { changed: [{ name: 'ns4/svc4:p8082', protocol: 'TCP' }] });
    assert.deepEqual(sepDNATs(addText), ['-A KUBE-SEP-SU5STNODRYEWJAUF -m tcp -p tcp -j DNAT --to-destination 10.4.0.1:8082']);

    // svc4 deleted: not resynced; within the cleanup period its chains stay …
    const removed = renderCase({ ...withSvc4, services: withSvc3.services });
    const quiet = partialRestore(added, removed, { changed: [{ name: 'ns4/svc4:p8082', protocol: 'TCP' }], deleteStale: false });
    assert.deepEqual(sepDNATs(quiet), []);
    assert.ok(!quiet.includes('-X '));
    // … and once the period has passed they are deleted
    const cleanup = partialRestore(added, removed, { changed: [] });
    assert.deepEqual(sepDNATs(cleanup), []);
    assert.ok(cleanup.includes('-X KUBE-SVC-EBDQOQU5SJFXRIL3\n'));
    assert.ok(cleanup.includes('-X KUBE-SEP-SU5STNODRYEWJAUF\n'));
  });
});

describe('planIptables on a larger rendered ruleset (kept blocks of top-level lines)', () => {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < 300; i++) {
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns', name: `s${i}` }, spec: { type: 'NodePort', clusterIP: `172.30.${i >> 8}.${i & 255}`, ports: [{ name: 'p', port: 80, nodePort: 30000 + i, protocol: i % 7 === 0 ? 'UDP' : 'TCP' }] } });
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns', name: `s${i}-1`, labels: { 'kubernetes.io/service-name': `s${i}` } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [`10.2.${i >> 8}.${i & 255}`] }],
      ports: [{ name: 'p', port: 8080, protocol: i % 7 === 0 ? 'UDP' : 'TCP' }],
    });
  }
  const base: UpstreamCase = { file: 'generated', upstream: '', config: {}, services, endpointSlices: slices, nodes: [] };

  it('writes the kept lines as operations too, and the same text as comparing the rules', () => {
    const before = renderCase(base);
    serializeRestore(before);
    const moved = slices.map((s, i) => (i === 7 || i === 100 ? { ...s, endpoints: [{ addresses: [`10.3.0.${i & 255}`] }] } : s));
    const after = renderCase({ ...base, endpointSlices: moved });
    serializeRestore(after);
    const plan = planIptables(before, after, { changed: ['ns/s7:p', 'ns/s100:p'] });
    const text = plan.text();
    assert.equal(text, planIptables(before, after).text(), 'the fast path writes what comparing the rules writes');
    assert.equal(plan.operations.map((o) => o.text + '\n').join(''), text);
    const sep = plan.operations.filter((o) => o.op === 'declare chain' && o.chain!.startsWith('KUBE-SEP-'));
    assert.equal(sep.length, 2);
    assert.equal(plan.operations.filter((o) => o.op === 'delete chain').length, 2);
    assert.ok(plan.operations.filter((o) => o.op === 'add rule' && o.chain === 'KUBE-NODEPORTS').length >= 300);
  });
});
