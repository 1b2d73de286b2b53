// `mode` against answers shaped like each distribution's API server (fixtures/*/PROVENANCE.md, PROVENANCE-mode.md):
// configured mode from wherever the distribution keeps it, running mode from kube-proxy's pods and logs, and
// what replaced kube-proxy. Every request is checked: a constant number of lists, one log read per pod.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import nock from 'nock';
import { buildModeReport, type ModeReport } from '../../src/core/report/mode.js';
import { KubeClient } from '../../src/kube/client.js';
import { discoverModeEvidence } from '../../src/kube/discovery.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { loadProxyConfig } from '../../src/kube/proxy-config.js';
import { ApiSource } from '../../src/kube/source.js';
import { configMapFrom, fixture, fixtureJSON, SERVER, writeKubeconfig } from './helpers.js';

nock.disableNetConnect();
after(() => nock.cleanAll());
afterEach(() => nock.cleanAll());

const PODS = '/api/v1/namespaces/kube-system/pods';
const EMPTY_PODS = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] };
const EMPTY_DS = { kind: 'DaemonSetList', apiVersion: 'apps/v1', metadata: { resourceVersion: '1' }, items: [] };
const notFound = (name: string) => JSON.parse(fixture('errors/404-configmap-not-found.json').replace(/kube-proxy/g, name));

interface Cluster {
  nodes: string;
  configMapsFrom?: string;
  podsByApp?: object;
  podsByComponent?: object;
  daemonSets?: object | [number, object];
  cilium?: object;
  felix?: object;
  openshift?: object;
  /** Log text (or [status, body]) per pod name; pods not listed here must not be read. */
  logs?: Record<string, string | [number, object]>;
  podsForbidden?: boolean;
}

