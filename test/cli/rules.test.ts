// `kubectl proxymode rules` on examples/ and on saved dumps: the views, the restore text, narrowing,
// drift against a dump, and the error sentences.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseIptablesSave } from '../../src/core/iptables/parse.js';
import { proxymode } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-rules-'));
const BASE = ['rules', '-f', 'examples/', '--mode', 'iptables'];

describe('rules on examples/', () => {
  it('shows one row per service port with chain, endpoint shares and masquerade', () => {
    const r = proxymode([...BASE, '--node', 'worker-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Source: files examples\/ · node worker-1 · mode iptables · ConfigMap kube-system\/kube-proxy$/m);
    assert.match(r.stdout, /^SERVICE\s+PORT\s+BALANCER\s+ENDPOINTS\s+MASQUERADE\s+NOTES$/m);
    assert.match(r.stdout, /^shop\/web\s+http 80\/TCP\s+KUBE-SVC-[A-Z2-7]{16}\s+10\.244\.0\.5:8080 33\.3%, 10\.244\.1\.7:8080 33\.3%, 10\.244\.2\.4:8080 33\.3%\s+unless from 10\.244\.0\.0\/16\s+-$/m);
    assert.match(r.stdout, /^shop\/recommendations\s+http 80\/TCP\s+-\s+none\s+-\s+REJECT 80\/TCP: has no endpoints$/m);
    assert.match(r.stdout, /^shop\/cart\s+.*ClientIP affinity 3600s$/m);
    // The dual-stack Service has its own IPv6 table.
    assert.match(r.stdout, /^IPv6\n\nSERVICE.*\nshop\/api\s+http 80\/TCP\s+KUBE-SVC-\S+\s+\[fd00:10:244:1::c\]:8080 50%/m);
  });

  it('node-local policies differ per node: ETP Local on a node without a local endpoint drops', () => {
    const w1 = proxymode([...BASE, 'shop/admin', '--node', 'worker-1']);
    const w2 = proxymode([...BASE, 'shop/admin', '--node', 'worker-2']);
    assert.match(w1.stdout, /DROP 30080\/TCP: has no local endpoints/);
    assert.doesNotMatch(w2.stdout, /has no local endpoints/);
    assert.match(w2.stdout, /local endpoints 10\.244\.2\.27:8080/);
  });

  it('-o restore is iptables-restore input that parses back to the same service rules', () => {
    const r = proxymode([...BASE, '--node', 'worker-2', '-o', 'restore']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\*filter\n:KUBE-SERVICES - \[0:0\]/m);
    assert.match(r.stdout, /^COMMIT\n\*nat\n/m);
    const v4 = r.stdout.split('# ip6tables-restore input')[0];
    const rs = parseIptablesSave(v4, { family: 'IPv4' });
    assert.ok(rs.tables.find((t) => t.name === 'nat')!.chains.some((c) => c.name.startsWith('KUBE-SEP-')));
  });

  it('narrows to one service for every output, and -o json carries the rulesets as data', () => {
    const r = proxymode([...BASE, 'shop/web', '--node', 'worker-1', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.node, 'worker-1');
    assert.equal(out.rulesets.length, 1);
    const nat = out.rulesets[0].tables.find((t: { name: string }) => t.name === 'nat');
    const comments = nat.chains.flatMap((c: { rules: Array<{ words: string[] }> }) => c.rules.map((x) => x.words[x.words.indexOf('--comment') + 1]));
    assert.ok(comments.every((c: string | undefined) => c === undefined || c.startsWith('shop/web:')), comments.join('\n'));
    const byName = proxymode([...BASE, 'web', '-n', 'shop', '--node', 'worker-1', '-o', 'json']);
    assert.deepEqual(JSON.parse(byName.stdout), out);
  });

  it('an unknown service is named with what was searched (exit 2)', () => {
    const r = proxymode([...BASE, 'shop/webb', '--node', 'worker-1']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: no rules for service shop/webb in files examples/ (did you mean shop/web?); check the name and namespace.\n');
  });

  it('an unknown node lists the nodes there are (exit 2)', () => {
    const r = proxymode([...BASE, '--node', 'worker-9']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: node "worker-9" not found in files examples/ (nodes: cp-1, worker-1, worker-2); pick one with --node.\n');
  });

  it('without --node it takes the first node and says so on stderr only', () => {
    const r = proxymode([...BASE, '-o', 'json']);
    assert.equal(JSON.parse(r.stdout).node, 'cp-1');
    assert.match(r.stderr, /^Warning: no --node given: showing node cp-1's view/);
  });

  it('modes whose engine is not built yet say so (exit 2)', () => {
    const r = proxymode(['rules', '-f', 'examples/', '--node', 'worker-1', '--mode', 'kernelspace']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: `kubectl proxymode rules` for mode kernelspace is not implemented yet in this version of kubectl proxymode\.\n$/m);
    const nft = proxymode([...BASE, '--node', 'worker-1', '-o', 'nft']);
    assert.equal(nft.code, 2);
    assert.match(nft.stderr, /-o nft is for mode nftables; this is mode iptables: use -o human, -o wide, -o json, -o yaml, -o restore\./);
    const ipvsadm = proxymode([...BASE, '--node', 'worker-1', '-o', 'ipvsadm']);
    assert.equal(ipvsadm.code, 2);
    assert.match(ipvsadm.stderr, /-o ipvsadm is for mode ipvs; this is mode iptables: use -o human, -o wide, -o json, -o yaml, -o restore\./);
    const junk = proxymode([...BASE, '--node', 'worker-1', '-o', 'xml']);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /-o xml is not an output format: use /);
  });
});

describe('rules --diff against a saved dump', () => {
  const render = () => proxymode([...BASE, '--node', 'worker-1', '-o', 'restore']).stdout.split('# ip6tables-restore input')[0].replace('# iptables-restore input\n', '');

  it('in sync: exit 0', () => {
    const dump = join(tmp, 'same.rules');
    writeFileSync(dump, render());
    const r = proxymode([...BASE, '--node', 'worker-1', '--rules', dump, '--diff']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /In sync/);
  });

  it('a stale endpoint, a lost service and a leftover chain are each named: exit 1', () => {
    const lines = render().split('\n');
    const sepOfWeb = lines.find((l) => /^-A KUBE-SVC-\S+ .*"shop\/web:http -> 10\.244\.2\.4:8080"/.test(l))!;
    assert.ok(sepOfWeb, 'the jump to web\'s third endpoint');
    const tampered = lines
      .filter((l) => l !== sepOfWeb && !l.includes('shop/cart:http cluster IP"'))
      .join('\n')
      .replace(':KUBE-MARK-MASQ - [0:0]', ':KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-STALESTALESTALE1 - [0:0]');
    const dump = join(tmp, 'drift.rules');
    writeFileSync(dump, tampered);
    const r = proxymode([...BASE, '--node', 'worker-1', '--rules', dump, '--diff', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    const kinds = out.drift.map((d: { servicePort: string; kind: string; detail: string }) => `${d.servicePort}|${d.kind}|${d.detail.split(' ')[0]}`);
    assert.ok(kinds.includes('shop/web:http|missing endpoint|10.244.2.4:8080'), kinds.join('\n'));
    // Without the last jump, a third of web's new connections fall through the service chain.
    assert.ok(out.drift.some((d: { kind: string; detail: string }) => d.kind === 'probability' && /: 33\.3% of new connections match no endpoint rule$/.test(d.detail)), r.stdout);
    assert.ok(kinds.includes('shop/cart:http|missing service|no'), kinds.join('\n'));
    assert.ok(out.drift.some((d: { kind: string; object?: string }) => d.kind === 'stale object' && d.object === 'chain nat/KUBE-SVC-STALESTALESTALE1'), kinds.join('\n'));
    assert.match(out.diff, /^-.*shop\/web:http -> 10\.244\.2\.4:8080/m);
    const human = proxymode([...BASE, '--node', 'worker-1', '--rules', dump, '--diff']);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^SERVICE\s+DRIFT\s+DETAIL\s+EXPECTED FROM$/m);
    assert.match(human.stdout, /^@@ /m);
  });
});
