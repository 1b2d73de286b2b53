// kube-proxy's defaults. Expected values are upstream's: SetDefaults_KubeProxyConfiguration
// (pkg/proxy/apis/config/v1alpha1/defaults.go, danwinship/kubernetes@6c763fd5abda), its
// TestDefaultsKubeProxyConfiguration cases (defaults_test.go @ aed80471ab6f), the scheme round-trip
// fixture after/v1alpha1.yaml (@ cb6ff2d8ce35) and platformApplyDefaults in server_linux.go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPlatformDefaults,
  defaultConfig,
  parseKubeProxyConfiguration,
  setDefaults,
  type KubeProxyConfiguration,
} from '../../../src/core/config/index.js';
import { UPSTREAM_DEFAULTS_FILE } from './fixtures.js';

describe('setDefaults (SetDefaults_KubeProxyConfiguration)', () => {
  const d = setDefaults({});

  it('fills every default with upstream values, printed as kube-proxy prints them', () => {
    assert.equal(d.apiVersion, 'kubeproxy.config.k8s.io/v1alpha1');
    assert.equal(d.kind, 'KubeProxyConfiguration');
    assert.deepEqual(d.featureGates, {});
    assert.deepEqual(d.clientConnection, {
      kubeconfig: '',
      acceptContentTypes: '',
      contentType: 'application/vnd.kubernetes.protobuf',
      qps: 5,
      burst: 10,
    });
    assert.deepEqual(d.logging, {
      format: 'text',
      flushFrequency: '5s',
      verbosity: 0,
      options: { text: { infoBufferSize: '0' }, json: { infoBufferSize: '0' } },
    });
    assert.equal(d.hostnameOverride, '');
    assert.equal(d.bindAddress, '0.0.0.0');
    assert.equal(d.healthzBindAddress, '0.0.0.0:10256');
    assert.equal(d.metricsBindAddress, '127.0.0.1:10249');
    assert.equal(d.bindAddressHardFail, false);
    assert.equal(d.enableProfiling, false);
    assert.equal(d.showHiddenMetricsForVersion, '');
    assert.equal(d.mode, '', 'SetDefaults leaves mode empty; the platform picks it');
    assert.deepEqual(d.iptables, { masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true, syncPeriod: '30s', minSyncPeriod: '1s' });
    assert.deepEqual(d.ipvs, {
      syncPeriod: '30s',
      minSyncPeriod: '0s', // not defaulted upstream
      scheduler: '',
      excludeCIDRs: [],
      strictARP: false,
      tcpTimeout: '0s',
      tcpFinTimeout: '0s',
      udpTimeout: '0s',
    });
    assert.deepEqual(d.nftables, { masqueradeBit: 14, masqueradeAll: false, syncPeriod: '30s', minSyncPeriod: '1s' });
    assert.deepEqual(d.winkernel, { networkName: '', sourceVip: '', enableDSR: false, rootHnsEndpointName: '', forwardHealthCheckVip: false });
    assert.equal(d.detectLocalMode, '');
    assert.deepEqual(d.detectLocal, { bridgeInterface: '', interfaceNamePrefix: '' });
    assert.equal(d.clusterCIDR, '');
    assert.deepEqual(d.nodePortAddresses, []);
    assert.equal(d.oomScoreAdj, -999);
    assert.deepEqual(d.conntrack, {
      maxPerCore: 32768,
      min: 131072,
      tcpEstablishedTimeout: '24h0m0s',
      tcpCloseWaitTimeout: '1h0m0s',
      tcpBeLiberal: false,
      udpTimeout: '0s',
      udpStreamTimeout: '0s',
    });
    assert.equal(d.configSyncPeriod, '15m0s');
    assert.equal(d.portRange, '');
    assert.equal(d.windowsRunAsService, false);
    assert.equal(d.udpIdleTimeout, undefined, 'the legacy field appears only for userspace or when written');
  });

  it('appends the default ports to bare healthz/metrics IPs (TestDefaults "metrics and healthz address with no port")', () => {
    const c = setDefaults({ metricsBindAddress: '127.0.0.1', healthzBindAddress: '127.0.0.1' });
    assert.equal(c.healthzBindAddress, '127.0.0.1:10256');
    assert.equal(c.metricsBindAddress, '127.0.0.1:10249');
    const v6 = setDefaults({ metricsBindAddress: '::1', healthzBindAddress: 'fd00::1' });
    assert.equal(v6.metricsBindAddress, '[::1]:10249');
    assert.equal(v6.healthzBindAddress, '[fd00::1]:10256');
    assert.equal(setDefaults({ healthzBindAddress: '0.0.0.0:12345' }).healthzBindAddress, '0.0.0.0:12345');
  });

  it('uses IPv6 healthz/metrics defaults when bindAddress is not IPv4', () => {
    const c = setDefaults({ bindAddress: 'fd00:192:168:59::103' });
    assert.equal(c.healthzBindAddress, '[::]:10256');
    assert.equal(c.metricsBindAddress, '[::1]:10249');
    // getDefaultAddresses: anything that is not IPv4, even garbage, gets the IPv6 defaults
    assert.equal(setDefaults({ bindAddress: 'not-an-ip' }).metricsBindAddress, '[::1]:10249');
    assert.equal(setDefaults({ bindAddress: '10.0.0.5' }).metricsBindAddress, '127.0.0.1:10249');
  });

  it('defaults zero non-pointer durations but keeps explicit zero pointer values', () => {
    const c = setDefaults({
      iptables: { syncPeriod: '0s', minSyncPeriod: '0s', masqueradeBit: 0 },
      nftables: { minSyncPeriod: '0' },
      configSyncPeriod: '0s',
      clientConnection: { qps: 0, burst: 0 },
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      oomScoreAdj: 0,
    });
    // metav1.Duration fields: 0 is indistinguishable from unset, so the default wins (even minSyncPeriod)
    assert.equal(c.iptables.syncPeriod, '30s');
    assert.equal(c.iptables.minSyncPeriod, '1s');
    assert.equal(c.nftables.minSyncPeriod, '1s');
    assert.equal(c.configSyncPeriod, '15m0s');
    assert.equal(c.clientConnection.qps, 5);
    assert.equal(c.clientConnection.burst, 10);
    // pointer fields: an explicit 0 stays 0 (e.g. maxPerCore 0 = leave nf_conntrack_max alone)
    assert.equal(c.iptables.masqueradeBit, 0);
    assert.equal(c.conntrack.maxPerCore, 0);
    assert.equal(c.conntrack.min, 0);
    assert.equal(c.conntrack.tcpEstablishedTimeout, '0s');
    assert.equal(c.conntrack.tcpCloseWaitTimeout, '0s');
    assert.equal(c.oomScoreAdj, 0);
  });

  it('treats null (kubeadm writes it for unset pointers) as unset', () => {
    const c = setDefaults({ iptables: { masqueradeBit: null, localhostNodePorts: null }, conntrack: { maxPerCore: null, tcpCloseWaitTimeout: null }, oomScoreAdj: null });
    assert.equal(c.iptables.masqueradeBit, 14);
    assert.equal(c.iptables.localhostNodePorts, true);
    assert.equal(c.conntrack.maxPerCore, 32768);
    assert.equal(c.conntrack.tcpCloseWaitTimeout, '1h0m0s');
    assert.equal(c.oomScoreAdj, -999);
  });

  it('prints written durations in Go canonical form and keeps written values', () => {
    const c = setDefaults({ iptables: { syncPeriod: '5m', minSyncPeriod: '2s' }, ipvs: { minSyncPeriod: '500ms', scheduler: 'lc' }, logging: { flushFrequency: 10_000_000_000 } as never });
    assert.equal(c.iptables.syncPeriod, '5m0s');
    assert.equal(c.iptables.minSyncPeriod, '2s');
    assert.equal(c.ipvs.minSyncPeriod, '500ms');
    assert.equal(c.ipvs.scheduler, 'lc');
    assert.equal(c.logging.flushFrequency, '10s');
  });

  it('gives the legacy userspace mode its v1.25 udpIdleTimeout default', () => {
    assert.equal(setDefaults({ mode: 'userspace' }).udpIdleTimeout, '250ms');
    assert.equal(setDefaults({ udpIdleTimeout: '1s' } as never).udpIdleTimeout, '1s');
  });

  it('is idempotent, and takes a complete or partial configuration', () => {
    const once = setDefaults({ mode: 'ipvs', iptables: { syncPeriod: '5m' }, conntrack: { tcpCloseWaitTimeout: '0s' } });
    assert.deepEqual(setDefaults(once), once);
    const partial: Partial<KubeProxyConfiguration> = { mode: 'nftables', iptables: once.iptables };
    assert.equal(setDefaults(partial).iptables.syncPeriod, '5m0s');
    const full = defaultConfig().config;
    assert.deepEqual(setDefaults(full), full);
  });

  it('does not change its input', () => {
    const input = { iptables: { syncPeriod: '5m' } };
    setDefaults(input);
    assert.deepEqual(input, { iptables: { syncPeriod: '5m' } });
  });
});

