// nfacct counters kube-proxy's rules reference: found in restore text, created when missing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostCommandError, KUBE_PROXY_NFACCT_COUNTERS, ensureNfacct, nfacctNamesIn, parseNfacctList } from '../../../src/core/host/index.js';
import { scripted } from './scripted.js';

const LIST = '{ pkts = 00000000000000000000, bytes = 00000000000000000000 } = ct_state_invalid_dropped_pkts;\n{ pkts = 00000000000000000012, bytes = 00000000000000000720 } = other;\n';

describe('nfacct', () => {
  it('finds the counters restore text references, once each', () => {
    const text = [
      '*filter',
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
      '-A KUBE-NODEPORTS -m nfacct --nfacct-name "localhost_nps_accepted_pkts" -j ACCEPT',
      '-A KUBE-X -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
      'COMMIT',
    ].join('\n');
    assert.deepEqual(nfacctNamesIn(text), [...KUBE_PROXY_NFACCT_COUNTERS]);
  });

  it('parses `nfacct list`', () => {
    assert.deepEqual(parseNfacctList(LIST), ['ct_state_invalid_dropped_pkts', 'other']);
  });

  it('creates only the missing counters, and tolerates one created meanwhile (EBUSY)', async () => {
    const s = scripted([
      { argv: ['nfacct', 'list'], result: { stdout: LIST } },
      { argv: ['nfacct', 'add', 'localhost_nps_accepted_pkts'] },
      { argv: ['nfacct', 'add', 'raced'], result: { code: 1, stderr: 'nfacct v1.0.2: error: Device or resource busy\n' } },
    ]);
    assert.deepEqual(await ensureNfacct(s.run, [...KUBE_PROXY_NFACCT_COUNTERS, 'raced']), ['localhost_nps_accepted_pkts']);
    s.done();
  });

  it('nothing to ensure runs nothing; a failure is one sentence', async () => {
    const none = scripted([]);
    assert.deepEqual(await ensureNfacct(none.run, []), []);
    const s = scripted([{ argv: ['nfacct', 'list'], result: { code: 127, stderr: 'spawn nfacct ENOENT\n' } }]);
    await assert.rejects(ensureNfacct(s.run, ['x']), (e: unknown) => {
      assert.ok(e instanceof HostCommandError);
      assert.equal(e.message, 'nfacct is not installed on the node (or not in its PATH), so the nfacct counters could not be listed; install it and try again.');
      return true;
    });
    const bad = scripted([
      { argv: ['nfacct', 'list'] },
      { argv: ['nfacct', 'add', 'x'], result: { code: 1, stderr: 'nfacct v1.0.2: error: Operation not permitted\n' } },
    ]);
    await assert.rejects(ensureNfacct(bad.run, ['x']), /^HostCommandError: `nfacct add x` failed \(exit 1: nfacct v1\.0\.2: error: Operation not permitted\)\.$/);
  });
});
