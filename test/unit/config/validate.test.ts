// kube-proxy's validation (pkg/proxy/apis/config/validation/validation.go). Cases port the facts of
// upstream's validation_test.go (TestValidateKubeProxyConfiguration, …HostPort, …NodePortAddress,
// …ExcludeCIDRs, …LinuxConfiguration, …ProxyMode, …ClientConnection) and field_paths_test.go
// (TestValidateV1Alpha1FieldPaths, TestValidateV1Alpha1SyncPeriodPaths), in our own code and words.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPlatformDefaults,
  setDefaults,
  validate,
  validateProblems,
  type KubeProxyConfiguration,
  type KubeProxyConfigurationInput,
  type ProxyMode,
} from '../../../src/core/config/index.js';

/** A defaulted, resolved config (as LoadedConfig.config holds), then mutated. */
function cfg(input: KubeProxyConfigurationInput = {}, mutate?: (c: KubeProxyConfiguration) => void): KubeProxyConfiguration {
  const c = applyPlatformDefaults(setDefaults(input));
  mutate?.(c);
  return c;
}
function paths(c: KubeProxyConfiguration): string[] {
  return validateProblems(c).map((p) => p.path);
}

describe('validate: accepted configurations', () => {
  const ok: Array<[string, KubeProxyConfigurationInput]> = [
    ['all defaults', {}],
    ['upstream base case', { bindAddress: '192.168.59.103', healthzBindAddress: '0.0.0.0:10256', metricsBindAddress: '127.0.0.1:10249', clusterCIDR: '192.168.59.0/24', iptables: { masqueradeAll: true, syncPeriod: '5s', minSyncPeriod: '2s' }, conntrack: { maxPerCore: 1, min: 1, tcpEstablishedTimeout: '5s', tcpCloseWaitTimeout: '5s' } }],
    ['ipvs mode', { mode: 'ipvs', ipvs: { syncPeriod: '10s', minSyncPeriod: '5s' } }],
    ['IPv6', { bindAddress: 'fd00:192:168:59::103', metricsBindAddress: '[::1]:10249', clusterCIDR: 'fd00:192:168:59::/64' }],
    ['alternate healthz port', { healthzBindAddress: '0.0.0.0:12345' }],
    ['cluster CIDR of the "wrong" family (caught at runtime, not by validation)', { bindAddress: '10.10.12.11', clusterCIDR: 'fd00:192:168::/64' }],
    ['dual-stack cluster CIDR', { clusterCIDR: '192.168.59.0/24,fd00:192:168::/64' }],
    ['InterfaceNamePrefix with a prefix', { detectLocalMode: 'InterfaceNamePrefix', detectLocal: { interfaceNamePrefix: 'vethabcde' } }],
    ['BridgeInterface with a bridge', { detectLocalMode: 'BridgeInterface', detectLocal: { bridgeInterface: 'avz' } }],
    ['zero conntrack timeouts (leave as is)', { conntrack: { tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s' } }],
    ['nftables with primary', { mode: 'nftables', nodePortAddresses: ['primary'] }],
    ['legacy userspace', { mode: 'userspace', portRange: '30000-32767' }],
    ['kernelspace', { mode: 'kernelspace' }],
    ['json logs', { logging: { format: 'json' } }],
    ['show hidden metrics', { showHiddenMetricsForVersion: '1.29' }],
    ['dual-stack node IPs in bindAddress (1.33+)', { bindAddress: '10.0.0.5,fd00::5' }],
  ];
  for (const [name, input] of ok) {
    it(name, () => assert.deepEqual(validate(cfg(input)), []));
  }
});

describe('validate: masqueradeBit', () => {
  it('iptables.masqueradeBit must be within 0..31 whatever the mode', () => {
    assert.deepEqual(paths(cfg({ iptables: { masqueradeBit: 5 } })), []);
    assert.deepEqual(paths(cfg({ iptables: { masqueradeBit: 0 } })), []);
    assert.deepEqual(paths(cfg({ iptables: { masqueradeBit: 31 } })), []);
    assert.deepEqual(paths(cfg({ iptables: { masqueradeBit: -10 } })), ['iptables.masqueradeBit']);
    assert.deepEqual(paths(cfg({ iptables: { masqueradeBit: 32 } })), ['iptables.masqueradeBit']);
    assert.deepEqual(paths(cfg({ mode: 'ipvs', iptables: { masqueradeBit: 32 } })), ['iptables.masqueradeBit']);
    assert.match(validate(cfg({ iptables: { masqueradeBit: 32 } }))[0], /^iptables\.masqueradeBit is 32, but it must be a bit number from 0 to 31; .*\.$/);
  });
  it('nftables.masqueradeBit is checked in nftables mode only', () => {
    assert.deepEqual(paths(cfg({ mode: 'nftables', nftables: { masqueradeBit: 32 } })), ['nftables.masqueradeBit']);
    assert.deepEqual(paths(cfg({ mode: 'iptables', nftables: { masqueradeBit: 32 } })), []);
  });
});

describe('validate: sync periods of the active mode (field_paths_test)', () => {
  const sections: Array<[ProxyMode | '', 'iptables' | 'ipvs' | 'nftables']> = [
    ['', 'iptables'],
    ['iptables', 'iptables'],
    ['ipvs', 'ipvs'],
    ['nftables', 'nftables'],
    ['kernelspace', 'iptables'],
    ['userspace', 'iptables'],
  ];
  for (const [mode, section] of sections) {
    it(`mode ${JSON.stringify(mode)} checks ${section}.syncPeriod and minSyncPeriod`, () => {
      const set = (sync: string, min: string) =>
        cfg({ mode }, (c) => {
          c[section].syncPeriod = sync;
          c[section].minSyncPeriod = min;
        });
      assert.deepEqual(paths(set('0s', '0s')), [`${section}.syncPeriod`]);
      assert.deepEqual(paths(set('1s', '-1s')), [`${section}.minSyncPeriod`]);
      assert.deepEqual(paths(set('1s', '2s')), [`${section}.syncPeriod`]);
      assert.match(validate(set('1s', '2s'))[0], new RegExp(`^${section}\\.syncPeriod \\(1s\\) is shorter than ${section}\\.minSyncPeriod \\(2s\\)`));
      assert.deepEqual(paths(set('5s', '5s')), []);
      assert.deepEqual(paths(set('5s', '0s')), []);
    });
  }
  it('ignores the sync periods of inactive sections', () => {
    assert.deepEqual(paths(cfg({ mode: 'ipvs' }, (c) => (c.iptables.syncPeriod = '-1s'))), []);
    assert.deepEqual(paths(cfg({ mode: 'iptables' }, (c) => (c.nftables.minSyncPeriod = '-1s'))), []);
  });
  it('both negative sync period and the ordering are reported (upstream "SyncPeriod must be > 0")', () => {
    assert.deepEqual(paths(cfg({}, (c) => { c.iptables.syncPeriod = '-5s'; c.iptables.minSyncPeriod = '2s'; })), ['iptables.syncPeriod', 'iptables.syncPeriod']);
  });
});

describe('validate: ipvs', () => {
  it('timeouts may be 0 or positive but not negative (ipvs mode only)', () => {
    assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { tcpTimeout: '1s', tcpFinTimeout: '2s', udpTimeout: '3s' } })), []);
    assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { tcpTimeout: '-1s', tcpFinTimeout: '-1s', udpTimeout: '-1s' } })), ['ipvs.tcpTimeout', 'ipvs.tcpFinTimeout', 'ipvs.udpTimeout']);
    assert.deepEqual(paths(cfg({ mode: 'iptables', ipvs: { tcpTimeout: '-1s' } })), []);
  });
  it('excludeCIDRs must each be a CIDR (validation_test TestValidateKubeProxyExcludeCIDRs)', () => {
    const valid = [[], ['127.0.0.0/8'], ['0.0.0.0/0'], ['::/0'], ['127.0.0.1/32', '1.2.3.0/24'], ['::1/128'], ['10.20.0.0/16', '100.200.0.0/16'], ['2001:db8::/32']];
    for (const list of valid) assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { excludeCIDRs: list } })), [], list.join(','));
    const invalid: Array<[string[], string[]]> = [
      [['foo'], ['ipvs.excludeCIDRs[0]']],
      [['10.0.0.0/0', '1.2.3'], ['ipvs.excludeCIDRs[1]']],
      [['127.0.0.1/32', '0', '1.2.3.0/24'], ['ipvs.excludeCIDRs[1]']],
      [['127.0.0.1/32', '10.20.30.40', '1.2.3.0/24'], ['ipvs.excludeCIDRs[1]']],
      [['::0', '::1', '2001:db8::/32'], ['ipvs.excludeCIDRs[0]', 'ipvs.excludeCIDRs[1]']],
      [['::1/128', '2001:db8::/32', '2001:db8:xyz/64'], ['ipvs.excludeCIDRs[2]']],
      [['10.0.0.0/33'], ['ipvs.excludeCIDRs[0]']],
    ];
    for (const [list, want] of invalid) assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { excludeCIDRs: list } })), want, list.join(','));
  });
  it('scheduler must be an IPVS scheduler; "" means rr', () => {
    for (const s of ['', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh']) {
      assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { scheduler: s } })), [], s);
    }
    assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { scheduler: 'roundrobin' } })), ['ipvs.scheduler']);
    assert.deepEqual(paths(cfg({ mode: 'ipvs', ipvs: { scheduler: 'RR' } })), ['ipvs.scheduler']);
  });
});

