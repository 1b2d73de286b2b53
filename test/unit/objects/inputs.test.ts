import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverrides, defaultConfig } from '../../../src/core/config/load.js';
import { missingInputsWarning } from '../../../src/core/objects/inputs.js';

describe('missingInputsWarning', () => {
  it('nothing missing: nothing said', () => {
    assert.equal(missingInputsWarning('files a', [], defaultConfig()), undefined);
  });

  it('one sentence naming each missing kind, what stands in, and how to save it', () => {
    const w = missingInputsWarning('files a.yaml', ['ConfigMap', 'Node'], defaultConfig())!;
    assert.equal(w, "files a.yaml hold no kube-proxy ConfigMap (kube-system/kube-proxy, or kube-proxy-config on EKS) or Nodes, so kube-proxy's built-in defaults stand in for its configuration (mode iptables, clusterCIDR unset); no node addresses or node-local endpoints are known; save them beside the other files (`kubectl -n kube-system get configmap kube-proxy -o yaml`, `kubectl get nodes -o yaml`, each to its own file) for a true answer.");
  });

  it('says when the mode came from --mode', () => {
    const w = missingInputsWarning('files a.yaml', ['ConfigMap'], applyOverrides(defaultConfig(), { mode: 'ipvs' }))!;
    assert.match(w, /\(mode ipvs from --mode, clusterCIDR unset\)/);
  });
});
