import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { tokenizeLine } from '../../../src/core/iptables/parse.js';
import {
  parseMarkMask,
  parseNatRange,
  parsePorts,
  viewRule,
  viewWords,
  type Match,
  type ModuleMatch,
} from '../../../src/core/iptables/words.js';

function view(line: string) {
  const words = tokenizeLine(line);
  assert.ok(words);
  return viewWords(words);
}

function mod(ms: Match[], name: string): ModuleMatch {
  const m = ms.find((x): x is ModuleMatch => x.kind === 'module' && x.module === name);
  assert.ok(m, `module ${name}`);
  return m;
}

describe('viewRule: base matches', () => {
  it('reads -s/-d with masks and both negation spellings, -p, -i/-o, -f', () => {
    const v = view('! -s 10.0.0.0/8 -d ! 192.168.0.0/255.255.0.0 -p ! udp ! -i eth+ -o cali123 ! -f -j ACCEPT');
    assert.deepEqual(v.matches, [
      { kind: 'address', dir: 'src', negated: true, value: '10.0.0.0/8', addresses: [{ ip: '10.0.0.0', mask: '8' }], words: ['!', '-s', '10.0.0.0/8'] },
      { kind: 'address', dir: 'dst', negated: true, value: '192.168.0.0/255.255.0.0', addresses: [{ ip: '192.168.0.0', mask: '255.255.0.0' }], words: ['-d', '!', '192.168.0.0/255.255.0.0'] },
      { kind: 'protocol', negated: true, protocol: 'udp', words: ['-p', '!', 'udp'] },
      { kind: 'interface', dir: 'in', negated: true, name: 'eth+', words: ['!', '-i', 'eth+'] },
      { kind: 'interface', dir: 'out', negated: false, name: 'cali123', words: ['-o', 'cali123'] },
      { kind: 'fragment', negated: true, words: ['!', '-f'] },
    ]);
    assert.deepEqual(v.target, { name: 'ACCEPT', kind: 'jump', args: [], options: [] });
    assert.deepEqual(v.unknown, []);
  });

  it('reads IPv6 addresses and comma lists', () => {
    const v = view('-s fd00::/108,2001:db8::1/128 -d ::1 -j RETURN');
    assert.deepEqual((v.matches[0] as { addresses: unknown }).addresses, [{ ip: 'fd00::', mask: '108' }, { ip: '2001:db8::1', mask: '128' }]);
    assert.deepEqual((v.matches[1] as { addresses: unknown }).addresses, [{ ip: '::1' }]);
  });

  it('long option spellings', () => {
    const v = view('--source 1.1.1.1 --destination 2.2.2.2 --protocol tcp --in-interface a --out-interface b --match tcp --destination-port 80 --jump X');
    assert.deepEqual(v.matches.map((m) => m.kind), ['address', 'address', 'protocol', 'interface', 'interface', 'module']);
    assert.deepEqual(mod(v.matches, 'tcp').ports?.dport?.ranges, [{ from: 80, to: 80 }]);
    assert.equal(v.target?.name, 'X');
  });
});

