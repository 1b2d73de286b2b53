// set-mode end to end through the built executable, against an API server on a real socket in this process
// that answers as kubeadm's does (fixtures in test/kube/fixtures/kubeadm and errors/) and plays the
// DaemonSet controller: a restart replaces each node's kube-proxy pod, whose log then says the proxier the
// ConfigMap's config.conf names.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parse } from 'yaml';
import { spawn } from 'node:child_process';
import { BIN, cleanEnv, proxymodeAsync, ROOT, type Result } from './run.js';

const FIX = join(ROOT, 'test', 'kube', 'fixtures');
const fixture = (p: string) => readFileSync(join(FIX, p), 'utf8');
const KUBEADM_CONF: string = JSON.parse(fixture('kubeadm/kube-proxy-configmap.json')).data['config.conf'];

interface Scenario {
  /** config.conf as the cluster holds it. */
  conf: string;
  /** 409s to answer before a PATCH of the ConfigMap goes through (someone else writes in between). */
  conflicts: number;
  /** RBAC refuses these "verb resource" (SelfSubjectAccessReview and the request itself). */
  forbid: string[];
  /** The DaemonSet controller never finishes the rollout. */
  stuck: boolean;
  /** Nodes whose new kube-proxy cannot start the configured mode (crash loop). */
  badNodes: string[];
  /** The API server serves no SelfSubjectAccessReview: refusals come from the writes themselves. */
  noAccessReview: boolean;
  /** MetalLB is installed (its namespace exists). */
  metallb: boolean;
  /** Nodes whose IPVS probe pod finds no ip_vs module. */
  noIpvs: string[];
}

let scenario: Scenario;
let server: Server;
let kubeconfig: string;
const seen: string[] = [];
let cm: any;
let ds: any;
let pods: any[];
const logs = new Map<string, string>();
let serial = 0;
/** The IPVS probe pods created (by name): their node, and whether they were deleted. */
const probes = new Map<string, { node: string; deleted: boolean }>();

function send(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/plain' });
  res.end(body);
}

