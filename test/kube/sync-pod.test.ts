// `sync --on-node`: the pod's spec and its RBAC, that both are deleted on every path (it finishes, it
// fails, it cannot start, a create is refused), and what counts as a live kube-proxy beside it, against an
// in-process API server over a real socket.
import assert from 'node:assert/strict';
import test from 'node:test';
import { KubeClient } from '../../src/kube/client.js';
import { cleanup } from '../../src/kube/cleanup.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { apiServerEnv, besideRefusal, kubeProxyBeside, runSyncPod, syncPodSpec } from '../../src/kube/sync-pod.js';
import { syncRbacSpecs } from '../../src/kube/sync-rbac.js';
import { objectServer, ours } from './object-server.js';

test('the sync pod: privileged, hostNetwork, pinned, tolerating all, system-node-critical, the lock and /lib/modules, a deadline', () => {
  const p = syncPodSpec('worker-1', { image: 'img:1', args: ['--mode', 'nftables', '--once'], deadlineSeconds: 600, serviceAccount: 'sa-1' });
  assert.equal(p.spec.nodeName, 'worker-1');
  assert.equal(p.spec.hostNetwork, true);
  assert.equal(p.spec.priorityClassName, 'system-node-critical');
  assert.deepEqual(p.spec.tolerations, [{ operator: 'Exists' }]);
  assert.equal(p.spec.activeDeadlineSeconds, 600);
  assert.equal(p.spec.serviceAccountName, 'sa-1');
  assert.equal(p.spec.restartPolicy, 'Never');
  assert.deepEqual(p.metadata.labels, { 'app.kubernetes.io/name': 'kubectl-proxymode-sync' });
  const c = p.spec.containers[0];
  assert.equal(c.securityContext.privileged, true);
  assert.deepEqual(c.args, ['sync', '--mode', 'nftables', '--once', '--node', 'worker-1']);
  assert.deepEqual(c.volumeMounts, [{ name: 'xtables-lock', mountPath: '/run/xtables.lock' }, { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true }]);
  assert.deepEqual(p.spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path), ['/run/xtables.lock', '/lib/modules']);
  assert.equal(c.env, undefined);
});

test('the pod reaches the API server where this command does (not the kubernetes ClusterIP); loopback and plain http are left alone', () => {
  assert.deepEqual(apiServerEnv('https://api.example.com'), [{ name: 'KUBERNETES_SERVICE_HOST', value: 'api.example.com' }, { name: 'KUBERNETES_SERVICE_PORT', value: '443' }]);
  assert.deepEqual(apiServerEnv('https://[fd00::1]:6443'), [{ name: 'KUBERNETES_SERVICE_HOST', value: 'fd00::1' }, { name: 'KUBERNETES_SERVICE_PORT', value: '6443' }]);
  assert.deepEqual(apiServerEnv('https://127.0.0.1:6443'), []);
  assert.deepEqual(apiServerEnv('http://10.0.0.1:8080'), []);
  const p = syncPodSpec('w', { image: 'i', args: [], deadlineSeconds: 1, serviceAccount: 's', server: 'https://10.0.0.1:6443' });
  assert.deepEqual(p.spec.containers[0].env, [{ name: 'KUBERNETES_SERVICE_HOST', value: '10.0.0.1' }, { name: 'KUBERNETES_SERVICE_PORT', value: '6443' }]);
});

