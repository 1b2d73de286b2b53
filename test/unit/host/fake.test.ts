// The in-memory backend: a plan's operations applied as iptables-restore --noflush applies its script
// (a declared chain flushed, deletions, COMMIT checks), all-or-nothing, refusals naming the script's line,
// iptables-save layout back. Text is parsed with the real parser and planned, as the engine would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeIptablesBackend, HostCommandError, RestoreError, formatWords } from '../../../src/core/host/index.js';
import { IptablesPlanWriter } from '../../../src/core/iptables/operations.js';
import { parseIptablesSave } from '../../../src/core/iptables/parse.js';
import { planIptables } from '../../../src/core/iptables/plan.js';
import type { Ruleset } from '../../../src/core/iptables/types.js';

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

const parse = (text: string, family: 'IPv4' | 'IPv6' = 'IPv4'): Ruleset => parseIptablesSave(text, { family });

async function refusal(p: Promise<unknown>): Promise<RestoreError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RestoreError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
}

/** A plan written operation by operation (what no planner would write, for the refusals). */
function handPlan(write: (w: IptablesPlanWriter) => void) {
  const w = new IptablesPlanWriter();
  write(w);
  return w.plan('IPv4', false);
}

describe('FakeIptablesBackend', () => {
  it('keeps what a plan applied as data and saves it in iptables-save layout', async () => {
    const f = new FakeIptablesBackend();
    await f.apply(planIptables(undefined, parse(BASE)));
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

  it('a partial plan: declared chains are flushed and refilled, stale ones deleted, chains it does not name are kept', async () => {
    const withB = BASE.replace(':KUBE-SEP-OLD - [0:0]\n', ':KUBE-SEP-OLD - [0:0]\n:KUBE-SVC-B - [0:0]\n').replace('COMMIT\n\n', '-A KUBE-SVC-B -j ACCEPT\nCOMMIT\n\n').replace(/COMMIT\n$/, '-A KUBE-SVC-B -j ACCEPT\nCOMMIT\n');
    const before = parse(withB);
    const after = parse(withB.replace(':KUBE-SEP-OLD', ':KUBE-SEP-NEW').replace('-j KUBE-SEP-OLD', '-j KUBE-SEP-NEW').replace('-A KUBE-SEP-OLD -p tcp -m tcp -j DNAT --to-destination 10.244.1.11:80', '-A KUBE-SEP-NEW -p tcp -m tcp -j DNAT --to-destination 10.244.1.12:80'));
    const f = new FakeIptablesBackend();
    await f.apply(planIptables(undefined, before));
    const plan = planIptables(before, after);
    assert.doesNotMatch(plan.text(), /KUBE-SVC-B/, 'an unchanged service chain is not in the plan');
    assert.match(plan.text(), /^-X KUBE-SEP-OLD$/m);
    await f.apply(plan);
    const nat = f.ruleset('IPv4').tables.find((t) => t.name === 'nat')!;
    assert.deepEqual(nat.chains.map((c) => c.name).slice(4), ['KUBE-SEP-NEW', 'KUBE-SERVICES', 'KUBE-SVC-A', 'KUBE-SVC-B']);
    assert.deepEqual(nat.chains.find((c) => c.name === 'KUBE-SVC-A')!.rules.map((r) => r.words.at(-1)), ['KUBE-SEP-NEW']);
    assert.equal(nat.chains.find((c) => c.name === 'KUBE-SVC-B')!.rules.length, 1, 'not named in the plan: kept');
    assert.equal(f.ruleset('IPv4').tables[0]!.chains.find((c) => c.name === 'KUBE-FIREWALL')!.rules.length, 1, 'filter rewritten: flushed, then refilled');
  });

  it('a refusal names the line of the script, and nothing of the plan is applied (not even tables committed before it)', async () => {
    const f = new FakeIptablesBackend();
    await f.apply(planIptables(undefined, parse(BASE)));
    const before = await f.save('IPv4');
    const bad = planIptables(undefined, parse(['*filter', ':KUBE-FIREWALL - [0:0]', 'COMMIT', '*nat', ':KUBE-SVC-A - [0:0]', '-A KUBE-SVC-A -j KUBE-SEP-NOPE', 'COMMIT', ''].join('\n')));
    const e = await refusal(f.apply(bad));
    assert.equal(e.message, 'iptables-restore refused line 6 of the IPv4 rules ("-A KUBE-SVC-A -j KUBE-SEP-NOPE"): Chain \'KUBE-SEP-NOPE\' does not exist, so the node\'s rules were left as they were.');
    assert.equal(bad.text().split('\n')[e.line! - 1], '-A KUBE-SVC-A -j KUBE-SEP-NOPE', 'the line of the script the host would run');
    assert.equal(await f.save('IPv4'), before);
    assert.deepEqual(f.applied.map((r) => r.ok), [true, false]);
  });

  it('refuses what iptables refuses: deleting a referenced, non-empty, built-in or missing chain, rules in a missing chain, no COMMIT', async () => {
    const f = new FakeIptablesBackend();
    await f.apply(planIptables(undefined, parse(BASE)));
    const cases: Array<[(w: IptablesPlanWriter) => void, number, RegExp]> = [
      [(w) => (w.beginTable('nat'), w.flushChain('KUBE-SEP-OLD'), w.deleteChain('KUBE-SEP-OLD'), w.commit()), 3, /Too many links/],
      [(w) => (w.beginTable('nat'), w.deleteChain('KUBE-SEP-OLD'), w.commit()), 2, /Directory not empty/],
      [(w) => (w.beginTable('nat'), w.deleteChain('PREROUTING'), w.commit()), 2, /Cannot delete built-in chain/],
      [(w) => (w.beginTable('nat'), w.deleteChain('KUBE-GONE'), w.commit()), 2, /Chain 'KUBE-GONE' does not exist/],
      [(w) => (w.beginTable('nat'), w.addRule('KUBE-NOPE', { words: ['-j', 'ACCEPT'] }), w.commit()), 2, /Chain 'KUBE-NOPE' does not exist/],
      [(w) => (w.beginTable('nat'), w.declareChain('KUBE-X')), 3, /COMMIT expected/],
      [(w) => (w.declareChain('KUBE-X'), w.commit()), 1, /no table given/],
    ];
    for (const [write, line, reason] of cases) {
      const plan = handPlan(write);
      const e = await refusal(f.apply(plan));
      assert.equal(e.line, line, plan.text());
      assert.match(e.reason, reason);
    }
  });

  it('refuses a rule naming an nfacct counter that does not exist, when told which exist', async () => {
    const f = new FakeIptablesBackend({ nfacctCounters: new Set(['ct_state_invalid_dropped_pkts']) });
    const plan = planIptables(undefined, parse('*filter\n:KUBE-FORWARD - [0:0]\n-A KUBE-FORWARD -m nfacct --nfacct-name localhost_nps_accepted_pkts -j ACCEPT\nCOMMIT\n'));
    const e = await refusal(f.apply(plan));
    assert.equal(e.line, 3);
    assert.match(e.message, /nfacct counter localhost_nps_accepted_pkts does not exist/);
    f.nfacctCounters!.add('localhost_nps_accepted_pkts');
    await f.apply(plan);
  });

  it('test validates without applying', async () => {
    const f = new FakeIptablesBackend();
    await f.test(planIptables(undefined, parse(BASE)));
    assert.deepEqual(f.ruleset('IPv4').tables, []);
    const e = await refusal(f.test(planIptables(undefined, parse('*nat\n:KUBE-X - [0:0]\n-A KUBE-X -j NOPE\nCOMMIT\n', 'IPv6'))));
    assert.match(e.message, /^ip6tables-restore would refuse line 3 of the IPv6 rules/);
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

  it('its save text, parsed and planned, gives the same rules (counters are kept as data, saved only with -c)', async () => {
    const start = parse(BASE);
    start.tables[1]!.chains.find((c) => c.name === 'KUBE-SVC-A')!.rules[0]!.counters = { packets: 7n, bytes: 420n };
    const f = new FakeIptablesBackend({ initial: [start] });
    const saved = await f.save('IPv4');
    assert.match(saved, /^-A KUBE-SVC-A /m, 'save without -c prints no rule counters');
    const g = new FakeIptablesBackend();
    await g.apply(planIptables(undefined, parse(saved)));
    assert.equal(await g.save('IPv4'), saved);
    assert.deepEqual(f.ruleset('IPv4').tables[1]!.chains.find((c) => c.name === 'KUBE-SVC-A')!.rules[0]!.counters, { packets: 7n, bytes: 420n });
  });

  it('formatWords quotes as iptables-save does', () => {
    assert.equal(formatWords(['-m', 'comment', '--comment', 'ns/a:p', '--to-destination', '[fd00::1]:80']), '-m comment --comment "ns/a:p" --to-destination [fd00::1]:80');
    assert.equal(formatWords(['--comment', "it's"]), '--comment "it\\\'s"');
  });
});