const list = (kind: string, items: unknown[]) => JSON.stringify({ kind: `${kind}List`, apiVersion: 'v1', metadata: { resourceVersion: '9' }, items });
const modeOf = (conf: string) => {
  const m = (parse(conf.replace(/\r/g, '')) as { mode?: string }).mode;
  return m ? m : 'iptables';
};
const forbidden = (verb: string, resource: string, name: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${resource} "${name}" is forbidden: User "jane" cannot ${verb} resource "${resource}" in API group "" in the namespace "kube-system"`, reason: 'Forbidden', code: 403 });

/** The DaemonSet controller: a new pod per node, logging what the ConfigMap now says. */
function rollOut(): void {
  const flag = (ds.spec.template.spec.containers[0].command as string[]).find((a) => a.startsWith('--proxy-mode='));
  const mode = flag ? flag.slice('--proxy-mode='.length) : modeOf(cm.data['config.conf']);
  pods = pods.map((p) => {
    const name = `kube-proxy-new${serial++}`;
    const bad = scenario.badNodes.includes(p.spec.nodeName);
    logs.set(name, bad ? `E1201 10:00:00.000000       1 run.go:72] "command failed" err="can't use the IPVS proxier: [IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs]]"\n` : `I1201 10:00:00.000000       1 server_linux.go:169] "Using ${mode} Proxier"\n`);
    return { ...p, metadata: { ...p.metadata, name, uid: `uid-${name}` }, status: bad ? { ...p.status, containerStatuses: [{ ...p.status.containerStatuses[0], ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } : p.status };
  });
  ds.status = { ...ds.status, observedGeneration: ds.metadata.generation, updatedNumberScheduled: 3, numberAvailable: 3 - scenario.badNodes.length, desiredNumberScheduled: 3 };
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = req.url ?? '';
  const path = url.split('?')[0];
  seen.push(`${req.method} ${path}`);
  if (path === '/api/v1/namespaces/metallb-system' && scenario.metallb) return send(res, 200, JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'metallb-system' } }));
  if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && !scenario.noAccessReview) {
    const ra = JSON.parse(body).spec.resourceAttributes;
    return send(res, 201, JSON.stringify({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', status: { allowed: !scenario.forbid.includes(`${ra.verb} ${ra.resource}`) } }));
  }
  if (path === '/api/v1/namespaces/kube-system/configmaps/kube-proxy') {
    if (req.method === 'PATCH') {
      if (scenario.forbid.includes('patch configmaps')) return send(res, 403, forbidden('patch', 'configmaps', 'kube-proxy'));
      const patch = JSON.parse(body);
      if (scenario.conflicts > 0) {
        scenario.conflicts--;
        cm.metadata.resourceVersion = String(Number(cm.metadata.resourceVersion) + 1);
        return send(res, 409, fixture('errors/409-conflict-configmap.json'));
      }
      if (patch.metadata?.resourceVersion !== cm.metadata.resourceVersion) return send(res, 409, fixture('errors/409-conflict-configmap.json'));
      cm = { ...cm, metadata: { ...cm.metadata, resourceVersion: String(Number(cm.metadata.resourceVersion) + 1) }, data: { ...cm.data, ...patch.data } };
      return send(res, 200, JSON.stringify(cm));
    }
    return send(res, 200, JSON.stringify(cm));
  }
  if (path === '/api/v1/namespaces/kube-system/configmaps/kube-proxy-config') return send(res, 404, fixture('errors/404-configmap-kube-proxy-config-not-found.json'));
  if (path === '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy') {
    if (req.method === 'PATCH') {
      if (scenario.forbid.includes('patch daemonsets')) return send(res, 403, forbidden('patch', 'daemonsets', 'kube-proxy'));
      const patch = JSON.parse(body);
      if (req.headers['content-type'] === 'application/merge-patch+json') {
        if (patch.metadata?.resourceVersion !== ds.metadata.resourceVersion) return send(res, 409, fixture('errors/409-conflict-configmap.json'));
        ds.spec.template.spec.containers = patch.spec.template.spec.containers;
        ds.metadata.generation++;
        ds.metadata.resourceVersion = String(Number(ds.metadata.resourceVersion) + 1);
        if (!scenario.stuck) setTimeout(rollOut, 200);
        return send(res, 200, JSON.stringify(ds));
      }
      assert.equal(req.headers['content-type'], 'application/strategic-merge-patch+json');
      assert.match(patch.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      ds.spec.template.metadata.annotations = { ...ds.spec.template.metadata.annotations, ...patch.spec.template.metadata.annotations };
      ds.metadata.generation++;
      ds.metadata.resourceVersion = String(Number(ds.metadata.resourceVersion) + 1);
      if (!scenario.stuck) setTimeout(rollOut, 200);
      return send(res, 200, JSON.stringify(ds));
    }
    return send(res, 200, JSON.stringify(ds));
  }
  if (path === '/apis/apps/v1/namespaces/kube-system/daemonsets') return send(res, 200, JSON.stringify({ kind: 'DaemonSetList', apiVersion: 'apps/v1', metadata: {}, items: [ds] }));
  if (path === '/api/v1/nodes') return send(res, 200, fixture('kubeadm/nodes.json'));
  if (path === '/api/v1/services') return send(res, 200, fixture('kubeadm/services.json'));
  if (path === '/apis/discovery.k8s.io/v1/endpointslices') return send(res, 200, fixture('kubeadm/endpointslices.json'));
  // set ipvs probes the IPVS modules with a pod per node: it runs at once and prints what it found
  if (path === '/api/v1/namespaces/kube-system/pods' && req.method === 'POST') {
    const pod = JSON.parse(body);
    assert.equal(pod.metadata.generateName, 'proxymode-ipvs-probe-');
    const name = `proxymode-ipvs-probe-${serial++}`;
    probes.set(name, { node: pod.spec.nodeName, deleted: false });
    return send(res, 201, JSON.stringify({ ...pod, metadata: { ...pod.metadata, name } }));
  }
  const probe = /^\/api\/v1\/namespaces\/kube-system\/pods\/(proxymode-ipvs-probe-\d+)(\/log)?$/.exec(path);
  if (probe && probes.has(probe[1])) {
    const p = probes.get(probe[1])!;
    if (req.method === 'DELETE') {
      p.deleted = true;
      return send(res, 200, JSON.stringify({ kind: 'Status', status: 'Success' }));
    }
    if (probe[2]) return send(res, 200, `kernel 6.8.0-45-generic\nip_vs ${scenario.noIpvs.includes(p.node) ? 'missing' : 'loaded'}\nip_vs_rr builtin\nip_vs_lc available\nnf_conntrack loaded\nnf_conntrack_ipv4 missing\n`);
    return send(res, 200, JSON.stringify({ kind: 'Pod', metadata: { name: probe[1] }, status: { phase: 'Succeeded' } }));
  }
  if (path === '/api/v1/namespaces/kube-system/pods') return send(res, 200, url.includes('k8s-app%3Dkube-proxy') ? list('Pod', pods) : list('Pod', []));
  const log = /^\/api\/v1\/namespaces\/kube-system\/pods\/([a-z0-9-]+)\/log$/.exec(path);
  if (log) return send(res, 200, logs.get(log[1]) ?? '');
  send(res, 404, fixture('errors/404-page-not-found.txt'));
}

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        handle(req, res, body);
      } catch (err) {
        send(res, 500, JSON.stringify({ kind: 'Status', message: String(err), code: 500 }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'proxymode-set-')), 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: kubeadm\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: t}\ncontexts:\n- name: kubernetes-admin@kubernetes\n  context: {cluster: kubeadm, user: admin}\ncurrent-context: kubernetes-admin@kubernetes\n`);
});

