// The API source against answers shaped like each distribution's API server (see fixtures/*/PROVENANCE.md):
// nodes, kube-proxy's configuration, Services and EndpointSlices become the mode report and the model.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import nock from 'nock';
import { buildProxyStates } from '../../src/core/model/index.js';
import { buildModeReport } from '../../src/core/report/mode.js';
import { loadProxyConfig } from '../../src/kube/proxy-config.js';
import { ApiSource } from '../../src/kube/source.js';
import { configMapFrom, fixture, SERVER, writeKubeconfig } from './helpers.js';

nock.disableNetConnect();
after(() => nock.cleanAll());

interface Expectation {
  distribution: string;
  mode: string;
  defaulted: boolean;
  configSource: RegExp;
  nodes: string[];
}

const CASES: Expectation[] = [
  { distribution: 'kubeadm', mode: 'iptables', defaulted: true, configSource: /ConfigMap kube-system\/kube-proxy/, nodes: ['k8s-cp-01', 'k8s-node-01', 'k8s-node-02'] },
  { distribution: 'kind', mode: 'iptables', defaulted: false, configSource: /ConfigMap kube-system\/kube-proxy/, nodes: ['kind-control-plane', 'kind-worker', 'kind-worker2'] },
  // EKS keeps the configuration in kube-proxy-config; its kube-proxy ConfigMap holds only a kubeconfig.
  { distribution: 'eks', mode: 'iptables', defaulted: false, configSource: /ConfigMap kube-system\/kube-proxy-config/, nodes: ['ip-192-168-12-34.us-west-2.compute.internal', 'ip-192-168-45-67.us-west-2.compute.internal', 'ip-192-168-78-90.us-west-2.compute.internal'] },
  // k3s, AKS and GKE keep no KubeProxyConfiguration in the API: kube-proxy's defaults apply until the
  // mode command reads their flags (annotations, DaemonSet args, static pods).
  { distribution: 'k3s', mode: 'iptables', defaulted: true, configSource: /defaults/, nodes: ['k3s-agent-1', 'k3s-agent-2', 'k3s-server'] },
  { distribution: 'aks', mode: 'iptables', defaulted: true, configSource: /defaults/, nodes: ['aks-nodepool1-38291047-vmss000000', 'aks-nodepool1-38291047-vmss000001', 'aks-nodepool1-38291047-vmss000002'] },
  { distribution: 'gke', mode: 'iptables', defaulted: true, configSource: /defaults/, nodes: ['gke-shop-gke-default-pool-1a2b3c4d-x7k9', 'gke-shop-gke-default-pool-5e6f7a8b-m2qp', 'gke-shop-gke-default-pool-9c0d1e2f-r4tz'] },
];

function serveConfigMaps(scope: nock.Scope, distribution: string): void {
  for (const name of ['kube-proxy', 'kube-proxy-config']) {
    const cm = configMapFrom(distribution, name);
    const path = `/api/v1/namespaces/kube-system/configmaps/${name}`;
    if (cm) scope.get(path).reply(200, cm);
    else scope.get(path).reply(404, JSON.parse(fixture('errors/404-configmap-not-found.json').replace(/kube-proxy/g, name)));
  }
}

describe('API source on each distribution', () => {
  for (const c of CASES) {
    it(`${c.distribution}: configured mode and nodes`, async () => {
      const scope = nock(SERVER).get('/api/v1/nodes').query({ limit: '500' }).reply(200, fixture(`${c.distribution}/nodes.json`), { 'Content-Type': 'application/json' });
      serveConfigMaps(scope, c.distribution);
      const source = new ApiSource({ kubeconfig: writeKubeconfig(), requestTimeout: '5s' });
      const config = await loadProxyConfig(source, undefined, {});
      const report = buildModeReport({ source: source.description, nodes: await source.nodes(), config, runningEvidence: 'not read in this test' });
      assert.equal(report.configuration.mode, c.mode);
      assert.equal(report.configuration.defaulted, c.defaulted);
      assert.match(report.configuration.source, c.configSource);
      assert.deepEqual(report.nodes.map((n) => n.node), c.nodes);
      assert.match(source.description, /^cluster fixture \(https:\/\/api\.cluster\.test:6443\)$/);
      scope.done();
    });

    it(`${c.distribution}: Services and EndpointSlices become service ports with endpoints`, async () => {
      const scope = nock(SERVER)
        .get('/api/v1/services').query({ limit: '500' }).reply(200, fixture(`${c.distribution}/services.json`))
        .get('/apis/discovery.k8s.io/v1/endpointslices').query({ limit: '500' }).reply(200, fixture(`${c.distribution}/endpointslices.json`));
      const source = new ApiSource({ kubeconfig: writeKubeconfig(), requestTimeout: '5s' });
      const [services, endpointSlices] = await Promise.all([source.services(), source.endpointSlices()]);
      const [state] = buildProxyStates({ services, endpointSlices }, { nodeName: c.nodes[0], ipFamilies: ['IPv4'] });
      // Every distribution runs the API server Service and cluster DNS; both must have endpoints.
      assert.ok(state.serviceMap.has('default/kubernetes:https'), [...state.serviceMap.keys()].join(' '));
      assert.ok((state.endpointsMap.get('default/kubernetes:https') ?? []).length >= 1);
      const dns = [...state.serviceMap.keys()].find((k) => k.startsWith('kube-system/kube-dns:dns'));
      assert.ok(dns, 'kube-dns service port');
      assert.ok((state.endpointsMap.get(dns!) ?? []).every((e) => e.ready));
      scope.done();
    });
  }
});
