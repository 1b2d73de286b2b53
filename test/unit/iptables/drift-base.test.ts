// Node-wide drift on a real node: the flannel kubeadm 1.29 dump (dumps/flannel-kubeadm-1.29.txt) against the
// objects reconstructed for it (dumps/flannel-kubeadm-1.29.objects/) is in sync at its version; each rule of
// its base chains and built-in jumps, taken out or changed, is one drift line naming the traffic it affects
// and the family; spelling, comments, counting-only matches and harmless order never count.
import { describe, it } from 'node:test';
import { dumpEdits, only } from '../modes/drift-helpers.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { KubeProxyConfiguration } from '../../../src/core/config/index.js';
import { iptablesMode } from '../../../src/core/iptables/mode.js';
import type { Ruleset } from '../../../src/core/iptables/types.js';
import type { Drift } from '../../../src/core/modes/types.js';
import { dumpStates, readDump } from '../../../src/core/modes/registry.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'dumps');
const DUMP = readFileSync(join(DIR, 'flannel-kubeadm-1.29.txt'), 'utf8');

async function driftOf(text: string, opts: { version?: string; config?: (c: KubeProxyConfiguration) => KubeProxyConfiguration } = {}): Promise<Drift[]> {
  const source = new FileSource([join(DIR, 'flannel-kubeadm-1.29.objects')]);
  const loaded = await loadProxyConfig(source, undefined, { mode: 'iptables', hostnameOverride: 'master' }, { warn: () => {} });
  const config = opts.config ? opts.config(loaded.config) : loaded.config;
  const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
  const view = buildProxyView({ services, endpointSlices, nodes }, config, 'fixture');
  const live = dumpStates(iptablesMode, readDump(text, 'dump'));
  const expected = iptablesMode.render(view, config, { kubeProxyVersion: opts.version ?? '1.29', live, otherFamilies: true });
  return expected.flatMap((e) => {
    const a = live.find((l) => l.family === e.family);
    return a ? iptablesMode.drift(e, a as Ruleset) : [];
  });
}

const { without, replaced } = dumpEdits(DUMP);