describe('applyPlatformDefaults (Linux platformApplyDefaults)', () => {
  it('picks iptables for an empty mode and ClusterCIDR for an empty detectLocalMode', () => {
    const c = applyPlatformDefaults(setDefaults({}));
    assert.equal(c.mode, 'iptables');
    assert.equal(c.detectLocalMode, 'ClusterCIDR');
    assert.deepEqual(c.nodePortAddresses, []);
  });
  it('leaves nftables\' "primary" nodePortAddresses to the nftables face (a 1.30+ default)', () => {
    assert.deepEqual(applyPlatformDefaults(setDefaults({ mode: 'nftables' })).nodePortAddresses, []);
    assert.deepEqual(applyPlatformDefaults(setDefaults({ mode: 'nftables', nodePortAddresses: ['10.0.0.0/8'] })).nodePortAddresses, ['10.0.0.0/8']);
    assert.deepEqual(applyPlatformDefaults(setDefaults({ mode: 'ipvs' })).nodePortAddresses, []);
  });
  it('keeps what was written', () => {
    const c = applyPlatformDefaults(setDefaults({ mode: 'ipvs', detectLocalMode: 'NodeCIDR' }));
    assert.equal(c.mode, 'ipvs');
    assert.equal(c.detectLocalMode, 'NodeCIDR');
  });
});

describe('defaultConfig', () => {
  it('is all defaults, from "defaults", running iptables because the mode defaulted', () => {
    const l = defaultConfig();
    assert.equal(l.source, 'defaults');
    assert.deepEqual(l.origin, { kind: 'defaults' });
    assert.deepEqual(l.raw, {});
    assert.equal(l.configuredMode, '');
    assert.equal(l.effectiveMode, 'iptables');
    assert.equal(l.modeDefaulted, true);
    assert.equal(l.ipvsScheduler, 'rr');
    assert.deepEqual(l.warnings, []);
    assert.deepEqual(l.problems, []);
    assert.deepEqual(l.config, applyPlatformDefaults(setDefaults({})));
  });

  it('matches what upstream kube-proxy prints for its defaults (after/v1alpha1.yaml)', () => {
    const printed = parseKubeProxyConfiguration(UPSTREAM_DEFAULTS_FILE, 'after/v1alpha1.yaml');
    assert.deepEqual(printed.warnings, []);
    assert.deepEqual(printed.problems, []);
    const expected: KubeProxyConfiguration = defaultConfig().config;
    assert.deepEqual(printed.config, expected);
  });
});
