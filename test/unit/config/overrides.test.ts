// This product's single-field overrides (--mode, --cluster-cidr, --masquerade-all, --node, --node-ip).
// Where upstream has the same flag, the override lands where the flag would: --masquerade-all in the
// section the active mode reads (Linux.MasqueradeAll converted back per mode, v1alpha1/conversion.go
// @91118b59cb11), --hostname-override trimmed and lower-cased (processHostnameOverrideFlag).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { applyOverrides, defaultConfig, parseKubeProxyConfiguration } from '../../../src/core/config/index.js';
import { EKS_CONFIGMAP, KUBEADM_CONFIGMAP } from './fixtures.js';

const HEAD = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected an InputError');
}

describe('applyOverrides: mode', () => {
  const kubeadm = parseKubeProxyConfiguration(KUBEADM_CONFIGMAP, 'cm.yaml');
  it('switches the effective mode, keeping what the file says', () => {
    const o = applyOverrides(kubeadm, { mode: 'nftables' });
    assert.equal(o.effectiveMode, 'nftables');
    assert.equal(o.config.mode, 'nftables');
    assert.equal(o.configuredMode, '', 'still what the ConfigMap says');
    assert.equal(o.modeDefaulted, false);
    assert.deepEqual(o.overridden, ['mode']);
    // nftables' "primary" default is the nftables face's, per release: the field stays unset here
    assert.deepEqual(o.config.nodePortAddresses, []);
    assert.equal(kubeadm.effectiveMode, 'iptables', 'the input is not changed');
    assert.deepEqual(kubeadm.overridden, []);
  });
  it('accepts any case and surrounding space; an empty --mode changes nothing', () => {
    assert.equal(applyOverrides(kubeadm, { mode: ' IPVS ' }).effectiveMode, 'ipvs');
    const same = applyOverrides(kubeadm, { mode: '' });
    assert.equal(same.effectiveMode, 'iptables');
    assert.equal(same.modeDefaulted, true);
    assert.deepEqual(same.overridden, []);
  });
  it('a --mode naming the mode already in force is not an override (the configuration stays the reason)', () => {
    const o = applyOverrides(kubeadm, { mode: 'iptables' });
    assert.equal(o.effectiveMode, 'iptables');
    assert.deepEqual(o.overridden, []);
    assert.deepEqual(applyOverrides(kubeadm, { mode: 'ipvs' }).overridden, ['mode']);
  });
  it('refuses an unknown mode, listing the valid ones', () => {
    assert.equal(
      inputError(() => applyOverrides(kubeadm, { mode: 'ipsv' })),
      '--mode "ipsv" is not a proxy mode; use one of iptables, ipvs, nftables, kernelspace, userspace.',
    );
  });
  it('recomputes mode notes and problems for the new mode', () => {
    const file = parseKubeProxyConfiguration(`${HEAD}mode: userspace\nipvs:\n  scheduler: fastest\nunknownThing: 1\n`, 'u.yaml');
    assert.equal(file.warnings.length, 2); // unknown field + userspace note
    assert.deepEqual(file.problems, []); // the scheduler is only checked in ipvs mode
    const ipvs = applyOverrides(file, { mode: 'ipvs' });
    assert.equal(ipvs.warnings.length, 1, 'the userspace note is gone, the unknown-field warning stays');
    assert.match(ipvs.warnings[0], /unknown field "unknownThing"/);
    assert.deepEqual(ipvs.problems, ['u.yaml:5: ipvs.scheduler "fastest" is not an IPVS scheduler; use one of rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh, fo, ovf, twos, or leave it empty for rr.']);
    assert.equal(ipvs.config.udpIdleTimeout, undefined);
  });
  it('gives the ipvs scheduler the file sets', () => {
    const eks = parseKubeProxyConfiguration(EKS_CONFIGMAP.replace('scheduler: "rr"', 'scheduler: "lc"'), 'eks.yaml');
    assert.equal(applyOverrides(eks, { mode: 'ipvs' }).ipvsScheduler, 'lc');
    assert.equal(applyOverrides(defaultConfig(), { mode: 'ipvs' }).ipvsScheduler, 'rr');
  });
});

