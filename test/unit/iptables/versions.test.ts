// kube-proxy's iptables rules by release (versions.ts): each boundary of the version table renders
// differently on either side, and the host capabilities a dump's header shows (--random-fully from
// iptables 1.6.2, nfacct, legacy or nft) change what is rendered to compare with it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { KubeProxyConfiguration } from '../../../src/core/config/index.js';
import { iptablesMode } from '../../../src/core/iptables/mode.js';
import { expectedJumps } from '../../../src/core/iptables/drift.js';
import { serializeRestore } from '../../../src/core/iptables/serialize.js';
import type { Ruleset } from '../../../src/core/iptables/types.js';
import { IPTABLES_VERSION_FACTS, capabilitiesOf, capabilitiesOfSaveText, describeCapabilities, iptablesVersion } from '../../../src/core/iptables/versions.js';
import { dumpStates, readDump } from '../../../src/core/modes/registry.js';
import type { FamilyState } from '../../../src/core/modes/types.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'dumps');

async function examples(version: string | undefined, opts: { live?: FamilyState[]; config?: (c: KubeProxyConfiguration) => KubeProxyConfiguration } = {}): Promise<string> {
  const source = new FileSource(['examples/']);
  const loaded = await loadProxyConfig(source, undefined, { mode: 'iptables', hostnameOverride: 'worker-1' }, { warn: () => {} });
  const config = opts.config ? opts.config(loaded.config) : loaded.config;
  const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
  const view = buildProxyView({ services, endpointSlices, nodes }, config, 'examples');
  const rs = iptablesMode.render(view, config, { ...(version ? { kubeProxyVersion: version } : {}), ...(opts.live ? { live: opts.live } : {}) });
  return serializeRestore(rs.find((r) => r.family === 'IPv4')!);
}

const liberal = (c: KubeProxyConfiguration): KubeProxyConfiguration => ({ ...c, conntrack: { ...c.conntrack, tcpBeLiberal: true } });

