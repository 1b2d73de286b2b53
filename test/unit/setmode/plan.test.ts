// Where the mode lives per distribution, pre-flight per node, and the equivalence report on examples/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compareModes } from '../../../src/core/equivalence/compare.js';
import { registeredModes } from '../../../src/core/modes/registry.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import type { NodeModeRow } from '../../../src/core/report/mode.js';
import { preflight } from '../../../src/core/setmode/preflight.js';
import { locateMode, withProxyModeFlag } from '../../../src/core/setmode/where.js';
import { defaultConfig } from '../../../src/core/config/index.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const fx = (p: string) => JSON.parse(readFileSync(join(ROOT, 'test', 'kube', 'fixtures', p), 'utf8'));
const items = (p: string) => fx(p).items;

describe('locateMode', () => {
  it('kubeadm: the ConfigMap kube-proxy config.conf', () => {
    const at = locateMode({ nodes: items('kubeadm/nodes.json'), configMaps: items('kubeadm/kube-system-configmaps.json'), mode: 'ipvs' });
    assert.deepEqual(at.kind === 'configmap' && [at.name, at.key], ['kube-proxy', 'config.conf']);
  });

  it('a DaemonSet --proxy-mode flag wins over the file, and is what gets changed', () => {
    const ds = { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'kube-proxy', command: ['kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--proxy-mode=iptables'] }] } } } };
    const at = locateMode({ nodes: items('kubeadm/nodes.json'), configMaps: items('kubeadm/kube-system-configmaps.json'), daemonSet: ds, mode: 'ipvs' });
    assert.equal(at.kind, 'daemonset-flag');
    assert.ok(at.kind === 'daemonset-flag' && at.index === 2 && /overrides/.test(at.note));
    assert.deepEqual(withProxyModeFlag(ds.spec.template.spec.containers[0].command, 2, 'ipvs').at(2), '--proxy-mode=ipvs');
    assert.deepEqual(withProxyModeFlag(['kube-proxy', '--proxy-mode', 'iptables'], 1, 'ipvs'), ['kube-proxy', '--proxy-mode', 'ipvs']);
  });

  const manual: Array<[string, RegExp]> = [
    ['eks', /^aws eks update-addon --cluster-name shop-prod --addon-name kube-proxy --configuration-values '\{"mode":"nftables"\}' --resolve-conflicts OVERWRITE$/],
    ['aks', /az aks update .*--kube-proxy-config kube-proxy\.json/],
    ['k3s', /--kube-proxy-arg=proxy-mode=nftables/],
    ['kind', /^# {5}kubeProxyMode: "nftables"$/],
    ['gke', /not offer a kube-proxy mode/],
  ];
  for (const [dist, command] of manual) {
    it(`${dist}: changes nothing and says what to run`, () => {
      let configMaps = [];
      try {
        configMaps = items(`${dist}/kube-system-configmaps.json`);
      } catch {
        configMaps = [];
      }
      const at = locateMode({ nodes: items(`${dist}/nodes.json`), configMaps, mode: 'nftables' });
      assert.equal(at.kind, 'manual');
      assert.ok(at.kind === 'manual' && at.commands.some((c) => command.test(c)), JSON.stringify(at));
    });
  }

  it('a full replacement (Cilium): there is no kube-proxy to switch', () => {
    const at = locateMode({ nodes: items('kubeadm/nodes.json'), configMaps: [], mode: 'ipvs', replacement: { name: 'Cilium', running: 'cilium (eBPF)', evidence: 'kube-proxy-replacement=true', full: true } });
    assert.ok(at.kind === 'manual' && /no kube-proxy whose mode could be switched/.test(at.reason));
  });
});

function row(node: string, version: string | null, running: string | null = 'iptables'): NodeModeRow {
  return { node, configured: 'iptables', configuredDefaulted: false, configuredUnknown: null, configuredOverride: false, configuredFrom: '', running, runningFrom: 'log', scheduler: null, kubeProxyVersion: version, status: 'Running', nodeStatus: 'Ready', pod: null, restarts: 0, ready: true, mismatch: false, unknown: false, notes: [] };
}