describe('validate: conntrack and oomScoreAdj (TestValidateKubeProxyLinuxConfiguration)', () => {
  it('refuses negative values', () => {
    assert.deepEqual(paths(cfg({ conntrack: { maxPerCore: -1 } })), ['conntrack.maxPerCore']);
    assert.deepEqual(paths(cfg({ conntrack: { min: -1 } })), ['conntrack.min']);
    assert.deepEqual(paths(cfg({ conntrack: { tcpEstablishedTimeout: '-5s' } })), ['conntrack.tcpEstablishedTimeout']);
    assert.deepEqual(paths(cfg({ conntrack: { tcpCloseWaitTimeout: '-5s' } })), ['conntrack.tcpCloseWaitTimeout']);
    assert.deepEqual(paths(cfg({ conntrack: { udpTimeout: '-5s' } })), ['conntrack.udpTimeout']);
    assert.deepEqual(paths(cfg({ conntrack: { udpStreamTimeout: '-5s' } })), ['conntrack.udpStreamTimeout']);
    assert.deepEqual(paths(cfg({ conntrack: { maxPerCore: 0, min: 0 } })), []);
  });
  it('oomScoreAdj must be within -1000..1000', () => {
    assert.deepEqual(paths(cfg({ oomScoreAdj: -1000 })), []);
    assert.deepEqual(paths(cfg({ oomScoreAdj: 1000 })), []);
    assert.deepEqual(paths(cfg({ oomScoreAdj: -1001 })), ['oomScoreAdj']);
    assert.deepEqual(paths(cfg({ oomScoreAdj: 1001 })), ['oomScoreAdj']);
  });
});