describe('flannel kubeadm 1.29: node-wide drift', () => {
  it('the reconstructed objects are in sync with the real dump at 1.29', async () => {
    assert.deepEqual(await driftOf(DUMP), []);
  });

  it('KUBE-POSTROUTING without its MASQUERADE: no traffic is SNATed', async () => {
    const d = only(await driftOf(without('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully')));
    assert.equal(d.servicePort, '');
    assert.equal(d.object, 'rule nat/KUBE-POSTROUTING');
    assert.match(d.detail, /MASQUERADE --random-fully.*\(IPv4\): no traffic is SNATed$/);
  });

  it('KUBE-POSTROUTING without the RETURN of unmarked packets: everything leaving is SNATed', async () => {
    const d = only(await driftOf(without('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN')));
    assert.match(d.detail, /\(IPv4\): all traffic leaving the node is SNATed, not only service traffic$/);
  });

  it('MASQUERADE without --random-fully on a host that has it: one changed rule', async () => {
    const d = only(await driftOf(replaced('-j MASQUERADE --random-fully\n-A KUBE-SEP', '-j MASQUERADE\n-A KUBE-SEP')));
    assert.match(d.detail, /has `.*-j MASQUERADE`, expected `.*-j MASQUERADE --random-fully` \(IPv4\): SNAT source ports are not fully randomised/);
  });

  it('KUBE-MARK-MASQ setting the wrong bit: one changed rule, no traffic SNATed', async () => {
    const d = only(await driftOf(replaced('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x8000/0x8000')));
    assert.equal(d.object, 'rule nat/KUBE-MARK-MASQ');
    assert.match(d.detail, /0x8000\/0x8000`, expected `-j MARK --set-xmark 0x4000\/0x4000` \(IPv4\):.*no traffic is SNATed/);
  });

  it('KUBE-SERVICES without its tail jump to KUBE-NODEPORTS: every NodePort is unreachable', async () => {
    const d = only(await driftOf(without('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')));
    assert.equal(d.object, 'rule nat/KUBE-SERVICES');
    assert.match(d.detail, /\(IPv4\): every NodePort is unreachable$/);
  });

  it("KUBE-FORWARD without the mark ACCEPT: marked traffic is not forwarded", async () => {
    const d = only(await driftOf(without('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT')));
    assert.equal(d.object, 'rule filter/KUBE-FORWARD');
    assert.match(d.detail, /\(IPv4\): marked traffic is not forwarded/);
  });

  it('KUBE-FORWARD without the INVALID drop: invalid packets are not dropped', async () => {
    const d = only(await driftOf(without('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP')));
    assert.match(d.detail, /--ctstate INVALID -j DROP` in filter\/KUBE-FORWARD \(IPv4\): invalid packets are not dropped/);
  });

  it('KUBE-FIREWALL without the localnet DROP: localhost is open from outside', async () => {
    const d = only(
      await driftOf(without('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP')),
    );
    assert.equal(d.object, 'rule filter/KUBE-FIREWALL');
    assert.match(d.detail, /\(IPv4\): packets from outside to 127\.0\.0\.0\/8 are not dropped/);
  });

  it('the jump from nat PREROUTING to KUBE-SERVICES, when the dump has PREROUTING: no service reachable', async () => {
    const d = only(await driftOf(without('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')));
    assert.equal(d.object, 'rule nat/PREROUTING');
    assert.match(d.detail, /\(IPv4\): no service is reachable from pods or from outside the node$/);
  });

  it('the jump from FORWARD to KUBE-FORWARD: marked traffic is not forwarded', async () => {
    const d = only(await driftOf(without('-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD')));
    assert.equal(d.object, 'rule filter/FORWARD');
    assert.match(d.detail, /marked traffic is not forwarded/);
  });

  it('the jump from POSTROUTING to KUBE-POSTROUTING: no traffic is SNATed', async () => {
    const d = only(await driftOf(without('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING')));
    assert.match(d.detail, /no traffic is SNATed/);
  });

  it('an extra rule in a base chain is named with what it does', async () => {
    const d = only(await driftOf(replaced('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n', '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n-A KUBE-FORWARD -s 10.9.0.0/16 -j DROP\n')));
    assert.equal(d.kind, 'stale object');
    assert.match(d.detail, /-s 10\.9\.0\.0\/16 -j DROP`, which kube-proxy does not write \(IPv4\): traffic it matches is dropped$/);
  });

  it('localhostNodePorts: false against a node that has localhost NodePorts on is drift', async () => {
    const drift = await driftOf(DUMP, { config: (c) => ({ ...c, iptables: { ...c.iptables, localhostNodePorts: false } }) });
    const d = drift.find((x) => x.object === 'rule nat/KUBE-SERVICES');
    assert.ok(d, drift.map((x) => x.detail).join('\n'));
    assert.match(d.detail, /NodePorts are reachable on localhost, though localhostNodePorts is off/);
  });

  it('spelling, comments and the order of base rules never count', async () => {
    const shuffled = DUMP.replace(
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT\n',
      '-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -m comment --comment "forwarding, reworded" -j ACCEPT\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n',
    );
    assert.notEqual(shuffled, DUMP);
    const respelled = shuffled.replace('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000', '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000');
    assert.notEqual(respelled, shuffled);
    assert.deepEqual(await driftOf(respelled), []);
  });
});

/**
 * What ip6tables-save prints on the same node (IPv4 only: no IPv6 address): the base chains and built-in jumps
 * kube-proxy's IPv6 proxier writes, taken from the IPv4 dump's own lines less the IPv4-only localnet DROP,
 * with the nodeports tail as IPv6 has it.
 */
function ip6Dump(): string {
  const lines = DUMP.split('\n');
  const pick = (from: string, to: string, keep: (l: string) => boolean) => lines.slice(lines.indexOf(from), lines.indexOf('COMMIT', lines.indexOf(from))).filter(keep);
  const base = (l: string) =>
    /^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING|KUBE-(EXTERNAL-SERVICES|FIREWALL|FORWARD|NODEPORTS|PROXY-FIREWALL|SERVICES|MARK-MASQ|POSTROUTING)) /.test(l) ||
    /^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j KUBE-/.test(l) ||
    /^-A KUBE-(FORWARD|MARK-MASQ|POSTROUTING) /.test(l);
  return [
    '# Generated by ip6tables-save v1.8.4 on Thu May  9 00:31:58 2024',
    ...pick('*filter', 'COMMIT', (l) => l === '*filter' || base(l)),
    'COMMIT',
    '# Generated by ip6tables-save v1.8.4 on Thu May  9 00:31:58 2024',
    ...pick('*nat', 'COMMIT', (l) => l === '*nat' || base(l)),
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS',
    'COMMIT',
    '',
  ].join('\n');
}

describe('both families: the IPv6 proxier of a node with only an IPv4 address', () => {
  it('an ip6tables-save dump is compared with the IPv6 rendering, and is in sync', async () => {
    const ip6 = ip6Dump();
    assert.match(ip6, /^-A KUBE-POSTROUTING .*MASQUERADE/m);
    const source = dumpStates(iptablesMode, readDump(DUMP + ip6, 'dump'));
    assert.deepEqual(source.map((s) => s.family), ['IPv4', 'IPv6']);
    assert.deepEqual(await driftOf(DUMP + ip6), []);
  });

  it('a base rule missing from the IPv6 dump is drift of IPv6', async () => {
    const ip6 = ip6Dump().replace(/^-A KUBE-POSTROUTING .*MASQUERADE.*\n/m, '');
    const d = only(await driftOf(DUMP + ip6));
    assert.equal(d.object, 'rule nat/KUBE-POSTROUTING');
    assert.match(d.detail, /\(IPv6\): no traffic is SNATed$/);
  });

  it('an IPv6 tail rule that opens ::1 is drift', async () => {
    const ip6 = ip6Dump().replace(' ! -d ::1/128 -j KUBE-NODEPORTS', ' -j KUBE-NODEPORTS');
    const d = only(await driftOf(DUMP + ip6));
    assert.match(d.detail, /\(IPv6\): NodePorts are reached on other addresses than kube-proxy opens$/);
  });
});

describe('the other family is rendered when asked', () => {
  it('only with otherFamilies: a caller that programs a host decides for itself', async () => {
    const source = new FileSource([join(DIR, 'flannel-kubeadm-1.29.objects')]);
    const loaded = await loadProxyConfig(source, undefined, { mode: 'iptables', hostnameOverride: 'master' }, { warn: () => {} });
    const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
    const view = buildProxyView({ services, endpointSlices, nodes }, loaded.config, 'fixture');
    assert.deepEqual(view.otherFamilies?.map((f) => f.family), ['IPv6']);
    assert.deepEqual(iptablesMode.render(view, loaded.config).map((r) => r.family), ['IPv4']);
    assert.deepEqual(iptablesMode.render(view, loaded.config, { otherFamilies: true }).map((r) => r.family), ['IPv4', 'IPv6']);
  });
});
