// decodeLocated: JSON held to JSON's rules (streams, trailing commas, duplicate keys), YAML duplicate keys,
// and the file:line of every object, List items included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLocated } from '../../../src/core/objects/decode.js';
import { InputError } from '../../../src/core/errors.js';

function throwsInput(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: Error) => err instanceof InputError && re.test(err.message), `expected an InputError matching ${re}`);
}

describe('decodeLocated', () => {
  it('gives each List item its own line', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Node\n  metadata: {name: b}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: c}\n';
    assert.deepEqual(decodeLocated(text, 'n.yaml').map((o) => o.where), ['n.yaml:4', 'n.yaml:7', 'n.yaml:11']);
  });

  it('a YAML key twice in one mapping is an error naming the line and key', () => {
    throwsInput(() => decodeLocated('apiVersion: v1\nkind: Node\nmetadata: {name: a}\nkind: Service\n', 'd.yaml'), /^d\.yaml:4: the key "kind" appears twice in one mapping/);
  });

  it('reads a stream of JSON values, each with its line', () => {
    const text = '{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}\n\n{"apiVersion":"v1","kind":"List","items":[\n{"apiVersion":"v1","kind":"Node","metadata":{"name":"b"}}]}\n';
    const objs = decodeLocated(text, 's.json');
    assert.deepEqual(objs.map((o) => o.object.metadata?.name), ['a', 'b']);
    assert.deepEqual(objs.map((o) => o.where), ['s.json:1', 's.json:3']);
  });

  it('JSON is not read as YAML: a trailing comma or an unquoted key is a JSON error with its line', () => {
    throwsInput(() => decodeLocated('{\n "apiVersion": "v1",\n "kind": "Node",\n}\n', 't.json'), /^t\.json:4: malformed JSON/);
    throwsInput(() => decodeLocated('{apiVersion: v1, kind: Node}\n', 'f.json'), /^f\.json:1: malformed JSON/);
    throwsInput(() => decodeLocated('{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a \\" b}}\n', 'u.json'), /^u\.json:1: malformed JSON|string is not closed/);
  });

  it('a JSON key twice in one object is an error; the same key in sibling objects and escaped keys are handled', () => {
    throwsInput(() => decodeLocated('{"apiVersion":"v1",\n"kind":"Node",\n"kind":"Node"}', 'k.json'), /^k\.json:3: the key "kind" appears twice in one object/);
    throwsInput(() => decodeLocated('{"apiVersion":"v1","kind":"Node","metadata":{"n\\u0061me":"a","name":"b"}}', 'e.json'), /the key "name" appears twice/);
    const ok = decodeLocated('{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"a","labels":{"name":"x"}}},{"apiVersion":"v1","kind":"Node","metadata":{"name":"b"}}]}', 'ok.json');
    assert.equal(ok.length, 2);
    // Brackets and quotes inside strings do not confuse the scanner.
    const tricky = decodeLocated('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"{[\\"}]\\\\","b":","}}', 'tr.json');
    assert.equal((tricky[0].object as { data: Record<string, string> }).data.a, '{["}]\\');
  });

  it('text between JSON values is an error, and so is a bare number', () => {
    throwsInput(() => decodeLocated('{"apiVersion":"v1","kind":"Node"}\nhello\n', 'g.json'), /^g\.json:2: malformed JSON/);
    throwsInput(() => decodeLocated('[1]', 'n.json'), /^n\.json:1: expected a Kubernetes object/);
  });
});
