// Real iptables-save dumps from kube-proxy nodes (test/unit/iptables/dumps/*.txt, provenance in the sibling
// .md files): each parses, its tables, chains and rules agree with a plain line scan of the same text, and
// chosen rules come out with the right words and the right structured reading.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseIptablesSave, parseRestore } from '../../../src/core/iptables/parse.js';
import type { Ruleset } from '../../../src/core/iptables/types.js';
import { viewRule, type ModuleMatch } from '../../../src/core/iptables/words.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'dumps');
const DUMPS = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort();

function load(name: string): { text: string; rs: Ruleset } {
  const text = readFileSync(join(DIR, name), 'utf8');
  return { text, rs: parseIptablesSave(text, { source: name }) };
}

/** An independent count: tables, chains in order, and -A lines per chain, by a plain scan of the lines. */
function scan(text: string): Array<{ table: string; chains: string[]; rules: Map<string, number> }> {
  const out: Array<{ table: string; chains: string[]; rules: Map<string, number> }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) out.push({ table: line.slice(1), chains: [], rules: new Map() });
    else if (line.startsWith(':')) out.at(-1)!.chains.push(line.slice(1).split(' ')[0]!);
    else {
      const rule = line.replace(/^\[\d+:\d+\] /, '');
      if (rule.startsWith('-A ')) {
        const chain = rule.split(' ')[1]!;
        const t = out.at(-1)!;
        t.rules.set(chain, (t.rules.get(chain) ?? 0) + 1);
      }
    }
  }
  return out;
}

function rulesOf(rs: Ruleset, table: string, chain: string): string[][] {
  const c = rs.tables.find((t) => t.name === table)?.chains.find((x) => x.name === chain);
  assert.ok(c, `${table}/${chain}`);
  return c.rules.map((r) => r.words);
}

