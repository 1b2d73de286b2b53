// Reading iptables-restore's stderr: the reported line and a clean reason, for every shape measured on
// iptables 1.8.9 (nft and legacy); and finding the real culprit behind a COMMIT-line report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanReason, locateRefusedLine, parseRestoreFailure, restoreBlocks } from '../../../src/core/host/index.js';

describe('parseRestoreFailure', () => {
  const cases: Array<[string, string, number | undefined, string]> = [
    [
      'legacy, unknown target',
      "iptables-restore v1.8.9 (legacy): Couldn't load target `NOPE':No such file or directory\n\nError occurred at line: 5\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n",
      5,
      "Couldn't load target `NOPE':No such file or directory",
    ],
    ['legacy, kernel refused the table', 'Ignoring deprecated --wait-interval option.\niptables-restore: line 4 failed\n', 4, ''],
    [
      'nft, missing chain',
      "iptables-nft-restore v1.8.9 (nf_tables): Chain 'NOPE' does not exist\nError occurred at line: 6\nTry `iptables-nft-restore -h' or 'iptables-nft-restore --help' for more information.\n",
      6,
      "Chain 'NOPE' does not exist",
    ],
    [
      'nft, kernel (nfacct)',
      'iptables-nft-restore v1.8.9 (nf_tables): \nline 3: RULE_APPEND failed (No such file or directory): rule in chain KUBE-FOO\n',
      3,
      'RULE_APPEND failed (No such file or directory): rule in chain KUBE-FOO',
    ],
    ['nft, -X of a missing chain', 'iptables-nft-restore: line 2 failed: No chain/target/match by that name.\n', 2, 'No chain/target/match by that name'],
    ['missing COMMIT', 'iptables-nft-restore: COMMIT expected at line 4\n', 4, 'COMMIT expected at line 4'],
    [
      'nft, bad table',
      "iptables-nft-restore v1.8.9 (nf_tables): iptables-nft-restore: line 1 table name 'bogus' invalid\nError occurred at line: 1\n",
      1,
      "table name 'bogus' invalid",
    ],
    ['no line at all', 'Another app is currently holding the xtables lock. Stopped waiting after 5s.\n', undefined, 'Another app is currently holding the xtables lock. Stopped waiting after 5s'],
  ];
  for (const [name, stderr, line, reason] of cases) {
    it(name, () => assert.deepEqual(parseRestoreFailure(stderr), { line, reason }));
  }

  it('cleanReason keeps several informative lines, joined', () => {
    assert.equal(cleanReason('iptables v1.8.9 (legacy): a\n# Warning: x\nb.\n'), 'a; b');
  });
});

describe('locateRefusedLine', () => {
  const text = ['# header', '*filter', ':KUBE-A - [0:0]', '-A KUBE-A -j ACCEPT', '-A KUBE-A -g KUBE-GONE', 'COMMIT', '*nat', ':KUBE-B - [0:0]', '-A KUBE-B -m nfacct --nfacct-name nope -j ACCEPT', 'COMMIT', ''].join('\n');

  it('a rule line reported is the refused line', () => {
    assert.deepEqual(locateRefusedLine(text, 4, 'x'), { line: 4, text: '-A KUBE-A -j ACCEPT' });
  });
  it('a COMMIT line with a missing chain: the first rule of that table jumping or going to it', () => {
    assert.deepEqual(locateRefusedLine(text, 6, "Chain 'KUBE-GONE' does not exist"), { line: 5, text: '-A KUBE-A -g KUBE-GONE' });
  });
  it('a COMMIT line with nfacct counters known: the rule naming a missing one', () => {
    assert.deepEqual(locateRefusedLine(text, 10, '', { nfacctCounters: new Set(['other']) }), { line: 9, text: '-A KUBE-B -m nfacct --nfacct-name nope -j ACCEPT' });
    assert.deepEqual(locateRefusedLine(text, 10, '', { nfacctCounters: new Set(['nope']) }), { line: 10, text: 'COMMIT' });
  });
  it('no line, or one past the text: undefined', () => {
    assert.equal(locateRefusedLine(text, undefined, ''), undefined);
    assert.equal(locateRefusedLine(text, 99, ''), undefined);
  });
  it('restoreBlocks finds each table and its COMMIT', () => {
    assert.deepEqual(restoreBlocks(text), [
      { table: 'filter', start: 2, commit: 6 },
      { table: 'nat', start: 7, commit: 10 },
    ]);
  });
});
