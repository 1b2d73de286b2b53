// The fast reader for `kubectl get -o yaml`'s shape gives exactly what the general YAML parser gives, or
// gives up (and the general parser reads the text, with its errors and lines).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { decodeLocated } from '../../../src/core/objects/decode.js';
import { parseFastStream } from '../../../src/core/objects/yaml-fast.js';

function general(text: string): unknown[] {
  return (parseAllDocuments(text, { uniqueKeys: true }) as unknown as Array<{ toJS: () => unknown }>).map((d) => d.toJS()).filter((v) => v !== null);
}
function fast(text: string): unknown[] | undefined {
  return parseFastStream(text)?.map((d) => d.value).filter((v) => v !== null);
}

const TRICKY = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'x', namespace: 'kube-system', labels: { 'app.kubernetes.io/name': 'kube-proxy', 'k8s-app': 'kube-proxy' }, annotations: {} },
  data: {
    'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "ipvs"\n# a comment inside\n\n  indented: line\n',
    keep: 'two trailing\n\n\n',
    strip: 'no newline',
    empty: '',
    truthy: 'true',
    number: '123',
    hex: '0x1F',
    nully: 'null',
    tilde: '~',
    spaced: ' leading and trailing ',
    colon: 'a: b',
    hash: 'x #y',
    quote: "it's \"quoted\"",
    unicode: 'café ☕ 日本',
    long: 'word '.repeat(40).trim(),
    escapes: 'tab\there\u0001bell',
  },
  spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', name: 'http' }, { port: 443 }], list: [], map: {}, nested: [[1, 2], [], [{ a: null }]], float: 1.5, neg: -3, exp: 1e21, bool: false, nothing: null },
};

describe('fast YAML reader', () => {
  for (const [name, opts] of [
    ['go-yaml style (sequences not indented, folded long scalars)', { indentSeq: false, lineWidth: 80 }],
    ['yaml style (sequences indented)', { indentSeq: true, lineWidth: 80 }],
    ['no folding', { indentSeq: false, lineWidth: 0 }],
  ] as const) {
    it(`reads what the general parser reads: ${name}`, () => {
      const text = stringify({ apiVersion: 'v1', kind: 'List', items: [TRICKY, structuredClone(TRICKY)] }, opts) + '---\n' + stringify(structuredClone(TRICKY), opts);
      const got = fast(text);
      assert.ok(got, 'the fast reader gave up on the kubectl shape');
      assert.deepEqual(got, general(text));
    });
  }

  it('reads the shipped examples as the general parser does', () => {
    for (const f of readdirSync('examples').filter((n) => n.endsWith('.yaml'))) {
      const text = readFileSync(`examples/${f}`, 'utf8');
      const got = fast(text);
      if (got) assert.deepEqual(got, general(text), f);
    }
  });

  it('gives up on what is not the kubectl shape', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'a: {b: 1}\n', 'a: [1, 2]\n', 'a: >\n  folded\n', 'a: 1 # comment\n', '? complex\n: key\n', 'a: !!str 1\n', 'a:\n\t- 1\n', 'a: "open\n  more"\n', '%YAML 1.2\n---\na: 1\n']) {
      assert.equal(parseFastStream(text), undefined, text);
    }
  });

  it('a duplicate key, or malformed YAML, is still an error with its file and line', () => {
    assert.throws(() => decodeLocated('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n', 'f.yaml'), /f\.yaml:5: the key "name" appears twice/);
    assert.throws(() => decodeLocated('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n bad: 1\n', 'f.yaml'), /f\.yaml:\d+: malformed YAML/);
  });

  it('keeps the line of each List item and of a ConfigMap\'s block literals', () => {
    const text = stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' } }, structuredClone(TRICKY)] }, { indentSeq: false });
    const objs = decodeLocated(`---\n${text}`, 'l.yaml');
    const lines = text.split('\n');
    assert.equal(objs[0]!.where, `l.yaml:${lines.indexOf('- apiVersion: v1') + 2}`);
    assert.equal(objs[1]!.where, `l.yaml:${lines.indexOf('- apiVersion: v1', lines.indexOf('- apiVersion: v1') + 1) + 2}`);
    assert.equal(objs[1]!.blockLines?.['config.conf'], lines.findIndex((l) => l.includes('config.conf: |')) + 2);
  });

  it('reads many objects of repeated and mixed key orders as the general parser does (seeded)', () => {
    // Keys from a small pool, so key sequences repeat (compiled shapes) and the expected next key is often wrong.
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const keys = ['name', 'namespace', 'port', 'node', 'a', 'ab', 'true', '80', 'x.y/z', 'k-1', 'nodeName'];
    const values: unknown[] = ['true', 'false', 'null', '~', '1e3', '0x1F', '010', 'a: b', 'x #y', "it's", '"q"', 'café', '', ' lead', 'trail ', 'a'.repeat(30), 'TCP', 'zone-1', 7, -1, 1.5, true, false, null, [], {}];
    const value = (depth: number): unknown => {
      const r = rnd(10);
      if (depth < 3 && r === 0) return Array.from({ length: rnd(3) + 1 }, () => value(depth + 1));
      if (depth < 3 && r === 1) return object(depth + 1);
      return structuredClone(values[rnd(values.length)]);
    };
    const object = (depth: number): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      const n = rnd(5) + 1;
      for (let i = 0; i < n; i++) o[keys[(i + rnd(2) * rnd(keys.length)) % keys.length]!] = value(depth);
      return o;
    };
    const items = Array.from({ length: 400 }, () => ({ apiVersion: 'v1', kind: 'Thing', ...object(0) }));
    for (const indentSeq of [false, true]) {
      const text = stringify({ apiVersion: 'v1', kind: 'List', items }, { indentSeq });
      const got = fast(text);
      assert.ok(got, 'the fast reader gave up');
      assert.deepEqual(got, general(text));
    }
  });

  it('a key given twice is found in a key order met before, too', () => {
    const one = (i: number) => `- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s${i}\n    namespace: n\n`;
    const text = `apiVersion: v1\nkind: List\nitems:\n${one(1)}${one(2)}${one(3)}    name: again\n`;
    assert.equal(parseFastStream(text), undefined);
    assert.throws(() => decodeLocated(text, 'd.yaml'), /d\.yaml:19: the key "name" appears twice/);
  });

  it('splits streams at --- lines as the general parser does, with CRLF, and gives up on markers with text', () => {
    const text = ['---', 'apiVersion: v1', 'kind: Service', 'metadata:', '  name: a', '--- ', '', '---', 'apiVersion: v1', 'kind: Node', 'metadata:', '  name: n', ''].join('\r\n');
    assert.deepEqual(fast(text), general(text));
    assert.deepEqual(decodeLocated(text, 's.yaml').map((o) => o.where), ['s.yaml:2', 's.yaml:9']);
    for (const bad of ['a: 1\n--- b: 2\n', 'a: 1\n----\nb: 2\n', 'a: 1\n---\n%TAG ! x\n']) assert.equal(parseFastStream(bad), undefined, bad);
  });
});
