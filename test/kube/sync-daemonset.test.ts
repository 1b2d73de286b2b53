// `sync --all-nodes` and `sync --remove`: the DaemonSet and RBAC specs, the install that stays once ready
// and deletes what it created when it cannot get there (a refusal, a stuck pod, Ctrl-C), removal of only
// what carries our label, and the refusal beside a live kube-proxy — in process and through the built CLI,
// against an API server of the test's own on a real socket.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import test from 'node:test';
import { KubeClient } from '../../src/kube/client.js';
import { cleanup } from '../../src/kube/cleanup.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { allNodesSpecs, installAllNodes, removeAllNodes } from '../../src/kube/sync-daemonset.js';
import { BIN, cleanEnv, ROOT } from '../cli/run.js';
import { objectServer, ours, type ObjectServerOptions } from './object-server.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const LABEL = { 'app.kubernetes.io/name': 'kubectl-proxymode-sync' };
const NS = 'kubectl-proxymode';
const DS = `/apis/apps/v1/namespaces/${NS}/daemonsets/kubectl-proxymode-sync`;

test('the DaemonSet: the --on-node pod spec on every Linux node, the node from the downward API; one label on everything', () => {
  const objs = allNodesSpecs({ image: 'img:1', args: ['--mode', 'nftables'] });
  assert.deepEqual(objs.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`), [
    `Namespace /${NS}`,
    `ServiceAccount ${NS}/kubectl-proxymode-sync`,
    'ClusterRole /kubectl-proxymode-sync',
    'ClusterRoleBinding /kubectl-proxymode-sync',
    'Role kube-system/kubectl-proxymode-sync',
    'RoleBinding kube-system/kubectl-proxymode-sync',
    `DaemonSet ${NS}/kubectl-proxymode-sync`,
  ]);
  for (const o of objs) assert.equal(o.metadata.labels['app.kubernetes.io/name'], 'kubectl-proxymode-sync', o.kind);
  assert.equal(objs[0].metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
  const ds = objs[6];
  assert.deepEqual(ds.spec.selector.matchLabels, LABEL);
  assert.deepEqual(ds.spec.template.metadata.labels, LABEL);
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.priorityClassName, 'system-node-critical');
  assert.equal(pod.serviceAccountName, 'kubectl-proxymode-sync');
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  assert.equal(pod.nodeName, undefined);
  assert.equal(pod.restartPolicy, undefined, 'a DaemonSet pod restarts (Always)');
  assert.equal(pod.activeDeadlineSeconds, undefined, 'long-lived: no deadline');
  const c = pod.containers[0];
  assert.equal(c.securityContext.privileged, true);
  assert.deepEqual(c.args, ['sync', '--mode', 'nftables', '--node', '$(NODE_NAME)']);
  assert.deepEqual(c.env, [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
  const pointed = allNodesSpecs({ image: 'img:1', args: [], server: 'https://10.0.0.1:6443' })[6].spec.template.spec.containers[0].env;
  assert.deepEqual(pointed.slice(1), [{ name: 'KUBERNETES_SERVICE_HOST', value: '10.0.0.1' }, { name: 'KUBERNETES_SERVICE_PORT', value: '6443' }], 'the API server as this command reaches it, not the kubernetes ClusterIP');
  assert.deepEqual(pod.volumes.map((v: any) => v.hostPath.path), ['/run/xtables.lock', '/lib/modules']);
});

/** A DaemonSet that makes one pod per node and is ready after `readyAfter` reads (never, when undefined). */
function cluster(o: { readyAfter?: number; waiting?: string; seed?: any[]; forbid?: ObjectServerOptions['forbid']; nodes?: string[] } = {}): ObjectServerOptions {
  const nodes = o.nodes ?? ['worker-1', 'worker-2'];
  return {
    seed: o.seed,
    forbid: o.forbid,
    log: (p) => `sync: serving 0.0.0.0:10256\nsynced node ${p.split('-').pop()}: mode iptables, full, 7 operations.\n`,
    created: (key, obj, store) => {
      if (obj.kind !== 'DaemonSet') return;
      for (const n of nodes) {
        const name = `kubectl-proxymode-sync-${n}`;
        store.set(`/api/v1/namespaces/${NS}/pods/${name}`, {
          kind: 'Pod', metadata: { name, namespace: NS, labels: { ...LABEL } }, spec: { nodeName: n },
          status: { phase: 'Pending', containerStatuses: o.waiting ? [{ state: { waiting: { reason: o.waiting } } }] : [] },
        });
      }
    },
    status: (path, obj, n) => {
      if (path !== DS) return obj;
      const ready = o.readyAfter !== undefined && n >= o.readyAfter;
      return { ...obj, status: { observedGeneration: 1, desiredNumberScheduled: nodes.length, numberReady: ready ? nodes.length : 0, updatedNumberScheduled: nodes.length } };
    },
  };
}

async function serve(t: test.TestContext, opts: ObjectServerOptions) {
  const s = await objectServer(opts);
  t.after(() => s.close());
  return { ...s, client: new KubeClient(loadKubeConfig({ kubeconfig: s.kubeconfig }), 5_000) };
}

const install = { image: 'img:1', args: ['--mode', 'iptables'], timeoutMs: 10_000, pollMs: 10 };

test('--all-nodes: everything is created, the rollout awaited, the pods summarised; it all stays (nothing left registered)', async (t) => {
  const s = await serve(t, cluster({ readyAfter: 3 }));
  const r = await installAllNodes(s.client, install);
  assert.equal(r.interrupted, false);
  assert.deepEqual(r.pods.map((p) => [p.node, p.log.split('\n').pop()]), [
    ['worker-1', 'synced node 1: mode iptables, full, 7 operations.'],
    ['worker-2', 'synced node 2: mode iptables, full, 7 operations.'],
  ]);
  assert.equal(ours(s.store).filter((k) => !k.includes('/pods/')).length, 7);
  assert.equal(cleanup.pending.length, 0);
  assert.ok(s.requests.filter((q) => q === `GET ${DS}`).length >= 3, 'the rollout was followed');
});

test('--all-nodes when it already runs: one sentence naming --remove, nothing created', async (t) => {
  const s = await serve(t, cluster({ readyAfter: 1 }));
  await installAllNodes(s.client, install);
  const posts = s.requests.filter((q) => q.startsWith('POST')).length;
  await assert.rejects(installAllNodes(s.client, install), /sync already runs on every node \(DaemonSet kubectl-proxymode\/kubectl-proxymode-sync\); remove it first with: kubectl proxymode sync --remove/);
  assert.equal(s.requests.filter((q) => q.startsWith('POST')).length, posts);
});

test('never ready within the timeout: said with the ready count, and everything --all-nodes created is deleted again', async (t) => {
  const s = await serve(t, cluster()); // pods Pending, never ready, nothing stuck
  await assert.rejects(
    installAllNodes(s.client, { ...install, timeoutMs: 60 }),
    /^ClusterError: DaemonSet kubectl-proxymode\/kubectl-proxymode-sync was not ready within the timeout \(0 of 2 pods ready\); everything --all-nodes created was deleted\.$/,
  );
  assert.deepEqual(ours(s.store), []);
  assert.equal(cleanup.pending.length, 0);
});

test('a pod that cannot start: everything --all-nodes created is deleted again', async (t) => {
  const s = await serve(t, cluster({ waiting: 'ImagePullBackOff' }));
  await assert.rejects(installAllNodes(s.client, install), /kubectl-proxymode-sync-worker-1 on node worker-1 cannot run: ImagePullBackOff; everything --all-nodes created was deleted/);
  assert.deepEqual(ours(s.store), []);
  assert.equal(cleanup.pending.length, 0);
});

test('an RBAC refusal names the verb and resource; what was created before it is deleted', async (t) => {
  const s = await serve(t, cluster({ readyAfter: 1, forbid: (m, p) => m === 'POST' && p.endsWith('/clusterrolebindings') }));
  await assert.rejects(installAllNodes(s.client, install), /forbidden: user "tester" may not create clusterrolebindings.*\(RBAC\); ask a cluster admin to grant "create" on "clusterrolebindings"/);
  assert.deepEqual(ours(s.store), []);
  assert.ok(s.requests.includes('DELETE /apis/rbac.authorization.k8s.io/v1/clusterroles/kubectl-proxymode-sync'));
  assert.ok(s.requests.includes(`DELETE /api/v1/namespaces/${NS}`));
});

test('--remove: only objects carrying the label; a second --remove finds nothing; 404 is fine', async (t) => {
  const foreign = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'kubectl-proxymode-sync', labels: { team: 'net' } } };
  const s = await serve(t, cluster({ readyAfter: 1, seed: [] }));
  await installAllNodes(s.client, install);
  // someone replaced the ClusterRole with one of their own: it is not ours to delete
  s.store.set('/apis/rbac.authorization.k8s.io/v1/clusterroles/kubectl-proxymode-sync', foreign);
  const r = await removeAllNodes(s.client);
  assert.deepEqual(r.map((x) => `${x.object}: ${x.result}`), [
    `DaemonSet ${NS}/kubectl-proxymode-sync: deleted`,
    'ClusterRoleBinding kubectl-proxymode-sync: deleted',
    'ClusterRole kubectl-proxymode-sync: not ours',
    'RoleBinding kube-system/kubectl-proxymode-sync: deleted',
    'Role kube-system/kubectl-proxymode-sync: deleted',
    `ServiceAccount ${NS}/kubectl-proxymode-sync: deleted`,
    `Namespace ${NS}: deleted`,
  ]);
  assert.deepEqual(ours(s.store), []);
  assert.ok(s.store.has('/apis/rbac.authorization.k8s.io/v1/clusterroles/kubectl-proxymode-sync'));
  assert.ok((await removeAllNodes(s.client)).every((x) => x.result !== 'deleted'));
});

test('--remove refused by RBAC names the verb and resource', async (t) => {
  const s = await serve(t, cluster({ readyAfter: 1, forbid: (m, p) => m === 'DELETE' && p.includes('/daemonsets/') }));
  await installAllNodes(s.client, install);
  await assert.rejects(removeAllNodes(s.client), /may not delete daemonsets.*\(RBAC\); ask a cluster admin to grant "delete" on "daemonsets"/);
});

// ---- through the built CLI ----

function run(args: string[], kubeconfig: string, opts: { interruptWhen?: () => boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, [...args, '--kubeconfig', kubeconfig], { cwd: ROOT, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (opts.interruptWhen) {
      timer = setInterval(() => {
        if (opts.interruptWhen!()) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 20);
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('close', (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

const kubeProxy = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kube-proxy-abcde', namespace: 'kube-system', labels: { 'k8s-app': 'kube-proxy' } }, spec: { nodeName: 'worker-1' }, status: { phase: 'Running' } };

test('CLI: --all-nodes and --on-node beside a live kube-proxy refuse in one sentence (exit 1) and create nothing', async (t) => {
  const s = await serve(t, cluster({ readyAfter: 1, seed: [kubeProxy] }));
  for (const args of [['sync', '--all-nodes'], ['sync', '--on-node', 'worker-1']]) {
    const r = await run(args, s.kubeconfig);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /refusing to sync on (every node|node worker-1): kube-proxy runs (in the cluster|on node worker-1) \(pod kube-system\/kube-proxy-abcde on node worker-1\), and both would own the same chains and tables and undo each other's rules; stop it first, or add --force to run beside it anyway\./);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal(s.requests.filter((q) => q.startsWith('POST')).length, 0);
});

test('CLI: --all-nodes --force installs, says it stays and how to remove it; --remove takes it away', async (t) => {
  const s = await serve(t, cluster({ readyAfter: 2, seed: [kubeProxy] }));
  const r = await run(['sync', '--all-nodes', '--force', '--mode', 'iptables'], s.kubeconfig);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sync runs on 2 nodes through DaemonSet kubectl-proxymode\/kubectl-proxymode-sync:\n  worker-1  kubectl-proxymode-sync-worker-1  synced node 1: mode iptables, full, 7 operations\./);
  assert.match(r.stdout, /It stays running after this command; .*\nRemove it with: kubectl proxymode sync --remove$/m);
  const ds = s.store.get(DS);
  assert.deepEqual(ds.spec.template.spec.containers[0].args, ['sync', '--mode', 'iptables', '--node', '$(NODE_NAME)']);
  const removed = await run(['sync', '--remove'], s.kubeconfig);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout.trim(), /^deleted DaemonSet kubectl-proxymode\/kubectl-proxymode-sync, ClusterRoleBinding kubectl-proxymode-sync, ClusterRole kubectl-proxymode-sync, RoleBinding kube-system\/kubectl-proxymode-sync, Role kube-system\/kubectl-proxymode-sync, ServiceAccount kubectl-proxymode\/kubectl-proxymode-sync, Namespace kubectl-proxymode\.$/);
  assert.deepEqual(ours(s.store), []);
  const again = await run(['sync', '--remove'], s.kubeconfig);
  assert.equal(again.stdout.trim(), 'nothing of sync --all-nodes was found; nothing to remove.');
});

test('CLI: --timeout bounds the wait for the pods: never ready within 1s, exit 3 naming the count, all deleted; bad or misplaced --timeout, exit 2', async (t) => {
  const s = await serve(t, cluster({}));
  const r = await run(['sync', '--all-nodes', '--timeout', '1s'], s.kubeconfig);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /DaemonSet kubectl-proxymode\/kubectl-proxymode-sync was not ready within the timeout \(0 of 2 pods ready\); everything --all-nodes created was deleted\./);
  assert.deepEqual(ours(s.store), []);
  const posts = s.requests.filter((q) => q.startsWith('POST')).length;
  for (const [args, said] of [
    [['sync', '--all-nodes', '--timeout', 'soon'], /^error: --timeout "soon" is not a positive duration; use a value like 90s or 5m\.$/],
    [['sync', '--on-node', 'worker-1', '--timeout', '1m'], /^error: --timeout is how long --all-nodes waits for its pods to be ready; without --all-nodes leave it out\.$/],
  ] as const) {
    const bad = await run([...args], s.kubeconfig);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr.trim(), said);
  }
  assert.equal(s.requests.filter((q) => q.startsWith('POST')).length, posts, 'nothing created for bad input');
});

test('CLI: Ctrl-C before the DaemonSet is ready deletes everything created, exit 130', async (t) => {
  const s = await serve(t, cluster({}));
  const r = await run(['sync', '--all-nodes'], s.kubeconfig, { interruptWhen: () => s.requests.filter((q) => q === `GET ${DS}`).length >= 2 });
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted: deleting what this command created \(7 objects\)/);
  assert.match(r.stderr, /deleted everything this command created\./);
  assert.deepEqual(ours(s.store), []);
});

test('CLI: --on-node --force, Ctrl-C while its pod is Pending: the pod and its ServiceAccount and RBAC are deleted, exit 130', async (t) => {
  const s = await serve(t, { seed: [kubeProxy], status: (path, o) => (path.includes('/pods/proxymode-sync-') ? { ...o, status: { phase: 'Pending' } } : o) });
  const r = await run(['sync', '--on-node', 'worker-1', '--force'], s.kubeconfig, { interruptWhen: () => s.requests.some((q) => q.startsWith('GET /api/v1/namespaces/kube-system/pods/proxymode-sync-')) });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(s.requests.filter((q) => q.startsWith('POST')).map((q) => q.split('/').pop()), ['serviceaccounts', 'clusterroles', 'clusterrolebindings', 'roles', 'rolebindings', 'pods']);
  assert.match(r.stderr, /deleted everything this command created\./);
  assert.deepEqual(ours(s.store), []);
  const sa = s.requests.find((q) => q.startsWith('DELETE') && q.includes('/serviceaccounts/'));
  assert.match(sa ?? '', /^DELETE \/api\/v1\/namespaces\/kube-system\/serviceaccounts\/kubectl-proxymode-sync-[0-9a-f]{5}$/);
});
