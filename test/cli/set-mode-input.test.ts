// set-mode's bad input: one sentence on stderr, exit 2, nothing read from a cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxymode } from './run.js';

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

  it('kernelspace on Linux nodes is refused by the pre-flight (exit 1), offline', () => {
    const r = proxymode(['set', 'kernelspace', '-f', 'examples/', '--dry-run']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /refused: kube-proxy on linux has no kernelspace mode/);
    assert.match(r.stderr, /^pre-flight refused kernelspace on cp-1, worker-1, worker-2; nothing was changed — fix what it names, or add --force to switch anyway\.$/m);
  });
});
