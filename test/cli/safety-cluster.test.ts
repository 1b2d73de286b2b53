// Issue 11 items 1-3 through the built executable, against an API server on a real socket: a small HTTP
// server in this process answering as kubeadm's API server does (fixtures in test/kube/fixtures/kubeadm,
// errors/ and logs/; their shapes are described in the PROVENANCE files there).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BIN, cleanEnv, proxymodeAsync, ROOT, type Result } from './run.js';

const FIX = join(ROOT, 'test', 'kube', 'fixtures');
const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');
const EMPTY_PODS = '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}';
const EMPTY_DS = '{"kind":"DaemonSetList","apiVersion":"apps/v1","metadata":{"resourceVersion":"1"},"items":[]}';

interface Scenario {
  configMap: 'ok' | 'missing' | 'forbidden';
  logs: 'ok' | 'forbidden';
  /** Milliseconds before a probe pod's create is answered. */
  createDelayMs: number;
  /** DELETE of a probe pod is never answered (a stuck API server). */
  deleteHangs: boolean;
  /** DELETE of a probe pod is refused by RBAC. */
  deleteForbidden: boolean;
  /** Where probe pods get to: Pending forever, or Succeeded with /proxyMode's answer in their log. */
  probePhase: 'Pending' | 'Succeeded';
}

let scenario: Scenario;
const seen: string[] = [];
const created: string[] = [];
const deleted: string[] = [];
let server: Server;
let kubeconfig: string;
const held: ServerResponse[] = [];

function send(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = req.url ?? '';
  const path = url.split('?')[0];
  seen.push(`${req.method} ${url}`);
  const probe = /^\/api\/v1\/namespaces\/kube-system\/pods\/(proxymode-probe-[a-z0-9]+)$/.exec(path);
  if (req.method === 'POST' && path === '/api/v1/namespaces/kube-system/pods') {
    const pod = JSON.parse(body);
    const name = `proxymode-probe-${String(created.length).padStart(5, 'a')}`;
    created.push(name);
    const reply = JSON.stringify({ ...pod, metadata: { ...pod.metadata, name, namespace: 'kube-system', uid: `uid-${name}` }, status: { phase: 'Pending' } });
    setTimeout(() => send(res, 201, reply), scenario.createDelayMs);
    return;
  }
  if (probe && req.method === 'DELETE') {
    deleted.push(probe[1]);
    if (scenario.deleteHangs) {
      held.push(res);
      return;
    }
    if (scenario.deleteForbidden) {
      return send(res, 403, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `pods "${probe[1]}" is forbidden: User "jane" cannot delete resource "pods" in API group "" in the namespace "kube-system"`, reason: 'Forbidden', code: 403 }));
    }
    return send(res, 200, JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: probe[1] } }));
  }
  if (/^\/api\/v1\/namespaces\/kube-system\/pods\/proxymode-probe-[a-z0-9]+\/log$/.test(path)) return send(res, 200, 'ipvs\n');
  if (probe && req.method === 'GET' && scenario.probePhase === 'Succeeded') {
    return send(res, 200, JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: probe[1] }, status: { phase: 'Succeeded' } }));
  }
  if (probe && req.method === 'GET') {
    // Never leaves Pending: the image is still being pulled.
    return send(res, 200, JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: probe[1] }, status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }] } }));
  }
  if (path === '/api/v1/nodes') return send(res, 200, fixture('kubeadm/nodes.json'));
  if (path === '/api/v1/namespaces/kube-system/configmaps/kube-proxy') {
    if (scenario.configMap === 'ok') return send(res, 200, fixture('kubeadm/kube-proxy-configmap.json'));
    if (scenario.configMap === 'forbidden') return send(res, 403, fixture('errors/403-forbidden-get-configmap.json'));
    return send(res, 404, fixture('errors/404-configmap-not-found.json'));
  }
  if (path === '/api/v1/namespaces/kube-system/configmaps/kube-proxy-config') return send(res, 404, fixture('errors/404-configmap-kube-proxy-config-not-found.json'));
  if (path === '/api/v1/namespaces/kube-system/pods' && url.includes('labelSelector=k8s-app%3Dkube-proxy')) return send(res, 200, fixture('kubeadm/kube-proxy-pods-all.json'));
  if (path === '/api/v1/namespaces/kube-system/pods') return send(res, 200, EMPTY_PODS);
  if (path === '/apis/apps/v1/namespaces/kube-system/daemonsets') return send(res, 200, EMPTY_DS);
  if (/^\/api\/v1\/namespaces\/kube-system\/pods\/kube-proxy-[a-z0-9]+\/log$/.test(path)) {
    if (scenario.logs === 'forbidden') return send(res, 403, fixture('errors/403-forbidden-get-pods-log.json'));
    // kube-proxy logs that it started the ipvs proxier.
    return send(res, 200, fixture('logs/v1.31-json-ipvs.txt'));
  }
  send(res, 404, fixture('errors/404-page-not-found.txt'));
}

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'proxymode-safety-')), 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kubeadm\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: t}\ncontexts:\n- name: kubernetes-admin@kubernetes\n  context: {cluster: kubeadm, user: admin}\ncurrent-context: kubernetes-admin@kubernetes\n`);
});

after(() => {
  for (const res of held) res.destroy();
  server.close();
});

beforeEach(() => {
  scenario = { configMap: 'ok', logs: 'ok', createDelayMs: 0, deleteHangs: false, deleteForbidden: false, probePhase: 'Pending' };
  seen.length = 0;
  created.length = 0;
  deleted.length = 0;
});

/** Starts `get --probe`, waits until `ready()` holds, sends each signal in turn (after `ready2` for the second), and resolves with the result. */
function interrupted(signals: NodeJS.Signals[], ready: () => boolean, ready2: () => boolean = () => true): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['get', '--kubeconfig', kubeconfig, '--probe', '--request-timeout', '20s'], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; stderr so far: ${stderr}`));
    }, 25_000);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      // let the pipes drain
      setTimeout(() => resolve({ code, stdout, stderr }), 50);
    });
    const waitThen = (cond: () => boolean, act: () => void) => {
      const t = setInterval(() => {
        if (cond()) {
          clearInterval(t);
          act();
        }
      }, 20);
    };
    waitThen(ready, () => {
      child.kill(signals[0]);
      if (signals[1]) waitThen(ready2, () => child.kill(signals[1]));
    });
  });
}

