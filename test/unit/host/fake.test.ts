// The in-memory backend: iptables-restore semantics (--noflush, chain flush on `:NAME`, -X, COMMIT checks),
// all-or-nothing, refusals naming the line, iptables-save layout back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeIptablesBackend, HostCommandError, RestoreError, formatWords } from '../../../src/core/host/index.js';

const BASE = [
  '*filter',
  ':KUBE-FIREWALL - [0:0]',
  '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -j DROP',
  'COMMIT',
  '*nat',
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-SVC-A - [0:0]',
  ':KUBE-SEP-OLD - [0:0]',
  '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/a:p cluster IP" -m tcp --dport 80 -j KUBE-SVC-A',
  '-A KUBE-SVC-A -m comment --comment ns/a:p -j KUBE-SEP-OLD',
  '-A KUBE-SEP-OLD -p tcp -m tcp -j DNAT --to-destination 10.244.1.11:80',
  'COMMIT',
  '',
].join('\n');

async function refusal(p: Promise<unknown>): Promise<RestoreError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RestoreError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
}

describe('FakeIptablesBackend', () => {
  it('keeps what was restored as data and saves it in iptables-save layout', async () => {
    const f = new FakeIptablesBackend();
    await f.restore('IPv4', BASE, { noflush: true });
    const nat = f.ruleset('IPv4').tables.find((t) => t.name === 'nat')!;
    assert.deepEqual(nat.chains.map((c) => c.name), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-SEP-OLD', 'KUBE-SERVICES', 'KUBE-SVC-A']);
    assert.deepEqual(nat.chains.find((c) => c.name === 'KUBE-SERVICES')!.rules[0]!.words.slice(4, 8), ['-m', 'comment', '--comment', 'ns/a:p cluster IP']);
    assert.equal(
      await f.save('IPv4', 'nat'),
      [
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':INPUT ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ':KUBE-SEP-OLD - [0:0]',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-SVC-A - [0:0]',
        '-A KUBE-SEP-OLD -p tcp -m tcp -j DNAT --to-destination 10.244.1.11:80',
        '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/a:p cluster IP" -m tcp --dport 80 -j KUBE-SVC-A',
        '-A KUBE-SVC-A -m comment --comment "ns/a:p" -j KUBE-SEP-OLD',
        'COMMIT',
        '',
      ].join('\n'),
    );
    assert.equal(await f.save('IPv6', 'nat'), '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n');
    assert.deepEqual(f.ruleset('IPv6').tables, [], 'saving a table does not create it');
  });

  it('--noflush: a declared chain is flushed and refilled, -X deletes, undeclared chains are kept', async () => {
    const f = new FakeIptablesBackend();
    await f.restore('IPv4', BASE, { noflush: true });
    const next = [
      '*nat',
      ':KUBE-SVC-A - [0:0]',
      ':KUBE-SEP-NEW - [0:0]',
      '-A KUBE-SVC-A -m comment --comment ns/a:p -j KUBE-SEP-NEW',
      '-A KUBE-SEP-NEW -p tcp -m tcp -j DNAT --to-destination 10.244.1.12:80',
      ':KUBE-SEP-OLD - [0:0]',
      '-X KUBE-SEP-OLD',
      'COMMIT',
      '',
    ].join('\n');
    await f.restore('IPv4', next, { noflush: true });
    const nat = f.ruleset('IPv4').tables.find((t) => t.name === 'nat')!;
    assert.deepEqual(nat.chains.map((c) => c.name).slice(4), ['KUBE-SEP-NEW', 'KUBE-SERVICES', 'KUBE-SVC-A']);
    assert.deepEqual(nat.chains.find((c) => c.name === 'KUBE-SVC-A')!.rules.map((r) => r.words.at(-1)), ['KUBE-SEP-NEW']);
    assert.equal(nat.chains.find((c) => c.name === 'KUBE-SERVICES')!.rules.length, 1, 'not named in the text: kept');
    assert.ok(f.ruleset('IPv4').tables.some((t) => t.name === 'filter'), 'a table not in the text is untouched');
  });

  it('without --noflush a table in the text is replaced whole; others stay', async () => {
    const f = new FakeIptablesBackend();
    await f.restore('IPv4', BASE, { noflush: true });
    await f.restore('IPv4', '*nat\n:PREROUTING DROP [0:0]\nCOMMIT\n', { noflush: false });
    const nat = f.ruleset('IPv4').tables.find((t) => t.name === 'nat')!;
    assert.deepEqual(nat.chains.map((c) => `${c.name} ${c.policy} ${c.rules.length}`), ['PREROUTING DROP 0', 'INPUT ACCEPT 0', 'OUTPUT ACCEPT 0', 'POSTROUTING ACCEPT 0']);
    assert.match(await f.save('IPv4', 'filter'), /KUBE-FIREWALL/);
  });

  it('a refusal names the line, and nothing of the text is applied (not even tables committed before it)', async () => {
    const f = new FakeIptablesBackend();
    await f.restore('IPv4', BASE, { noflush: true });
    const before = await f.save('IPv4');
    const bad = ['*filter', ':KUBE-FIREWALL - [0:0]', 'COMMIT', '*nat', ':KUBE-SVC-A - [0:0]', '-A KUBE-SVC-A -j KUBE-SEP-NOPE', 'COMMIT', ''].join('\n');
    const e = await refusal(f.restore('IPv4', bad, { noflush: true }));
    assert.equal(e.message, 'iptables-restore refused line 6 of the IPv4 rules ("-A KUBE-SVC-A -j KUBE-SEP-NOPE"): Chain \'KUBE-SEP-NOPE\' does not exist, so the node\'s rules were left as they were.');
    assert.equal(await f.save('IPv4'), before);
    assert.deepEqual(f.restores.map((r) => r.ok), [true, false]);
  });

  it('refuses what iptables refuses: -X of a referenced or non-empty chain, rules in a missing chain, missing COMMIT, bad table', async () => {
    const f = new FakeIptablesBackend();
    await f.restore('IPv4', BASE, { noflush: true });
    const cases: Array<[string, number, RegExp]> = [
      ['*nat\n:KUBE-SEP-OLD - [0:0]\n-X KUBE-SEP-OLD\nCOMMIT\n', 3, /Too many links/],
      ['*nat\n-X KUBE-SEP-OLD\nCOMMIT\n', 2, /Directory not empty/],
      ['*nat\n-X PREROUTING\nCOMMIT\n', 2, /Cannot delete built-in chain/],
      ['*nat\n-A KUBE-NOPE -j ACCEPT\nCOMMIT\n', 2, /Chain 'KUBE-NOPE' does not exist/],
      ['*nat\n:KUBE-X - [0:0]\n', 3, /COMMIT expected/],
      ['*bogus\nCOMMIT\n', 1, /table name 'bogus' invalid/],
      ['*nat\n-Q KUBE-X\nCOMMIT\n', 2, /unknown command "-Q"/],
    ];
    for (const [text, line, reason] of cases) {
      const e = await refusal(f.restore('IPv4', text, { noflush: true }));
      assert.equal(e.line, line, text);
      assert.match(e.reason, reason);
    }
  });

  it('refuses a rule naming an nfacct counter that does not exist, when told which exist', async () => {
    const f = new FakeIptablesBackend({ nfacctCounters: new Set(['ct_state_invalid_dropped_pkts']) });
    const text = '*filter\n:KUBE-FORWARD - [0:0]\n-A KUBE-FORWARD -m nfacct --nfacct-name localhost_nps_accepted_pkts -j ACCEPT\nCOMMIT\n';
    const e = await refusal(f.restore('IPv4', text, { noflush: true }));
    assert.equal(e.line, 3);
    assert.match(e.message, /nfacct counter localhost_nps_accepted_pkts does not exist/);
    f.nfacctCounters!.add('localhost_nps_accepted_pkts');
    await f.restore('IPv4', text, { noflush: true });
  });

  it('check validates without applying', async () => {
    const f = new FakeIptablesBackend();
    await f.check('IPv4', BASE, { noflush: true });
    assert.deepEqual(f.ruleset('IPv4').tables, []);
    const e = await refusal(f.check('IPv6', '*nat\n-A NOPE -j ACCEPT\nCOMMIT\n', { noflush: true }));
    assert.match(e.message, /^ip6tables-restore would refuse line 2 of the IPv6 rules/);
  });

  it('ensureChain / ensureRule / deleteRule are idempotent', async () => {
    const f = new FakeIptablesBackend();
    assert.equal(await f.ensureChain('IPv4', 'nat', 'KUBE-SERVICES'), true);
    assert.equal(await f.ensureChain('IPv4', 'nat', 'KUBE-SERVICES'), false);
    const jump = ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'];
    assert.equal(await f.ensureRule('IPv4', 'nat', 'OUTPUT', jump, 'prepend'), true);
    assert.equal(await f.ensureRule('IPv4', 'nat', 'OUTPUT', jump, 'prepend'), false);
    assert.equal(await f.ensureRule('IPv4', 'nat', 'OUTPUT', ['-j', 'ACCEPT'], 'prepend'), true);
    assert.deepEqual(f.ruleset('IPv4').tables[0]!.chains.find((c) => c.name === 'OUTPUT')!.rules.map((r) => r.words.at(-1)), ['ACCEPT', 'KUBE-SERVICES']);
    assert.equal(await f.deleteRule('IPv4', 'nat', 'OUTPUT', jump), true);
    assert.equal(await f.deleteRule('IPv4', 'nat', 'OUTPUT', jump), false);
    await assert.rejects(f.ensureRule('IPv4', 'nat', 'KUBE-NOPE', ['-j', 'ACCEPT'], 'append'), HostCommandError);
    assert.equal(await f.version(), '1.8.9');
  });

  it('save text restores to the same rules (round trip, counters kept with --counters)', async () => {
    const f = new FakeIptablesBackend();
    await f.restore('IPv4', BASE.replace('-A KUBE-SVC-A', '[7:420] -A KUBE-SVC-A'), { noflush: true, counters: true });
    const saved = await f.save('IPv4');
    assert.match(saved, /^-A KUBE-SVC-A /m, 'save without -c prints no rule counters');
    const g = new FakeIptablesBackend();
    await g.restore('IPv4', saved, { noflush: false });
    assert.equal(await g.save('IPv4'), saved);
    assert.deepEqual(f.ruleset('IPv4').tables[1]!.chains.find((c) => c.name === 'KUBE-SVC-A')!.rules[0]!.counters, { packets: 7n, bytes: 420n });
  });

  it('formatWords quotes as iptables-save does', () => {
    assert.equal(formatWords(['-m', 'comment', '--comment', 'ns/a:p', '--to-destination', '[fd00::1]:80']), '-m comment --comment "ns/a:p" --to-destination [fd00::1]:80');
    assert.equal(formatWords(['--comment', "it's"]), '--comment "it\\\'s"');
  });
});
