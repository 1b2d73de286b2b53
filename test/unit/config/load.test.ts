// Reading kube-proxy's configuration from files and ConfigMaps (kubeadm, kind, EKS, bare files).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYAML } from 'yaml';
import { InputError } from '../../../src/core/errors.js';
import type { ConfigMap } from '../../../src/core/objects/types.js';
import { decodeLocated } from '../../../src/core/objects/decode.js';
import {
  configFromConfigMap,
  configMapKey,
  findKubeProxyConfigMap,
  parseKubeProxyConfiguration,
} from '../../../src/core/config/index.js';
import { BARE_IPVS_FILE, EKS_CONFIGMAP, EKS_KUBECONFIG_CONFIGMAP, KIND_CONFIGMAP, KUBEADM_CONFIGMAP } from './fixtures.js';

/** 1-based line of the first line of `text` containing `needle` (after `from`, if given). */
function lineOf(text: string, needle: string, from = ''): number {
  const lines = text.split('\n');
  const start = from ? lines.findIndex((l) => l.includes(from)) : 0;
  const i = lines.findIndex((l, n) => n >= start && l.includes(needle));
  assert.ok(i >= 0, `fixture has ${needle}`);
  return i + 1;
}

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('expected an InputError');
}

describe('parseKubeProxyConfiguration: kubeadm ConfigMap (kubectl get cm kube-proxy -o yaml)', () => {
  const l = parseKubeProxyConfiguration(KUBEADM_CONFIGMAP, 'kube-proxy-cm.yaml');
  it('finds config.conf in kube-system/kube-proxy', () => {
    assert.deepEqual(l.origin, { kind: 'configmap', namespace: 'kube-system', name: 'kube-proxy', key: 'config.conf', fileLine: 3 });
    assert.equal(l.source, 'kube-proxy-cm.yaml');
  });
  it('mode "" runs iptables, marked as defaulted', () => {
    assert.equal(l.configuredMode, '');
    assert.equal(l.effectiveMode, 'iptables');
    assert.equal(l.modeDefaulted, true);
    assert.equal(l.config.mode, 'iptables');
  });
  it('defaults every null and zero field kubeadm writes', () => {
    assert.equal(l.config.iptables.masqueradeBit, 14);
    assert.equal(l.config.iptables.localhostNodePorts, true);
    assert.equal(l.config.iptables.syncPeriod, '30s');
    assert.equal(l.config.iptables.minSyncPeriod, '1s');
    assert.equal(l.config.conntrack.maxPerCore, 32768);
    assert.equal(l.config.conntrack.tcpCloseWaitTimeout, '1h0m0s');
    assert.equal(l.config.oomScoreAdj, -999);
    assert.equal(l.config.configSyncPeriod, '15m0s');
    assert.equal(l.config.healthzBindAddress, '0.0.0.0:10256');
    assert.equal(l.config.metricsBindAddress, '127.0.0.1:10249');
    assert.equal(l.config.clientConnection.qps, 5);
    assert.equal(l.config.clientConnection.burst, 10);
    assert.equal(l.config.clientConnection.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
    assert.equal(l.config.logging.flushFrequency, '5s');
    assert.equal(l.config.detectLocalMode, 'ClusterCIDR');
    assert.equal(l.config.clusterCIDR, '10.244.0.0/16');
  });
  it('has no warnings or problems, and keeps the raw text as written', () => {
    assert.deepEqual(l.warnings, []);
    assert.deepEqual(l.problems, []);
    assert.equal(l.raw.mode, '');
    assert.equal((l.raw.iptables as Record<string, unknown>).masqueradeBit, null);
    assert.equal(l.raw.configSyncPeriod, '0s');
  });
  it('records the file line of each field', () => {
    assert.equal(3 + l.lines.get('mode')!, lineOf(KUBEADM_CONFIGMAP, 'mode: ""'));
  });
  it('reads the same from -o json output', () => {
    const json = JSON.stringify(parseYAML(KUBEADM_CONFIGMAP), null, 2);
    const j = parseKubeProxyConfiguration(json, 'cm.json');
    assert.deepEqual(j.config, l.config);
    assert.deepEqual(j.origin, { kind: 'configmap', namespace: 'kube-system', name: 'kube-proxy', key: 'config.conf' });
  });
});

describe('parseKubeProxyConfiguration: kind ConfigMap', () => {
  const l = parseKubeProxyConfiguration(KIND_CONFIGMAP, 'kind-cm.yaml');
  it('runs iptables as configured, not defaulted', () => {
    assert.equal(l.configuredMode, 'iptables');
    assert.equal(l.effectiveMode, 'iptables');
    assert.equal(l.modeDefaulted, false);
  });
  it("keeps kind's conntrack.maxPerCore 0 (leave nf_conntrack_max alone) and minSyncPeriod 1s", () => {
    assert.equal(l.config.conntrack.maxPerCore, 0);
    assert.equal(l.config.conntrack.min, 131072);
    assert.equal(l.config.iptables.minSyncPeriod, '1s');
    assert.deepEqual(l.warnings, []);
    assert.deepEqual(l.problems, []);
  });
});

describe('parseKubeProxyConfiguration: EKS kube-proxy-config', () => {
  const l = parseKubeProxyConfiguration(EKS_CONFIGMAP, 'eks-cm.yaml');
  it('reads the config key of kube-system/kube-proxy-config', () => {
    assert.deepEqual(l.origin, { kind: 'configmap', namespace: 'kube-system', name: 'kube-proxy-config', key: 'config', fileLine: 10 });
  });
  it('runs ipvs with the rr scheduler and EKS values', () => {
    assert.equal(l.effectiveMode, 'ipvs');
    assert.equal(l.modeDefaulted, false);
    assert.equal(l.ipvsScheduler, 'rr');
    assert.equal(l.config.metricsBindAddress, '0.0.0.0:10249');
    assert.equal(l.config.oomScoreAdj, -998);
    // iptables.minSyncPeriod: 0s is written, but a zero metav1.Duration is defaulted to 1s
    assert.equal(l.config.iptables.minSyncPeriod, '1s');
    assert.equal(l.config.ipvs.minSyncPeriod, '0s');
  });
  it('warns about the legacy udpIdleTimeout on its file line, and keeps it', () => {
    assert.equal(l.warnings.length, 1);
    assert.ok(l.warnings[0].startsWith(`eks-cm.yaml:${lineOf(EKS_CONFIGMAP, 'udpIdleTimeout')}: config: udpIdleTimeout only exists in kube-proxy 1.25 and older`), l.warnings[0]);
    assert.equal(l.config.udpIdleTimeout, '250ms');
    assert.deepEqual(l.problems, []);
  });
});

describe('parseKubeProxyConfiguration: bare files', () => {
  it('reads a hand-written ipvs file; ipvs scheduler "" means rr', () => {
    const l = parseKubeProxyConfiguration(BARE_IPVS_FILE, '/etc/kubernetes/kube-proxy.yaml');
    assert.deepEqual(l.origin, { kind: 'file' });
    assert.equal(l.effectiveMode, 'ipvs');
    assert.equal(l.config.ipvs.scheduler, '');
    assert.equal(l.ipvsScheduler, 'rr');
    assert.equal(l.config.ipvs.strictARP, true);
    assert.equal(l.config.clusterCIDR, '10.244.0.0/16,fd00:10:244::/56');
    assert.deepEqual(l.config.nodePortAddresses, ['192.168.56.0/24']);
    assert.equal(l.lines.get('nodePortAddresses[0]'), 10);
    assert.deepEqual(l.warnings, []);
    assert.deepEqual(l.problems, []);
  });
  it('reads JSON', () => {
    const l = parseKubeProxyConfiguration('{"apiVersion":"kubeproxy.config.k8s.io/v1alpha1","kind":"KubeProxyConfiguration","mode":"nftables"}', 'c.json');
    assert.equal(l.effectiveMode, 'nftables');
    assert.deepEqual(l.config.nodePortAddresses, []);
    assert.equal(l.config.nftables.syncPeriod, '30s');
  });
  it('mode "" (or absent, or null) runs iptables and says it defaulted', () => {
    for (const line of ['mode: ""', '', 'mode:', 'mode: null']) {
      const l = parseKubeProxyConfiguration(`apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n${line}\n`, 'f.yaml');
      assert.equal(l.effectiveMode, 'iptables', line);
      assert.equal(l.modeDefaulted, true, line);
      assert.equal(l.configuredMode, '', line);
    }
  });
  it('finds the KubeProxyConfiguration among kubeadm init documents', () => {
    const text = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
iptables:
  masqueradeBit: 40
`;
    const l = parseKubeProxyConfiguration(text, 'kubeadm.yaml');
    assert.equal(l.effectiveMode, 'nftables');
    // iptables.masqueradeBit is checked in every mode, and the line counts in the whole file
    assert.deepEqual(l.problems, ['kubeadm.yaml:10: iptables.masqueradeBit is 40, but it must be a bit number from 0 to 31; set it within that range (the default is 14).']);
  });
  it('reads a kind: List of ConfigMaps, picking kube-proxy-config over a kubeconfig-only kube-proxy (EKS)', () => {
    const cms = [parseYAML(EKS_KUBECONFIG_CONFIGMAP), parseYAML(EKS_CONFIGMAP)];
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: cms });
    const l = parseKubeProxyConfiguration(list, 'list.json');
    assert.equal(l.origin.kind === 'configmap' && l.origin.name, 'kube-proxy-config');
    assert.equal(l.effectiveMode, 'ipvs');
  });
});

describe('parseKubeProxyConfiguration: warnings for what kube-proxy ignores', () => {
  const text = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1', // 1
    'kind: KubeProxyConfiguration', // 2
    'metadata:', // 3  kind writes this into its kubeadm config
    '  name: config', // 4
    'Mode: ipvs', // 5  wrong case: strict decoding fails, lenient decoding drops it
    'ipvs:', // 6
    '  masqueradeAll: true', // 7  not a field of ipvs
    '  strictARP: yes', // 8  YAML 1.1 boolean, as go-yaml v2 reads it
    'conntrack:', // 9
    '  max: 0', // 10 removed in 1.19
  ].join('\n');
  const l = parseKubeProxyConfiguration(text, 'w.yaml');
  it('lists each unknown or legacy field with its line, and ignores it', () => {
    assert.equal(l.warnings.length, 4);
    assert.match(l.warnings[0], /^w\.yaml:3: unknown field "metadata" is ignored by kube-proxy/);
    assert.match(l.warnings[1], /^w\.yaml:5: unknown field "Mode" is ignored .*did you mean "mode" \(field names are case-sensitive\)\?$/);
    assert.match(l.warnings[2], /^w\.yaml:7: unknown field "ipvs\.masqueradeAll"/);
    assert.match(l.warnings[3], /^w\.yaml:10: conntrack\.max was removed from kube-proxy in 1\.19/);
    assert.equal(l.effectiveMode, 'iptables', 'Mode: ipvs is ignored');
    assert.equal(l.modeDefaulted, true);
    assert.equal(l.config.ipvs.strictARP, true);
    assert.equal(l.raw.Mode, 'ipvs', 'raw keeps what was written');
  });
  it('notes the legacy userspace and the Windows kernelspace modes', () => {
    const u = parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\n', 'u.yaml');
    assert.equal(u.effectiveMode, 'userspace');
    assert.equal(u.config.udpIdleTimeout, '250ms');
    assert.deepEqual(u.warnings, ['u.yaml:3: the userspace proxy was removed from kube-proxy in Kubernetes 1.26, so kube-proxy 1.26 and later refuse to start with it; switch to iptables, ipvs or nftables.']);
    const k = parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: kernelspace\n', 'k.yaml');
    assert.equal(k.effectiveMode, 'kernelspace');
    assert.match(k.warnings[0], /^k\.yaml:3: kernelspace is the Windows proxy mode/);
  });
  it('reports validation problems with their line without refusing the file', () => {
    const p = parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: fastest\nnodePortAddresses: [primary, 10.0.0.0/8]\n', 'p.yaml');
    assert.deepEqual(p.problems, [
      'p.yaml:5: ipvs.scheduler "fastest" is not an IPVS scheduler; use one of rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh, fo, ovf, twos, or leave it empty for rr.',
      'p.yaml:6: nodePortAddresses[0] "primary" cannot be combined with CIDRs; use either "primary" alone or a list of CIDRs.',
    ]);
  });
});

describe('parseKubeProxyConfiguration: input errors', () => {
  it('malformed YAML names the source and the exact line', () => {
    const text = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\niptables:\n  syncPeriod: [30s\n  minSyncPeriod: 1s\n';
    const msg = inputError(() => parseKubeProxyConfiguration(text, 'bad.yaml'));
    assert.match(msg, /^bad\.yaml:6: malformed YAML \(.+\); fix the file and try again\.$/);
    const head = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';
    assert.equal(
      inputError(() => parseKubeProxyConfiguration(`${head}iptables:\n  syncPeriod: 30s\n minSyncPeriod: 1s\nmode: ipvs\n`, 'indent.yaml')),
      'indent.yaml:5: malformed YAML (All mapping items must start at the same column); fix the file and try again.',
    );
    assert.equal(
      inputError(() => parseKubeProxyConfiguration(`${head}mode: ipvs\n\tiptables: {}\n`, 'tab.yaml')),
      'tab.yaml:4: malformed YAML (Tabs are not allowed as indentation); fix the file and try again.',
    );
  });
  it('malformed YAML inside a ConfigMap key names the file line', () => {
    const broken = KUBEADM_CONFIGMAP.replace('    mode: ""\n', '    mode: ""\n     bad: indent\n');
    const msg = inputError(() => parseKubeProxyConfiguration(broken, 'cm.yaml'));
    assert.match(msg, new RegExp(`^cm\\.yaml:${lineOf(broken, 'bad: indent')}: config\\.conf: malformed YAML`), msg);
  });
  it('a field given twice is what kube-proxy\'s lenient decoding makes of it: the last wins, with a warning', () => {
    const l = parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nmode: iptables\n', 'd.yaml');
    assert.equal(l.effectiveMode, 'iptables');
    assert.deepEqual(l.warnings, ['d.yaml:4: the field "mode" is given twice; kube-proxy falls back to lenient decoding (logging a warning) and uses this later value; remove one of them.']);
    const inKey = parseKubeProxyConfiguration(KUBEADM_CONFIGMAP.replace('    mode: ""\n', '    mode: ""\n    mode: ipvs\n'), 'cm.yaml');
    assert.equal(inKey.effectiveMode, 'ipvs');
    assert.match(inKey.warnings[0], /^cm\.yaml:\d+: config\.conf: the field "mode" is given twice/);
  });
  it('a key twice in the ConfigMap around the configuration is refused, naming it', () => {
    const twice = KUBEADM_CONFIGMAP.replace('kind: ConfigMap\n', 'kind: ConfigMap\nkind: ConfigMap\n');
    assert.notEqual(twice, KUBEADM_CONFIGMAP);
    assert.match(inputError(() => parseKubeProxyConfiguration(twice, 'w.yaml')), /^w\.yaml:\d+: the key "kind" appears twice in one mapping/);
  });
  it('an unknown mode is refused with its line and the valid modes', () => {
    const msg = inputError(() => parseKubeProxyConfiguration(KUBEADM_CONFIGMAP.replace('mode: ""', 'mode: ipsv'), 'examples/kube-proxy.yaml'));
    assert.equal(msg, `examples/kube-proxy.yaml:${lineOf(KUBEADM_CONFIGMAP, 'mode: ""')}: config.conf: mode "ipsv" is not one of "", "iptables", "ipvs", "nftables", "kernelspace", "userspace"; set it to one of those.`);
    const upper = inputError(() => parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: IPVS\n', 'u.yaml'));
    assert.match(upper, /^u\.yaml:3: mode "IPVS" is not one of/);
  });
  it('wrong apiVersion or kind', () => {
    assert.match(inputError(() => parseKubeProxyConfiguration('apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n', 'v2.yaml')), /^v2\.yaml:1: apiVersion "kubeproxy\.config\.k8s\.io\/v1alpha2" is not supported for KubeProxyConfiguration; .*set apiVersion: kubeproxy\.config\.k8s\.io\/v1alpha1\.$/);
    assert.match(inputError(() => parseKubeProxyConfiguration('apiVersion: v1\nkind: KubeProxyConfiguration\n', 'v1.yaml')), /^v1\.yaml:1: apiVersion "v1" is not supported/);
    assert.match(inputError(() => parseKubeProxyConfiguration('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n', 'kubelet.yaml')), /^kubelet\.yaml:1: kind "KubeletConfiguration" is not a KubeProxyConfiguration or a ConfigMap that holds one; /);
    assert.match(inputError(() => parseKubeProxyConfiguration('kind: KubeProxyConfiguration\nmode: ipvs\n', 'nov.yaml')), /^nov\.yaml:1: the document has no apiVersion; /);
    assert.match(inputError(() => parseKubeProxyConfiguration('mode: ipvs\n', 'nok.yaml')), /^nok\.yaml:1: the document has no kind; /);
    const wrapped = KUBEADM_CONFIGMAP.replace('    kind: KubeProxyConfiguration', '    kind: KubeletConfiguration');
    assert.equal(
      inputError(() => parseKubeProxyConfiguration(wrapped, 'cm.yaml')),
      `cm.yaml:4: config.conf: kind "KubeletConfiguration" is not KubeProxyConfiguration; the key must hold kube-proxy's configuration.`,
    );
  });
  it('empty files and ConfigMaps without a config key', () => {
    assert.match(inputError(() => parseKubeProxyConfiguration('', 'e.yaml')), /^e\.yaml: the file is empty; /);
    assert.match(inputError(() => parseKubeProxyConfiguration('# nothing\n---\n', 'e.yaml')), /^e\.yaml: the file is empty; /);
    assert.match(inputError(() => parseKubeProxyConfiguration(EKS_KUBECONFIG_CONFIGMAP, 'kp.yaml')), /^kp\.yaml:1: ConfigMap kube-system\/kube-proxy has no config\.conf or config key holding a KubeProxyConfiguration; /);
  });
  it('values of the wrong type are refused with their line, as kube-proxy fails to decode them', () => {
    const head = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';
    const cases: Array<[string, RegExp]> = [
      ['iptables:\n  masqueradeBit: "14"\n', /^t\.yaml:4: iptables\.masqueradeBit must be an integer, but it is the string "14", so kube-proxy would fail to decode the file; correct the value\.$/],
      ['iptables:\n  masqueradeBit: 14.0\n', /^t\.yaml:4: iptables\.masqueradeBit must be an integer, but it is the number 14\.0/],
      ['iptables:\n  syncPeriod: 30\n', /^t\.yaml:4: iptables\.syncPeriod is the bare number 30, but kube-proxy reads durations only as strings with a unit; write it like "30s"\.$/],
      ['iptables:\n  syncPeriod: 30 seconds\n', /^t\.yaml:4: iptables\.syncPeriod "30 seconds" is not a duration \(time: unknown unit " seconds" in duration "30 seconds"\); /],
      ['ipvs:\n  strictARP: "true"\n', /^t\.yaml:4: ipvs\.strictARP must be true or false, but it is the string "true"/],
      ['nodePortAddresses: 10.0.0.0/8\n', /^t\.yaml:3: nodePortAddresses must be a list of strings, but it is the string "10\.0\.0\.0\/8"/],
      ['iptables: true\n', /^t\.yaml:3: iptables must be a mapping, but it is the boolean true/],
      ['oomScoreAdj: 99999999999\n', /^t\.yaml:3: oomScoreAdj is 99999999999, which does not fit a 32-bit integer; /],
      ['featureGates:\n  NFTablesProxyMode: maybe\n', /^t\.yaml:4: featureGates\.NFTablesProxyMode must be true or false/],
      ['hostnameOverride: 42\n', /^t\.yaml:3: hostnameOverride must be a string, but it is the number 42/],
    ];
    for (const [body, re] of cases) assert.match(inputError(() => parseKubeProxyConfiguration(head + body, 't.yaml')), re, body);
  });
  it('a top level that is not a mapping is refused', () => {
    assert.match(inputError(() => parseKubeProxyConfiguration('- a\n- b\n', 'l.yaml')), /^l\.yaml:1: expected a KubeProxyConfiguration or a ConfigMap/);
  });
});