after(() => server.close());

function reset(conf = KUBEADM_CONF): void {
  scenario = { conf, conflicts: 0, forbid: [], stuck: false, badNodes: [], noAccessReview: false, metallb: false, noIpvs: [] };
  seen.length = 0;
  probes.clear();
  cm = JSON.parse(fixture('kubeadm/kube-proxy-configmap.json'));
  cm.data['config.conf'] = conf;
  const all = JSON.parse(fixture('kubeadm/kube-proxy-pods-all.json'));
  pods = all.items;
  logs.clear();
  for (const p of pods) logs.set(p.metadata.name, fixture('logs/v1.31-iptables.txt'));
  ds = {
    kind: 'DaemonSet',
    apiVersion: 'apps/v1',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', generation: 1, resourceVersion: '500', labels: { 'k8s-app': 'kube-proxy' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: { metadata: { labels: { 'k8s-app': 'kube-proxy' } }, spec: { containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.31.4', command: pods[0].spec.containers[0].command }] } },
    },
    status: { observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 },
  };
}

beforeEach(() => reset());

let backups: string;
const run = (args: string[]) => {
  backups = mkdtempSync(join(tmpdir(), 'proxymode-backups-'));
  return proxymodeAsync(['set', ...args, '--kubeconfig', kubeconfig, '--backup-dir', backups], { env: cleanEnv() });
};
// The IPVS probe pods come and go before anything is written; they are checked on their own (probes).
const writes = () => seen.filter((s) => !s.includes('/pods/proxymode-ipvs-probe-') && (/^(PATCH|PUT|DELETE) /.test(s) || (s.startsWith('POST ') && !s.includes('selfsubjectaccessreviews') && !s.endsWith('/kube-system/pods'))));