describe('validate: mode (TestValidateProxyMode)', () => {
  it('accepts blank and every known mode, refuses others with the list', () => {
    for (const m of ['', 'iptables', 'ipvs', 'nftables', 'kernelspace', 'userspace']) {
      assert.deepEqual(paths(cfg({}, (c) => (c.mode = m as ProxyMode))), [], m);
    }
    const msgs = validate(cfg({}, (c) => (c.mode = 'non-existing' as ProxyMode)));
    assert.deepEqual(msgs, ['mode "non-existing" is not one of "", "iptables", "ipvs", "nftables", "kernelspace", "userspace"; set it to one of those.']);
    assert.deepEqual(paths(cfg({}, (c) => (c.mode = 'IPVS' as ProxyMode))), ['mode'], 'modes are case-sensitive');
  });
});

describe('validate: client connection, configSyncPeriod, portRange, showHiddenMetricsForVersion, logging', () => {
  it('clientConnection.burst must not be negative (0 and 5 pass)', () => {
    assert.deepEqual(paths(cfg({}, (c) => (c.clientConnection.burst = 0))), []);
    assert.deepEqual(paths(cfg({}, (c) => (c.clientConnection.burst = 5))), []);
    assert.deepEqual(paths(cfg({}, (c) => (c.clientConnection.burst = -5))), ['clientConnection.burst']);
  });
  it('configSyncPeriod must be greater than 0', () => {
    assert.deepEqual(paths(cfg({}, (c) => (c.configSyncPeriod = '-1s'))), ['configSyncPeriod']);
    assert.deepEqual(paths(cfg({}, (c) => (c.configSyncPeriod = '0s'))), ['configSyncPeriod']);
    assert.deepEqual(paths(cfg({}, (c) => (c.configSyncPeriod = '1s'))), []);
  });
  it('portRange must parse as a port range', () => {
    for (const r of ['', '300-2000', '300+1700', '8080', ' 30000-32767 ', '0-0']) assert.deepEqual(paths(cfg({ portRange: r })), [], r);
    for (const r of ['foo', '2000-300', '1-70000', '65536', '1-2+3', '-5']) assert.deepEqual(paths(cfg({ portRange: r })), ['portRange'], r);
  });
  it('showHiddenMetricsForVersion must look like <major>.<minor>', () => {
    assert.deepEqual(paths(cfg({ showHiddenMetricsForVersion: 'invalid' })), ['showHiddenMetricsForVersion']);
    assert.deepEqual(paths(cfg({ showHiddenMetricsForVersion: '1.29.1' })), ['showHiddenMetricsForVersion']);
  });
  it('logging.format must be text or json', () => {
    assert.deepEqual(paths(cfg({ logging: { format: 'unsupported format' } })), ['logging.format']);
  });
  it('the legacy userspace udpIdleTimeout must be greater than 0', () => {
    assert.deepEqual(paths(cfg({ mode: 'userspace' }, (c) => (c.udpIdleTimeout = '-1s'))), ['udpIdleTimeout']);
    assert.deepEqual(paths(cfg({ mode: 'userspace' }, (c) => (c.udpIdleTimeout = '1s'))), []);
  });
});

