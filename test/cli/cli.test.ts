// The built executable, as a user runs it: help, the demo on examples/, errors and exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, proxymode } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-cli-'));

describe('help and version', () => {
  it('root help says `kubectl proxymode` and lists every command, and get and set as users type them (issue 12)', () => {
    const r = proxymode(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\$ kubectl proxymode \[COMMAND\]/);
    for (const cmd of ['mode', 'rules', 'trace', 'set-mode', 'sync', 'version']) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), cmd);
    assert.match(r.stdout, /^  get\b/m);
    assert.match(r.stdout, /^  set\b/m);
    assert.doesNotMatch(r.stdout, /\$ kubectl-proxymode/);
  });

  it('`get` and `set` are aliases of mode and set-mode', () => {
    const get = proxymode(['get', '--help']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^  \$ kubectl proxymode get \[NODE\.\.\.\]/m);
    assert.match(get.stdout, /ALIASES\n\s+\$ kubectl proxymode get/);
    assert.equal(get.stdout.replace(/proxymode get/g, 'proxymode mode'), proxymode(['mode', '--help']).stdout.replace(/proxymode get/g, 'proxymode mode'));
    const set = proxymode(['set', '--help']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^  \$ kubectl proxymode set MODE/m);
  });

  it('version prints the package version, as text and as JSON', () => {
    const pkg = JSON.parse(proxymode(['version', '-o', 'json']).stdout);
    assert.match(pkg.version, /^\d+\.\d+\.\d+/);
    assert.equal(proxymode(['version']).stdout.trim().startsWith(`kubectl-proxymode v${pkg.version}`), true);
  });
});

