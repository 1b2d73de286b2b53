// `rules --diff` on a real node's dump (test/unit/iptables/dumps/flannel-kubeadm-1.29.txt) with the objects
// reconstructed for it: in sync at the node's version, the version and the host's iptables on the header
// line, the assumed version said once on stderr, and a base rule taken out named with its traffic.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { proxymode } from './run.js';

const DUMPS = 'test/unit/iptables/dumps';
const DUMP = join(DUMPS, 'flannel-kubeadm-1.29.txt');
const BASE = ['rules', '-f', join(DUMPS, 'flannel-kubeadm-1.29.objects'), '--mode', 'iptables', '--node', 'master'];
const tmp = mkdtempSync(join(tmpdir(), 'proxymode-rules-diff-'));

describe('rules --diff on a real node', () => {
  it('in sync at its version; the header names the version and the host iptables', () => {
    const r = proxymode([...BASE, '--rules', DUMP, '--diff', '--kube-proxy-version', '1.29']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Source: .* · kube-proxy 1\.29 · iptables 1\.8\.4 \(legacy\): --random-fully, no nfacct$/m);
    assert.match(r.stdout, /^In sync/m);
    assert.doesNotMatch(r.stdout, /^@@ /m);
    assert.equal(r.stderr, '');
  });

  it('without --kube-proxy-version: the newest is assumed, on the header; on stderr once when there is drift', () => {
    const r = proxymode([...BASE, '--rules', DUMP, '--diff']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /· kube-proxy 1\.35 \(newest known, assumed\) ·/);
    assert.equal(r.stderr, '');
    const dump = join(tmp, 'no-invalid-drop.txt');
    writeFileSync(dump, readFileSync(DUMP, 'utf8').replace(/^-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n/m, ''));
    const drifted = proxymode([...BASE, '--rules', dump, '--diff']);
    assert.equal(drifted.code, 1, drifted.stdout + drifted.stderr);
    assert.match(drifted.stdout, /\(IPv4\): invalid packets are not dropped/);
    assert.equal(drifted.stderr.trim().split('\n').length, 1, drifted.stderr);
    assert.match(drifted.stderr, /^Warning: no --kube-proxy-version: compared dump .*no-invalid-drop\.txt with the rules of kube-proxy 1\.35, the newest known; pass the node's version if it is older\.$/m);
  });

  it('a base rule taken out: exit 1, the drift line names the traffic and the family', () => {
    const text = readFileSync(DUMP, 'utf8').replace(/^-A KUBE-POSTROUTING .*-j MASQUERADE --random-fully\n/m, '');
    const dump = join(tmp, 'no-masquerade.txt');
    writeFileSync(dump, text);
    const r = proxymode([...BASE, '--rules', dump, '--diff', '--kube-proxy-version', '1.29']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^-\s+missing object\s+no `.*-j MASQUERADE --random-fully` in nat\/KUBE-POSTROUTING \(IPv4\): no traffic is SNATed\s+\S.* mode=iptables\b.*$/m);
    const json = proxymode([...BASE, '--rules', dump, '--diff', '--kube-proxy-version', '1.29', '-o', 'json']);
    const out = JSON.parse(json.stdout) as { inSync: boolean; drift: Array<{ family: string; servicePort: string; object?: string }> };
    assert.equal(out.inSync, false);
    assert.deepEqual(out.drift.map((d) => [d.family, d.servicePort, d.object]), [['IPv4', '', 'rule nat/KUBE-POSTROUTING']]);
  });

  it('an IPv4-only node shows its IPv6 proxier with no service rules', () => {
    const r = proxymode(BASE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^IPv6\n\nNo service rules\.$/m);
    const restore = proxymode([...BASE, '-o', 'restore', '--kube-proxy-version', '1.29']).stdout;
    assert.match(restore, /^# ip6tables-restore input\n\*filter\n/m);
    assert.match(restore.split('# ip6tables-restore input')[1]!, /^-A KUBE-SERVICES .* ! -d ::1\/128 -j KUBE-NODEPORTS$/m);
  });
});
