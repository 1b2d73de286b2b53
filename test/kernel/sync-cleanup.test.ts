// `sync --cleanup` (the BUILT CLI) against the ipvs mode's leftovers in the harness's node namespace:
//   kube-ipvs0, a dummy link, goes with its service addresses while another dummy link stays — skipped
//   with its reason where the kernel has no dummy links (this VM's);
//   a kube-ipvs0 that is not a dummy (a bridge by that name) is not kube-proxy's: it stays, and is said;
//   kube-proxy's IPVS virtual servers go and others stay — skipped with its reason where the kernel has
//   no IP_VS (ipvsadm cannot initialize it, so no virtual server can exist to be removed).
// Every namespace is removed even when an assertion fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import test, { before } from 'node:test';
import { announceSkip, exec, execOk, kernelSkipReason, withTopology, cli, ensureBuiltCli } from './harness/index.js';

const skip = announceSkip(kernelSkipReason(['ip', 'ipset']), 'sync --cleanup (ipvs leftovers)');

before(() => ensureBuiltCli(skip));

/** Why the IPVS part cannot run here (ipvsadm's own first line), or undefined when it can. */
function ipvsSkipReason(): string | undefined {
  if (skip) return skip;
  const r = spawnSync('ipvsadm', ['-Ln'], { encoding: 'utf8' });
  if (r.error) return 'ipvsadm is not installed';
  if (r.status !== 0) return `this kernel has no IP_VS (ipvsadm -Ln: ${r.stderr.split('\n')[0]!.trim()}), so no virtual server can be made to be removed`;
  return undefined;
}

test('sync --cleanup removes kube-ipvs0 and its addresses, not another dummy link', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 1 }, async (topo) => {
    const node = topo.node.ns;
    const made = await exec(node, ['ip', 'link', 'add', 'kube-ipvs0', 'type', 'dummy']);
    if (made.code !== 0) {
      t.skip(`this kernel makes no dummy links (ip link add … type dummy: ${made.stderr.trim()})`);
      return;
    }
    await execOk(node, ['ip', 'addr', 'add', '10.96.0.10/32', 'dev', 'kube-ipvs0']);
    await execOk(node, ['ip', 'addr', 'add', '10.96.0.11/32', 'dev', 'kube-ipvs0']);
    await execOk(node, ['ip', 'link', 'add', 'other0', 'type', 'dummy']);
    await execOk(node, ['ip', 'addr', 'add', '10.96.0.12/32', 'dev', 'other0']);
    const r = cli(['sync', '--cleanup', '--netns', node]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}kube-ipvs0 with 2 service addresses$/m);
    assert.notEqual((await exec(node, ['ip', 'link', 'show', 'dev', 'kube-ipvs0'])).code, 0, 'kube-ipvs0 is gone');
    assert.match((await execOk(node, ['ip', '-o', 'addr', 'show', 'dev', 'other0'])).stdout, /inet 10\.96\.0\.12\/32/);
    const again = cli(['sync', '--cleanup', '--netns', node]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /holds nothing of kube-proxy's/);
  });
});

test('sync --cleanup leaves a kube-ipvs0 that is not a dummy link, and says so', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 1 }, async (topo) => {
    const node = topo.node.ns;
    await execOk(node, ['ip', 'link', 'add', 'kube-ipvs0', 'type', 'bridge']);
    await execOk(node, ['ip', 'addr', 'add', '10.96.0.10/32', 'dev', 'kube-ipvs0']);
    const r = cli(['sync', '--cleanup', '--netns', node]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /holds nothing of kube-proxy's/);
    assert.match(r.stderr, /^sync: kube-ipvs0 is a bridge link, not the dummy kube-proxy makes: left in place\.$/m);
    assert.match((await execOk(node, ['ip', '-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout, /inet 10\.96\.0\.10\/32/);
  });
});

test('sync --cleanup removes kube-proxy\'s IPVS virtual servers and keeps others', { skip: ipvsSkipReason(), timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 1 }, async (topo) => {
    const node = topo.node.ns;
    const nodeIP = topo.node.ipv4;
    const made = await exec(node, ['ip', 'link', 'add', 'kube-ipvs0', 'type', 'dummy']);
    if (made.code !== 0) {
      t.skip(`this kernel makes no dummy links (ip link add … type dummy: ${made.stderr.trim()})`);
      return;
    }
    await execOk(node, ['ip', 'addr', 'add', '10.96.0.10/32', 'dev', 'kube-ipvs0']);
    await execOk(node, ['ipset', 'create', 'KUBE-NODE-PORT-TCP', 'bitmap:port', 'range', '0-65535']);
    await execOk(node, ['ipset', 'add', 'KUBE-NODE-PORT-TCP', '30080']);
    const table = [`-A -t 10.96.0.10:80 -s rr`, `-a -t 10.96.0.10:80 -r 10.244.0.5:80 -m`, `-A -t ${nodeIP}:30080 -s rr`, `-A -t ${nodeIP}:8443 -s wlc`, ''].join('\n');
    await execOk(node, ['ipvsadm', '-R'], table);
    try {
      const r = cli(['sync', '--cleanup', '--netns', node]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /2 IPVS virtual servers of kube-proxy/);
      assert.match(r.stderr, /1 IPVS virtual server not made by kube-proxy left in place/);
      const left = (await execOk(node, ['ipvsadm', '-Sn'])).stdout.split('\n').filter((l) => l.startsWith('-A'));
      assert.deepEqual(left, [`-A -t ${nodeIP}:8443 -s wlc`]);
    } finally {
      await exec(node, ['ipvsadm', '-C']); // IPVS state lives in the namespace; cleared before it goes
    }
  });
});