describe('validate: bind addresses (TestValidateHostPort and BindAddress cases)', () => {
  it('bindAddress must be an IP, not IP:port', () => {
    assert.deepEqual(paths(cfg({}, (c) => (c.bindAddress = '10.10.12.11:2000'))), ['bindAddress']);
    assert.deepEqual(paths(cfg({}, (c) => (c.bindAddress = 'localhost'))), ['bindAddress']);
    assert.deepEqual(paths(cfg({}, (c) => (c.bindAddress = '10.0.0.1,10.0.0.2'))), ['bindAddress'], 'a pair must be dual-stack');
    assert.deepEqual(paths(cfg({}, (c) => (c.bindAddress = '010.010.012.011'))), [], 'ParseIPSloppy allows leading zeros');
    assert.deepEqual(paths(cfg({}, (c) => (c.bindAddress = 'fe80::1%eth0'))), ['bindAddress'], 'no zones');
  });
  const hostPort: Array<[string, boolean]> = [
    ['0.0.0.0:10256', true],
    ['127.0.0.1:10256', true],
    ['10.10.10.10:10256', true],
    ['[::]:10256', true],
    ['[fd00::1]:1', true],
    ['10.10.10.10', false], // missing port
    ['123.456.789.10:12345', false], // digits outside 0-255
    ['10.10.10.10:foo', false], // named port
    ['10.10.10.10:0', false], // port 0
    ['10.10.10.10:65536', false], // port too big
    ['::1:10256', false], // IPv6 without brackets: too many colons
    ['10.10.10.10:', false],
  ];
  for (const [value, good] of hostPort) {
    it(`healthzBindAddress ${JSON.stringify(value)} is ${good ? 'accepted' : 'refused'}`, () => {
      assert.deepEqual(paths(cfg({}, (c) => (c.healthzBindAddress = value))), good ? [] : ['healthzBindAddress']);
      assert.deepEqual(paths(cfg({}, (c) => (c.metricsBindAddress = value))), good ? [] : ['metricsBindAddress']);
    });
  }
  it('an empty healthzBindAddress is allowed (healthz disabled) but an empty metricsBindAddress is not', () => {
    assert.deepEqual(paths(cfg({}, (c) => (c.healthzBindAddress = ''))), []);
    assert.deepEqual(paths(cfg({}, (c) => (c.metricsBindAddress = ''))), ['metricsBindAddress']);
  });
  it('says what is wrong in one sentence', () => {
    assert.deepEqual(validate(cfg({}, (c) => (c.healthzBindAddress = '0.0.0.0'))), ['healthzBindAddress "0.0.0.0" must be IP:port; write it like 0.0.0.0:10256.']);
  });
});

