// The /proxyMode probe pod's lifecycle against an API server on a real socket (an in-process HTTP server):
// created with the right spec, polled, its log read, and deleted on every path; refusals said once.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KubeClient } from '../../src/kube/client.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { probeIpvsModules, probeProxyModes, proxyModeUrl } from '../../src/kube/probe-pod.js';
import { fixture, writeKubeconfig } from './helpers.js';

type Behaviour = 'ok' | 'log-fails' | 'never-starts' | 'image-pull' | 'refused-conn' | 'rbac' | 'psa';
let behaviour: (node: string) => Behaviour = () => 'ok';
let mode = 'ipvs';
const created: any[] = [];
const deleted: string[] = [];
const seen: string[] = [];
let inFlight = 0;
let maxInFlight = 0;
const pods = new Map<string, { node: string; polls: number }>();
let server: Server;
let client: KubeClient;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(`${req.method} ${url.pathname}`);
      const send = (code: number, body: unknown, type = 'application/json') => {
        res.writeHead(code, { 'Content-Type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (req.method === 'POST' && url.pathname === '/api/v1/namespaces/kube-system/pods') {
        assert.equal(req.headers['content-type'], 'application/json');
        const spec = JSON.parse(Buffer.concat(chunks).toString());
        const b = behaviour(spec.spec.nodeName);
        if (b === 'rbac') return send(403, fixture('errors/403-forbidden-create-pods.json'));
        if (b === 'psa') return send(403, fixture('errors/403-podsecurity-create-pod.json'));
        created.push(spec);
        const name = `proxymode-probe-${created.length}`;
        pods.set(name, { node: spec.spec.nodeName, polls: 0 });
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return send(201, { ...spec, metadata: { ...spec.metadata, name } });
      }
      const m = /^\/api\/v1\/namespaces\/kube-system\/pods\/([^/]+)(\/log)?$/.exec(url.pathname);
      const pod = m && pods.get(m[1]);
      if (!m || !pod) return send(404, fixture('errors/404-page-not-found.txt'), 'text/plain');
      const b = behaviour(pod.node);
      if (req.method === 'DELETE') {
        deleted.push(m[1]);
        inFlight--;
        pods.delete(m[1]);
        return send(200, { kind: 'Pod', metadata: { name: m[1] } });
      }
      if (m[2]) {
        if (b === 'log-fails') return send(500, { kind: 'Status', message: 'etcdserver: request timed out', code: 500 });
        return send(200, b === 'refused-conn' ? "wget: can't connect to remote host (127.0.0.1): Connection refused\n" : `${mode}\n`, 'text/plain');
      }
      pod.polls++;
      let status: any = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] };
      if (b === 'image-pull') status.containerStatuses = [{ name: 'probe', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:1.36"' } } }];
      else if (b !== 'never-starts' && pod.polls > 1) status = { phase: b === 'refused-conn' ? 'Failed' : 'Succeeded' };
      return send(200, { kind: 'Pod', metadata: { name: m[1] }, status });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  client = new KubeClient(loadKubeConfig({ kubeconfig: writeKubeconfig(`http://127.0.0.1:${port}`) }), 5000);
});
after(() => server.close());
beforeEach(() => {
  created.length = 0;
  deleted.length = 0;
  seen.length = 0;
  maxInFlight = 0;
  inFlight = 0;
  behaviour = () => 'ok';
  mode = 'ipvs';
});

