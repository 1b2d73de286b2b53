// The mode report never builds advice on a guess: an unreadable configuration or a missing ConfigMap that
// kube-proxy's --config points at leaves the configured mode unknown; --mode is a labelled what-if; --check's
// summary counts what was checked, mismatched and unknown (fixtures: kubeadm, see its PROVENANCE-mode.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverrides, configFromConfigMap, defaultConfig } from '../../src/core/config/load.js';
import { buildModeReport, type KubeProxyPod, type ModeEvidence } from '../../src/core/report/mode.js';
import { checkSummary, modeStderrLines } from '../../src/ui/mode-view.js';
import { fixture, fixtureJSON } from './helpers.js';

const nodes = fixtureJSON('kubeadm/nodes.json').items;
const ipvsLog = fixture('logs/v1.31-json-ipvs.txt');
const pods = (log: string | undefined, logNote?: string): KubeProxyPod[] =>
  (fixtureJSON('kubeadm/kube-proxy-pods-all.json').items as any[]).map((p) => ({
    name: p.metadata.name,
    namespace: 'kube-system',
    node: p.spec.nodeName,
    image: p.spec.containers[0].image,
    command: p.spec.containers[0].command,
    ready: true,
    restarts: 0,
    state: 'Running',
    staticPod: false,
    log,
    logNote,
  }));
const evidence = (p: KubeProxyPod[], notes: string[] = []): ModeEvidence => ({ pods: p, replacement: null, notes });
const kubeadmConfig = () => configFromConfigMap(fixtureJSON('kubeadm/kube-proxy-configmap.json'), 'ConfigMap kube-system/kube-proxy');

describe('configured mode unknown, never guessed', () => {
  it('kube-proxy runs with --config but no ConfigMap was found: unknown with why, no mismatch and no advice', () => {
    const r = buildModeReport({ source: 's', nodes, config: defaultConfig(), evidence: evidence(pods(ipvsLog)), configLookedIn: 'among the files' });
    assert.equal(r.configuration.mode, null);
    assert.equal(r.configuration.unknown, 'kube-proxy runs with --config /var/lib/kube-proxy/config.conf, but no kube-proxy ConfigMap (kube-system/kube-proxy or kube-proxy-config) was found among the files');
    for (const n of r.nodes) {
      assert.equal(n.configured, null);
      assert.equal(n.running, 'ipvs');
      assert.equal(n.status, 'Running');
      assert.equal(n.mismatch, false);
      assert.equal(n.unknown, true);
      assert.ok(!n.notes.some((x) => /delete pod/.test(x)), n.notes.join('\n'));
    }
  });

  it('the same evidence with the ConfigMap read: a real mismatch, with its advice', () => {
    const r = buildModeReport({ source: 's', nodes, config: kubeadmConfig(), evidence: evidence(pods(ipvsLog)) });
    assert.equal(r.configuration.mode, 'iptables');
    assert.ok(r.nodes.every((n) => n.mismatch && n.status === 'Mismatch'));
    assert.match(r.nodes[0].notes[0], /kubectl -n kube-system delete pod/);
  });

  it('a configuration that could not be read is unknown with its reason, even without --config flags', () => {
    const config = { ...defaultConfig(), unavailable: 'kube-proxy\'s ConfigMap could not be read (forbidden)' };
    const r = buildModeReport({ source: 's', nodes, config, evidence: evidence([]) });
    assert.equal(r.configuration.mode, null);
    assert.equal(r.configuration.unknown, 'kube-proxy\'s ConfigMap could not be read (forbidden)');
  });

  it('no --config anywhere (k3s-like flags only): kube-proxy\'s defaults are its configuration, not a guess', () => {
    const flagless = pods(fixture('logs/v1.31-iptables.txt')).map((p) => ({ ...p, command: ['kube-proxy', '--hostname-override=x'] }));
    const r = buildModeReport({ source: 's', nodes, config: defaultConfig(), evidence: evidence(flagless) });
    assert.equal(r.configuration.mode, 'iptables');
    assert.ok(r.nodes.every((n) => n.configured === 'iptables' && n.configuredDefaulted && !n.unknown));
  });

  it('--proxy-mode on the command line still says the mode when the file is missing', () => {
    const flagged = pods(ipvsLog).map((p) => ({ ...p, command: [...p.command, '--proxy-mode=ipvs'] }));
    const r = buildModeReport({ source: 's', nodes, config: defaultConfig(), evidence: evidence(flagged) });
    assert.ok(r.nodes.every((n) => n.configured === 'ipvs' && !n.mismatch && !n.unknown));
  });
});

describe('--mode is a what-if', () => {
  it('labelled as an override, never a mismatch or advice, and unknown to --check', () => {
    const config = applyOverrides(kubeadmConfig(), { mode: 'iptables' });
    const r = buildModeReport({ source: 's', nodes, config, evidence: evidence(pods(ipvsLog)), modeOverridden: true });
    assert.equal(r.configuration.override, true);
    assert.equal(r.configuration.source, '--mode');
    for (const n of r.nodes) {
      assert.equal(n.configuredOverride, true);
      assert.equal(n.mismatch, false);
      assert.equal(n.status, 'Running');
      assert.equal(n.unknown, true);
      assert.ok(!n.notes.some((x) => /delete pod/.test(x)));
      assert.match(n.notes.join(' '), /--mode's what-if/);
    }
    assert.match(checkSummary(r), /^check FAILED: 3 nodes checked, 0 as configured, 0 mismatched, 3 unknown \(.*\) \(--mode is a what-if/);
  });
});

describe('--check summary and stderr', () => {
  it('a refusal that holds for every pod is one cluster note, not also one per node', () => {
    const denied = 'running mode not read: you may not get pods/log in namespace "kube-system" (RBAC), so only the configured mode is shown; ask a cluster admin.';
    const r = buildModeReport({ source: 's', nodes, config: kubeadmConfig(), evidence: evidence(pods(undefined, denied), [denied]) });
    assert.ok(r.nodes.every((n) => !n.notes.includes(denied)));
    const lines = modeStderrLines(r, { check: true });
    assert.equal(lines.filter((l) => l.includes('pods/log')).length, 1);
    assert.equal(lines[lines.length - 1], 'check FAILED: 3 nodes checked, 0 as configured, 0 mismatched, 3 unknown (k8s-cp-01, k8s-node-01, k8s-node-02).');
  });

  it('all read and agreeing passes; a configuration kube-proxy refuses fails', () => {
    const iptablesLog = fixture('logs/v1.31-iptables.txt');
    const ok = buildModeReport({ source: 's', nodes, config: kubeadmConfig(), evidence: evidence(pods(iptablesLog)) });
    assert.equal(checkSummary(ok), 'check passed: 3 nodes checked, 3 as configured, 0 mismatched, 0 unknown.');
    const refused = buildModeReport({ source: 's', nodes, config: { ...kubeadmConfig(), problems: ['x: iptables.masqueradeBit is 99, but …'] }, evidence: evidence(pods(iptablesLog)) });
    assert.match(checkSummary(refused), /^check FAILED: .*; kube-proxy refuses its configuration\.$/);
    assert.ok(modeStderrLines(refused, { check: false }).some((l) => l.startsWith('Warning: kube-proxy refuses to start with this configuration: x: iptables.masqueradeBit')));
  });
});
