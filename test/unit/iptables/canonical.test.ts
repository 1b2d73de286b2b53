// Rules as kube-proxy writes them and as iptables-save prints them back must read as the same rule;
// rules that differ in what they do must not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalRule, kernelProbability } from '../../../src/core/iptables/canonical.js';
import { tokenizeLine } from '../../../src/core/iptables/parse.js';

const words = (line: string) => tokenizeLine(line)!;
const same = (written: string, saved: string, family: 'IPv4' | 'IPv6' = 'IPv4') => assert.equal(canonicalRule(words(written), family), canonicalRule(words(saved), family));

describe('canonicalRule', () => {
  it('puts base matches first and adds host masks, as iptables-save prints them', () => {
    same(
      '-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    );
    same('-m tcp -p tcp -d fd00::1 --dport 80 -j KUBE-SVC-A', '-d fd00::1/128 -p tcp -m tcp --dport 80 -j KUBE-SVC-A', 'IPv6');
  });

  it('reads probabilities as the kernel stores them', () => {
    assert.equal(kernelProbability(0.3333333333), '0.33333333349');
    assert.equal(kernelProbability(0.5), '0.50000000000');
    same('-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-A', '-m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-A');
    assert.notEqual(canonicalRule(words('-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-A'), 'IPv4'), canonicalRule(words('-m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-A'), 'IPv4'));
  });

  it('spells marks and MARK targets as the kernel keeps them', () => {
    same('-m mark ! --mark 0x00004000/0x00004000 -j RETURN', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
    same('-j MARK --or-mark 0x00004000', '-j MARK --set-xmark 0x4000/0x4000');
    same('-j MARK --xor-mark 0x4000', '-j MARK --set-xmark 0x4000/0x0');
  });

  it('spells out REJECT\'s default', () => {
    same('-m comment --comment "ns/svc:p has no endpoints" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j REJECT', '-d 10.0.0.1/32 -p tcp -m comment --comment "ns/svc:p has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable');
  });

  it('keeps negations and different destinations apart', () => {
    assert.notEqual(canonicalRule(words('! -s 10.0.0.0/8 -j KUBE-MARK-MASQ'), 'IPv4'), canonicalRule(words('-s 10.0.0.0/8 -j KUBE-MARK-MASQ'), 'IPv4'));
    assert.notEqual(canonicalRule(words('-d 10.0.0.1 -j DROP'), 'IPv4'), canonicalRule(words('-d 10.0.0.2 -j DROP'), 'IPv4'));
  });
});