describe('kube-proxy version table', () => {
  it('holds each feature once, with its first release and its upstream source', () => {
    const names = IPTABLES_VERSION_FACTS.map((f) => f.feature);
    assert.equal(new Set(names).size, names.length);
    for (const f of IPTABLES_VERSION_FACTS) assert.match(f.source, /^kubernetes\/kubernetes#\d+$/, f.feature);
  });

  it('reads 1.29, v1.29.4 and 1.29.0-rc.1 as 1.29; none as the newest, assumed', () => {
    for (const v of ['1.29', 'v1.29.4', '1.29.0-rc.1']) assert.equal(iptablesVersion(v).version, '1.29', v);
    const none = iptablesVersion(undefined);
    assert.equal(none.assumed, true);
    assert.equal(none.version, '1.35');
    assert.equal(iptablesVersion('1.40').version, '1.40');
    assert.ok(iptablesVersion('1.40').features.has('nfacctLocalhostNodePorts'));
  });

  it('refuses releases before 1.26, other majors and non-versions in one sentence', () => {
    assert.throws(() => iptablesVersion('1.25.3'), /kube-proxy 1\.25\.3's iptables rules are not modelled; the releases known are 1\.26 to 1\.35\./);
    assert.throws(() => iptablesVersion('2.0'), /is not a 1\.x release/);
    assert.throws(() => iptablesVersion('latest'), /--kube-proxy-version "latest" is not a version like 1\.29 or 1\.29\.4\./);
  });

  it('1.26 | 1.27: kube-proxy writes its own KUBE-FIREWALL localnet DROP, and ensures the jumps to it', async () => {
    const at26 = await examples('1.26');
    const at27 = await examples('1.27');
    assert.doesNotMatch(at26, /KUBE-FIREWALL/);
    assert.match(at27, /^:KUBE-FIREWALL - \[0:0\]$/m);
    assert.match(at27, /^-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127\.0\.0\.0\/8 ! -s 127\.0\.0\.0\/8 .*-j DROP$/m);
    const firewallJumps = (v: string) => expectedJumps(iptablesVersion(v).features, 'IPv4').filter((j) => j.target === 'KUBE-FIREWALL').map((j) => j.chain);
    assert.deepEqual(firewallJumps('1.26'), []);
    assert.deepEqual(firewallJumps('1.27'), ['INPUT', 'OUTPUT']);
  });

  it('1.28 | 1.29: with nf_conntrack_tcp_be_liberal set, the INVALID drop goes from 1.29 on', async () => {
    const invalid = /^-A KUBE-FORWARD -m conntrack --ctstate INVALID .*-j DROP$/m;
    assert.match(await examples('1.28', { config: liberal }), invalid);
    assert.doesNotMatch(await examples('1.29', { config: liberal }), invalid);
    // not set: both write it
    assert.match(await examples('1.29'), invalid);
  });

  it('1.30 | 1.31: the nfacct counters on the INVALID drop and on localhost NodePorts', async () => {
    const at30 = await examples('1.30');
    const at31 = await examples('1.31');
    assert.doesNotMatch(at30, /nfacct/);
    assert.match(at31, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP$/m);
    assert.match(at31, /^-A KUBE-NODEPORTS .* -d 127\.0\.0\.0\/8 --dport \d+ -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-/m);
  });

  it("a 1.31 node's counting-only nfacct rules are no drift against a rendering without them", async () => {
    const source = new FileSource(['examples/']);
    const loaded = await loadProxyConfig(source, undefined, { mode: 'iptables', hostnameOverride: 'worker-1' }, { warn: () => {} });
    const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
    const view = buildProxyView({ services, endpointSlices, nodes }, loaded.config, 'examples');
    const v4 = (v: string) => iptablesMode.render(view, loaded.config, { kubeProxyVersion: v }).find((r) => r.family === 'IPv4') as Ruleset;
    const node = v4('1.31');
    assert.match(serializeRestore(node), /localhost_nps_accepted_pkts/);
    assert.deepEqual(iptablesMode.drift(v4('1.30'), node), []);
  });
});

describe('host capabilities', () => {
  it('--random-fully from iptables 1.6.2 on', () => {
    assert.equal(capabilitiesOf('1.4.21').randomFully, false);
    assert.equal(capabilitiesOf('1.6.1').randomFully, false);
    assert.equal(capabilitiesOf('1.6.2').randomFully, true);
    assert.equal(capabilitiesOf('1.8.4').randomFully, true);
    assert.equal(capabilitiesOf(undefined).randomFully, true);
  });

  it("reads the header's version and backend, and nfacct from kube-proxy's INVALID drop", () => {
    const legacy = capabilitiesOfSaveText('# Generated by iptables-save v1.4.21 on Mon\n*filter\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\nCOMMIT\n')!;
    assert.deepEqual(legacy, { iptablesVersion: '1.4.21', backend: 'legacy', randomFully: false, nfacct: false });
    assert.equal(describeCapabilities(legacy), 'iptables 1.4.21 (legacy): no --random-fully, no nfacct');
    const nft = capabilitiesOfSaveText('# Generated by iptables-nft-save v1.8.7 on Mon\n*filter\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP\n')!;
    assert.deepEqual(nft, { iptablesVersion: '1.8.7', backend: 'nft', randomFully: true, nfacct: true });
    assert.equal(capabilitiesOfSaveText('# Generated by iptables-save v1.8.9 (nf_tables) on Mon\n')!.backend, 'nft');
    assert.equal(capabilitiesOfSaveText('*filter\nCOMMIT\n'), undefined);
  });

  it('a dump from iptables 1.4.21 is compared with MASQUERADE without --random-fully', async () => {
    const text = readFileSync(join(DIR, 'flannel-legacy-1.4.21-centos7.txt'), 'utf8');
    const live = dumpStates(iptablesMode, readDump(text, 'dump'));
    const masq = /^-A KUBE-POSTROUTING .*-j MASQUERADE( --random-fully)?$/m;
    assert.equal(masq.exec(await examples('1.29', { live }))?.[1], undefined);
    assert.equal(masq.exec(await examples('1.29'))?.[1], ' --random-fully');
  });

  it('a dump whose INVALID drop has no nfacct match (no nfacct on that host) is compared without counters', async () => {
    const text = readFileSync(join(DIR, 'flannel-kubeadm-1.29.txt'), 'utf8');
    const live = dumpStates(iptablesMode, readDump(text, 'dump'));
    assert.doesNotMatch(await examples('1.31', { live }), /nfacct/);
    assert.match(await examples('1.31'), /nfacct/);
  });
});
