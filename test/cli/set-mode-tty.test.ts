// set's question at a terminal: a switch whose equivalence report finds differences, run without --yes on a
// real pseudo-terminal (util-linux `script`), asks before anything is written; "n" changes nothing, "y" goes on.
// The API server is this process's, on a real socket, serving the cluster of examples/ (kube-proxy in ipvs
// mode; switching it to iptables changes how some packets are handled, as `set iptables -f examples/
// --dry-run` reports).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeManifests } from '../../src/core/objects/decode.js';
import { BIN, cleanEnv, ROOT } from './run.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const example = (f: string) => decodeManifests(readFileSync(join(ROOT, 'examples', f), 'utf8'), f) as any[];
const list = (kind: string, items: unknown[]) => JSON.stringify({ kind: `${kind}List`, apiVersion: 'v1', metadata: { resourceVersion: '9' }, items });
const CONFIG_CONF: string = example('kube-proxy-configmap.yaml')[0].data['config.conf'];

let server: Server;
let dir: string;
let kubeconfig: string;
const writes: string[] = [];
let cm: any;
let ds: any;
let pods: any[];
const logs = new Map<string, string>();

const send = (res: ServerResponse, code: number, body: string) => {
  res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
  res.end(body);
};

/** The DaemonSet controller after a restart: a new pod per node, whose log names the ConfigMap's mode. */
function rollOut(): void {
  const mode = /^ *mode: "?([a-z]*)"?/m.exec(cm.data['config.conf'])?.[1] || 'iptables';
  pods = pods.map((p, i) => {
    const name = `kube-proxy-new${i}`;
    logs.set(name, `I1201 10:00:00.000000       1 server_linux.go:169] "Using ${mode} Proxier"\n`);
    return { ...p, metadata: { ...p.metadata, name, uid: `uid-${name}` } };
  });
  ds.status = { ...ds.status, observedGeneration: ds.metadata.generation, updatedNumberScheduled: pods.length, numberAvailable: pods.length, desiredNumberScheduled: pods.length };
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = req.url ?? '';
  const path = url.split('?')[0]!;
  if (req.method !== 'GET' && !path.endsWith('/selfsubjectaccessreviews')) writes.push(`${req.method} ${path}`);
  if (path.endsWith('/selfsubjectaccessreviews')) return send(res, 201, JSON.stringify({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', status: { allowed: true } }));
  if (path === '/api/v1/namespaces/kube-system/configmaps/kube-proxy') {
    if (req.method === 'PATCH') cm = { ...cm, metadata: { ...cm.metadata, resourceVersion: String(Number(cm.metadata.resourceVersion) + 1) }, data: { ...cm.data, ...JSON.parse(body).data } };
    return send(res, 200, JSON.stringify(cm));
  }
  if (path === '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy') {
    if (req.method === 'PATCH') {
      ds.metadata.generation++;
      setTimeout(rollOut, 100);
    }
    return send(res, 200, JSON.stringify(ds));
  }
  if (path === '/apis/apps/v1/namespaces/kube-system/daemonsets') return send(res, 200, JSON.stringify({ kind: 'DaemonSetList', apiVersion: 'apps/v1', metadata: {}, items: [ds] }));
  if (path === '/api/v1/nodes') return send(res, 200, list('Node', example('nodes.yaml')));
  if (path === '/api/v1/services') return send(res, 200, list('Service', example('services.yaml')));
  if (path === '/apis/discovery.k8s.io/v1/endpointslices') return send(res, 200, list('EndpointSlice', example('endpointslices.yaml')));
  if (path === '/api/v1/namespaces/kube-system/pods') return send(res, 200, list('Pod', url.includes('k8s-app%3Dkube-proxy') ? pods : []));
  const log = /^\/api\/v1\/namespaces\/kube-system\/pods\/([a-z0-9-]+)\/log$/.exec(path);
  if (log) return send(res, 200, logs.get(log[1]!) ?? '');
  send(res, 404, '404 page not found');
}

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'proxymode-set-tty-'));
  kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kubeadm\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: t}\ncontexts:\n- name: admin@kubeadm\n  context: {cluster: kubeadm, user: admin}\ncurrent-context: admin@kubeadm\n`);
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  writes.length = 0;
  cm = example('kube-proxy-configmap.yaml')[0];
  cm.metadata.resourceVersion = '100';
  pods = example('kube-proxy-pods.yaml');
  logs.clear();
  for (const p of pods) logs.set(p.metadata.name, readFileSync(join(ROOT, 'examples', 'kube-proxy-logs', `${p.metadata.name}.txt`), 'utf8'));
  ds = {
    kind: 'DaemonSet',
    apiVersion: 'apps/v1',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', generation: 1, resourceVersion: '500', labels: { 'k8s-app': 'kube-proxy' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: { metadata: { labels: { 'k8s-app': 'kube-proxy' } }, spec: { containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.31.4', command: pods[0].spec.containers[0].command }] } },
    },
    status: { observedGeneration: 1, desiredNumberScheduled: pods.length, currentNumberScheduled: pods.length, updatedNumberScheduled: pods.length, numberAvailable: pods.length, numberReady: pods.length },
  };
});

/** `set iptables` on a pseudo-terminal, typing `answer` once the question is on screen. */
function setOnTTY(answer: string): Promise<{ code: number | null; screen: string; writesWhenAsked: string[] | undefined }> {
  const backups = mkdtempSync(join(dir, 'backups-'));
  const command = `${BIN} set iptables --timeout 20s --kubeconfig ${kubeconfig} --backup-dir ${backups}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...cleanEnv(), TERM: 'dumb', NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let asked = false;
    let writesWhenAsked: string[] | undefined;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; the terminal showed: ${screen}`));
    }, 60_000);
    child.stdout.on('data', (d) => {
      screen += d;
      if (!asked && /\[y\/N\] $/.test(screen)) {
        asked = true;
        writesWhenAsked = [...writes];
        child.stdin.write(`${answer}\r`);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(deadline);
      child.stdin.end();
      resolve({ code, screen: screen.replace(/\r\n/g, '\n'), writesWhenAsked });
    });
  });
}

describe('set on a terminal, without --yes', { skip: hasScript ? false : 'util-linux script is not installed' }, () => {
  it('differences found: it asks, and "n" changes nothing', async () => {
    const r = await setOnTTY('n');
    assert.match(r.screen, /^EQUIVALENCE\n {2}\d+ paths traced on 3 nodes; \d+ differences in \d+ groups:$/m);
    assert.match(r.screen, /^switch to iptables although the modes treat some packets differently\? \[y\/N\] n$/m);
    assert.match(r.screen, /nothing was changed — add --yes to switch anyway\.$/m);
    assert.equal(r.code, 1);
    assert.deepEqual(r.writesWhenAsked, [], 'nothing is written while the question waits');
    assert.deepEqual(writes, []);
    assert.equal(cm.data['config.conf'], CONFIG_CONF);
  });

  it('differences found: it asks, and "y" goes on with the switch', async () => {
    const r = await setOnTTY('y');
    assert.match(r.screen, /\[y\/N\] y$/m);
    assert.deepEqual(r.writesWhenAsked, [], 'nothing is written while the question waits');
    assert.deepEqual(writes.slice(0, 2), ['PATCH /api/v1/namespaces/kube-system/configmaps/kube-proxy', 'PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy']);
    assert.match(cm.data['config.conf'], /^ *mode: "?iptables"?$/m);
    assert.match(r.screen, /switched to iptables: 3 nodes verified/);
    assert.equal(r.code, 0, r.screen);
  });
});