test('the least RBAC: list/watch Services, EndpointSlices, Nodes; get only kube-proxy\'s ConfigMaps in kube-system; one label on each', () => {
  const [sa, cr, crb, role, rb] = syncRbacSpecs('sync-x', 'kube-system');
  assert.deepEqual([sa.kind, cr.kind, crb.kind, role.kind, rb.kind], ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
  for (const o of [sa, cr, crb, role, rb]) assert.deepEqual(o.metadata.labels, { 'app.kubernetes.io/name': 'kubectl-proxymode-sync' });
  assert.deepEqual(cr.rules, [
    { apiGroups: [''], resources: ['services', 'nodes'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  ]);
  assert.equal(role.metadata.namespace, 'kube-system');
  assert.deepEqual(role.rules[0].verbs, ['get']);
  assert.ok(role.rules[0].resourceNames.includes('kube-proxy'));
  assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'sync-x', namespace: 'kube-system' }]);
  assert.deepEqual(crb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sync-x' });
});

const LOG = 'synced node worker-1 on this host (iptables-nft): mode iptables, full, 42 operations.\n';

async function api(t: test.TestContext, phases: Array<Record<string, unknown>>, forbid?: (m: string, p: string) => boolean) {
  const s = await objectServer({
    forbid,
    log: () => LOG,
    status: (path, o, n) => (path.includes('/pods/') ? { ...o, status: phases[Math.min(n - 1, phases.length - 1)] } : o),
  });
  t.after(() => s.close());
  return { ...s, client: new KubeClient(loadKubeConfig({ kubeconfig: s.kubeconfig }), 5_000) };
}

const opts = { image: 'img:1', args: ['--once'], deadlineSeconds: 60, pollMs: 10 };

test('a pod that finishes: its log; the pod, its ServiceAccount and RBAC are deleted and unregistered', async (t) => {
  const s = await api(t, [{ phase: 'Pending' }, { phase: 'Running' }, { phase: 'Succeeded' }]);
  const r = await runSyncPod(s.client, 'worker-1', opts);
  assert.equal(r.phase, 'Succeeded');
  assert.match(r.log, /42 operations/);
  const posts = s.requests.filter((q) => q.startsWith('POST')).map((q) => q.split('/').pop());
  assert.deepEqual(posts, ['serviceaccounts', 'clusterroles', 'clusterrolebindings', 'roles', 'rolebindings', 'pods']);
  const pod = [...s.requests].find((q) => q.startsWith('DELETE') && q.includes('/pods/'));
  assert.ok(pod, 'the pod was deleted');
  assert.deepEqual(ours(s.store), []);
  assert.equal(cleanup.pending.length, 0);
});

test('--service-account: no RBAC is created, the pod runs as that account', async (t) => {
  let account: string | undefined;
  const s = await objectServer({ log: () => LOG, status: (_p, o) => ({ ...o, status: { phase: 'Succeeded' } }), created: (_k, o) => (account = o.spec.serviceAccountName) });
  t.after(() => s.close());
  const client = new KubeClient(loadKubeConfig({ kubeconfig: s.kubeconfig }), 5_000);
  const r = await runSyncPod(client, 'worker-1', { ...opts, serviceAccount: 'kube-proxy' });
  assert.equal(r.phase, 'Succeeded');
  assert.equal(account, 'kube-proxy');
  assert.deepEqual(s.requests.filter((q) => q.startsWith('POST')).map((q) => q.split('/').pop()), ['pods']);
  assert.deepEqual(ours(s.store), []);
});

test('a pod that fails or cannot start is deleted too, with its RBAC', async (t) => {
  const failed = await api(t, [{ phase: 'Failed' }]);
  assert.equal((await runSyncPod(failed.client, 'worker-1', opts)).phase, 'Failed');
  assert.deepEqual(ours(failed.store), []);
  const stuck = await api(t, [{ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff' } } }] }]);
  await assert.rejects(runSyncPod(stuck.client, 'worker-1', opts), /cannot start: ImagePullBackOff; give an image the node can pull with --image\./);
  assert.deepEqual(ours(stuck.store), []);
  assert.equal(cleanup.pending.length, 0);
});

test('a refused create names the verb and resource and deletes what was created before it', async (t) => {
  const s = await api(t, [{ phase: 'Succeeded' }], (m, p) => m === 'POST' && p.endsWith('/clusterrolebindings'));
  await assert.rejects(runSyncPod(s.client, 'worker-1', opts), /may not create clusterrolebindings.*\(RBAC\)/);
  assert.ok(s.requests.some((q) => q.startsWith('DELETE') && q.includes('/clusterroles/')));
  assert.deepEqual(ours(s.store), []);
  assert.ok(!s.requests.some((q) => q.startsWith('POST') && q.endsWith('/pods')), 'no pod was created');
  assert.equal(cleanup.pending.length, 0);
});

const pod = (name: string, node: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system', labels, ...extra }, spec: { nodeName: node }, status: { phase: 'Running' },
});

test('a live kube-proxy beside: DaemonSet pods by label, static kube-proxy-NODE pods by name; not finished or deleting ones', async (t) => {
  const s = await objectServer({
    seed: [
      pod('kube-proxy-abcde', 'worker-1', {}, { 'k8s-app': 'kube-proxy' }),
      pod('kube-proxy-worker-2', 'worker-2'),
      { ...pod('kube-proxy-fghij', 'worker-3', { deletionTimestamp: '2026-01-01T00:00:00Z' }, { 'k8s-app': 'kube-proxy' }) },
      { ...pod('kube-proxy-klmno', 'worker-4', {}, { 'k8s-app': 'kube-proxy' }), status: { phase: 'Failed' } },
      pod('coredns-1', 'worker-5', {}, { 'k8s-app': 'kube-dns' }),
    ],
  });
  t.after(() => s.close());
  const client = new KubeClient(loadKubeConfig({ kubeconfig: s.kubeconfig }), 5_000);
  const at = async (node: string) => (await kubeProxyBeside(client, node)).pods.map((p) => p.text);
  assert.deepEqual(await at('worker-1'), ['pod kube-system/kube-proxy-abcde on node worker-1']);
  assert.deepEqual(await at('worker-2'), ['pod kube-system/kube-proxy-worker-2 on node worker-2']);
  assert.deepEqual(await at('worker-3'), []);
  assert.deepEqual(await at('worker-4'), []);
  assert.deepEqual(await at('worker-5'), []);
  const why = besideRefusal(await kubeProxyBeside(client, 'worker-1'), 'node worker-1');
  assert.equal(why, 'refusing to sync on node worker-1: kube-proxy runs on node worker-1 (pod kube-system/kube-proxy-abcde on node worker-1), and both would own the same chains and tables and undo each other\'s rules; stop it first, or add --force to run beside it anyway.');
  assert.equal(besideRefusal(await kubeProxyBeside(client, 'worker-5'), 'node worker-5'), undefined);
});

test('a full kube-proxy replacement (Cilium kube-proxy-replacement=true) is refused beside too', async (t) => {
  const s = await objectServer({
    seed: [
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'cilium', namespace: 'kube-system' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'kube-proxy-replacement': 'true' } },
    ],
  });
  t.after(() => s.close());
  const client = new KubeClient(loadKubeConfig({ kubeconfig: s.kubeconfig }), 5_000);
  const b = await kubeProxyBeside(client, 'worker-1');
  assert.deepEqual(b.pods, []);
  assert.match(besideRefusal(b, 'node worker-1') ?? '', /^refusing to sync on node worker-1: .*cilium.* replaces kube-proxy in this cluster, and both would own the same chains/i);
});

test('follow: the log is streamed once the pod runs, handed on once, and is the result\'s log', async (t) => {
  const s = await api(t, [{ phase: 'Pending' }, { phase: 'Running' }, { phase: 'Running' }, { phase: 'Succeeded' }]);
  const chunks: string[] = [];
  const r = await runSyncPod(s.client, 'worker-1', { ...opts, follow: (c) => chunks.push(c) });
  assert.equal(r.phase, 'Succeeded');
  assert.equal(chunks.join(''), LOG);
  assert.equal(r.log, LOG);
  assert.equal(s.requests.filter((q) => q.endsWith('/log')).length, 1, 'followed once, not read again at the end');
  assert.deepEqual(ours(s.store), []);
});