describe('item 1: everything get --probe creates is deleted, also on Ctrl-C', () => {
  it('SIGINT while probe pods are Pending: each created pod gets a DELETE, then exit 130', async () => {
    const r = await interrupted(['SIGINT'], () => created.length === 3 && seen.filter((s) => s.startsWith('GET /api/v1/namespaces/kube-system/pods/proxymode-probe-')).length >= 3);
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual([...deleted].sort(), [...created].sort());
    assert.match(r.stderr, /^--probe: starting 3 probe pods in namespace kube-system \(each deleted when done, also on Ctrl-C\) …$/m);
    assert.match(r.stderr, /^interrupted: deleting what this command created \(3 objects\) before exiting; press Ctrl-C again to stop waiting …$/m);
    assert.match(r.stderr, /^deleted everything this command created\.$/m);
    assert.equal(r.stdout, '');
  });

  it('SIGTERM does the same and exits 143', async () => {
    const r = await interrupted(['SIGTERM'], () => created.length === 3);
    assert.equal(r.code, 143, r.stderr);
    assert.deepEqual([...deleted].sort(), [...created].sort());
    assert.match(r.stderr, /^terminated: deleting/m);
  });

  it('a pod whose create is still in flight at Ctrl-C is deleted once the API server answers', async () => {
    scenario.createDelayMs = 600;
    const r = await interrupted(['SIGINT'], () => seen.some((s) => s.startsWith('POST ')));
    assert.equal(r.code, 130, r.stderr);
    assert.ok(created.length >= 1);
    assert.deepEqual([...deleted].sort(), [...created].sort());
  });

  it('a second Ctrl-C while deletes hang names what is left and how to remove it', async () => {
    scenario.deleteHangs = true;
    const r = await interrupted(['SIGINT', 'SIGINT'], () => created.length === 3, () => deleted.length === 3);
    assert.equal(r.code, 130, r.stderr);
    const left = /^still left: (.*); remove them with: (.*)$/m.exec(r.stderr);
    assert.ok(left, r.stderr);
    for (const name of created) {
      assert.ok(left[1].includes(`probe pod kube-system/${name} on node`), left[1]);
      assert.ok(left[2].includes(`kubectl --context kubernetes-admin@kubernetes -n kube-system delete pod ${name}`), left[2]);
    }
  });

  it('the normal path: each probe pod answers /proxyMode and is deleted, exit 0', async () => {
    scenario.probePhase = 'Succeeded';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--probe', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(created.length, 3);
    assert.deepEqual([...deleted].sort(), [...created].sort());
    assert.deepEqual(JSON.parse(r.stdout).nodes.map((n: { runningFrom: string }) => n.runningFrom), ['/proxyMode', '/proxyMode', '/proxyMode']);
  });

  it('a delete the API server refuses is said, with the command that removes the pod', async () => {
    scenario.probePhase = 'Succeeded';
    scenario.deleteForbidden = true;
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--probe']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.includes('could not be deleted'));
    assert.equal(lines.length, 3, r.stderr);
    for (const name of created) {
      assert.ok(lines.some((l) => l.startsWith(`Note: --probe: probe pod kube-system/${name} on node `) && l.endsWith(`so it is still there; remove it with: kubectl --context kubernetes-admin@kubernetes -n kube-system delete pod ${name}`)), r.stderr);
    }
  });

  it('without --probe nothing is created, and no pod is ever posted', async () => {
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(seen.filter((s) => s.startsWith('POST ') || s.startsWith('DELETE ')).length, 0);
  });
});

