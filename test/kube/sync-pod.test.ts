// `sync --on-node`: the pod's spec, and that it is deleted on every path (it finishes, it fails, it cannot
// start), against an in-process API server over a real socket.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { KubeClient } from '../../src/kube/client.js';
import { cleanup } from '../../src/kube/cleanup.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { runSyncPod, syncPodSpec } from '../../src/kube/sync-pod.js';

test('the sync pod: privileged, hostNetwork, pinned, tolerating all, system-node-critical, the lock and /lib/modules, a deadline', () => {
  const p = syncPodSpec('worker-1', { image: 'img:1', args: ['--mode', 'nftables', '--once'], deadlineSeconds: 600 });
  assert.equal(p.spec.nodeName, 'worker-1');
  assert.equal(p.spec.hostNetwork, true);
  assert.equal(p.spec.priorityClassName, 'system-node-critical');
  assert.deepEqual(p.spec.tolerations, [{ operator: 'Exists' }]);
  assert.equal(p.spec.activeDeadlineSeconds, 600);
  assert.equal(p.spec.serviceAccountName, 'kube-proxy');
  const c = p.spec.containers[0];
  assert.equal(c.securityContext.privileged, true);
  assert.deepEqual(c.args, ['sync', '--mode', 'nftables', '--once', '--node', 'worker-1']);
  assert.deepEqual(c.volumeMounts, [{ name: 'xtables-lock', mountPath: '/run/xtables.lock' }, { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true }]);
  assert.deepEqual(p.spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path), ['/run/xtables.lock', '/lib/modules']);
});

async function apiServer(t: test.TestContext, phases: Array<Record<string, unknown>>) {
  const deleted: string[] = [];
  let created: unknown;
  let gets = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      if (req.method === 'POST') {
        created = JSON.parse(body);
        res.statusCode = 201;
        res.end(JSON.stringify({ ...(created as object), metadata: { name: 'proxymode-sync-abcde', namespace: 'kube-system' } }));
      } else if (req.method === 'DELETE') {
        deleted.push(url.pathname);
        res.end('{}');
      } else if (url.pathname.endsWith('/log')) {
        res.end('synced node worker-1 on this host (iptables-nft): mode iptables, full, 42 operations.\n');
      } else {
        res.end(JSON.stringify({ status: phases[Math.min(gets++, phases.length - 1)] }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const dir = mkdtempSync(join(tmpdir(), 'pm-syncpod-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  const client = new KubeClient(loadKubeConfig({ kubeconfig }), 5_000);
  return { client, deleted, created: () => created };
}

const opts = { image: 'img:1', args: ['--once'], deadlineSeconds: 60, pollMs: 10 };
const POD = '/api/v1/namespaces/kube-system/pods/proxymode-sync-abcde';

test('a pod that finishes: its log, then it is deleted and unregistered', async (t) => {
  const api = await apiServer(t, [{ phase: 'Pending' }, { phase: 'Running' }, { phase: 'Succeeded' }]);
  const r = await runSyncPod(api.client, 'worker-1', opts);
  assert.equal(r.phase, 'Succeeded');
  assert.match(r.log, /42 operations/);
  assert.deepEqual(api.deleted, [POD]);
  assert.equal(cleanup.pending.length, 0);
});

test('a pod that fails or cannot start is deleted too', async (t) => {
  const failed = await apiServer(t, [{ phase: 'Failed' }]);
  assert.equal((await runSyncPod(failed.client, 'worker-1', opts)).phase, 'Failed');
  assert.deepEqual(failed.deleted, [POD]);
  const stuck = await apiServer(t, [{ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff' } } }] }]);
  await assert.rejects(runSyncPod(stuck.client, 'worker-1', opts), /cannot start: ImagePullBackOff; give an image the node can pull with --image\./);
  assert.deepEqual(stuck.deleted, [POD]);
  assert.equal(cleanup.pending.length, 0);
});