describe('applyOverrides: masqueradeAll', () => {
  it('sets iptables.masqueradeAll in iptables and ipvs modes', () => {
    const d = applyOverrides(defaultConfig(), { masqueradeAll: true });
    assert.equal(d.config.iptables.masqueradeAll, true);
    assert.equal(d.config.nftables.masqueradeAll, false);
    const ipvs = applyOverrides(defaultConfig(), { mode: 'ipvs', masqueradeAll: true });
    assert.equal(ipvs.config.iptables.masqueradeAll, true);
    assert.equal(ipvs.config.nftables.masqueradeAll, false);
  });
  it('sets nftables.masqueradeAll in nftables mode, including one chosen by --mode', () => {
    const n = applyOverrides(defaultConfig(), { mode: 'nftables', masqueradeAll: true });
    assert.equal(n.config.nftables.masqueradeAll, true);
    assert.equal(n.config.iptables.masqueradeAll, false);
    assert.deepEqual(n.overridden, ['mode', 'masqueradeAll']);
    const file = parseKubeProxyConfiguration(`${HEAD}mode: nftables\nnftables:\n  masqueradeAll: true\n`, 'n.yaml');
    assert.equal(applyOverrides(file, { masqueradeAll: false }).config.nftables.masqueradeAll, false);
  });
});

describe('applyOverrides: clusterCIDR, node name, node IP', () => {
  it('sets clusterCIDR (one or a dual-stack pair) and refuses anything else', () => {
    assert.equal(applyOverrides(defaultConfig(), { clusterCIDR: '10.244.0.0/16' }).config.clusterCIDR, '10.244.0.0/16');
    assert.equal(applyOverrides(defaultConfig(), { clusterCIDR: '10.244.0.0/16,fd00:10:244::/56' }).config.clusterCIDR, '10.244.0.0/16,fd00:10:244::/56');
    assert.match(inputError(() => applyOverrides(defaultConfig(), { clusterCIDR: '10.244.0.0' })), /^--cluster-cidr "10\.244\.0\.0" is not a CIDR or a dual-stack pair of CIDRs; /);
    assert.match(inputError(() => applyOverrides(defaultConfig(), { clusterCIDR: '10.0.0.0/8,192.168.0.0/16' })), /^--cluster-cidr /);
  });
  it('trims and lower-cases the node name, refusing an empty one', () => {
    const o = applyOverrides(defaultConfig(), { hostnameOverride: '  Worker-1 ' });
    assert.equal(o.config.hostnameOverride, 'worker-1');
    assert.deepEqual(o.overridden, ['hostnameOverride']);
    assert.match(inputError(() => applyOverrides(defaultConfig(), { hostnameOverride: '   ' })), /node name override is empty/);
  });
  it('sets the node IP as --bind-address would, re-deriving defaulted bind addresses', () => {
    const v4 = applyOverrides(defaultConfig(), { nodeIP: '10.0.0.5' });
    assert.equal(v4.config.bindAddress, '10.0.0.5');
    assert.equal(v4.config.metricsBindAddress, '127.0.0.1:10249');
    const v6 = applyOverrides(defaultConfig(), { nodeIP: 'fd00::5' });
    assert.equal(v6.config.bindAddress, 'fd00::5');
    assert.equal(v6.config.healthzBindAddress, '[::]:10256');
    assert.equal(v6.config.metricsBindAddress, '[::1]:10249');
    // written addresses stay as written
    const eks = parseKubeProxyConfiguration(EKS_CONFIGMAP, 'eks.yaml');
    assert.equal(applyOverrides(eks, { nodeIP: 'fd00::5' }).config.metricsBindAddress, '0.0.0.0:10249');
    assert.match(inputError(() => applyOverrides(defaultConfig(), { nodeIP: '10.0.0.5:80' })), /^--node-ip "10\.0\.0\.5:80" is not an IP address; /);
  });
  it('accumulates over several calls and keeps source and origin', () => {
    const kubeadm = parseKubeProxyConfiguration(KUBEADM_CONFIGMAP, 'cm.yaml');
    const o = applyOverrides(applyOverrides(kubeadm, { mode: 'ipvs' }), { nodeIP: '10.0.0.5' });
    assert.deepEqual(o.overridden, ['mode', 'nodeIP']);
    assert.equal(o.effectiveMode, 'ipvs');
    assert.equal(o.config.bindAddress, '10.0.0.5');
    assert.equal(o.source, 'cm.yaml');
    assert.deepEqual(o.origin, kubeadm.origin);
    assert.deepEqual(o.raw, kubeadm.raw);
  });
});
