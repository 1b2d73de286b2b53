// set-mode's bad input: one sentence on stderr, exit 2, nothing read from a cluster.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { proxymode, ROOT } from './run.js';

/** examples/ with its ConfigMap saying iptables (it says ipvs). */
function examplesInIptablesMode(): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxymode-examples-'));
  cpSync(join(ROOT, 'examples'), dir, { recursive: true });
  const cm = join(dir, 'kube-proxy-configmap.yaml');
  const text = readFileSync(cm, 'utf8');
  assert.match(text, /^ {4}mode: ipvs$/m);
  writeFileSync(cm, text.replace(/^ {4}mode: ipvs$/m, '    mode: iptables'));
  return dir;
}

const cases: Array<[string[], RegExp]> = [
  [['set', 'ipsv'], /^error: MODE "ipsv" is not a proxy mode; use one of iptables, ipvs, nftables, kernelspace, userspace\.\n$/],
  [['set'], /^error: set-mode needs a MODE: one of iptables, ipvs, nftables, kernelspace, userspace \(or --rollback\)\.\n$/],
  [['set', 'ipvs', '--scheduler', 'fifo'], /^error: --scheduler "fifo" is not an IPVS scheduler; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh\.\n$/],
  [['set', 'nftables', '--scheduler', 'rr'], /^error: --scheduler is for ipvs mode only; leave it out when switching to nftables\.\n$/],
  [['set', 'ipvs', '-f', 'examples/'], /^error: with -f there is no cluster to change; add --dry-run to see the plan for the saved objects\.\n$/],
  [['set', 'ipvs', '-f', 'examples/', '--dry-run', '--timeout', 'soon'], /^error: --timeout "soon" is not a positive duration; use a value like 90s or 5m\.\n$/],
  [['set', 'ipvs', '--rollback'], /^error: --rollback restores the last backup and takes no MODE; leave MODE out\.\n$/],
  [['set', '--rollback', '-f', 'examples/'], /^error: --rollback changes the cluster and cannot work on -f files\.\n$/],
];

describe('set-mode bad input', () => {
  for (const [args, message] of cases) {
    it(args.join(' '), () => {
      const r = proxymode(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }

  const manual: Array<[string, RegExp]> = [
    ['eks', /^ {4}aws eks update-addon --cluster-name shop-prod --addon-name kube-proxy --configuration-values '\{"mode":"nftables"\}' --resolve-conflicts OVERWRITE$/m],
    ['aks', /^ {4}echo '\{"enabled":true,"mode":"NFTABLES"\}' > kube-proxy\.json\n {4}az aks update --resource-group RESOURCE_GROUP --name CLUSTER --kube-proxy-config kube-proxy\.json$/m],
    ['gke', /GKE runs kube-proxy as a static pod whose mode is not configurable, and Dataplane V2 clusters have no kube-proxy at all/],
    ['k3s', /^ {4}--kube-proxy-arg=proxy-mode=nftables$/m],
    ['kind', /^ {4}# {5}kubeProxyMode: "nftables"$/m],
  ];
  for (const [dist, says] of manual) {
    it(`${dist}: nothing changed, what to run printed (exit 1)`, () => {
      const r = proxymode(['set', 'nftables', '-f', `test/kube/fixtures/${dist}`, '--dry-run']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, says);
      assert.match(r.stdout, /^ {2}Nothing was changed\. Run this instead:$/m);
      assert.match(r.stderr, /kube-proxy's mode cannot be changed through the API; nothing was changed — run the commands above\.$/m);
    });
  }

  it('the equivalence report on examples/ for iptables -> ipvs: worker-2 refused by pre-flight, the report and the diff as data', () => {
    const dir = examplesInIptablesMode();
    const refused = proxymode(['set', 'ipvs', '-f', dir, '--dry-run']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stdout, /^ {2}FAIL {2}worker-2 .*\n {8}refused: this node's kube-proxy already could not use IPVS: .*IPVS modules missing/m);
    const r = proxymode(['set', 'ipvs', '-f', dir, '--dry-run', '--force', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.current.mode, 'iptables');
    assert.equal(plan.equivalence.current, 'iptables');
    assert.equal(plan.equivalence.target, 'ipvs');
    assert.deepEqual(plan.equivalence.nodes, ['cp-1', 'worker-1', 'worker-2']);
    assert.ok(plan.equivalence.pathsTraced > 100);
    const paths = plan.equivalence.groups.flatMap((g: { paths: Array<{ via: string; from: string; aspect: string }> }) => g.paths);
    assert.equal(paths.length, plan.equivalence.groups.reduce((n: number, g: { paths: unknown[] }) => n + g.paths.length, 0));
    // A pod reaching a cluster IP is handled alike by both modes' rules in examples/.
    assert.deepEqual(paths.filter((p: { via: string; from: string; aspect: string }) => p.via === 'cluster IP' && p.from === 'a pod' && p.aspect !== 'odds'), []);
    assert.match(plan.change.diff, /^-    mode: iptables$|^-mode: iptables$/m);
    assert.match(plan.change.diff, /^\+mode: ipvs$/m);
    assert.equal(plan.outcome, 'dry run: nothing written');
  });

  it('kernelspace on Linux nodes is refused by the pre-flight (exit 1), offline', () => {
    const r = proxymode(['set', 'kernelspace', '-f', 'examples/', '--dry-run']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /refused: kube-proxy on linux has no kernelspace mode/);
    assert.match(r.stderr, /^pre-flight refused kernelspace on cp-1, worker-1, worker-2; nothing was changed — fix what it names, or add --force to switch anyway\.$/m);
  });
});
