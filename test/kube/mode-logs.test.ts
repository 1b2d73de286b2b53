// Every wording kube-proxy has used to say which proxier it started (fixtures/logs/PROVENANCE.md), and the
// other pure readers of the mode report: command-line flags, k3s/RKE2 node-args, image versions, live rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRules, imageVersion, ipvsCause, nodeArgsProxyFlags, parseKubeProxyLog, parseProxyFlags } from '../../src/core/report/evidence.js';
import { splitProbeOutput } from '../../src/kube/discovery.js';
import { fixture } from './helpers.js';

const log = (name: string) => parseKubeProxyLog(fixture(`logs/${name}.txt`));

describe('kube-proxy log wordings', () => {
  const cases: Array<[string, Partial<ReturnType<typeof parseKubeProxyLog>>]> = [
    ['v1.10-iptables-flag-unknown', { running: 'iptables', unknownMode: '' }],
    ['v1.13-ipvs', { running: 'ipvs' }],
    ['v1.17-ipvs-fallback', { running: 'iptables', fallbackReason: 'IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh]' }],
    ['v1.20-iptables-unknown-mode', { running: 'iptables', unknownMode: '' }],
    ['v1.23-iptables-structured', { running: 'iptables', unknownMode: '' }],
    ['v1.23-ipvs-fallback', { running: 'iptables', fallbackReason: 'IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh]' }],
    ['v1.28-ipvs-crash', { running: null, crash: "can't use the IPVS proxier: no such file or directory" }],
    ['v1.31-iptables-default', { running: 'iptables', unknownMode: '' }],
    ['v1.31-iptables', { running: 'iptables' }],
    ['v1.31-nftables', { running: 'nftables' }],
    ['v1.31-json-ipvs', { running: 'ipvs' }],
    ['rotated', { running: null }],
  ];
  for (const [file, want] of cases) {
    it(file, () => {
      const v = log(file);
      for (const [k, val] of Object.entries(want)) assert.deepEqual(v[k as keyof typeof v], val, `${file}: ${k}`);
      if (!('fallbackReason' in want)) assert.equal(v.fallbackReason, undefined);
      if (!('crash' in want)) assert.equal(v.crash, undefined);
    });
  }

  it('an unknown mode is named; the oldest fallback wording is recognised', () => {
    assert.equal(parseKubeProxyLog('I0424 05:20:06.010649       1 server_others.go:561] "Unknown proxy mode, assuming iptables proxy" proxyMode="ipvs2"\n').unknownMode, 'ipvs2');
    const old = parseKubeProxyLog("W0101 00:00:00.000000       1 server_others.go:200] Can't use ipvs proxier, trying iptables proxier\nI0101 00:00:00.000001       1 server_others.go:201] Using iptables Proxier.\n");
    assert.equal(old.running, 'iptables');
    assert.equal(old.fallbackReason, 'no reason given');
  });

  it('causes are said in plain words', () => {
    assert.equal(ipvsCause('IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs]'), 'IPVS modules missing on this node');
    assert.equal(ipvsCause('no such file or directory'), 'IPVS modules missing on this node');
    assert.equal(ipvsCause('error getting ipset version, error: executable file not found in $PATH'), 'ipset missing or too old on this node');
  });
});

describe('command lines and annotations', () => {
  it('--proxy-mode, --ipvs-scheduler and --config, in = and space forms, and inside sh -c', () => {
    assert.deepEqual(parseProxyFlags(['kube-proxy', '--proxy-mode=ipvs', '--ipvs-scheduler', 'lc', '--config=/var/lib/kube-proxy/config.conf']), {
      mode: 'ipvs',
      scheduler: 'lc',
      config: '/var/lib/kube-proxy/config.conf',
    });
    assert.deepEqual(parseProxyFlags(['/bin/sh', '-c', 'exec kube-proxy --proxy-mode=ipvs --v=2 1>>/var/log/kube-proxy.log 2>&1']), { mode: 'ipvs', logFile: '/var/log/kube-proxy.log' });
  });

  it('k3s and RKE2 node-args: --kube-proxy-arg values, both forms', () => {
    assert.deepEqual(nodeArgsProxyFlags({ 'k3s.io/node-args': '["server","--kube-proxy-arg","proxy-mode=ipvs","--kube-proxy-arg=ipvs-scheduler=wrr"]' }), {
      distribution: 'k3s',
      flags: { mode: 'ipvs', scheduler: 'wrr' },
    });
    assert.deepEqual(nodeArgsProxyFlags({ 'rke2.io/node-args': '["server","--kube-proxy-arg","proxy-mode=nftables"]' }), { distribution: 'rke2', flags: { mode: 'nftables' } });
    assert.deepEqual(nodeArgsProxyFlags({ 'k3s.io/node-args': '["agent"]' }), { distribution: 'k3s', flags: {} });
    assert.equal(nodeArgsProxyFlags({}), undefined);
  });

  it('image versions', () => {
    assert.equal(imageVersion('registry.k8s.io/kube-proxy:v1.31.4'), 'v1.31.4');
    assert.equal(imageVersion('602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.31.2-eksbuild.3@sha256:abc'), 'v1.31.2-eksbuild.3');
    assert.equal(imageVersion('localhost:5000/kube-proxy'), null);
  });
});

describe('live rules (--probe)', () => {
  it('nftables, ipvs, iptables or nothing, from the probe script\'s output', () => {
    const split = (s: string) => classifyRules(splitProbeOutput(s));
    assert.equal(split('### nft\ntable ip kube-proxy\ntable ip6 kube-proxy\n### iptables\n### ipvsadm\n').mode, 'nftables');
    assert.equal(split('### nft\n### iptables\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n### ipvsadm\nTCP  10.96.0.1:443 rr\n').mode, 'ipvs');
    assert.equal(split('### nft\n### iptables\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n### ipvsadm\n').mode, 'iptables');
    assert.equal(split('### nft\n### iptables\n### ipvsadm\n').mode, null);
  });
});
