// Go duration parsing and printing. Cases are facts about Go's time package (its parseDurationTests and
// durationTests tables, src/time/time_test.go), written here in our own test code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatDurationNanos, isDuration, normalizeDuration, parseDuration, parseDurationNanos } from '../../../src/core/config/index.js';

const SEC = 1_000_000_000n;

describe('parseDurationNanos (Go time.ParseDuration)', () => {
  const ok: Array<[string, bigint]> = [
    ['0', 0n],
    ['5s', 5n * SEC],
    ['30s', 30n * SEC],
    ['1478s', 1478n * SEC],
    ['-5s', -5n * SEC],
    ['+5s', 5n * SEC],
    ['-0', 0n],
    ['+0', 0n],
    ['5.0s', 5n * SEC],
    ['5.6s', 5n * SEC + 600_000_000n],
    ['5.s', 5n * SEC],
    ['.5s', 500_000_000n],
    ['1.004s', SEC + 4_000_000n],
    ['100.00100s', 100n * SEC + 1_000_000n],
    ['10ns', 10n],
    ['11us', 11_000n],
    ['12\u00b5s', 12_000n],
    ['12\u03bcs', 12_000n],
    ['13ms', 13_000_000n],
    ['15m', 15n * 60n * SEC],
    ['16h', 16n * 3600n * SEC],
    ['3h30m', (3n * 3600n + 30n * 60n) * SEC],
    ['10.5s4m', 4n * 60n * SEC + 10n * SEC + 500_000_000n],
    ['-2m3.4s', -(2n * 60n * SEC + 3n * SEC + 400_000_000n)],
    ['1h2m3s4ms5us6ns', 3723n * SEC + 4_005_006n],
    ['39h9m14.425s', 140954n * SEC + 425_000_000n],
    ['52763797000ns', 52_763_797_000n],
    ['0.3333333333333333333h', 20n * 60n * SEC],
    ['9223372036854775807ns', 9223372036854775807n],
    ['-9223372036854775808ns', -9223372036854775808n],
  ];
  for (const [text, want] of ok) {
    it(`parses ${JSON.stringify(text)}`, () => assert.equal(parseDurationNanos(text), want));
  }
  const bad = ['', '3', '-', 's', '.', '-.', '.s', '+.s', '1d', '30 s', '9223372036854775808ns', '3000000h'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDurationNanos(text), /time: /);
      assert.equal(isDuration(text), false);
    });
  }
  it('reports milliseconds through parseDuration', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('24h0m0s'), 86_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5us'), 0.0015);
  });
});

describe('formatDurationNanos (Go time.Duration.String)', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [1n, '1ns'],
    [1100n, '1.1\u00b5s'],
    [2_200_000n, '2.2ms'],
    [3_300_000_000n, '3.3s'],
    [(4n * 60n + 5n) * SEC, '4m5s'],
    [(4n * 60n + 5n) * SEC + 1_000_000n, '4m5.001s'],
    [(5n * 3600n + 6n * 60n + 7n) * SEC + 1_000_000n, '5h6m7.001s'],
    [8n * 60n * SEC + 1n, '8m0.000000001s'],
    [9223372036854775807n, '2562047h47m16.854775807s'],
    [-9223372036854775807n, '-2562047h47m16.854775807s'],
    // the defaults kube-proxy prints
    [SEC, '1s'],
    [30n * SEC, '30s'],
    [15n * 60n * SEC, '15m0s'],
    [3600n * SEC, '1h0m0s'],
    [24n * 3600n * SEC, '24h0m0s'],
    [250_000_000n, '250ms'],
  ];
  for (const [nanos, want] of cases) {
    it(`prints ${nanos}ns as ${want}`, () => assert.equal(formatDurationNanos(nanos), want));
  }
  it('formats milliseconds and normalizes strings', () => {
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(normalizeDuration('5m'), '5m0s');
    assert.equal(normalizeDuration('0'), '0s');
    assert.equal(normalizeDuration('90m'), '1h30m0s');
  });
});