/** Serves one cluster; returns the requests seen, for call counting. */
function serve(c: Cluster): string[] {
  const seen: string[] = [];
  const scope = nock(SERVER).persist();
  scope.on('request', (req: { path: string }) => seen.push(decodeURIComponent(req.path)));
  scope.get('/api/v1/nodes').query(true).reply(200, fixture(c.nodes), { 'Content-Type': 'application/json' });
  for (const name of ['kube-proxy', 'kube-proxy-config']) {
    const cm = c.configMapsFrom && configMapFrom(c.configMapsFrom, name);
    scope.get(`/api/v1/namespaces/kube-system/configmaps/${name}`).reply(cm ? 200 : 404, cm || notFound(name));
  }
  if (c.podsForbidden) {
    scope.get(PODS).query(true).reply(403, JSON.parse(fixture('errors/403-forbidden-list-nodes.json').replace('\\"nodes\\"', '\\"pods\\"').replace('at the cluster scope', 'in the namespace \\"kube-system\\"')));
  } else {
    scope.get(PODS).query((q) => q.labelSelector === 'k8s-app=kube-proxy').reply(200, c.podsByApp ?? EMPTY_PODS);
    scope.get(PODS).query((q) => q.labelSelector === 'component=kube-proxy').reply(200, c.podsByComponent ?? EMPTY_PODS);
  }
  const ds = c.daemonSets ?? EMPTY_DS;
  if (Array.isArray(ds)) scope.get('/apis/apps/v1/namespaces/kube-system/daemonsets').query(true).reply(ds[0], ds[1]);
  else scope.get('/apis/apps/v1/namespaces/kube-system/daemonsets').query(true).reply(200, ds);
  scope.get('/api/v1/namespaces/kube-system/configmaps/cilium-config').reply(c.cilium ? 200 : 404, c.cilium ?? notFound('cilium-config'));
  scope.get('/api/v1/namespaces/kube-system/configmaps/antrea-config').reply(404, notFound('antrea-config'));
  if (c.felix) scope.get('/apis/crd.projectcalico.org/v1/felixconfigurations/default').reply(200, c.felix);
  else scope.get('/apis/crd.projectcalico.org/v1/felixconfigurations/default').reply(404, fixture('errors/404-page-not-found.txt'), { 'Content-Type': 'text/plain' });
  if (c.openshift) scope.get('/apis/config.openshift.io/v1/networks/cluster').reply(200, c.openshift);
  else scope.get('/apis/config.openshift.io/v1/networks/cluster').reply(404, fixture('errors/404-page-not-found.txt'), { 'Content-Type': 'text/plain' });
  for (const [pod, answer] of Object.entries(c.logs ?? {})) {
    const [code, body] = typeof answer === 'string' ? [200, answer] : answer;
    scope.get(`${PODS}/${pod}/log`).query(true).reply(code, body as never, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  }
  return seen;
}

async function report(c: Cluster, opts: { only?: string[] } = {}): Promise<{ report: ModeReport; seen: string[] }> {
  const seen = serve(c);
  const kubeconfig = writeKubeconfig();
  const source = new ApiSource({ kubeconfig, requestTimeout: '5s' });
  const client = new KubeClient(loadKubeConfig({ kubeconfig }), 5000);
  const [config, nodes] = await Promise.all([loadProxyConfig(source, undefined, {}), source.nodes()]);
  const evidence = await discoverModeEvidence(client, { nodes: opts.only });
  return { report: buildModeReport({ source: source.description, nodes, config, evidence, only: opts.only, runningEvidence: evidence.unavailable }), seen };
}

const log = (name: string) => fixture(`logs/${name}.txt`);
const cols = (r: ModeReport, key: 'configured' | 'running' | 'status' | 'scheduler' | 'kubeProxyVersion') => r.nodes.map((n) => n[key]);

/** A pod list with pod `index` turned into a crash loop, as the kubelet reports it. */
function withCrashLoop(list: any, index: number, restarts = 9): any {
  const copy = JSON.parse(JSON.stringify(list));
  const cs = copy.items[index].status.containerStatuses[0];
  cs.restartCount = restarts;
  cs.ready = false;
  cs.started = false;
  cs.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=kube-proxy pod=${copy.items[index].metadata.name}_kube-system(${copy.items[index].metadata.uid})` } };
  cs.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: '2024-11-02T10:02:11Z', finishedAt: '2024-11-02T10:02:11Z', containerID: cs.containerID } };
  return copy;
}

describe('mode on each distribution', () => {
  it('kubeadm: mode "" in the ConfigMap is iptables by default; every log says "Using iptables Proxier"; constant list calls', async () => {
    const pods = fixtureJSON('kubeadm/kube-proxy-pods-all.json');
    const logs = Object.fromEntries(pods.items.map((p: any) => [p.metadata.name, log('v1.31-iptables-default')]));
    const { report: r, seen } = await report({ nodes: 'kubeadm/nodes.json', configMapsFrom: 'kubeadm', podsByApp: pods, logs });
    assert.deepEqual(cols(r, 'configured'), ['iptables', 'iptables', 'iptables']);
    assert.ok(r.nodes.every((n) => n.configuredDefaulted));
    assert.deepEqual(cols(r, 'running'), ['iptables', 'iptables', 'iptables']);
    assert.deepEqual(cols(r, 'status'), ['Running', 'Running', 'Running']);
    assert.deepEqual(cols(r, 'kubeProxyVersion'), ['v1.31.4', 'v1.31.4', 'v1.31.4']);
    assert.ok(r.nodes.every((n) => !n.mismatch && n.notes.length === 0), JSON.stringify(r.nodes.map((n) => n.notes)));
    assert.equal(r.replacement, null);
    // Two pod lists (both labels), one DaemonSet list, one log read per pod from the start of the log.
    assert.equal(seen.filter((s) => s.startsWith(`${PODS}?`)).length, 2);
    assert.equal(seen.filter((s) => s.startsWith('/apis/apps/v1/namespaces/kube-system/daemonsets?')).length, 1);
    const logReads = seen.filter((s) => s.includes('/log?'));
    assert.equal(logReads.length, 3);
    for (const l of logReads) {
      assert.match(l, /container=kube-proxy/);
      assert.match(l, /limitBytes=\d+/);
      assert.doesNotMatch(l, /tailLines|previous/);
    }
  });

  it('kind: explicit mode iptables; a pod that still runs nftables is a mismatch with a note', async () => {
    const pods = fixtureJSON('kind/kube-proxy-pods-all.json');
    const { report: r } = await report({
      nodes: 'kind/nodes.json',
      configMapsFrom: 'kind',
      podsByApp: pods,
      logs: { 'kube-proxy-8v2lk': log('v1.31-iptables'), 'kube-proxy-jx9qm': log('v1.31-iptables'), 'kube-proxy-t4wzr': log('v1.31-nftables') },
    });
    assert.deepEqual(cols(r, 'running'), ['iptables', 'iptables', 'nftables']);
    assert.deepEqual(cols(r, 'status'), ['Running', 'Running', 'Mismatch']);
    assert.deepEqual(r.nodes.map((n) => n.mismatch), [false, false, true]);
    assert.match(r.nodes[2].notes[0], /^configured iptables, running nftables: kube-proxy pod kube-proxy-t4wzr started before the configuration changed; restart it/);
    assert.equal(r.nodes[0].configuredDefaulted, false);
  });

  it('kind: logs refused by RBAC: the configured view stays, with one note naming get pods/log in kube-system', async () => {
    const pods = fixtureJSON('kind/kube-proxy-pods-all.json');
    const denied: [number, object] = [403, fixtureJSON('errors/403-forbidden-get-pods-log.json')];
    const { report: r } = await report({
      nodes: 'kind/nodes.json',
      configMapsFrom: 'kind',
      podsByApp: pods,
      logs: { 'kube-proxy-8v2lk': denied, 'kube-proxy-jx9qm': denied, 'kube-proxy-t4wzr': denied },
    });
    assert.deepEqual(cols(r, 'configured'), ['iptables', 'iptables', 'iptables']);
    assert.deepEqual(cols(r, 'running'), [null, null, null]);
    assert.ok(r.nodes.every((n) => !n.mismatch));
    assert.equal(
      r.notes[0],
      'running mode not read: user "system:serviceaccount:default:viewer" may not get pods/log in namespace "kube-system" (RBAC), so only the configured mode is shown; ask a cluster admin to grant "get" on "pods/log" in "kube-system", or use --probe.',
    );
  });

  it('kind: pods refused by RBAC: the configured view with a note, running unknown', async () => {
    const { report: r } = await report({ nodes: 'kind/nodes.json', configMapsFrom: 'kind', podsForbidden: true });
    assert.deepEqual(cols(r, 'configured'), ['iptables', 'iptables', 'iptables']);
    assert.deepEqual(cols(r, 'running'), [null, null, null]);
    assert.deepEqual(cols(r, 'status'), ['Unknown', 'Unknown', 'Unknown']);
    assert.match(r.notes[0], /may not list pods in namespace "kube-system" \(RBAC\)/);
  });

  it('EKS: configuration from kube-proxy-config, add-on pods with the eksbuild version', async () => {
    const pods = fixtureJSON('eks/kube-proxy-pods-all.json');
    const logs = Object.fromEntries(pods.items.map((p: any) => [p.metadata.name, log('v1.31-iptables')]));
    const { report: r } = await report({ nodes: 'eks/nodes.json', configMapsFrom: 'eks', podsByApp: pods, logs });
    assert.match(r.configuration.source, /ConfigMap kube-system\/kube-proxy-config/);
    assert.deepEqual(cols(r, 'running'), ['iptables', 'iptables', 'iptables']);
    assert.deepEqual(cols(r, 'kubeProxyVersion'), ['v1.31.2-eksbuild.3', 'v1.31.2-eksbuild.3', 'v1.31.2-eksbuild.3']);
    assert.equal(r.nodes[0].configuredFrom, 'ConfigMap kube-system/kube-proxy-config');
  });

  it('AKS: no ConfigMap; the DaemonSet has no --proxy-mode, so iptables by default', async () => {
    const pods = fixtureJSON('aks/kube-proxy-pods-all.json');
    const logs = Object.fromEntries(pods.items.map((p: any) => [p.metadata.name, log('v1.31-iptables-default')]));
    const { report: r } = await report({ nodes: 'aks/nodes.json', podsByComponent: pods, daemonSets: fixtureJSON('aks/kube-system-daemonsets.json'), logs });
    assert.deepEqual(cols(r, 'configured'), ['iptables', 'iptables', 'iptables']);
    assert.ok(r.nodes.every((n) => n.configuredDefaulted));
    assert.deepEqual(cols(r, 'running'), ['iptables', 'iptables', 'iptables']);
  });

  it('AKS with --proxy-mode=ipvs --ipvs-scheduler=lc on the DaemonSet: the flags win; a node without ip_vs crash-loops (≥ 1.25)', async () => {
    const ds = fixtureJSON('aks/kube-system-daemonsets.json');
    ds.items[0].spec.template.spec.containers[0].command.push('--proxy-mode=ipvs', '--ipvs-scheduler=lc');
    const pods = withCrashLoop(fixtureJSON('aks/kube-proxy-pods-all.json'), 2);
    for (const p of pods.items) p.spec.containers[0].command.push('--proxy-mode=ipvs', '--ipvs-scheduler=lc');
    const names = pods.items.map((p: any) => p.metadata.name);
    const { report: r, seen } = await report({
      nodes: 'aks/nodes.json',
      podsByComponent: pods,
      daemonSets: ds,
      logs: { [names[0]]: log('v1.31-json-ipvs'), [names[1]]: log('v1.31-json-ipvs'), [names[2]]: log('v1.28-ipvs-crash') },
    });
    assert.deepEqual(cols(r, 'configured'), ['ipvs', 'ipvs', 'ipvs']);
    assert.deepEqual(cols(r, 'scheduler'), ['lc', 'lc', 'lc']);
    assert.equal(r.configuration.source, 'DaemonSet kube-system/kube-proxy --proxy-mode');
    assert.deepEqual(cols(r, 'running'), ['ipvs', 'ipvs', 'none']);
    assert.deepEqual(cols(r, 'status'), ['Running', 'Running', 'CrashLoopBackOff']);
    assert.equal(r.nodes[2].restarts, 9);
    assert.match(r.nodes[2].notes[0], /^configured ipvs, running none: IPVS modules missing on this node; kube-proxy v1\.31\.2 exits with "can't use the IPVS proxier: no such file or directory" \(9 restarts\)/);
    // The crash-looping pod's log is its previous container's.
    assert.ok(seen.some((s) => s.startsWith(`${PODS}/${names[2]}/log?`) && s.includes('previous=true')), seen.join('\n'));
  });

  it('GKE: static mirror pods (component=kube-proxy) log to a file on the node, so no log is read', async () => {
    const { report: r, seen } = await report({ nodes: 'gke/nodes.json', podsByComponent: fixtureJSON('gke/kube-proxy-pods.json') });
    assert.deepEqual(cols(r, 'configured'), ['iptables', 'iptables', 'iptables']);
    assert.deepEqual(cols(r, 'running'), [null, null, null]);
    assert.deepEqual(cols(r, 'kubeProxyVersion'), ['v1.31.4-gke.1183000', 'v1.31.4-gke.1183000', 'v1.31.4-gke.1183000']);
    assert.match(r.nodes[0].notes[0], /logs to \/var\/log\/kube-proxy\.log on the node/);
    assert.match(r.nodes[0].configuredFrom, /defaults/);
    assert.equal(seen.filter((s) => s.includes('/log?')).length, 0);
  });

  it('k3s: no pod; per-node configured mode from k3s.io/node-args --kube-proxy-arg; logs are on the node', async () => {
    const { report: r, seen } = await report({ nodes: 'k3s/nodes.json' });
    assert.deepEqual(r.nodes.map((n) => n.node), ['k3s-agent-1', 'k3s-agent-2', 'k3s-server']);
    assert.deepEqual(cols(r, 'configured'), ['ipvs', 'iptables', 'ipvs']);
    assert.deepEqual(r.nodes.map((n) => n.configuredDefaulted), [false, true, false]);
    assert.deepEqual(cols(r, 'scheduler'), ['rr', null, 'rr']);
    assert.deepEqual(r.nodes.map((n) => n.configuredFrom), ['k3s.io/node-args annotation --proxy-mode', 'defaults', 'k3s.io/node-args annotation --proxy-mode']);
    assert.deepEqual(cols(r, 'status'), ['Embedded', 'Embedded', 'Embedded']);
    assert.match(r.nodes[0].notes[0], /k3s runs kube-proxy inside its own process \(no pod\): the log is on the node \(journalctl -u k3s/);
    assert.equal(seen.filter((s) => s.includes('/log?')).length, 0);
  });

  it('Cilium kube-proxy replacement: no kube-proxy, cilium-config kube-proxy-replacement=true', async () => {
    const { report: r } = await report({ nodes: 'kubeadm/nodes.json', daemonSets: fixtureJSON('cilium/kube-system-daemonsets.json'), cilium: fixtureJSON('cilium/cilium-config-configmap.json') });
    assert.equal(r.replacement?.name, 'Cilium');
    assert.deepEqual(cols(r, 'configured'), ['-', '-', '-']);
    assert.deepEqual(cols(r, 'running'), ['cilium (eBPF)', 'cilium (eBPF)', 'cilium (eBPF)']);
    assert.deepEqual(cols(r, 'status'), ['Replaced', 'Replaced', 'Replaced']);
    assert.ok(r.nodes.every((n) => !n.mismatch));
  });

  it('Cilium with a leftover kube-proxy pod: a stale-leftover note', async () => {
    const pods = fixtureJSON('kubeadm/kube-proxy-pods.json');
    const { report: r } = await report({
      nodes: 'kubeadm/nodes.json',
      podsByApp: pods,
      daemonSets: fixtureJSON('cilium/kube-system-daemonsets.json'),
      cilium: fixtureJSON('cilium/cilium-config-configmap.json'),
      logs: { 'kube-proxy-9mz2k': log('v1.31-iptables-default') },
    });
    const node01 = r.nodes.find((n) => n.node === 'k8s-node-01')!;
    assert.match(node01.notes.join('\n'), /stale leftover: kube-proxy pod kube-proxy-9mz2k still runs although Cilium replaces kube-proxy/);
    assert.equal(r.nodes.find((n) => n.node === 'k8s-cp-01')!.running, 'cilium (eBPF)');
  });

  it('Calico eBPF: FelixConfiguration bpfEnabled, kube-proxy DaemonSet parked on non-calico nodes', async () => {
    const { report: r } = await report({ nodes: 'kubeadm/nodes.json', daemonSets: fixtureJSON('calico-ebpf/kube-system-daemonsets.json'), felix: fixtureJSON('calico-ebpf/felixconfiguration-default.json') });
    assert.equal(r.replacement?.name, 'Calico eBPF');
    assert.match(r.replacement!.evidence, /bpfEnabled=true/);
    assert.deepEqual(cols(r, 'running'), ['calico (eBPF)', 'calico (eBPF)', 'calico (eBPF)']);
  });

  it('RKE2: static mirror pods whose args carry --kube-proxy-arg flags; logs read through the API', async () => {
    const pods = fixtureJSON('rke2/kube-proxy-pods.json');
    const logs = Object.fromEntries(pods.items.map((p: any) => [p.metadata.name, log('v1.31-json-ipvs')]));
    logs['kube-proxy-rke2-agent-2'] = log('v1.23-ipvs-fallback');
    const { report: r } = await report({ nodes: 'rke2/nodes.json', podsByComponent: pods, logs });
    assert.deepEqual(r.nodes.map((n) => n.node), ['rke2-agent-1', 'rke2-agent-2', 'rke2-server-1']);
    assert.deepEqual(cols(r, 'configured'), ['ipvs', 'ipvs', 'ipvs']);
    assert.deepEqual(cols(r, 'scheduler'), ['wrr', 'wrr', 'wrr']);
    assert.equal(r.nodes[0].configuredFrom, 'static pod kube-system/kube-proxy-rke2-agent-1 --proxy-mode');
    assert.deepEqual(cols(r, 'kubeProxyVersion'), ['v1.31.4-rke2r1-build20250115', 'v1.31.4-rke2r1-build20250115', 'v1.31.4-rke2r1-build20250115']);
    // A kube-proxy ≤ 1.24 log on agent-2: the silent fallback to iptables.
    assert.deepEqual(cols(r, 'running'), ['ipvs', 'iptables', 'ipvs']);
    assert.deepEqual(cols(r, 'status'), ['Running', 'Fallback', 'Running']);
    assert.equal(r.nodes[1].mismatch, true);
    assert.match(r.nodes[1].notes[0], /^configured ipvs, running iptables: IPVS modules missing on this node \(kube-proxy .* fell back: IPVS proxier will not be used because/);
  });

  it('OpenShift: networkType OVNKubernetes replaces kube-proxy', async () => {
    const { report: r } = await report({ nodes: 'kubeadm/nodes.json', openshift: fixtureJSON('openshift/network-cluster.json') });
    assert.equal(r.replacement?.name, 'OVN-Kubernetes');
    assert.deepEqual(cols(r, 'running'), ['ovn-kubernetes (ovs)', 'ovn-kubernetes (ovs)', 'ovn-kubernetes (ovs)']);
    assert.deepEqual(cols(r, 'status'), ['Replaced', 'Replaced', 'Replaced']);
  });

  it('nothing at all: no kube-proxy pod and no replacement is "Missing"', async () => {
    const { report: r } = await report({ nodes: 'kind/nodes.json', configMapsFrom: 'kind' });
    assert.deepEqual(cols(r, 'status'), ['Missing', 'Missing', 'Missing']);
    assert.match(r.nodes[0].notes[0], /no kube-proxy pod runs on this node and nothing replacing kube-proxy was found/);
  });

  it('NODE arguments narrow the rows and the log reads', async () => {
    const pods = fixtureJSON('kind/kube-proxy-pods-all.json');
    const { report: r, seen } = await report({ nodes: 'kind/nodes.json', configMapsFrom: 'kind', podsByApp: pods, logs: { 'kube-proxy-jx9qm': log('v1.31-iptables') } }, { only: ['kind-worker'] });
    assert.deepEqual(r.nodes.map((n) => n.node), ['kind-worker']);
    assert.deepEqual(seen.filter((s) => s.includes('/log?')).map((s) => s.split('?')[0]), [`${PODS}/kube-proxy-jx9qm/log`]);
  });
});
