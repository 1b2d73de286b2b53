// Issue classes where an answer was wrong, unsafe or silent (issue 11, items 7-11), through the built CLI:
// Services kube-proxy ignores, dual stack kept whole, wrong or empty dumps refused alike, what a dump
// cannot tell shown as unknown, and the corners (shared virtual servers, a closed pipe).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, cleanEnv, proxymode } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-corners-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const IPT = ['-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1'];
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe('Services kube-proxy ignores are named, with why', () => {
  for (const [svc, why] of [
    ['shop/postgres', /it is headless \(spec\.clusterIP None\)/],
    ['shop/payments-psp', /it is an ExternalName Service \(spec\.externalName api\.psp\.example\.com\)/],
    ['shop/grpc-internal', /service\.kubernetes\.io\/service-proxy-name=some-other-proxy, so another service proxy serves it/],
  ] as const) {
    it(`${svc}: trace exits 1 with the reason; rules says there are none and why`, () => {
      const t = proxymode(['trace', svc, ...IPT]);
      assert.equal(t.code, 1, t.stderr);
      assert.match(t.stderr, new RegExp(`^error: kube-proxy writes no rules for Service ${svc.replace('/', '\\/')}: `, 'm'));
      assert.match(t.stderr, why);
      const r = proxymode(['rules', svc, ...IPT]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, why);
    });
  }
});

describe('dual stack is whole', () => {
  it('-o restore of a dual-stack node reads back by its family headers; --ip-family prints one family', () => {
    const both = file('both.rules', proxymode(['rules', ...IPT, '-o', 'restore']).stdout);
    const back = JSON.parse(proxymode(['rules', '--rules', both, '-o', 'json']).stdout);
    assert.deepEqual(back.rulesets.map((r: { family: string }) => r.family), ['IPv4', 'IPv6']);
    assert.doesNotMatch(JSON.stringify(back.rulesets[1]), /"\d+\.\d+\.\d+\.\d+\/32"|fd00[0-9a-f:]*\/32"/);
    const inSync = proxymode(['rules', ...IPT, '--rules', both, '--diff']);
    assert.equal(inSync.code, 0, inSync.stdout + inSync.stderr);
    assert.equal(inSync.stderr, '');
    const v6 = proxymode(['rules', ...IPT, '--ip-family', 'IPv6', '-o', 'restore']);
    assert.equal(v6.code, 0, v6.stderr);
    assert.doesNotMatch(v6.stdout, /\b10\.\d+\.\d+\.\d+\b/);
    assert.match(v6.stdout, /-d fd00:10:96::5c1a --dport 80 -j KUBE-SVC-/);
  });

  it('an IPv4-only dump against a dual-stack node says IPv6 was not compared', () => {
    const v4 = file('v4.rules', proxymode(['rules', ...IPT, '--ip-family', 'IPv4', '-o', 'restore']).stdout);
    const r = proxymode(['rules', ...IPT, '--rules', v4, '--diff']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stderr, /holds no IPv6 rules: IPv6 was not compared/);
  });

  it('--ip-family names what the node lacks, or a word that is not a family', () => {
    const v4only = file('v4only.yaml', 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.5}]}\n');
    const none = proxymode(['rules', '-f', v4only, '--mode', 'iptables', '--node', 'n1', '--ip-family', 'IPv6']);
    assert.equal(none.code, 2, none.stdout);
    assert.match(none.stderr, /^error: node n1 has no IPv6 address, so kube-proxy runs no IPv6 proxier there; its families are IPv4\.$/m);
    const bad = proxymode(['trace', 'svc/web', '-n', 'shop', ...IPT, '--ip-family', 'ipv5']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: --ip-family "ipv5" is not an IP family; use IPv4 or IPv6.\n');
  });
});

