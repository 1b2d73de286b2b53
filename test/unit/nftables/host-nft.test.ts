// host/nft.ts through a scripted runner: the commands it runs, nft's refusal turned into one sentence
// naming the line, kube-proxy's support probe, reading the table back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NftCommandBackend, NftTransactionError, refusedLine, versionAtLeast } from '../../../src/core/host/nft.js';
import { scripted } from '../host/scripted.js';

const STDERR = '/dev/stdin:2:40-52: Error: Could not process rule: No such file or directory\nadd rule ip kube-proxy services jump no-such-chain\n                                       ^^^^^^^^^^^^^\n';

describe('host nft backend', () => {
  it('applies a transaction as one nft -f - run', async () => {
    const r = scripted([{ argv: ['nft', '-f', '-'], stdin: 'add table ip kube-proxy\n' }]);
    await new NftCommandBackend(r.run).apply('add table ip kube-proxy\n');
    r.done();
  });
  it('a refused transaction names its line; nothing was applied', async () => {
    const text = 'add element ip kube-proxy cluster-ips { 10.96.0.77 }\nadd rule ip kube-proxy services jump no-such-chain\n';
    const r = scripted([{ argv: ['nft', '-f', '-'], result: { code: 1, stderr: STDERR } }]);
    await assert.rejects(new NftCommandBackend(r.run).apply(text), (e: unknown) => {
      assert.ok(e instanceof NftTransactionError);
      assert.equal(e.line, 2);
      assert.equal(e.message, 'nft refused line 2 of the transaction (`add rule ip kube-proxy services jump no-such-chain`): Could not process rule: No such file or directory; nothing was applied.');
      return true;
    });
  });
  it('a crashed nft (SIGSEGV, as 1.0.6 on a set a newer nft wrote) is said with its known cause, not as "no error output"', async () => {
    const r = scripted([{ argv: ['nft', '-f', '-'], result: { code: 139, stderr: 'killed by SIGSEGV\n' } }]);
    await assert.rejects(new NftCommandBackend(r.run).apply('add table ip kube-proxy\n'), (e: unknown) => {
      assert.equal((e as Error).message, '`nft -f -` failed (exit 139: killed by SIGSEGV); nft 1.0.6 and older crash so when a newer nft wrote a set in any table on this host (kubernetes#136786): use nft 1.0.6.1 or newer here.');
      return true;
    });
    const other = scripted([{ argv: ['nft', 'list', 'ruleset'], result: { code: 137, stderr: 'killed by SIGKILL\n' } }]);
    await assert.rejects(new NftCommandBackend(other.run).listRuleset(), /^Error: `nft list ruleset` failed \(exit 137: killed by SIGKILL\)\.$|failed \(exit 137: killed by SIGKILL\)\.$/);
  });
  it('checks without applying (nft -c)', async () => {
    const r = scripted([{ argv: ['nft', '-c', '-f', '-'] }]);
    await new NftCommandBackend(r.run).check('flush ruleset\n');
    r.done();
  });
  it('probes as kube-proxy does: nft >= 1.0.1 and kernel >= 5.13', async () => {
    const ok = scripted([{ argv: ['nft', '--version'], result: { stdout: 'nftables v1.0.6 (Lester Gooch #5)\n' } }, { argv: ['uname', '-r'], result: { stdout: '6.18.44-fc\n' } }]);
    assert.deepEqual(await new NftCommandBackend(ok.run).probe(), { ok: true, nftVersion: '1.0.6', kernel: '6.18.44' });
    const oldKernel = scripted([{ argv: ['nft', '--version'], result: { stdout: 'nftables v1.0.9\n' } }, { argv: ['uname', '-r'], result: { stdout: '5.10.0-21-amd64\n' } }]);
    assert.equal((await new NftCommandBackend(oldKernel.run).probe()).reason, 'kernel 5.10.0 is older than 5.13, the oldest kube-proxy\'s nftables mode accepts.');
    const oldNft = scripted([{ argv: ['nft', '--version'], result: { stdout: 'nftables v0.9.8 (E.D.S.)\n' } }, { argv: ['uname', '-r'], result: { stdout: '6.1.0\n' } }]);
    assert.match((await new NftCommandBackend(oldNft.run).probe()).reason!, /^nft 0\.9\.8 is older than 1\.0\.1/);
    const none = scripted([{ argv: ['nft', '--version'], result: { code: 127, stderr: 'spawn nft ENOENT' } }, { argv: ['uname', '-r'], result: { stdout: '6.1.0\n' } }]);
    assert.match((await new NftCommandBackend(none.run).probe()).reason!, /^nft is not installed/);
  });
  it('reads kube-proxy’s table back through nft -j, or nothing when there is none', async () => {
    const json = readFileSync(join(import.meta.dirname, 'fixtures', 'overall.nft.json'), 'utf8');
    const r = scripted([
      { argv: ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], result: { stdout: json } },
      { argv: ['nft', '-j', 'list', 'table', 'ip6', 'kube-proxy'], result: { code: 1, stderr: 'Error: No such file or directory\nlist table ip6 kube-proxy\n' } },
    ]);
    const b = new NftCommandBackend(r.run);
    assert.equal((await b.readTable('IPv4'))!.chains.length, 32);
    assert.equal(await b.readTable('IPv6'), undefined);
  });
  it('reads versions and nft error locations', () => {
    assert.ok(versionAtLeast('1.0.10', '1.0.1') && versionAtLeast('5.13', '5.13') && !versionAtLeast('5.4.0-150', '5.13'));
    assert.deepEqual(refusedLine(STDERR), { line: 2, reason: 'Could not process rule: No such file or directory' });
  });
});