describe('item 2: no advice built on a guess', () => {
  it('the ConfigMap missing while kube-proxy runs with --config: configured is unknown, with why; no mismatch, no advice', async () => {
    scenario.configMap = 'missing';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.configuration.mode, null);
    assert.match(report.configuration.unknown, /--config \/var\/lib\/kube-proxy\/config\.conf, but no kube-proxy ConfigMap .* was found in the cluster/);
    for (const n of report.nodes) {
      assert.equal(n.configured, null);
      assert.equal(n.running, 'ipvs');
      assert.equal(n.mismatch, false);
      assert.notEqual(n.status, 'Mismatch');
      assert.doesNotMatch(n.notes.join(' '), /delete pod/);
    }
    const human = await proxymodeAsync(['get', '--kubeconfig', kubeconfig]);
    assert.match(human.stdout, /^k8s-node-01\s+<unknown>\s+ipvs\s+/m);
    assert.match(human.stdout, /^kube-proxy configuration: unknown \(kube-proxy runs with --config/m);
    assert.doesNotMatch(human.stdout + human.stderr, /delete pod|\(default\)/);
  });

  it('the ConfigMap refused by RBAC: unknown, naming the refusal (not exit 3)', async () => {
    scenario.configMap = 'forbidden';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.configuration.mode, null);
    assert.match(report.configuration.unknown, /could not be read \(forbidden: .*configmaps/);
  });

  it('--mode is labelled an override and never makes a mismatch or advice', async () => {
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--mode', 'iptables']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kube-proxy configuration: mode iptables from --mode \(a what-if, not compared with what runs\)$/m);
    assert.match(r.stdout, /^k8s-node-01\s+iptables \(--mode\)\s+ipvs\s+.*Running$/m);
    assert.doesNotMatch(r.stdout, /Mismatch|delete pod/);
  });
});

describe('item 3: get --check never passes what it could not check', () => {
  it('pods/log forbidden: exit 1, one summary line, the RBAC note once on stderr', async () => {
    scenario.logs = 'forbidden';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--check']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.match(/pods\/log/g)?.length, 2, r.stderr); // the note names it twice in one sentence: "get pods/log" … "on pods/log"
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('pods/log')).length, 1, r.stderr);
    assert.doesNotMatch(r.stdout, /pods\/log/);
    assert.match(r.stderr, /^check FAILED: 3 nodes checked, 0 as configured, 0 mismatched, 3 unknown \(k8s-cp-01, k8s-node-01, k8s-node-02\)\.$/m);
  });

  it('an unknown configured mode fails --check too; --mode fails it as a what-if', async () => {
    scenario.configMap = 'missing';
    const r = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--check']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^check FAILED: 3 nodes checked, 0 as configured, 0 mismatched, 3 unknown/m);
    scenario.configMap = 'ok';
    const o = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--check', '--mode', 'ipvs']);
    assert.equal(o.code, 1, o.stderr);
    assert.match(o.stderr, /--mode is a what-if/);
  });

  it('everything read and agreeing: exit 0 and a passing summary', async () => {
    // kubeadm's ConfigMap leaves mode "" (iptables); the logs say ipvs, so this is a mismatch: exit 1 …
    const mismatch = await proxymodeAsync(['get', '--kubeconfig', kubeconfig, '--check']);
    assert.equal(mismatch.code, 1, mismatch.stderr);
    assert.match(mismatch.stderr, /^check FAILED: 3 nodes checked, 0 as configured, 3 mismatched/m);
  });
});
