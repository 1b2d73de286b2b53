// The what-if flags' text as data: object references, kubectl-jsonpath-style paths, YAML-scalar values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { parseDrain, parseEdits, parsePath, parseScale, parseSet, parseValue, pathString } from '../../../src/core/whatif/spec.js';

const F = '--set x';

describe('what-if edit specs', () => {
  it('splits a path on unescaped dots, keeps \\. inside a key, reads [N] as an index', () => {
    assert.deepEqual(parsePath('spec.externalTrafficPolicy', F), ['spec', 'externalTrafficPolicy']);
    assert.deepEqual(parsePath('metadata.labels.topology\\.kubernetes\\.io/zone', F), ['metadata', 'labels', 'topology.kubernetes.io/zone']);
    assert.deepEqual(parsePath('spec.ports[1].nodePort', F), ['spec', 'ports', 1, 'nodePort']);
    assert.equal(pathString(['metadata', 'labels', 'topology.kubernetes.io/zone']), 'metadata.labels.topology\\.kubernetes\\.io/zone');
    assert.equal(pathString(['spec', 'ports', 0, 'port']), 'spec.ports[0].port');
    for (const bad of ['', 'spec..type', '[0]', 'spec.ports[x]', 'spec.']) assert.throws(() => parsePath(bad, F), InputError, bad);
  });

  it('parses values as YAML scalars and flow lists; mappings are refused', () => {
    assert.equal(parseValue('8080', F), 8080);
    assert.equal(parseValue('true', F), true);
    assert.equal(parseValue('Local', F), 'Local');
    assert.equal(parseValue('null', F), null);
    assert.deepEqual(parseValue('[primary, 10.0.0.0/8]', F), ['primary', '10.0.0.0/8']);
    assert.throws(() => parseValue('{a: 1}', F), /--set x: the value "\{a: 1\}" is not a scalar/);
  });

  it('names the object by kind/name (kubectl short names), with an optional namespace', () => {
    const e = parseSet('svc/web:spec.externalTrafficPolicy=Local');
    assert.equal(e.kind, 'set');
    assert.deepEqual(e.kind === 'set' && { ref: e.ref, path: e.path, value: e.value }, {
      ref: { kind: 'Service', text: 'svc/web', name: 'web' },
      path: ['spec', 'externalTrafficPolicy'],
      value: 'Local',
    });
    const ns = parseSet('service/shop/web:spec.type=NodePort');
    assert.equal(ns.ref.namespace, 'shop');
    assert.equal(parseSet('cm/kube-proxy:mode=nftables').ref.kind, 'ConfigMap');
    assert.throws(() => parseSet('svc/web'), /--set svc\/web: expected KIND\/NAME:PATH=VALUE/);
    assert.throws(() => parseSet('pod/x:spec.a=1'), /"pod\/x" does not name an object/);
    assert.throws(() => parseSet('node/a/b:spec.podCIDR=10.0.0.0/24'), /a Node has no namespace/);
  });

  it('reads --scale-endpoints svc/NAME=N and --drain node/NAME (or a bare node name)', () => {
    const s = parseScale('svc/web=0');
    assert.equal(s.kind === 'scale' && s.replicas, 0);
    assert.throws(() => parseScale('svc/web=-1'), /"-1" is not a number of endpoints/);
    assert.throws(() => parseScale('node/web=2'), /a Node cannot be edited this way; name svc\/NAME/);
    assert.equal(parseDrain('worker-2').ref.name, 'worker-2');
    assert.throws(() => parseDrain('svc/web'), /a Service cannot be edited this way; name node\/NAME/);
  });

  it('orders the edits: every --set, then --scale-endpoints, then --drain', () => {
    const edits = parseEdits({ drain: ['node/worker-2'], 'scale-endpoints': ['svc/web=2'], set: ['svc/web:spec.type=NodePort'] });
    assert.deepEqual(edits.map((e) => e.kind), ['set', 'scale', 'drain']);
  });
});