describe('viewRule: match modules', () => {
  it('comment, with its words kept', () => {
    const v = view('-m comment --comment "ns1/svc1:p80 cluster IP" -j KUBE-SVC-X');
    assert.equal(v.comment, 'ns1/svc1:p80 cluster IP');
    assert.deepEqual(v.matches[0]!.words, ['-m', 'comment', '--comment', 'ns1/svc1:p80 cluster IP']);
  });

  it('a comment that looks like an option is still the comment', () => {
    assert.equal(view('-m comment --comment "-j DROP" -j ACCEPT').comment, '-j DROP');
    assert.equal(view('-m comment --comment -x -j ACCEPT').comment, '-x');
  });

  it('statistic random and nth', () => {
    assert.deepEqual(mod(view('-m statistic --mode random --probability 0.20000000019 -j A').matches, 'statistic').statistic, {
      negated: false, mode: 'random', probability: 0.20000000019,
    });
    assert.deepEqual(mod(view('-m statistic --mode nth --every 3 --packet 0 -j A').matches, 'statistic').statistic, {
      negated: false, mode: 'nth', every: 3, packet: 0,
    });
    assert.equal(mod(view('-m statistic --mode random ! --probability 0.5 -j A').matches, 'statistic').statistic?.negated, true);
  });

  it('recent: set, update, rdest, hitcount, rttl; the default name', () => {
    const set = mod(view('-m recent --set --name KUBE-SEP-X --mask 255.255.255.255 --rsource -j DNAT --to-destination 1.1.1.1:80').matches, 'recent');
    assert.deepEqual(set.recent, { negated: false, name: 'KUBE-SEP-X', command: 'set', reap: false, rttl: false, side: 'rsource', mask: '255.255.255.255' });
    const upd = mod(view('-m recent ! --update --seconds 60 --hitcount 4 --rttl --rdest -j DROP').matches, 'recent');
    assert.deepEqual(upd.recent, { negated: true, name: 'DEFAULT', command: 'update', seconds: 60, hitcount: 4, reap: false, rttl: true, side: 'rdest' });
  });

  it('addrtype src/dst types with limit-iface', () => {
    const a = mod(view('-m addrtype --dst-type LOCAL,BROADCAST --limit-iface-in -j X').matches, 'addrtype');
    assert.deepEqual(a.addrtype, { limitIfaceIn: true, limitIfaceOut: false, dstType: { negated: false, value: ['LOCAL', 'BROADCAST'] } });
  });

  it('mark and connmark value/mask, hex, decimal and bare', () => {
    assert.deepEqual(mod(view('-m mark ! --mark 0x4000/0x4000 -j RETURN').matches, 'mark').mark, { negated: true, value: 0x4000, mask: 0x4000 });
    assert.deepEqual(mod(view('-m mark --mark 16').matches, 'mark').mark, { negated: false, value: 16, mask: 0xffffffff });
    assert.deepEqual(mod(view('-m connmark --mark 0x1/0xff').matches, 'connmark').mark, { negated: false, value: 1, mask: 0xff });
  });

  it('conntrack and state', () => {
    const c = mod(view('-m conntrack ! --ctstate NEW,INVALID --ctorigdst 10.96.0.1 ! --ctorigdstport 443 --ctdir ORIGINAL -j X').matches, 'conntrack');
    assert.deepEqual(c.conntrack, {
      ctstate: { negated: true, value: ['NEW', 'INVALID'] },
      ctorigdst: { negated: false, value: '10.96.0.1' },
      ctorigdstport: { negated: true, value: '443' },
      ctdir: 'ORIGINAL',
    });
    assert.deepEqual(mod(view('-m state --state RELATED,ESTABLISHED -j ACCEPT').matches, 'state').conntrack, {
      ctstate: { negated: false, value: ['RELATED', 'ESTABLISHED'] },
    });
  });

  it('set with flags and options', () => {
    const s = mod(view('-m set ! --match-set KUBE-LOOP-BACK dst,dst,src --return-nomatch -j MASQUERADE').matches, 'set');
    assert.deepEqual(s.set, { negated: true, name: 'KUBE-LOOP-BACK', flags: ['dst', 'dst', 'src'], returnNomatch: true });
  });

  it('multiport and tcp/udp/sctp ports with ranges, tcp flags and syn', () => {
    const mp = mod(view('-p tcp -m multiport ! --dports 80,443,8000:8080 -j X').matches, 'multiport');
    assert.deepEqual(mp.multiport, {
      dports: { negated: true, value: '80,443,8000:8080', ranges: [{ from: 80, to: 80 }, { from: 443, to: 443 }, { from: 8000, to: 8080 }] },
    });
    const t = mod(view('-p tcp -m tcp --sport 1024: ! --tcp-flags SYN,RST,ACK,FIN SYN ! --syn -j X').matches, 'tcp');
    assert.deepEqual(t.ports, {
      sport: { negated: false, value: '1024:', ranges: [{ from: 1024, to: 65535 }] },
      tcpFlags: { negated: true, mask: ['SYN', 'RST', 'ACK', 'FIN'], comp: ['SYN'] },
      syn: { negated: true },
    });
    assert.deepEqual(mod(view('-p sctp -m sctp --dport 9999 -j X').matches, 'sctp').ports?.dport?.ranges, [{ from: 9999, to: 9999 }]);
    assert.deepEqual(mod(view('-p udp -m udp --dport domain -j X').matches, 'udp').ports?.dport, { negated: false, value: 'domain', ranges: [] });
  });

  it('an option of the -p protocol without -m loads the protocol match implicitly, as iptables does', () => {
    const v = view('-p tcp --dport 80 -d 10.0.0.1 ! --sport 5 -j X');
    const t = mod(v.matches, 'tcp');
    assert.equal(t.implicit, true);
    assert.deepEqual(t.words, ['--dport', '80', '!', '--sport', '5']);
    assert.equal(t.ports?.sport?.negated, true);
    assert.deepEqual(v.matches.map((m) => m.kind), ['protocol', 'module', 'address']);
    assert.deepEqual(mod(view('-p ipv6-icmp --icmpv6-type 128 -j ACCEPT').matches, 'icmp6').icmp, { negated: false, value: '128' });
  });

  it('kube-proxy restore order: -m tcp -p tcp -d … --dport finds the tcp match', () => {
    const v = view('-m comment --comment default/kubernetes:https -m tcp -p tcp -d 10.0.0.1/32 --dport 443 -j KUBE-SVC-X');
    assert.equal(mod(v.matches, 'tcp').ports?.dport?.value, '443');
    assert.deepEqual(v.unknown, []);
  });

  it('physdev, nfacct and mac', () => {
    const p = mod(view('-m physdev --physdev-in veth0 ! --physdev-out eth0 --physdev-is-bridged -j X').matches, 'physdev');
    assert.deepEqual(p.physdev, { in: { negated: false, value: 'veth0' }, out: { negated: true, value: 'eth0' }, isBridged: { negated: false } });
    assert.deepEqual(mod(view('-m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP').matches, 'nfacct').nfacct, { name: 'ct_state_invalid_dropped_pkts' });
    assert.deepEqual(mod(view('-m mac ! --mac-source 00:11:22:33:44:55 -j DROP').matches, 'mac').mac, { negated: true, value: '00:11:22:33:44:55' });
  });

  it('an unknown module keeps its options and arguments in order', () => {
    const v = view('-m frobnicate --level 3 --verbose ! --mode a b -j ACCEPT');
    const m = mod(v.matches, 'frobnicate');
    assert.deepEqual(m.options, [
      { name: '--level', negated: false, args: ['3'] },
      { name: '--verbose', negated: false, args: [] },
      { name: '--mode', negated: true, args: ['a', 'b'] },
    ]);
    assert.deepEqual(m.words, ['-m', 'frobnicate', '--level', '3', '--verbose', '!', '--mode', 'a', 'b']);
    assert.deepEqual(v.unknown, []);
  });

  it('options nothing claims go to unknown, in order, with their arguments', () => {
    const v = view('-m comment --comment x --bogus 1 2 ! --other -c 5 6 -j ACCEPT --what');
    assert.deepEqual(v.unknown, ['--bogus', '1', '2', '!', '--other', '-c', '5', '6', '--what']);
    assert.equal(v.comment, 'x');
  });
});

