// The built CLI prints provenance: `trace -o json` a `because` on every hop, the human trace a "because"
// line under each hop, `rules -o wide` a REASON column, `rules --diff` the field each drift's expected side
// comes from; rules from a dump without the objects say no rendered rule matches them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { proxymode } from '../../cli/run.js';

interface JsonHop {
  table: string;
  chain: string;
  rule: string;
  action: string;
  because: Array<{ object: string; field: string; value: string; sentence: string; source?: string }>;
}

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-why-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('why through the CLI', () => {
  it('trace -o json: every hop has a because naming object, field, value and sentence', () => {
    const r = proxymode(['trace', '192.168.10.240:80', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1', '--from', '203.0.113.10', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { hops: JsonHop[] };
    assert.ok(out.hops.length > 5);
    for (const h of out.hops) {
      assert.deepEqual(Object.keys(h), ['table', 'chain', 'rule', 'action', 'because']);
      assert.ok(h.because.length > 0, `${h.chain}: ${h.rule}`);
      for (const b of h.because) for (const k of ['object', 'field', 'value', 'sentence']) assert.equal(typeof (b as Record<string, unknown>)[k], 'string');
    }
    const ext = out.hops.find((h) => h.chain.startsWith('KUBE-EXT-'));
    assert.ok(ext, 'the packet from outside passes the KUBE-EXT chain');
    assert.ok(ext.because.some((b) => b.object === 'Service shop/gateway' && b.field === 'spec.externalTrafficPolicy' && b.value === 'Local'));
    const fw = out.hops.find((h) => h.chain.startsWith('KUBE-FW-'));
    assert.ok(fw?.because.some((b) => b.field === 'spec.loadBalancerSourceRanges' && b.value === '203.0.113.0/24'));
  });

  it('trace --rules of a userspace node: its proxy port (the kernel picked another number) is the portal\'s service port', () => {
    const restore = proxymode(['rules', '-f', 'examples/', '--mode', 'userspace', '--node', 'worker-1', '-o', 'restore']);
    assert.equal(restore.code, 0, restore.stderr);
    // what a node's iptables-save holds: the portal jumps kube-proxy inserts, and ports the kernel chose
    const jump = '-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER';
    const saved = restore.stdout.replace('*nat\n', `*nat\n:PREROUTING ACCEPT [0:0]\n${jump}\n`).replace(/\b327(\d\d)\b/g, '417$1');
    const dump = join(tmp, 'userspace.save');
    writeFileSync(dump, saved);
    const r = proxymode(['trace', 'shop/web', '-f', 'examples/', '--rules', dump, '--node', 'worker-1', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const proxy = (JSON.parse(r.stdout) as { hops: JsonHop[] }).hops.find((h) => h.table === 'proxy');
    assert.equal(proxy?.chain, 'proxy port 41784/TCP');
    assert.match(proxy!.action, /endpoints unknown/);
    assert.deepEqual(proxy!.because.map((b) => `${b.object} ${b.field}`), ['Service shop/web spec.clusterIP']);
  });

  it('trace (human): a "because" line under each hop, with the ConfigMap line of a config field', () => {
    const r = proxymode(['trace', 'svc/web', '-n', 'shop', '-f', 'examples/', '--node', 'worker-1', '--from', '203.0.113.10', '--no-color']);
    assert.equal(r.code, 0, r.stderr);
    const path = r.stdout.slice(r.stdout.indexOf('Path:'), r.stdout.indexOf('\n\n', r.stdout.indexOf('Path:')));
    const lines = path.split('\n').slice(1);
    assert.ok(lines.length >= 2 && lines.length % 2 === 0, path);
    for (let i = 1; i < lines.length; i += 2) assert.match(lines[i]!, /^\s+because \S/, lines[i - 1]);
    assert.match(r.stdout, /because .*ConfigMap kube-system\/kube-proxy clusterCIDR=10\.244\.0\.0\/16,fd00:10:244::\/56 \(examples\/kube-proxy-configmap\.yaml:13\)/);
  });

  it('trace through a dump with no objects: service rules match nothing rendered, and say so', () => {
    const r = proxymode(['trace', '10.96.0.10:53', '--protocol', 'UDP', '--rules', 'examples/node1.iptables-save', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { hops: JsonHop[] };
    const svc = out.hops.find((h) => h.chain === 'KUBE-SERVICES');
    assert.deepEqual(svc?.because.map((b) => b.sentence), ["no rendered rule matches: not kube-proxy's, or from objects we were not given"]);
    // with the objects, the same dump's rules match the rendered view
    const with_ = proxymode(['trace', '10.96.0.10:53', '--protocol', 'UDP', '--rules', 'examples/node1.iptables-save', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1', '-o', 'json']);
    const out2 = JSON.parse(with_.stdout) as { hops: JsonHop[] };
    assert.ok(out2.hops.every((h) => !h.because.some((b) => b.object === '-')), with_.stdout);
    assert.ok(out2.hops.find((h) => h.chain === 'KUBE-SERVICES')!.because.some((b) => b.object === 'Service kube-system/kube-dns' && b.field === 'spec.clusterIP'));
  });

  it('rules -o wide: a REASON column with each service port\'s telling fields', () => {
    const r = proxymode(['rules', '-f', 'examples/', '--mode', 'nftables', '--node', 'worker-1', '-o', 'wide', '--no-color']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SERVICE\s+PORT\s+BALANCER\s+ENDPOINTS\s+MASQUERADE\s+NOTES\s+REASON$/m);
    assert.match(r.stdout, /^shop\/cart .*spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds=3600$/m);
    assert.match(r.stdout, /^shop\/recommendations .*EndpointSlice shop\/recommendations-zm52r endpoints\[\]\.conditions\.ready=none ready$/m);
    assert.match(r.stdout, /^shop\/gateway .*spec\.externalTrafficPolicy=Local, spec\.loadBalancerSourceRanges=203\.0\.113\.0\/24,198\.51\.100\.0\/24/m);
    // the default view keeps its columns
    assert.doesNotMatch(proxymode(['rules', '-f', 'examples/', '--mode', 'nftables', '--node', 'worker-1']).stdout, /REASON/);
  });

  it('rules -o json: each rendered rule and element of the service with its reasons', () => {
    const r = proxymode(['rules', 'shop/cart', '-f', 'examples/', '--mode', 'nftables', '--node', 'worker-1', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { why: Array<{ kind: string; chain: string; text: string; servicePort?: string; reasons: Array<{ field: string; value: string }> }> };
    assert.ok(out.why.length > 5);
    for (const i of out.why) {
      assert.equal(i.servicePort, 'shop/cart:http', `${i.chain} ${i.text}`);
      assert.ok(i.reasons.length > 0, `${i.chain} ${i.text}`);
    }
    const update = out.why.filter((i) => i.text.startsWith('update @affinity-'));
    assert.equal(update.length, 2);
    assert.ok(update.every((i) => i.reasons.some((x) => x.field === 'spec.sessionAffinityConfig.clientIP.timeoutSeconds' && x.value === '3600')));
    assert.ok(out.why.some((i) => i.kind === 'map element' && i.chain === 'service-ips'));
  });

  it('rules --diff: each drift names the object field its expected side comes from', () => {
    const expected = proxymode(['rules', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1', '-o', 'restore']).stdout;
    const drifted = expected.replace(/--seconds 3600/g, '--seconds 600').replace(/^-A KUBE-SVC-\S+ .*-> 10\.244\.2\.19:8080.*\n/m, '');
    assert.notEqual(drifted, expected);
    const file = join(tmp, 'drift.rules');
    writeFileSync(file, drifted);
    const r = proxymode(['rules', '--diff', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1', '--rules', file, '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { drift: Array<{ servicePort: string; kind: string; because?: { object: string; field: string; value: string } }> };
    const affinity = out.drift.find((d) => d.kind === 'affinity');
    assert.deepEqual(affinity?.because && { object: affinity.because.object, field: affinity.because.field, value: affinity.because.value }, { object: 'Service shop/cart', field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', value: '3600' });
    const missing = out.drift.find((d) => d.kind === 'missing endpoint' && d.servicePort === 'shop/gateway:http');
    assert.equal(missing?.because?.field, 'endpoints[10.244.2.19].conditions.ready');
    assert.match(missing?.because?.object ?? '', /^EndpointSlice shop\/gateway-/);
    const human = proxymode(['rules', '--diff', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1', '--rules', file, '--no-color']);
    assert.match(human.stdout, /^shop\/cart:http\s+affinity\s+.*Service shop\/cart spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds=3600$/m);
    assert.ok(readFileSync(file, 'utf8').length > 0);
  });
});