describe('real dumps', () => {
  it('there are at least six', () => {
    assert.ok(DUMPS.length >= 6, DUMPS.join(', '));
    for (const d of DUMPS) assert.ok(readdirSync(DIR).includes(d.replace(/\.txt$/, '.md')), `${d} has its provenance note`);
  });

  for (const name of DUMPS) {
    it(`${name}: tables, chains and rules match a plain line scan`, () => {
      const { text, rs } = load(name);
      const expected = scan(text);
      assert.deepEqual(
        rs.tables.map((t) => t.name),
        expected.map((t) => t.table),
      );
      for (const [i, t] of rs.tables.entries()) {
        const e = expected[i]!;
        assert.deepEqual(
          t.chains.map((c) => c.name),
          e.chains,
          `chains of ${t.name}`,
        );
        for (const c of t.chains) assert.equal(c.rules.length, e.rules.get(c.name) ?? 0, `rules of ${t.name}/${c.name}`);
      }
      assert.equal(rs.family, 'IPv4');
    });

    it(`${name}: every word is claimed by a match or the target`, () => {
      const { rs } = load(name);
      for (const t of rs.tables) {
        for (const c of t.chains) {
          for (const r of c.rules) {
            const v = viewRule(r);
            assert.deepEqual(v.unknown, [], `${t.name}/${c.name}: ${r.words.join(' ')}`);
            if (v.target?.name === 'DNAT') assert.match(v.target.toDestination ?? '', /^\d+\.\d+\.\d+\.\d+:\d+$/);
            for (const m of v.matches) {
              if (m.kind === 'module' && m.module === 'statistic') {
                assert.ok(m.statistic!.probability! > 0 && m.statistic!.probability! <= 1);
              }
            }
            if (c.name === 'KUBE-MARK-MASQ') assert.deepEqual(v.target?.mark?.xmark, { value: 0x4000, mask: 0x4000 });
          }
        }
      }
    });
  }

  it('flannel-kubeadm-1.29: DNAT, three-way probabilities and endpoint comments', () => {
    const { rs } = load('flannel-kubeadm-1.29.txt');
    assert.deepEqual(rulesOf(rs, 'nat', 'KUBE-SEP-3WH7PNCF552PK7QF')[1], [
      '-p', 'tcp', '-m', 'comment', '--comment', 'default/service1:fileserver', '-m', 'tcp', '-j', 'DNAT', '--to-destination', '10.244.1.5:8080',
    ]);
    const svc = rulesOf(rs, 'nat', 'KUBE-SVC-XFIT55N4IPARHPG5');
    assert.deepEqual(svc[1], [
      '-m', 'comment', '--comment', 'default/service1:downloader -> 10.244.1.4:3000',
      '-m', 'statistic', '--mode', 'random', '--probability', '0.33333333349', '-j', 'KUBE-SEP-LADV24EFL6BSD2AA',
    ]);
    const v = viewRule({ words: svc[1]! });
    assert.equal(v.comment, 'default/service1:downloader -> 10.244.1.4:3000');
    const stat = v.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'statistic')!;
    assert.deepEqual(stat.statistic, { negated: false, mode: 'random', probability: 0.33333333349 });
    assert.deepEqual(v.target, { name: 'KUBE-SEP-LADV24EFL6BSD2AA', kind: 'jump', args: [], options: [] });
  });

  it('flannel-kubeadm-1.22-libvirt: port forwards, SNAT and MASQUERADE --to-ports beside kube-proxy', () => {
    const { rs } = load('flannel-kubeadm-1.22-libvirt.txt');
    const pre = rulesOf(rs, 'nat', 'PREROUTING');
    assert.equal(pre.length, 11);
    assert.equal(viewRule({ words: pre[1]! }).target?.toDestination, '172.25.11.1:22');
    const post = rulesOf(rs, 'nat', 'POSTROUTING').map((w) => viewRule({ words: w }));
    assert.equal(post.find((v) => v.target?.name === 'SNAT')?.target?.toSource, '172.25.11.254');
    assert.equal(viewRule({ words: rulesOf(rs, 'nat', 'LIBVIRT_PRT')[2]! }).target?.toPorts, '1024-65535');
    assert.equal(rulesOf(rs, 'mangle', 'LIBVIRT_PRT')[0]!.at(-1), '--checksum-fill');
  });

  it('flannel-legacy-1.4.21-centos7: REJECT rules for services without endpoints', () => {
    const { rs } = load('flannel-legacy-1.4.21-centos7.txt');
    const ext = rulesOf(rs, 'filter', 'KUBE-EXTERNAL-SERVICES').map((w) => viewRule({ words: w }));
    assert.equal(ext.length, 3);
    assert.equal(ext[0]!.comment, 'ingress-nginx/ingress-nginx-controller:https has no endpoints');
    assert.equal(ext[0]!.target?.rejectWith, 'icmp-port-unreachable');
    const addr = ext[0]!.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'addrtype');
    assert.deepEqual(addr?.addrtype?.dstType, { negated: false, value: ['LOCAL'] });
    const fw = viewRule({ words: rulesOf(rs, 'filter', 'KUBE-FIREWALL')[0]! });
    const ct = fw.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'conntrack');
    assert.deepEqual(ct?.conntrack?.ctstate, { negated: true, value: ['RELATED', 'ESTABLISHED', 'DNAT'] });
  });

  it('affinity-externalip-legacy-2017: recent (session affinity), physdev and addrtype negations', () => {
    const { rs } = load('affinity-externalip-legacy-2017.txt');
    const aff = viewRule({ words: rulesOf(rs, 'nat', 'KUBE-SVC-NPX46M4PTMTKRN6Y')[0]! });
    const recent = aff.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'recent');
    assert.deepEqual(recent?.recent, {
      negated: false, name: 'KUBE-SEP-UPD7ND2TPNSDBE6L', command: 'rcheck', seconds: 10800, reap: true, rttl: false,
      side: 'rsource', mask: '255.255.255.255',
    });
    const ext = viewRule({ words: rulesOf(rs, 'nat', 'KUBE-SERVICES')[5]! });
    assert.equal(ext.comment, 'default/ares-k29-bindapp:dns-udp-53 external IP');
    const phys = ext.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'physdev');
    assert.deepEqual(phys?.physdev, { isIn: { negated: true } });
    const at = ext.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'addrtype');
    assert.deepEqual(at?.addrtype?.srcType, { negated: true, value: ['LOCAL'] });
    assert.deepEqual(viewRule({ words: rulesOf(rs, 'nat', 'KUBE-SERVICES')[7]! }).matches[0], {
      kind: 'address', dir: 'dst', negated: false, value: 'x.x.x.x/32', addresses: [{ ip: 'x.x.x.x', mask: '32' }], words: ['-d', 'x.x.x.x/32'],
    });
  });

  it('weave-kubeadm-1.11: escaped apostrophes, punctuated ipset names, NFLOG and negated marks', () => {
    const { rs } = load('weave-kubeadm-1.11.txt');
    const fwd = rulesOf(rs, 'filter', 'FORWARD');
    assert.equal(fwd[0]![5], "NOTE: this must go before '-j KUBE-FORWARD'");
    assert.deepEqual(viewRule({ words: fwd[2]! }).target?.options, [{ name: '--nflog-group', negated: false, args: ['86'] }]);
    const def = viewRule({ words: rulesOf(rs, 'filter', 'WEAVE-NPC-DEFAULT')[0]! });
    const set = def.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'set');
    assert.deepEqual(set?.set, { negated: false, name: 'weave-;rGqyMIl1HN^cfDki~Z$3]6!N', flags: ['dst'], returnNomatch: false });
    const egress = viewRule({ words: rulesOf(rs, 'filter', 'WEAVE-NPC-EGRESS')[6]! });
    const mark = egress.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'mark');
    assert.deepEqual(mark?.mark, { negated: true, value: 0x40000, mask: 0x40000 });
  });

  it('k3s-counters-1.8.4: iptables-save -c counters on chains and rules', () => {
    const { rs } = load('k3s-counters-1.8.4.txt');
    const nat = rs.tables.find((t) => t.name === 'nat')!;
    const pre = nat.chains.find((c) => c.name === 'PREROUTING')!;
    assert.deepEqual(pre.counters, { packets: 542n, bytes: 19886n });
    assert.deepEqual(pre.rules[0]!.counters, { packets: 402612n, bytes: 15051273n });
    const filter = rs.tables.find((t) => t.name === 'filter')!;
    assert.equal(filter.chains.find((c) => c.name === 'FORWARD')!.policy, 'DROP');
    for (const t of rs.tables) for (const c of t.chains) for (const r of c.rules) assert.ok(r.counters, `${c.name} rule has counters`);
    const total = filter.chains.find((c) => c.name === 'INPUT')!.rules.reduce((n, r) => n + r.counters!.packets, 0n);
    assert.equal(total, 8703356n + 477049n + 8705941n);
  });

  it('calico-ipvs-nat-1.8.4: ipset matches, a negated --match-set and addrtype --limit-iface-out', () => {
    const { rs } = load('calico-ipvs-nat-1.8.4.txt');
    const nat = rs.tables[0]!;
    assert.equal(nat.chains.length, 41);
    assert.equal(nat.chains.filter((c) => c.name.startsWith('KUBE-SEP-') && c.rules.length === 0).length, 13);
    const out = viewRule({ words: rulesOf(rs, 'nat', 'cali-nat-outgoing')[0]! });
    const sets = out.matches.filter((m): m is ModuleMatch => m.kind === 'module' && m.module === 'set').map((m) => m.set);
    assert.deepEqual(sets, [
      { negated: false, name: 'cali40masq-ipam-pools', flags: ['src'], returnNomatch: false },
      { negated: true, name: 'cali40all-ipam-pools', flags: ['dst'], returnNomatch: false },
    ]);
    assert.equal(out.target?.randomFully, true);
    const vx = viewRule({ words: rulesOf(rs, 'nat', 'cali-POSTROUTING')[2]! });
    const types = vx.matches.filter((m): m is ModuleMatch => m.kind === 'module' && m.module === 'addrtype').map((m) => m.addrtype);
    assert.deepEqual(types, [
      { limitIfaceIn: false, limitIfaceOut: true, srcType: { negated: true, value: ['LOCAL'] } },
      { limitIfaceIn: false, limitIfaceOut: false, srcType: { negated: false, value: ['LOCAL'] } },
    ]);
    const loop = viewRule({ words: rulesOf(rs, 'nat', 'KUBE-POSTROUTING')[0]! });
    assert.deepEqual(loop.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'set')?.set?.flags, ['dst', 'dst', 'src']);
  });
});

// kube-proxy's own restore input, as pinned for the renderer in upstream/*.rules (another suite's fixtures,
// read here only): every script parses as `iptables-restore --noflush` input and every word is claimed.
describe('kube-proxy restore input (upstream/*.rules)', () => {
  const up = join(DIR, '..', 'upstream');
  const files = existsSync(up) ? readdirSync(up).filter((f) => f.endsWith('.rules')) : [];
  it('parses each one and reads every word', { skip: files.length === 0 ? 'no upstream fixtures' : false }, () => {
    let rules = 0;
    for (const f of files) {
      const s = parseRestore(readFileSync(join(up, f), 'utf8'), { source: f, noflush: true });
      for (const t of s.ruleset.tables) {
        for (const c of t.chains) {
          for (const r of c.rules) {
            rules++;
            assert.deepEqual(viewRule(r).unknown, [], `${f} ${c.name}: ${r.words.join(' ')}`);
          }
        }
      }
    }
    assert.ok(rules > 100, `${rules} rules`);
  });
});
