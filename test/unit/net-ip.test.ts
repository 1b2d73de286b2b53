// Address parsing and printing as kube-proxy does it (netutils.ParseIPSloppy / ParseCIDRSloppy, Go's
// net.IP.String and IPNet.String). These strings end up in rules, so they must match byte for byte.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { joinHostPort, normalizeIP, parseCIDRSloppy } from '../../src/core/net/ip.js';

describe('normalizeIP', () => {
  const cases: Array<[string, string | null, ('IPv4' | 'IPv6')?]> = [
    ['10.0.0.1', '10.0.0.1', 'IPv4'],
    ['010.001.002.003', '10.1.2.3', 'IPv4'], // sloppy: leading zeros allowed, read as decimal
    ['1.2.3', null],
    ['1.2.3.256', null],
    ['1.2.3.4.5', null],
    ['', null],
    ['not-an-ip', null],
    ['0:0:0:0:0:0:0:1', '::1', 'IPv6'],
    ['::', '::', 'IPv6'],
    ['2001:DB8::1', '2001:db8::1', 'IPv6'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'IPv6'], // first of two equal zero runs is compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', 'IPv6'], // the longest run is compressed
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7', 'IPv6'], // a single zero group is never "::"
    ['::ffff:1.2.3.4', '1.2.3.4', 'IPv4'], // IPv4-mapped is IPv4 to kube-proxy
    ['::1.2.3.4', '::102:304', 'IPv6'],
    ['fe80::1%eth0', null], // zones are not IPs
    ['1::2::3', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['12345::1', null],
  ];
  for (const [input, ip, family] of cases) {
    it(`${JSON.stringify(input)} -> ${ip}`, () => {
      const p = normalizeIP(input);
      if (ip === null) assert.equal(p, null);
      else assert.deepEqual(p, { ip, family });
    });
  }
});

describe('parseCIDRSloppy', () => {
  it('prints the network with host bits cleared, as IPNet.String()', () => {
    assert.deepEqual(parseCIDRSloppy('10.1.2.3/24'), { cidr: '10.1.2.0/24', family: 'IPv4', prefix: 24 });
    assert.deepEqual(parseCIDRSloppy('10.1.2.3/31'), { cidr: '10.1.2.2/31', family: 'IPv4', prefix: 31 });
    assert.deepEqual(parseCIDRSloppy('0.0.0.0/0'), { cidr: '0.0.0.0/0', family: 'IPv4', prefix: 0 });
    assert.deepEqual(parseCIDRSloppy('2001:db8::1/32'), { cidr: '2001:db8::/32', family: 'IPv6', prefix: 32 });
    assert.deepEqual(parseCIDRSloppy('::ffff:1.2.3.0/120'), { cidr: '1.2.3.0/24', family: 'IPv4', prefix: 24 });
  });
  it('rejects what Go rejects', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/a', '::/129', ' 10.0.0.0/8', 'x/8']) {
      assert.equal(parseCIDRSloppy(bad), null, bad);
    }
  });
});

describe('joinHostPort', () => {
  it('brackets IPv6 only', () => {
    assert.equal(joinHostPort('10.0.0.1', 80), '10.0.0.1:80');
    assert.equal(joinHostPort('fd00::1', 80), '[fd00::1]:80');
  });
});