describe('configFromConfigMap', () => {
  const kubeadm = parseYAML(KUBEADM_CONFIGMAP) as ConfigMap;
  it('reads config.conf from a ConfigMap object (as the API returns it)', () => {
    const l = configFromConfigMap(kubeadm, 'configmap kube-system/kube-proxy');
    assert.deepEqual(l.origin, { kind: 'configmap', namespace: 'kube-system', name: 'kube-proxy', key: 'config.conf' });
    assert.equal(l.source, 'configmap kube-system/kube-proxy');
    assert.equal(l.effectiveMode, 'iptables');
    assert.equal(l.modeDefaulted, true);
    assert.deepEqual(l.config, parseKubeProxyConfiguration(KUBEADM_CONFIGMAP, 'x').config);
  });
  it('reads EKS config', () => {
    const l = configFromConfigMap(parseYAML(EKS_CONFIGMAP) as ConfigMap, 'configmap kube-system/kube-proxy-config');
    assert.equal(l.effectiveMode, 'ipvs');
    const inner = lineOf(EKS_CONFIGMAP, 'udpIdleTimeout') - lineOf(EKS_CONFIGMAP, 'config: |-');
    assert.ok(l.warnings[0].startsWith(`configmap kube-system/kube-proxy-config: config line ${inner}: udpIdleTimeout only exists`), l.warnings[0]);
  });
  it('names the key and the line inside it in errors', () => {
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipsv\n' } };
    assert.equal(
      inputError(() => configFromConfigMap(cm, 'configmap kube-system/kube-proxy')),
      'configmap kube-system/kube-proxy: config.conf line 3: mode "ipsv" is not one of "", "iptables", "ipvs", "nftables", "kernelspace", "userspace"; set it to one of those.',
    );
    const broken: ConfigMap = { ...cm, data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: [ipvs\n' } };
    assert.match(inputError(() => configFromConfigMap(broken, 'configmap kube-system/kube-proxy')), /^configmap kube-system\/kube-proxy: config\.conf line \d+: malformed YAML/);
  });
  it('with the file it was read from (-f) and its block-literal line, messages name that file\'s own line', () => {
    const file = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: ipsv\n";
    const [located] = decodeLocated(file, 'saved/cm.yaml');
    assert.deepEqual(located.blockLines, { 'config.conf': 5 });
    assert.equal(
      inputError(() => configFromConfigMap(located.object as ConfigMap, 'ConfigMap kube-system/kube-proxy', { file: 'saved/cm.yaml', blockLines: located.blockLines })),
      'saved/cm.yaml:8: ConfigMap kube-system/kube-proxy: config.conf: mode "ipsv" is not one of "", "iptables", "ipvs", "nftables", "kernelspace", "userspace"; set it to one of those.',
    );
    // A key that is not a block literal keeps lines counted inside the key.
    assert.match(inputError(() => configFromConfigMap(located.object as ConfigMap, 'cm', { file: 'saved/cm.yaml', blockLines: {} })), /^cm: config\.conf line 3: /);
  });
  it('refuses a ConfigMap without a configuration key', () => {
    assert.match(inputError(() => configFromConfigMap(parseYAML(EKS_KUBECONFIG_CONFIGMAP) as ConfigMap, 'cm')), /^cm: ConfigMap kube-system\/kube-proxy has no config\.conf or config key holding a KubeProxyConfiguration; /);
  });
  it('accepts other distributions\' key names when they hold a KubeProxyConfiguration', () => {
    const cm: ConfigMap = { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.yaml': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n', 'notes.yaml': 'hello: world\n' } };
    assert.equal(configMapKey(cm), 'config.yaml');
    assert.equal(configFromConfigMap(cm, 'cm').effectiveMode, 'ipvs');
  });
});

describe('findKubeProxyConfigMap', () => {
  const kubeadm = parseYAML(KUBEADM_CONFIGMAP) as ConfigMap;
  const eks = parseYAML(EKS_CONFIGMAP) as ConfigMap;
  const eksKubeconfig = parseYAML(EKS_KUBECONFIG_CONFIGMAP) as ConfigMap;
  const other: ConfigMap = { metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: '.:53 {}' } };
  it('finds kubeadm/kind kube-proxy', () => {
    assert.equal(findKubeProxyConfigMap([other, kubeadm]), kubeadm);
  });
  it('finds EKS kube-proxy-config and skips the kubeconfig-only kube-proxy', () => {
    assert.equal(findKubeProxyConfigMap([eksKubeconfig, other, eks]), eks);
  });
  it('prefers kube-system over other namespaces', () => {
    const copy: ConfigMap = { ...kubeadm, metadata: { ...kubeadm.metadata, namespace: 'backup' } };
    assert.equal(findKubeProxyConfigMap([copy, kubeadm]), kubeadm);
    assert.equal(findKubeProxyConfigMap([copy]), copy);
  });
  it('finds nothing on k3s/RKE2 (no kube-proxy ConfigMap)', () => {
    assert.equal(findKubeProxyConfigMap([other]), undefined);
    assert.equal(findKubeProxyConfigMap([]), undefined);
  });
});