describe('validate: nodePortAddresses (TestValidateKubeProxyNodePortAddress)', () => {
  const valid = [[], ['127.0.0.0/8'], ['0.0.0.0/0'], ['::/0'], ['127.0.0.1/32', '1.2.3.0/24'], ['::1/128'], ['1.2.3.4/32'], ['10.20.30.0/24'], ['10.20.0.0/16', '100.200.0.0/16'], ['10.0.0.0/8'], ['2001:db8::/32'], ['primary']];
  for (const list of valid) it(`accepts ${JSON.stringify(list)}`, () => assert.deepEqual(paths(cfg({ nodePortAddresses: list })), []));
  const invalid: Array<[string[], string[]]> = [
    [['foo'], ['nodePortAddresses[0]']],
    [['10.0.0.0/0', '1.2.3'], ['nodePortAddresses[1]']],
    [['127.0.0.1/32', '0', '1.2.3.0/24'], ['nodePortAddresses[1]']],
    [['127.0.0.1/32', '10.20.30.40', '1.2.3.0/24'], ['nodePortAddresses[1]']],
    [['::0', '::1', '2001:db8::/32'], ['nodePortAddresses[0]', 'nodePortAddresses[1]']],
    [['::1/128', '2001:db8::/32', '2001:db8:xyz/64'], ['nodePortAddresses[2]']],
    [['primary', '127.0.0.1/32'], ['nodePortAddresses[0]']],
    [['127.0.0.1/32', 'primary'], ['nodePortAddresses[1]']],
  ];
  for (const [list, want] of invalid) it(`refuses ${JSON.stringify(list)}`, () => assert.deepEqual(paths(cfg({ nodePortAddresses: list })), want));
  it('names the mix of primary and CIDRs', () => {
    assert.match(validate(cfg({ nodePortAddresses: ['primary', '127.0.0.1/32'] }))[0], /"primary" cannot be combined with CIDRs/);
  });
});

describe('validate: detectLocalMode and clusterCIDR', () => {
  it('detectLocalMode must be one of the known modes', () => {
    for (const m of ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix']) {
      assert.ok(!paths(cfg({ detectLocalMode: m, detectLocal: { bridgeInterface: 'cbr0', interfaceNamePrefix: 'veth' } })).includes('detectLocalMode'), m);
    }
    assert.deepEqual(paths(cfg({ detectLocalMode: 'Guess' })), ['detectLocalMode']);
  });
  it('BridgeInterface and InterfaceNamePrefix need their detectLocal field', () => {
    assert.deepEqual(paths(cfg({ detectLocalMode: 'BridgeInterface' })), ['detectLocal.bridgeInterface']);
    assert.deepEqual(paths(cfg({ detectLocalMode: 'InterfaceNamePrefix' })), ['detectLocal.interfaceNamePrefix']);
    assert.deepEqual(paths(cfg({ detectLocalMode: 'InterfaceNamePrefix', detectLocal: { bridgeInterface: 'cbr0' } })), ['detectLocal.interfaceNamePrefix']);
  });
  it('clusterCIDR must be one CIDR or a dual-stack pair (ClusterCIDR mode, the Linux default)', () => {
    assert.deepEqual(paths(cfg({ clusterCIDR: '192.168.59.0' })), ['clusterCIDR'], 'missing prefix length');
    assert.deepEqual(paths(cfg({ clusterCIDR: '192.168.59.0/24,fd00:192:168::/64,10.0.0.0/16' })), ['clusterCIDR'], 'three CIDRs');
    assert.deepEqual(paths(cfg({ clusterCIDR: '192.168.0.0/16,invalid' })), ['clusterCIDR'], 'malformed');
    assert.deepEqual(paths(cfg({ clusterCIDR: '192.168.0.0/16,10.0.0.0/8' })), ['clusterCIDR'], 'single-stack pair');
    assert.deepEqual(paths(cfg({ detectLocalMode: 'ClusterCIDR', clusterCIDR: '192.168.0.0/16,10.0.0.0/8' })), ['clusterCIDR']);
    // clusterCIDR is not used (nor checked) when local traffic is detected another way
    assert.deepEqual(paths(cfg({ detectLocalMode: 'NodeCIDR', clusterCIDR: 'garbage' })), []);
  });
});

describe('validate: output', () => {
  it('is one sentence per problem, each naming its field', () => {
    const msgs = validate(cfg({ iptables: { masqueradeBit: 40 }, oomScoreAdj: 5000, nodePortAddresses: ['foo'] }));
    assert.equal(msgs.length, 3);
    for (const m of msgs) {
      assert.match(m, /^[a-zA-Z.[\]0-9]+ .*\.$/);
      assert.equal(m.split('. ').length, 1, `one sentence: ${m}`);
    }
  });
});