describe('set-mode against a kubeadm API server', () => {
  it('switches to ipvs: backup, ConfigMap patched, restart, every node verified', async () => {
    const r = await run(['ipvs', '--scheduler', 'lc', '--yes', '--timeout', '20s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF.replace('mode: ""', 'mode: "ipvs"').replace(/(\nipvs:\n(?: {2}.*\n)*? {2}scheduler: )""/, '$1"lc"'));
    assert.deepEqual(writes(), ['PATCH /api/v1/namespaces/kube-system/configmaps/kube-proxy', 'PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy']);
    assert.match(r.stdout, /^ {2}ok {4}k8s-cp-01 {2}runs ipvs$/m);
    assert.match(r.stdout, /^ {2}ok {4}k8s-node-02 {2}runs ipvs$/m);
    assert.match(r.stderr, /^switched to ipvs: 3 nodes verified; the previous configuration is in .*\.json\.$/m);
    const [file] = readdirSync(backups);
    const backup = JSON.parse(readFileSync(join(backups, file), 'utf8'));
    assert.equal(backup.text, KUBEADM_CONF, 'the backup holds config.conf exactly as it was');
  });

  it('switching to ipvs probes each node\'s IPVS modules with a pod first (deleted after); a node without ip_vs is refused, nothing changed', async () => {
    scenario.noIpvs = ['k8s-node-02'];
    const r = await run(['ipvs', '--yes', '--timeout', '20s']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual([...probes.values()].map((p) => p.node).sort(), ['k8s-cp-01', 'k8s-node-01', 'k8s-node-02']);
    assert.ok([...probes.values()].every((p) => p.deleted), 'every probe pod was deleted');
    assert.match(r.stdout, /^ {2}FAIL {2}k8s-node-02 .*\n {8}refused: the node has no ip_vs kernel module \(a probe pod found it neither loaded, built into kernel 6\.8\.0-45-generic, nor in its modules\.dep\), which kube-proxy's ipvs mode needs\.$/m);
    assert.doesNotMatch(r.stdout, /k8s-node-01 .*\n {8}.*IPVS kernel modules/);
    assert.match(r.stderr, /pre-flight refused ipvs on k8s-node-02; nothing was changed/);
    assert.deepEqual(writes(), []);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
  });

  it('--no-probe: no probe pod; the pre-flight only warns that the modules are not proven', async () => {
    const r = await run(['ipvs', '--dry-run', '--no-probe']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(probes.size, 0);
    assert.match(r.stdout, /whether the node has the IPVS kernel modules \(ip_vs, ip_vs_rr, nf_conntrack\) is not proven: it was not probed/);
  });

  it('--dry-run shows the report and the diff, and writes nothing', async () => {
    const r = await run(['ipvs', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(writes(), []);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    assert.match(r.stdout, /^EQUIVALENCE$/m);
    assert.match(r.stdout, /^ {2}-mode: ""$/m);
    assert.match(r.stdout, /^ {2}\+mode: "ipvs"$/m);
    assert.match(r.stderr, /^dry run: nothing was written\./m);
    assert.deepEqual(readdirSync(backups), []);
  });

  it('-o json gives the plan as data', async () => {
    const r = await run(['ipvs', '--dry-run', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.where.kind, 'configmap');
    assert.equal(plan.current.mode, 'iptables');
    assert.equal(plan.equivalence.available, true);
    assert.ok(plan.equivalence.pathsTraced > 0);
    assert.deepEqual(plan.preflight.nodes.map((n: { node: string }) => n.node), ['k8s-cp-01', 'k8s-node-01', 'k8s-node-02']);
  });

  it('a 409 conflict: reads again and retries once', async () => {
    scenario.conflicts = 1;
    const r = await run(['ipvs', '--yes', '--timeout', '20s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(seen.filter((s) => s === 'PATCH /api/v1/namespaces/kube-system/configmaps/kube-proxy').length, 2);
    assert.equal(modeOf(cm.data['config.conf']), 'ipvs');
  });

  it('two 409 conflicts: stops with one sentence, nothing changed, no restart', async () => {
    scenario.conflicts = 2;
    const r = await run(['ipvs', '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: ConfigMap kube-system\/kube-proxy config\.conf changed again while it was being written \(409 Conflict twice: someone else is editing it\); nothing was changed — run the command again once they are done\.$/m);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    assert.ok(!seen.includes('PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy'));
  });

  for (const resource of ['configmaps', 'daemonsets']) {
    it(`RBAC refuses patch ${resource}: named, nothing changed`, async () => {
      scenario.forbid = [`patch ${resource}`];
      const r = await run(['ipvs', '--yes']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: forbidden: you may not patch ${resource} "kube-proxy" in namespace "kube-system" \\(RBAC\\).*grant "patch" on "${resource}"`, 'm'));
      assert.deepEqual(writes(), []);
      assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    });
  }

  it('without SelfSubjectAccessReview, a refused PATCH of the ConfigMap names the verb and resource; nothing changed', async () => {
    scenario.noAccessReview = true;
    scenario.forbid = ['patch configmaps'];
    const r = await run(['ipvs', '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: forbidden: user "jane" may not patch configmaps "kube-proxy" in namespace "kube-system" \(RBAC\); ask a cluster admin to grant "patch" on "configmaps" in namespace "kube-system"\.$/m);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    assert.ok(!seen.includes('PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy'));
  });

  it('without SelfSubjectAccessReview, a refused restart puts the ConfigMap back and says so', async () => {
    scenario.noAccessReview = true;
    scenario.forbid = ['patch daemonsets'];
    const r = await run(['ipvs', '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: forbidden: user "jane" may not patch daemonsets "kube-proxy" in namespace "kube-system" \(RBAC\); ask a cluster admin to grant "patch" on "daemonsets" in namespace "kube-system"; the ConfigMap was restored, so nothing was changed\.$/m);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    assert.equal(seen.filter((x) => x === 'PATCH /api/v1/namespaces/kube-system/configmaps/kube-proxy').length, 2, 'written, then restored');
  });

  it('MetalLB installed and switching to ipvs: strictARP is named', async () => {
    scenario.metallb = true;
    const r = await run(['ipvs', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}warn {2}MetalLB is installed \(namespace metallb-system\) and needs ipvs\.strictARP: true/m);
    scenario.metallb = false;
    const without = await run(['ipvs', '--dry-run']);
    assert.doesNotMatch(without.stdout, /MetalLB/);
  });

  it('no kube-proxy pod to verify with: nothing changed', async () => {
    pods = [];
    const r = await run(['ipvs', '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: no kube-proxy pod of DaemonSet kube-system\/kube-proxy runs in namespace kube-system \(labels k8s-app=kube-proxy or component=kube-proxy\), so no node could be verified after the switch; nothing was changed\.$/m);
    assert.deepEqual(writes(), []);
  });

  it('a stuck rollout: rolled back within --timeout, naming the nodes and why', async () => {
    scenario.stuck = true;
    const r = await run(['ipvs', '--yes', '--timeout', '3s']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF, 'the ConfigMap is restored');
    assert.equal(seen.filter((s) => s === 'PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy').length, 2, 'restarted, then restarted again after the restore');
    assert.match(r.stderr, /^error: not every node came up in ipvs within 3s: k8s-cp-01 \(no new kube-proxy pod has started on this node\); k8s-node-01 .*; rolled back to the previous configuration\.$/m);
  });

  it('a node whose kube-proxy crash-loops in the new mode: rolled back, the crash named', async () => {
    scenario.badNodes = ['k8s-node-02'];
    const r = await run(['ipvs', '--yes', '--timeout', '4s']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /k8s-node-02 \(kube-proxy pod kube-proxy-new\d+ exits: can't use the IPVS proxier: .*CrashLoopBackOff, 3 restarts\)/);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
  });

  it('--no-rollback leaves the change and says how to undo; --rollback then restores it', async () => {
    scenario.stuck = true;
    const r = await run(['ipvs', '--yes', '--timeout', '2s', '--no-rollback']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(modeOf(cm.data['config.conf']), 'ipvs');
    assert.match(r.stderr, /left as it is \(--no-rollback\); undo with kubectl proxymode set --rollback --backup-dir /);
    scenario.stuck = false;
    const back = await proxymodeAsync(['set', '--rollback', '--kubeconfig', kubeconfig, '--backup-dir', backups, '--timeout', '10s'], { env: cleanEnv() });
    assert.equal(back.code, 0, back.stderr);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    assert.match(back.stdout, /^Restored ConfigMap kube-system\/kube-proxy config\.conf from the backup taken .* and restarted kube-proxy; the rollout finished\.$/m);
  });

  it('Ctrl-C during the rollout says what state the cluster is in and how to finish or roll back (exit 130)', async () => {
    scenario.stuck = true;
    backups = mkdtempSync(join(tmpdir(), 'proxymode-backups-'));
    const r = await new Promise<Result>((resolve, reject) => {
      const child = spawn(BIN, ['set', 'ipvs', '--yes', '--timeout', '20s', '--kubeconfig', kubeconfig, '--backup-dir', backups], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const deadline = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`timed out; stderr so far: ${stderr}`));
      }, 25_000);
      const poll = setInterval(() => {
        if (seen.includes('PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      }, 20);
      child.on('exit', (code) => {
        clearTimeout(deadline);
        setTimeout(() => resolve({ code, stdout, stderr }), 50);
      });
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /^interrupted during the switch: ConfigMap kube-system\/kube-proxy config\.conf already holds mode ipvs \(backup: .*\.json\) and kube-proxy is restarting, so some nodes may still run iptables; to finish, run kubectl -n kube-system rollout status ds\/kube-proxy and then kubectl proxymode get; to undo, run kubectl proxymode set --rollback --backup-dir .*\.$/m);
    assert.equal(modeOf(cm.data['config.conf']), 'ipvs', 'nothing is undone behind the user\'s back');
  });

  it('a DaemonSet --proxy-mode flag overrides config.conf: the flag is changed instead, the ConfigMap left alone', async () => {
    ds.spec.template.spec.containers[0].command = [...ds.spec.template.spec.containers[0].command, '--proxy-mode=iptables'];
    const r = await run(['ipvs', '--yes', '--timeout', '20s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DaemonSet kube-system\/kube-proxy flag --proxy-mode=iptables — the DaemonSet's --proxy-mode flag overrides the mode in kube-proxy's configuration file, so the flag is changed there instead/);
    assert.deepEqual(ds.spec.template.spec.containers[0].command.slice(-1), ['--proxy-mode=ipvs']);
    assert.equal(cm.data['config.conf'], KUBEADM_CONF);
    assert.deepEqual(writes(), ['PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy'], 'changing the template rolls the pods by itself: no extra restart');
    const [file] = readdirSync(backups);
    assert.deepEqual(JSON.parse(readFileSync(join(backups, file), 'utf8')).containers[0].command.slice(-1), ['--proxy-mode=iptables']);
  });

  it('an unproven switch without --yes and without a terminal: stops, nothing changed', async (t) => {
    // A mode the registry has no definition of cannot be compared: the switch is unproven.
    const { registeredModes } = await import('../../src/core/modes/registry.js');
    const unproven = ['nftables'].find((m) => !registeredModes().some((d) => d.mode === m));
    if (!unproven) return t.skip('every mode this cluster can run is registered; the equivalence tests cover differences');
    const r = await run([unproven]);
    assert.match(r.stdout, new RegExp(`^ {2}${unproven} mode has no definition in this version`, 'm'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /nothing was changed — add --yes to switch anyway\.$/m);
    assert.deepEqual(writes(), []);
  });

  const variants: Array<[string, string, string]> = [
    ['comments and odd indentation', 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n# the platform team owns this file\nclusterCIDR: 192.168.0.0/16   # Calico\nipvs:\n      scheduler: ""\n      strictARP: true\nmode:    "" # iptables by default\n', 'mode:    "ipvs" # iptables by default'],
    ['CRLF line ends', 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\r\nkind: KubeProxyConfiguration\r\nclusterCIDR: 192.168.0.0/16\r\nmode: iptables\r\n', 'mode: ipvs\r\n'],
    ['config.conf written as JSON', '{\n  "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",\n  "kind": "KubeProxyConfiguration",\n  "clusterCIDR": "192.168.0.0/16",\n  "mode": "iptables"\n}\n', '"mode": "ipvs"'],
  ];
  for (const [what, conf, expected] of variants) {
    it(`keeps every other byte of a config.conf with ${what}`, async () => {
      reset(conf);
      const r = await run(['ipvs', '--yes', '--timeout', '20s']);
      assert.equal(r.code, 0, r.stderr);
      const now: string = cm.data['config.conf'];
      assert.ok(now.includes(expected), JSON.stringify(now));
      const old = conf.includes('"mode": "iptables"') ? '"mode": "iptables"' : conf.includes('mode: iptables') ? 'mode: iptables' : 'mode:    ""';
      const oldFull = conf.includes('mode:    ""') ? 'mode:    "" # iptables by default' : conf.includes('mode: iptables\r\n') ? 'mode: iptables\r\n' : old;
      assert.equal(now, conf.replace(oldFull, expected));
    });
  }
});