describe('mode (get) on examples/', () => {
  it('shows the configured mode from the kube-proxy ConfigMap for every node', () => {
    const r = proxymode(['get', '-f', 'examples/']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('NODE'));
    assert.ok(header, r.stdout);
    assert.match(header!, /^NODE\s{3,}CONFIGURED\s{3,}RUNNING\s{3,}SCHEDULER\s{3,}KUBE-PROXY\s{3,}STATUS$/);
    for (const node of ['cp-1', 'worker-1']) {
      assert.match(r.stdout, new RegExp(`^${node}\\s+ipvs\\s+ipvs\\s+rr\\s+v1\\.31\\.4\\s+Running$`, 'm'), node);
    }
    // worker-2's kube-proxy crash-loops: IPVS is missing and kube-proxy ≥ 1.25 no longer falls back.
    assert.match(r.stdout, /^worker-2\s+ipvs\s+none\s+rr\s+v1\.31\.4\s+CrashLoopBackOff$/m);
    assert.match(r.stdout, /^Note: worker-2: configured ipvs, running none: IPVS modules missing on this node; .*can't use the IPVS proxier: no such file or directory/m);
    assert.match(r.stdout, /ConfigMap kube-system\/kube-proxy/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when piped');
  });

  it('-o json is one valid object naming the configured mode, and nothing else on stdout', () => {
    const r = proxymode(['get', '-f', 'examples/', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.configuration.mode, 'ipvs');
    assert.equal(report.configuration.scheduler, 'rr');
    assert.deepEqual(report.nodes.map((n: { node: string }) => n.node), ['cp-1', 'worker-1', 'worker-2']);
    assert.deepEqual(report.nodes.map((n: { running: string }) => n.running), ['ipvs', 'ipvs', 'none']);
    assert.deepEqual(report.nodes.map((n: { mismatch: boolean }) => n.mismatch), [false, false, true]);
    assert.equal(report.nodes[2].restarts, 12);
    assert.equal(report.nodes[2].pod, 'kube-system/kube-proxy-rk4zt');
  });

  it('-o yaml parses back to the same report as -o json', async () => {
    const { parse } = await import('yaml');
    const y = proxymode(['get', '-f', 'examples/', '-o', 'yaml']);
    const j = proxymode(['get', '-f', 'examples/', '-o', 'json']);
    assert.deepEqual(parse(y.stdout), JSON.parse(j.stdout));
  });

  it('--mode overrides the configured mode; an empty mode shows as the default iptables', () => {
    const r = proxymode(['get', '-f', 'examples/', '--mode', 'nftables', '-o', 'json']);
    assert.equal(JSON.parse(r.stdout).configuration.mode, 'nftables');
    const bare = join(tmp, 'bare.yaml');
    writeFileSync(bare, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ""\n');
    const d = proxymode(['get', '-f', 'examples/nodes.yaml', '--config', bare]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^worker-1\s+iptables \(default\)\s/m);
  });

  it('--check exits 1 when a node runs another mode than configured, 0 when all agree', () => {
    const bad = proxymode(['get', '-f', 'examples/', '--check']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /CrashLoopBackOff/);
    const good = proxymode(['get', 'cp-1', 'worker-1', '-f', 'examples/', '--check']);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stderr, /^check passed: 2 nodes checked, 2 as configured, 0 mismatched, 0 unknown\.$/m);
    // Without saved Pods nothing shows the running mode: unknown is not a pass.
    const noPods = proxymode(['get', '-f', 'examples/nodes.yaml', '-f', 'examples/kube-proxy-configmap.yaml', '--check', '-o', 'json']);
    assert.equal(noPods.code, 1, noPods.stderr);
    assert.ok(JSON.parse(noPods.stdout).nodes.every((n: { running: null }) => n.running === null));
    assert.match(noPods.stderr, /^check FAILED: 3 nodes checked, 0 as configured, 0 mismatched, 3 unknown \(cp-1, worker-1, worker-2\)\.$/m);
  });

  it('-o wide shows pod, restarts, evidence and notes per node', () => {
    const r = proxymode(['get', '-f', 'examples/', '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NODE\s+CONFIGURED\s+RUNNING\s+SCHEDULER\s+KUBE-PROXY\s+STATUS\s+POD\s+RESTARTS\s+EVIDENCE\s+NOTES$/m);
    assert.match(r.stdout, /^worker-2\s+ipvs\s+none\s+rr\s+v1\.31\.4\s+CrashLoopBackOff\s+kube-system\/kube-proxy-rk4zt\s+12\s+log\s+configured ipvs, running none/m);
  });

  it('narrows to named nodes, and names the unknown one', () => {
    const r = proxymode(['get', 'worker-2', '-f', 'examples/', '-o', 'json']);
    assert.deepEqual(JSON.parse(r.stdout).nodes.map((n: { node: string }) => n.node), ['worker-2']);
    const bad = proxymode(['get', 'worker-9', '-f', 'examples/']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: node "worker-9" not found in files examples\/ \(nodes: cp-1, worker-1, worker-2\); check the name\.\n$/);
  });

  it('reads objects from stdin with -f -', () => {
    const r = proxymode(['get', '-f', '-', '-o', 'json'], {
      input: 'apiVersion: v1\nkind: Node\nmetadata: {name: solo}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: nftables\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.configuration.mode, 'nftables');
    assert.deepEqual(report.nodes.map((n: { node: string }) => n.node), ['solo']);
  });

  it('colours only on a TTY: FORCE_COLOR alone does not colour a pipe', () => {
    const r = proxymode(['get', '-f', 'examples/', '--mode', 'ipvs'], { env: cleanEnv({ FORCE_COLOR: '1' }) });
    assert.doesNotMatch(r.stdout, /\x1b\[/);
  });
});

describe('errors: one sentence, the right exit code, no stack', () => {
  function assertOneSentence(stderr: string): void {
    assert.match(stderr, /^error: [^\n]+\.\n$/, stderr);
    assert.doesNotMatch(stderr, /\n\s+at /);
  }

  it('malformed YAML names the file and line (exit 2)', () => {
    const f = join(tmp, 'broken.yaml');
    writeFileSync(f, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [80\n');
    const r = proxymode(['get', '-f', f]);
    assert.equal(r.code, 2);
    assertOneSentence(r.stderr);
    assert.match(r.stderr, new RegExp(`^error: ${f.replace(/[.]/g, '\\.')}:6: malformed YAML`));
  });

  it('a missing -f path says so (exit 2)', () => {
    const r = proxymode(['get', '-f', 'no/such/dir']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: the path "no/such/dir" does not exist; check the -f argument.\n');
  });

  it('an unknown mode lists the valid ones (exit 2), for get and set', () => {
    const r = proxymode(['get', '-f', 'examples/', '--mode', 'ipsv']);
    assert.equal(r.code, 2);
    assertOneSentence(r.stderr);
    assert.equal(r.stderr, 'error: --mode "ipsv" is not a proxy mode; use one of iptables, ipvs, nftables, kernelspace, userspace.\n');
    const s = proxymode(['set', 'ipsv']);
    assert.equal(s.code, 2);
    assert.equal(s.stderr, 'error: MODE "ipsv" is not a proxy mode; use one of iptables, ipvs, nftables, kernelspace, userspace.\n');
  });

  it('flags that exclude each other name both, in one sentence (exit 2), not oclif\'s bare "The following error occurred:"', () => {
    const r = proxymode(['rules', '-A', '-n', 'shop', '-f', 'examples/']);
    assert.equal(r.code, 2);
    assertOneSentence(r.stderr);
    assert.equal(r.stderr, "error: --namespace=shop cannot also be provided when using --all-namespaces; see 'kubectl proxymode rules --help'.\n");
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    const r = proxymode(['get', '--frobnicate']);
    assert.equal(r.code, 2);
    assertOneSentence(r.stderr);
  });

  it('an unreachable cluster says which server and what to do (exit 3)', () => {
    const kc = join(tmp, 'kubeconfig-closed');
    writeFileSync(kc, kubeconfigFor('http://127.0.0.1:9'));
    const r = proxymode(['get', '--kubeconfig', kc]);
    assert.equal(r.code, 3);
    assertOneSentence(r.stderr);
    assert.match(r.stderr, /cannot reach the cluster at http:\/\/127\.0\.0\.1:9: connection refused/);
  });

  it('--debug adds the stack trace', () => {
    const r = proxymode(['get', '-f', 'no/such/dir', '--debug']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\n\s+at /);
  });

  it('trace refuses a malformed target before anything else', () => {
    const r = proxymode(['trace', 'web:port', '-f', 'examples/']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /target "web:port" is not svc\/NAME, NAMESPACE\/NAME or IP:PORT/);
  });
});

export function kubeconfigFor(server: string, extra = ''): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: c\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
    'users:',
    `- name: u\n  user:\n    token: t0ken${extra}`,
    'contexts:',
    '- name: test\n  context:\n    cluster: c\n    user: u',
    'current-context: test',
    '',
  ].join('\n');
}