describe('preflight', () => {
  const config = defaultConfig().config;
  it('nftables: refuses before 1.29, without the gate on 1.29-1.30, and kernels before 5.13', () => {
    const r = preflight({
      mode: 'nftables',
      rows: [row('a', 'v1.28.3'), row('b', 'v1.30.1'), row('c', 'v1.31.2'), row('d', 'v1.33.0')],
      kernels: new Map([['a', '6.1.0'], ['b', '6.1.0'], ['c', '5.10.0-1'], ['d', '6.8.0']]),
      config,
    });
    assert.deepEqual(r.nodes.map((n) => n.level), ['fail', 'fail', 'fail', 'ok']);
    assert.match(r.nodes[1].findings[0].text, /NFTablesProxyMode/);
    assert.match(r.nodes[2].findings[0].text, /5\.13/);
    assert.match(r.onFailure, /crash-loops/);
    assert.equal(r.failed, true);
    const gated = preflight({ mode: 'nftables', rows: [row('b', 'v1.30.1')], kernels: new Map([['b', '6.1.0']]), config: { ...config, featureGates: { NFTablesProxyMode: true } } });
    assert.equal(gated.failed, false);
  });

  it('ipvs: deprecated from 1.35, modules unprovable, MetalLB needs strictARP; userspace is gone since 1.26', () => {
    const r = preflight({ mode: 'ipvs', rows: [row('a', 'v1.35.0')], kernels: new Map(), config, metallb: 'namespace metallb-system' });
    assert.equal(r.failed, false);
    assert.ok(r.nodes[0].findings.some((f) => /deprecated since kube-proxy 1\.35/.test(f.text)));
    assert.ok(r.nodes[0].findings.some((f) => /get --probe/.test(f.text)));
    assert.match(r.cluster[0].text, /strictARP/);
    const old = preflight({ mode: 'ipvs', rows: [row('a', 'v1.23.0')], kernels: new Map(), config });
    assert.match(old.onFailure, /before 1\.25 it falls back to iptables/);
    const fellBack = { ...row('b', 'v1.23.0'), status: 'Fallback', notes: ['configured ipvs, running iptables: IPVS modules missing on this node (kube-proxy v1.23.0 fell back: …)'] };
    const proven = preflight({ mode: 'ipvs', rows: [fellBack, row('c', 'v1.31.0', 'ipvs')], kernels: new Map(), config });
    assert.deepEqual(proven.nodes.map((n) => n.level), ['fail', 'ok'], 'a node that already fell back fails; one running ipvs needs no proof');
    assert.match(proven.nodes[0].findings[0].text, /already could not use IPVS: configured ipvs, running iptables: IPVS modules missing/);
    assert.equal(preflight({ mode: 'userspace', rows: [row('a', 'v1.26.0')], kernels: new Map(), config }).failed, true);
  });
});

describe('compareModes on examples/', () => {
  it('iptables -> ipvs: traces every path through both and groups each difference', async () => {
    const src = new FileSource([join(ROOT, 'examples')], () => {});
    const cfg = await loadProxyConfig(src, undefined, {}, { warn: () => {} });
    const [services, endpointSlices, nodes] = await Promise.all([src.services(), src.endpointSlices(), src.nodes()]);
    const views = nodes.map((n) => buildProxyView({ services, endpointSlices, nodes }, { ...cfg.config, hostnameOverride: n.metadata!.name ?? '' }, 'examples'));
    const r = compareModes({ views, currentConfig: { ...cfg.config, mode: 'iptables' }, targetConfig: { ...cfg.config, mode: 'ipvs' } });
    assert.equal(r.available, true);
    assert.deepEqual(r.nodes, ['cp-1', 'worker-1', 'worker-2']);
    assert.ok(r.pathsTraced > 100, `${r.pathsTraced} paths`);
    const same = compareModes({ views, currentConfig: { ...cfg.config, mode: 'iptables' }, targetConfig: { ...cfg.config, mode: 'iptables' } });
    assert.equal(same.equivalent, true, 'a mode is equivalent to itself');
    assert.equal(same.pathsTraced, r.pathsTraced);
    for (const g of r.groups) {
      assert.ok(g.explanation.endsWith('.'));
      for (const p of g.paths) assert.notEqual(p.current, p.target, JSON.stringify(p));
    }
  });

  it('a target mode with no definition: one sentence, asked of the registry', () => {
    const missing = ['iptables', 'ipvs', 'nftables', 'userspace'].find((m) => !registeredModes().some((d) => d.mode === m));
    if (!missing) return;
    const r = compareModes({ views: [], currentConfig: { ...defaultConfig().config, mode: 'iptables' }, targetConfig: { ...defaultConfig().config, mode: missing as 'iptables' } });
    assert.equal(r.available, false);
    assert.match(r.unavailable!, new RegExp(`^${missing} mode has no definition in this version`));
  });
});
