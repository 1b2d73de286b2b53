// mode on MicroK8s, kube-router and Antrea clusters (fixtures/{microk8s,kube-router,antrea}/PROVENANCE-probe.md),
// and /proxyMode (get --probe) as the strongest evidence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/core/config/load.js';
import { buildModeReport, type KubeProxyPod } from '../../src/core/report/mode.js';
import { detectReplacement } from '../../src/core/report/objects.js';
import { fixture, fixtureJSON } from './helpers.js';

const nodes = (d: string) => fixtureJSON(`${d}/nodes.json`).items;

describe('mode on MicroK8s, kube-router, Antrea', () => {
  it('MicroK8s: no kube-proxy pod (kubelite embeds it); Embedded, iptables by default, args file named in the note', () => {
    const pods = fixtureJSON('microk8s/kube-system-pods.json').items;
    assert.ok(!pods.some((p: any) => p.metadata.labels['k8s-app'] === 'kube-proxy'));
    const r = buildModeReport({ source: 's', nodes: nodes('microk8s'), config: defaultConfig(), evidence: { pods: [], replacement: null, notes: [] } });
    assert.deepEqual(r.nodes.map((n) => n.status), ['Embedded', 'Embedded', 'Embedded']);
    assert.deepEqual(r.nodes.map((n) => n.configured), ['iptables', 'iptables', 'iptables']);
    assert.match(r.nodes[0].notes[0], /^MicroK8s runs kube-proxy inside kubelite \(no pod\): its flags are in \/var\/snap\/microk8s\/current\/args\/kube-proxy on the node \(iptables unless --proxy-mode is set there\)/);
  });

  it('MicroK8s with --probe: /proxyMode gives the running mode', () => {
    const proxyModes = new Map([['mk8s-1', { mode: 'iptables', evidence: 'GET http://127.0.0.1:10249/proxyMode on the node answered "iptables"' }]]);
    const r = buildModeReport({ source: 's', nodes: nodes('microk8s'), config: defaultConfig(), evidence: { pods: [], replacement: null, notes: [], proxyModes } });
    assert.equal(r.nodes[0].running, 'iptables');
    assert.equal(r.nodes[0].runningFrom, '/proxyMode');
    assert.equal(r.nodes[0].mismatch, false);
  });

  it('kube-router with --run-service-proxy=true replaces kube-proxy; =false does not', () => {
    const ds = fixtureJSON('kube-router/kube-system-daemonsets.json').items;
    const rep = detectReplacement({ daemonSets: ds });
    assert.equal(rep?.name, 'kube-router');
    assert.equal(rep?.full, true);
    const r = buildModeReport({ source: 's', nodes: nodes('kubeadm'), config: defaultConfig(), evidence: { pods: [], replacement: rep, notes: [] } });
    assert.deepEqual(r.nodes.map((n) => n.status), ['Replaced', 'Replaced', 'Replaced']);
    assert.deepEqual(r.nodes.map((n) => n.running), ['kube-router (ipvs)', 'kube-router (ipvs)', 'kube-router (ipvs)']);
    const off = JSON.parse(JSON.stringify(ds));
    off[0].spec.template.spec.containers[0].args = off[0].spec.template.spec.containers[0].args.map((a: string) => a.replace('--run-service-proxy=true', '--run-service-proxy=false'));
    assert.equal(detectReplacement({ daemonSets: off }), null);
  });

  it('Antrea: antrea-config antreaProxy.proxyAll: true replaces kube-proxy; the commented default does not', () => {
    const cm = fixtureJSON('antrea/antrea-config-configmap.json');
    const ds = fixtureJSON('antrea/kube-system-daemonsets.json').items;
    const rep = detectReplacement({ daemonSets: ds, antreaConfig: cm });
    assert.equal(rep?.name, 'Antrea');
    assert.match(rep!.evidence, /antrea-config antreaProxy\.proxyAll=true/);
    const off = { ...cm, data: { ...cm.data, 'antrea-agent.conf': cm.data['antrea-agent.conf'].replace('  proxyAll: true', '  proxyAll: false') } };
    assert.equal(detectReplacement({ daemonSets: ds, antreaConfig: off }), null);
    assert.ok(fixture('antrea/antrea-config-configmap.json').includes('antreaProxy:'));
  });

  it('/proxyMode overrides the log and is shown as the evidence; a probe error is a note', () => {
    const podList = fixtureJSON('kind/kube-proxy-pods-all.json').items;
    const pods: KubeProxyPod[] = podList.map((p: any) => ({ name: p.metadata.name, namespace: 'kube-system', node: p.spec.nodeName, image: 'registry.k8s.io/kube-proxy:v1.31.0', command: [], ready: true, restarts: 0, state: 'Running', staticPod: false, log: fixture('logs/v1.31-iptables.txt') }));
    const [a, b] = pods.map((p) => p.node);
    const proxyModes = new Map<string, any>([[a, { mode: 'nftables', evidence: 'GET http://127.0.0.1:10249/proxyMode on the node answered "nftables"' }], [b, { error: 'probe pod kube-system/proxymode-probe-1 on node x: it cannot start: ImagePullBackOff' }]]);
    const r = buildModeReport({ source: 's', nodes: nodes('kind'), config: defaultConfig(), evidence: { pods, replacement: null, notes: [], proxyModes } });
    const ra = r.nodes.find((n) => n.node === a)!;
    assert.equal(ra.running, 'nftables');
    assert.equal(ra.runningFrom, '/proxyMode');
    assert.equal(ra.mismatch, true);
    assert.ok(ra.notes.some((n) => /the log says iptables but \/proxyMode answers nftables .*\/proxyMode wins/.test(n)), ra.notes.join('\n'));
    const rb = r.nodes.find((n) => n.node === b)!;
    assert.equal(rb.runningFrom, 'log');
    assert.ok(rb.notes.some((n) => n.startsWith('--probe: probe pod')));
  });
});