describe('viewRule: targets', () => {
  it('DNAT, SNAT, MASQUERADE, REDIRECT', () => {
    assert.deepEqual(view('-p tcp -m tcp -j DNAT --to-destination [fd00::5]:8080').target?.toDestination, '[fd00::5]:8080');
    const snat = view('-j SNAT --to-source 1.2.3.4-1.2.3.8:1024-2048 --random --persistent').target!;
    assert.equal(snat.toSource, '1.2.3.4-1.2.3.8:1024-2048');
    assert.equal(snat.random, true);
    assert.equal(snat.persistent, true);
    const masq = view('-j MASQUERADE --random-fully --to-ports 1024-65535').target!;
    assert.deepEqual({ ports: masq.toPorts, fully: masq.randomFully, args: masq.args }, {
      ports: '1024-65535', fully: true, args: ['--random-fully', '--to-ports', '1024-65535'],
    });
    assert.equal(view('-p tcp -j REDIRECT --to-ports 15001').target?.toPorts, '15001');
  });

  it('MARK and CONNMARK in the kernel’s (value, mask) form', () => {
    assert.deepEqual(view('-j MARK --set-xmark 0x4000/0x4000').target?.mark, { op: 'set-xmark', value: 0x4000, mask: 0x4000, xmark: { value: 0x4000, mask: 0x4000 } });
    assert.deepEqual(view('-j MARK --set-xmark 0x4000/0x0').target?.mark?.xmark, { value: 0x4000, mask: 0 });
    assert.deepEqual(view('-j MARK --set-mark 0x10/0xf0').target?.mark?.xmark, { value: 0x10, mask: 0xf0 });
    assert.deepEqual(view('-j MARK --set-mark 0x10').target?.mark?.xmark, { value: 0x10, mask: 0xffffffff });
    assert.deepEqual(view('-j MARK --or-mark 0x4000').target?.mark?.xmark, { value: 0x4000, mask: 0x4000 });
    assert.deepEqual(view('-j MARK --and-mark 0xffffbfff').target?.mark?.xmark, { value: 0, mask: 0x4000 });
    assert.deepEqual(view('-j MARK --xor-mark 0x1').target?.mark?.xmark, { value: 1, mask: 0 });
    assert.equal(view('-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff').target?.mark?.op, 'restore-mark');
  });

  it('REJECT, LOG, goto and user chains', () => {
    assert.equal(view('-j REJECT --reject-with icmp6-port-unreachable').target?.rejectWith, 'icmp6-port-unreachable');
    const log = view('-j LOG --log-prefix "[UFW BLOCK] " --log-level 4').target!;
    assert.deepEqual({ p: log.logPrefix, l: log.logLevel }, { p: '[UFW BLOCK] ', l: '4' });
    assert.deepEqual(view('-g cali-fw-cali1234').target, { name: 'cali-fw-cali1234', kind: 'goto', args: [], options: [] });
  });

  it('an unknown target keeps its options; matches after the target still read as matches', () => {
    const v = view('-j SNPT --src-pfx a::/64 --dst-pfx b::/64 -m comment --comment late');
    assert.deepEqual(v.target?.args, ['--src-pfx', 'a::/64', '--dst-pfx', 'b::/64']);
    assert.equal(v.comment, 'late');
  });

  it('no target, an empty rule', () => {
    assert.deepEqual(viewRule({ words: [] }), { matches: [], unknown: [] });
    assert.deepEqual(view('-s 1.1.1.1').target, undefined);
  });

  it('is pure: the same words give equal views and the rule is not changed', () => {
    const rule = { words: tokenizeLine('-m statistic --mode random --probability 0.5 -j X')! };
    const copy = [...rule.words];
    assert.deepEqual(viewRule(rule), viewRule(rule));
    assert.notEqual(viewRule(rule), viewRule(rule));
    assert.deepEqual(rule.words, copy);
  });
});

describe('value helpers', () => {
  it('parseMarkMask, parsePorts, parseNatRange', () => {
    assert.deepEqual(parseMarkMask('0x4000/0xffffffff'), { value: 0x4000, mask: 0xffffffff });
    assert.deepEqual(parseMarkMask('010/0x8'), { value: 8, mask: 8 });
    assert.equal(parseMarkMask('0x100000000'), undefined);
    assert.equal(parseMarkMask('x'), undefined);
    assert.deepEqual(parsePorts(':1023'), [{ from: 0, to: 1023 }]);
    assert.deepEqual(parseNatRange('10.244.1.5:8080'), { minIp: '10.244.1.5', maxIp: '10.244.1.5', minPort: 8080, maxPort: 8080 });
    assert.deepEqual(parseNatRange('[fd00::1]:80-90'), { minIp: 'fd00::1', maxIp: 'fd00::1', minPort: 80, maxPort: 90 });
    assert.deepEqual(parseNatRange('fd00::1'), { minIp: 'fd00::1', maxIp: 'fd00::1' });
    assert.deepEqual(parseNatRange(':36712'), { minPort: 36712, maxPort: 36712 });
  });
});
