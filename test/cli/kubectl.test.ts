// Through the real kubectl: with our executable's folder on PATH, `kubectl proxymode …` runs it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasKubectl, kubectl } from './run.js';

const skip = hasKubectl() ? false : 'kubectl is not installed (apt-get install kubernetes-client, or .ci/run does it)';
if (skip) console.log(`# SKIP kubectl tests: ${skip}`);

describe('through kubectl', { skip }, () => {
  it('kubectl plugin list finds kubectl-proxymode on PATH', () => {
    const r = kubectl(['plugin', 'list']);
    assert.match(r.stdout, /\/kubectl-proxymode\n/, r.stdout + r.stderr);
  });

  it('kubectl proxymode --help shows our help, named as kubectl users type it', () => {
    const r = kubectl(['proxymode', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\$ kubectl proxymode \[COMMAND\]/);
  });

  it('kubectl proxymode get -f examples/ shows the configured mode', () => {
    const r = kubectl(['proxymode', 'get', '-f', 'examples/', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).configuration.mode, 'ipvs');
  });

  it('exit codes and the error sentence pass through kubectl unchanged', () => {
    const r = kubectl(['proxymode', 'get', '-f', 'examples/', '--mode', 'ipsv']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: .*"ipsv".*\n$/);
  });
});