describe('probe pods read /proxyMode', () => {
  it('creates a hostNetwork pod pinned to each node, polls it, reads the mode word from its log, deletes it', async () => {
    const { answers, refused } = await probeProxyModes(client, ['n1', 'n2'], { pollMs: 5 });
    assert.equal(refused, undefined);
    assert.deepEqual(answers.get('n1'), { mode: 'ipvs', evidence: 'GET http://127.0.0.1:10249/proxyMode on the node answered "ipvs"' });
    assert.equal(created.length, 2);
    const p = created[0];
    assert.equal(p.metadata.generateName, 'proxymode-probe-');
    assert.equal(p.metadata.namespace, 'kube-system');
    assert.deepEqual(p.metadata.labels, { 'app.kubernetes.io/name': 'kubectl-proxymode-probe' });
    assert.equal(p.spec.hostNetwork, true);
    assert.deepEqual(created.map((c) => c.spec.nodeName).sort(), ['n1', 'n2']);
    assert.deepEqual(p.spec.tolerations, [{ operator: 'Exists' }]);
    assert.equal(p.spec.restartPolicy, 'Never');
    assert.equal(p.spec.activeDeadlineSeconds, 30);
    assert.equal(p.spec.containers[0].image, 'busybox:1.36');
    assert.deepEqual(p.spec.containers[0].command, ['wget', '-qO-', '-T', '2', 'http://127.0.0.1:10249/proxyMode']);
    assert.equal(deleted.length, 2);
    assert.ok(seen.some((s) => /^GET \/api\/v1\/namespaces\/kube-system\/pods\/proxymode-probe-\d\/log$/.test(s)));
  });

  it('--probe-image and a non-default metricsBindAddress are used', async () => {
    await probeProxyModes(client, ['n1'], { pollMs: 5, image: 'registry.local/busybox:1.36', metricsBindAddress: '0.0.0.0:10300' });
    assert.equal(created[0].spec.containers[0].image, 'registry.local/busybox:1.36');
    assert.equal(created[0].spec.containers[0].command[4], 'http://127.0.0.1:10300/proxyMode');
    assert.equal(proxyModeUrl('0.0.0.0:10249'), 'http://127.0.0.1:10249/proxyMode');
    assert.equal(proxyModeUrl('[::]:10249'), 'http://127.0.0.1:10249/proxyMode');
    assert.equal(proxyModeUrl('10.0.0.5:10249'), 'http://10.0.0.5:10249/proxyMode');
  });

  it('deletes the pod when its log cannot be read, when it never starts (bounded wait) and when its image cannot be pulled', async () => {
    behaviour = (n) => (n === 'a' ? 'log-fails' : n === 'b' ? 'never-starts' : n === 'c' ? 'image-pull' : 'refused-conn');
    const { answers } = await probeProxyModes(client, ['a', 'b', 'c', 'd'], { pollMs: 5, waitMs: 200 });
    assert.match((answers.get('a') as any).error, /its log could not be read: 500: etcdserver: request timed out/);
    assert.match((answers.get('b') as any).error, /did not finish within 0s \(still Pending\)/);
    assert.match((answers.get('c') as any).error, /cannot start: ImagePullBackOff .*--probe-image/);
    assert.match((answers.get('d') as any).error, /nothing answered http:\/\/127\.0\.0\.1:10249\/proxyMode on the node \(wget: can't connect/);
    assert.equal(created.length, 4);
    assert.equal(deleted.length, 4);
  });

  it('RBAC refusal of create pods: one note naming the verb and resource, no further creates', async () => {
    behaviour = () => 'rbac';
    const { answers, refused } = await probeProxyModes(client, ['a', 'b', 'c'], { pollMs: 5, concurrency: 1 });
    assert.equal(answers.size, 0);
    assert.match(refused!, /^--probe: user "system:serviceaccount:default:viewer" may not create pods in namespace "kube-system" \(RBAC\), so \/proxyMode was not read; ask a cluster admin to grant "create"/);
    assert.equal(seen.filter((s) => s.startsWith('POST')).length, 1);
  });

  it('Pod Security admission refusing hostNetwork: its own note naming the namespace to use', async () => {
    behaviour = () => 'psa';
    const { refused } = await probeProxyModes(client, ['a'], { pollMs: 5 });
    assert.match(refused!, /Pod Security admission in namespace "kube-system" refuses the hostNetwork probe pod \(violates PodSecurity "baseline:latest": host namespaces \(hostNetwork=true\)\).*--probe-namespace .*privileged \(kube-system usually is\)/);
  });

  it('the IPVS probe of `set ipvs`: its refusals and a stuck image name --no-probe, not get\'s --probe-* flags', async () => {
    behaviour = () => 'rbac';
    const rbac = (await probeIpvsModules(client, ['a'], ['ip_vs'], { pollMs: 5 })).refused!;
    assert.match(rbac, /^the IPVS probe: user "system:serviceaccount:default:viewer" may not create pods in namespace "kube-system" \(RBAC\), so the IPVS modules were not probed; .*, or run with --no-probe \(the pre-flight then only warns\)\.$/);
    behaviour = () => 'psa';
    const psa = (await probeIpvsModules(client, ['a'], ['ip_vs'], { pollMs: 5 })).refused!;
    assert.match(psa, /refuses the probe pod \(it mounts \/lib\/modules from the host\) \(violates PodSecurity .*\), so the IPVS modules were not probed; let that namespace admit privileged pods, or run with --no-probe/);
    behaviour = () => 'image-pull';
    const { answers } = await probeIpvsModules(client, ['a'], ['ip_vs'], { pollMs: 5 });
    assert.match((answers.get('a') as any).error, /cannot start: ImagePullBackOff .*; make the image pullable on the nodes, or run with --no-probe/);
    for (const text of [rbac, psa, (answers.get('a') as any).error]) assert.doesNotMatch(text, /--probe-(namespace|image)/);
  });

  it('bounded concurrency across nodes, and every pod deleted', async () => {
    mode = 'nftables';
    const nodes = Array.from({ length: 20 }, (_, i) => `node-${i}`);
    const { answers } = await probeProxyModes(client, nodes, { pollMs: 5, concurrency: 3 });
    assert.equal(answers.size, 20);
    assert.ok([...answers.values()].every((a) => 'mode' in a && a.mode === 'nftables'));
    assert.ok(maxInFlight <= 3 && maxInFlight >= 2, String(maxInFlight));
    assert.equal(deleted.length, 20);
  });
});
