import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyObjects, decodeManifests } from '../../../src/core/objects/decode.js';
import { InputError } from '../../../src/core/errors.js';

/** Asserts fn throws an InputError whose message matches re. */
function throwsInput(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: Error) => err instanceof InputError && re.test(err.message));
}

describe('decodeManifests', () => {
  it('reads a --- stream and skips empty documents', () => {
    const text = '---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n';
    const objs = decodeManifests(text, 'a.yaml');
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata?.name}`), ['Service/a', 'Node/n1']);
  });

  it('flattens kubectl\'s kind: List, keeping each item\'s own kind', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: discovery.k8s.io/v1\n  kind: EndpointSlice\n  metadata: {name: a-x}\n  addressType: IPv4\nmetadata: {resourceVersion: ""}\n';
    const objs = decodeManifests(text, 'l.yaml');
    assert.deepEqual(objs.map((o) => o.kind), ['Service', 'EndpointSlice']);
  });

  it('gives API list items (which carry no kind) the kind of their list', () => {
    const json = JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'n1' } }] });
    const [node] = decodeManifests(json, 'nodes.json');
    assert.equal(node.kind, 'Node');
    assert.equal(node.apiVersion, 'v1');
  });

  it('names the file and line of malformed YAML', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Node\nmetadata: {name: [unclosed\n';
    assert.throws(() => decodeManifests(text, 'bad.yaml'), (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(err.message, /^bad\.yaml:(8|9): malformed YAML/);
      assert.equal(err.exitCode, 2);
      return true;
    });
  });

  it('names the line of a bad indentation deep in a file', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 1\n   b: 2\n';
    // `b: 2` continues the plain scalar `1` of line 6, which the parser reports as the fault.
    throwsInput(() => decodeManifests(text, 'cm.yaml'), /^cm\.yaml:6: malformed YAML/);
  });

  it('refuses a document without kind, naming the line where it starts', () => {
    const text = 'apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n';
    throwsInput(() => decodeManifests(text, 'x.yaml'), /^x\.yaml:5: object has no kind/);
  });

  it('refuses a scalar document', () => {
    throwsInput(() => decodeManifests('just a string\n', 's.yaml'), /^s\.yaml:1: expected a Kubernetes object/);
  });

  it('reads JSON with the fast path and falls back to YAML errors for broken JSON', () => {
    assert.equal(decodeManifests('{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}', 'a.json').length, 1);
    throwsInput(() => decodeManifests('{"apiVersion": "v1",\n "kind": "Node",\n "metadata": {\n', 'b.json'), /^b\.json:\d+: malformed JSON/);
  });
});

describe('classifyObjects', () => {
  it('sorts the kinds kube-proxy reads and keeps other kinds aside', () => {
    const objs = decodeManifests(
      [
        'apiVersion: v1\nkind: Service\nmetadata: {name: s}',
        'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\nmetadata: {name: e}',
        'apiVersion: v1\nkind: Node\nmetadata: {name: n}',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}',
        'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-proxy}',
        'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: not-core}',
      ].join('\n---\n'),
      'mix.yaml',
    );
    const c = classifyObjects(objs);
    assert.equal(c.services.length, 1);
    assert.equal(c.services[0].metadata?.name, 's');
    assert.equal(c.endpointSlices.length, 1);
    assert.equal(c.nodes.length, 1);
    assert.equal(c.configMaps.length, 1);
    assert.deepEqual(c.others.map((o) => o.metadata?.name), ['kube-proxy', 'not-core']);
  });
});