describe('wrong or empty dumps are refused the same way everywhere', () => {
  it('an empty file: one sentence, exit 2, from rules --diff, rules and trace alike', () => {
    const empty = file('empty.txt', '');
    for (const args of [['rules', ...IPT, '--rules', empty, '--diff'], ['rules', '--rules', empty], ['trace', '10.96.0.10:53', '--rules', empty]]) {
      const r = proxymode(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: dump \S+empty\.txt is empty; save the node's rules with one of: .*iptables-save/);
    }
  });

  it('an iptables dump compared in ipvs mode is one finding, not a page of drift', () => {
    const ipt = file('node.iptables', proxymode(['rules', ...IPT, '--ip-family', 'IPv4', '-o', 'restore']).stdout);
    const r = proxymode(['rules', '-f', 'examples/', '--mode', 'ipvs', '--node', 'worker-1', '--rules', ipt, '--diff']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /^error: --mode ipvs does not match dump \S+node\.iptables, which holds iptables mode's rules; leave --mode out or give an ipvs dump\.$/m);
    const configured = proxymode(['rules', '-f', 'examples/', '--node', 'worker-1', '--rules', ipt, '--diff']);
    assert.equal(configured.code, 1);
    assert.equal(configured.stdout, '');
    assert.match(configured.stderr, /holds iptables mode's rules, but kube-proxy is configured for ipvs \(ConfigMap kube-system\/kube-proxy\): the node does not run its configured mode; pass --mode iptables/);
  });
});

describe('what a dump cannot tell is unknown, never false', () => {
  it('an ipvs dump without its iptables part: "masquerade": null in JSON, "not known" for people', () => {
    const d = file('ipvs-only.txt', '-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 192.168.0.2:6443 -m -w 1\n');
    const j = JSON.parse(proxymode(['trace', '10.96.0.1:443', '--rules', d, '-o', 'json']).stdout);
    assert.equal(j.masquerade, null);
    assert.match(proxymode(['trace', '10.96.0.1:443', '--rules', d]).stdout, /^Masquerade: not known/m);
  });

  it('a least-connection tie in `ipvsadm -Ln` is a tie, not 100% to the first listed', () => {
    const ln = file('tie.txt', ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn', 'TCP  10.96.0.50:80 lc', '  -> 10.244.1.5:8080               Masq    1      2          0', '  -> 10.244.2.6:8080               Masq    1      2          0', ''].join('\n'));
    const j = JSON.parse(proxymode(['trace', '10.96.0.50:80', '--rules', ln, '-o', 'json']).stdout);
    assert.deepEqual(j.endpoints.map((e: { ip: string; probability: number }) => [e.ip, e.probability]), [['10.244.1.5', 0.5], ['10.244.2.6', 0.5]]);
  });

  it('layouts that mark for masquerade in KUBE-SERVICES itself (before KUBE-EXT chains) show it, and each way in once', () => {
    const r = proxymode(['rules', '--rules', 'test/unit/iptables/dumps/affinity-externalip-legacy-2017.txt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^default\/ares-k29-bindapp\s+dns-udp-53 53\/UDP\s+KUBE-SVC-\S+\s+10\.100\.13\.3:53 100%\s+unless from 10\.24\.0\.0\/16\s+external IP 10\.5\.6\.29:53; external IP x\.x\.x\.x:53$/m);
  });
});

describe('faithful in the corners', () => {
  it('three Services on one ClusterIP:port share one IPVS virtual server, as in the kernel', () => {
    const svc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {clusterIP: 10.96.7.7, ports: [{name: http, port: 80, protocol: TCP}]}\n`;
    const f = file('shared.yaml', ['a', 'b', 'c'].map(svc).join('---\n'));
    const r = proxymode(['rules', '-f', f, '--mode', 'ipvs', '-o', 'ipvsadm']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('-A -t 10.96.7.7:80')).length, 1, r.stdout);
  });

  it('a reader that stops early ends the command quietly, exit 0', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${BIN}" rules ${IPT.join(' ')} -o json | head -1`], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '{\n');
    assert.equal(r.stderr, '');
  });
});
