// `get` on a 5,000-node cluster, end to end through the bundled executable: an HTTP API server in this
// process answers with synthetic kubeadm-shaped objects (nodes and kube-proxy pods in pages of 500, the
// kube-proxy ConfigMap, DaemonSets) and every pod's log, so the run makes a constant number of list calls
// plus 5,000 bounded-concurrency log reads, as on a real cluster.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure } from '../measure.js';
import type { BenchCase } from '../types.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'kubectl-proxymode');
const NODES = 5000;
const PAGE = 500;

function nodeObj(i: number) {
  return {
    metadata: { name: `node-${i}`, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
    spec: { podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24` },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      addresses: [{ type: 'InternalIP', address: `192.168.${(i >> 8) & 255}.${i & 255}` }, { type: 'Hostname', address: `node-${i}` }],
      nodeInfo: { kubeletVersion: 'v1.31.4', kubeProxyVersion: 'v1.31.4' },
    },
  };
}

function podObj(i: number) {
  const image = 'registry.k8s.io/kube-proxy:v1.31.4';
  return {
    metadata: { name: `kube-proxy-${i.toString(36).padStart(5, '0')}`, namespace: 'kube-system', uid: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`, labels: { 'k8s-app': 'kube-proxy' } },
    spec: { nodeName: `node-${i}`, containers: [{ name: 'kube-proxy', image, command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'] }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'kube-proxy', image, ready: true, restartCount: i % 97 === 0 ? 1 : 0, state: { running: { startedAt: '2024-11-02T09:14:41Z' } } }] },
  };
}

/** Pages of a list, as the API server cuts them with limit/continue. */
function pages(kind: string, make: (i: number) => object): string[] {
  const out: string[] = [];
  for (let start = 0; start < NODES; start += PAGE) {
    const items = [];
    for (let i = start; i < Math.min(NODES, start + PAGE); i++) items.push(make(i));
    const more = start + PAGE < NODES;
    out.push(JSON.stringify({ kind, apiVersion: 'v1', metadata: { resourceVersion: '1', ...(more ? { continue: String(start + PAGE) } : {}) }, items }));
  }
  return out;
}

const CONFIG = `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: rr\n`;
const LOG = [
  'I1103 09:20:12.318204       1 server.go:677] "Successfully retrieved node IP(s)" IPs=["192.168.0.1"]',
  'I1103 09:20:12.339012       1 server_linux.go:189] "Using ipvs Proxier"',
  'I1103 09:20:12.341650       1 proxier.go:357] "IPVS scheduler not specified, use rr by default" ipFamily="IPv4"',
  'I1103 09:20:12.342118       1 server.go:483] "Version info" version="v1.31.4"',
  '',
].join('\n');

function startServer(): Promise<{ url: string; close: () => void; requests: () => number }> {
  const nodePages = pages('NodeList', nodeObj);
  const podPages = pages('PodList', podObj);
  const empty = (kind: string) => JSON.stringify({ kind, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
  const notFound = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
  const cm = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': CONFIG } });
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const url = new URL(req.url ?? '/', 'http://x');
    const page = Number(url.searchParams.get('continue') ?? 0) / PAGE;
    let code = 200;
    let body: string;
    if (url.pathname === '/api/v1/nodes') body = nodePages[page];
    else if (url.pathname === '/api/v1/namespaces/kube-system/pods') body = url.searchParams.get('labelSelector') === 'k8s-app=kube-proxy' ? podPages[page] : empty('PodList');
    else if (url.pathname.endsWith('/log')) body = LOG;
    else if (url.pathname === '/api/v1/namespaces/kube-system/configmaps/kube-proxy') body = cm;
    else if (url.pathname === '/apis/apps/v1/namespaces/kube-system/daemonsets') body = empty('DaemonSetList');
    else [code, body] = [404, notFound];
    res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close(), requests: () => count })),
  );
}

function runGet(kubeconfig: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['get', '--kubeconfig', kubeconfig, '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`get exited ${code}: ${Buffer.concat(err).toString()}`));
      const report = JSON.parse(Buffer.concat(out).toString());
      if (report.nodes.length !== NODES || report.nodes.some((n: { running: string }) => n.running !== 'ipvs')) return reject(new Error(`wrong report: ${report.nodes.length} nodes, ${JSON.stringify(report.nodes[0])} ${JSON.stringify(report.notes)}`));
      resolve();
    });
  });
}

export const modeGet: BenchCase = {
  name: `get: ${NODES.toLocaleString('en')} nodes, pods + logs over HTTP (bundled executable)`,
  targetMs: 2000,
  async run() {
    const api = await startServer();
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'proxymode-bench-')), 'config');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${api.url}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: bench}\ncontexts:\n- name: bench\n  context: {cluster: c, user: u}\ncurrent-context: bench\n`);
    try {
      const before = api.requests();
      await runGet(kubeconfig);
      const perRun = api.requests() - before;
      const m = await measure(() => runGet(kubeconfig), 5, 1);
      return { ...m, maxRssMB: NaN, detail: `${perRun} requests per run: ${perRun - NODES} list/get calls + ${NODES} log reads` };
    } finally {
      api.close();
    }
  },
};
