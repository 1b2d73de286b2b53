// The proxier fed by list+watch against an in-process API server over a real socket: events reach the
// tracker, a BOOKMARK moves the resourceVersion, an expired version (410) re-lists, a failing watch is
// retried with back-off and said once when lost and once when back.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { Proxier } from '../../src/core/proxier/index.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { watchIntoProxier } from '../../src/kube/watch-proxier.js';
import { FakeClock, FakeHost, config, iptables, service } from '../unit/proxier/fakes.js';

const svc = (name: string, rv: string) => ({ ...service(name, '10.96.0.10'), metadata: { name, namespace: 'ns', resourceVersion: rv } });

test('list+watch: events, bookmarks, 410 re-list, back-off reconnect said once', async (t) => {
  const watchesSeen: string[] = [];
  let serviceLists = 0;
  let failures = 2;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const watch = url.searchParams.get('watch') === '1';
    const rv = url.searchParams.get('resourceVersion') ?? '';
    if (url.pathname === '/api/v1/services') {
      if (!watch) {
        serviceLists++;
        res.end(JSON.stringify(serviceLists === 1 ? { metadata: { resourceVersion: '10' }, items: [svc('a', '5')] } : { metadata: { resourceVersion: '20' }, items: [svc('a', '5'), svc('c', '19')] }));
        return;
      }
      watchesSeen.push(rv);
      if (rv === '10') {
        res.write(JSON.stringify({ type: 'ADDED', object: svc('b', '11') }) + '\n');
        res.end(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } }) + '\n');
        return;
      }
      if (rv === '12') {
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version: 12 (15)' } }) + '\n');
        return;
      }
      if (failures-- > 0) {
        res.statusCode = 500;
        res.end('{}');
        return;
      }
      res.write(JSON.stringify({ type: 'DELETED', object: svc('a', '21') }) + '\n');
      held.push(res);
      return;
    }
    if (watch) {
      held.push(res);
      res.write('');
      return;
    }
    res.end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const h of held) h.destroy();
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'pm-watch-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);

  const proxier = new Proxier({ def: iptables, config: config(), host: new FakeHost(), clock: new FakeClock(), log: () => {} });
  const logs: string[] = [];
  const w = await watchIntoProxier(loadKubeConfig({ kubeconfig }), proxier, { log: (m) => logs.push(m), maxBackoffMs: 50 });
  t.after(() => w.stop());
  const names = () => proxier.tracker.objects().services.map((s) => s.metadata?.name).sort();
  const deadline = Date.now() + 10_000;
  while (!(watchesSeen.length >= 5 && names().join() === 'c') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(watchesSeen.slice(0, 3), ['10', '12', '20'], 'watch from the list, from the bookmark, then from the re-list');
  assert.equal(serviceLists, 2, 'the 410 re-listed once');
  assert.deepEqual(names(), ['c'], 'b was dropped by the re-list, a deleted by the event, c came with the re-list');
  assert.equal(logs.filter((l) => l.startsWith('lost the watch of services')).length, 1, logs.join('\n'));
  assert.equal(logs.filter((l) => l === 'the watch of services is back.').length, 1, logs.join('\n'));
  assert.ok(proxier.metrics.serviceChangesPending > 0);
  await w.stop();
});
