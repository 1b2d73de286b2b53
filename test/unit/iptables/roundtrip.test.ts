// Round trips between the Ruleset and its two text forms, as a property over seeded random rulesets, and
// over the real dumps in dumps/.
//
//   parseIptablesSave(serializeSave(x))            deep-equals x
//   parseIptablesSave(serializeSave(x, counters))  deep-equals x, rule counters included
//   parseIptablesSave(serializeRestore(x))         deep-equals x minus counters and built-in policies, for words
//                                                  kube-proxy's quoting can carry (see RESTORE_SAFE below)
//   serializeSave(parseIptablesSave(dump))         reproduces the dump's lines, comment lines aside

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { prng } from '../../../bench/synthetic.js';
import { BUILTIN_CHAINS, parseIptablesSave } from '../../../src/core/iptables/parse.js';
import { serializeRestore, serializeSave } from '../../../src/core/iptables/serialize.js';
import type { Chain, IPFamily, Rule, Ruleset, Table, TableName } from '../../../src/core/iptables/types.js';

// ---- a generator of realistic rulesets, driven by the benchmarks' seeded PRNG -----------------------------

class Gen {
  constructor(
    private readonly rnd: () => number,
    /** Only words kube-proxy's restore quoting can carry: no `"`, no tab, no empty word, no `\` beside a blank. */
    private readonly restoreSafe: boolean,
  ) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  hash(): string {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let s = '';
    for (let i = 0; i < 16; i++) s += abc[this.int(32)];
    return s;
  }
  counters(): { packets: bigint; bytes: bigint } {
    const big = () =>
      this.pick([0n, 1n, BigInt(this.int(1e9)), 18446744073709551615n, BigInt(this.int(1e9)) * 1000000007n]);
    return { packets: big(), bytes: big() };
  }
  ipv4(): string {
    return `${10 + this.int(200)}.${this.int(256)}.${this.int(256)}.${this.int(256)}`;
  }
  ipv6(): string {
    return this.pick(['fd00:10:96::', 'fd00:10:244:1::', '2001:db8::', '::']) + this.int(65536).toString(16);
  }
  ip(family: IPFamily): string {
    return family === 'IPv4' ? this.ipv4() : this.ipv6();
  }
  cidr(family: IPFamily): string {
    return family === 'IPv4' ? `${this.ipv4()}/${this.pick([8, 16, 24, 32])}` : `${this.ipv6()}/${this.pick([64, 108, 128])}`;
  }
  comment(): string {
    const safe = [
      'kubernetes service portals', 'default/kubernetes:https', 'ns1/svc1:p80 cluster IP', 'cali:6gwbT8clXdHdC1b1',
      'kube-system/kube-dns:dns -> 10.244.0.5:53', 'kubernetes service nodeports; NOTE: this must be the last rule in this chain',
      'flanneld masq', 'x', '#not-a-comment-line', '-j DROP', 'COMMIT', '*nat', ':CHAIN', '[0:0]', 'ünïcødé ✓',
      "it's", 'a\\b', 'C:\\path', '!', 'ns/svc:port has no endpoints',
    ];
    const risky = ['say "hi"', 'back \\ slash', '"', '\\', '\\"', 'tab\there', '', ' ', '  lead and trail  ', "quote ' and \" both"];
    return this.restoreSafe || this.chance(0.6) ? this.pick(safe) : this.pick(risky);
  }
  chainName(prefixes: readonly string[]): string {
    const p = this.pick(prefixes);
    return p.endsWith('-') || p.endsWith('_') ? (p + this.hash()).slice(0, 28) : p;
  }
  rule(family: IPFamily, chains: string[], withCounters: boolean): Rule {
    const w: string[] = [];
    if (this.chance(0.4)) {
      if (this.chance(0.3)) w.push('!');
      w.push(this.pick(['-s', '-d']), this.cidr(family));
    }
    if (this.chance(0.2)) {
      // the old spelling of negation, kept as words
      w.push('-d', '!', this.ip(family));
    }
    if (this.chance(0.5)) w.push('-m', 'comment', '--comment', this.comment());
    if (this.chance(0.4)) {
      const proto = this.pick(['tcp', 'udp', 'sctp']);
      w.push('-p', proto, '-m', proto);
      if (this.chance(0.8)) w.push(...(this.chance(0.2) ? ['!'] : []), '--dport', String(this.int(65536)));
    }
    if (this.chance(0.15)) w.push('-m', 'multiport', '--dports', `${this.int(1024)},${this.int(1024)}:${1024 + this.int(1000)}`);
    if (this.chance(0.2)) w.push('-m', 'statistic', '--mode', 'random', '--probability', (this.rnd() / 1.0000001).toFixed(11));
    if (this.chance(0.15)) w.push('-m', 'mark', ...(this.chance(0.5) ? ['!'] : []), '--mark', this.pick(['0x4000/0x4000', '0x8000/0x8000', '0x1/0xff']));
    if (this.chance(0.1)) w.push('-m', 'recent', '--rcheck', '--seconds', '10800', '--reap', '--name', `KUBE-SEP-${this.hash()}`, '--mask', '255.255.255.255', '--rsource');
    if (this.chance(0.1)) w.push('-m', 'set', ...(this.chance(0.5) ? ['!'] : []), '--match-set', this.pick(['KUBE-CLUSTER-IP', 'cali40all-ipam-pools', 'weave-;rGqy^c~Z$3]6!N']), this.pick(['dst', 'dst,dst', 'src']));
    if (this.chance(0.1)) w.push('-m', 'addrtype', ...(this.chance(0.5) ? ['!'] : []), '--src-type', 'LOCAL', '--limit-iface-out');
    if (this.chance(0.1)) w.push('-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT');
    if (this.chance(0.1)) w.push(this.pick(['-i', '-o']), this.pick(['eth0', 'cali+', 'vxlan.calico', 'docker0']));
    const t = this.int(10);
    if (t === 0) w.push('-j', 'DNAT', '--to-destination', family === 'IPv4' ? `${this.ipv4()}:${this.int(65536)}` : `[${this.ipv6()}]:${this.int(65536)}`);
    else if (t === 1) w.push('-j', 'MARK', '--set-xmark', this.pick(['0x4000/0x4000', '0x4000/0x0', '0x8000/0x8000']));
    else if (t === 2) w.push('-j', 'MASQUERADE', ...(this.chance(0.5) ? ['--random-fully'] : ['--to-ports', '1024-65535']));
    else if (t === 3) w.push('-j', 'REJECT', '--reject-with', family === 'IPv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable');
    else if (t === 4) w.push('-j', 'LOG', '--log-prefix', this.restoreSafe ? 'kube drop: ' : this.pick(['[UFW BLOCK] ', 'x"y', '']), '--log-level', '4');
    else if (t === 5 && chains.length > 0) w.push('-g', this.pick(chains));
    else if (t < 9 && chains.length > 0) w.push('-j', this.pick(chains));
    else if (t === 9) w.push('-j', this.pick(['ACCEPT', 'DROP', 'RETURN']));
    const rule: Rule = { words: w };
    if (withCounters) rule.counters = this.counters();
    return rule;
  }
  ruleset(withRuleCounters: boolean): Ruleset {
    const family: IPFamily = this.chance(0.5) ? 'IPv4' : 'IPv6';
    const names: TableName[] = ['filter', 'nat', 'mangle', 'raw', 'security'];
    const tables: Table[] = [];
    const count = 1 + this.int(4);
    while (tables.length < count) {
      const name = this.pick(names);
      if (tables.some((t) => t.name === name)) continue;
      const chains: Chain[] = BUILTIN_CHAINS[name].map((c) => ({ name: c, policy: this.pick(['ACCEPT', 'DROP']), counters: this.counters(), rules: [] }));
      const user = this.int(7);
      const prefixes = ['KUBE-SVC-', 'KUBE-SEP-', 'KUBE-EXT-', 'KUBE-SVL-', 'cali-fw-', 'CILIUM_', 'FLANNEL-FWD', 'DOCKER-USER', 'ISTIO_INBOUND', 'KUBE-ROUTER-INPUT', 'KUBE-SERVICES', 'WEAVE-NPC'];
      for (let i = 0; i < user; i++) {
        const n = this.chainName(prefixes);
        if (chains.some((c) => c.name === n)) continue;
        chains.push({ name: n, policy: '-', counters: this.counters(), rules: [] });
      }
      const userNames = chains.filter((c) => c.policy === '-').map((c) => c.name);
      for (const c of chains) {
        const n = this.int(6);
        for (let i = 0; i < n; i++) c.rules.push(this.rule(family, userNames, withRuleCounters));
      }
      tables.push({ name, chains });
    }
    return { family, tables };
  }
}

/** What serializeRestore can carry: it writes every chain as `:NAME - [0:0]` and no rule counters. */
function restoreForm(x: Ruleset): Ruleset {
  return {
    family: x.family,
    tables: x.tables.map((t) => ({
      name: t.name,
      chains: t.chains.map((c) => ({ name: c.name, policy: '-', counters: { packets: 0n, bytes: 0n }, rules: c.rules.map((r) => ({ words: r.words })) })),
    })),
  };
}

const CASES = 300;

describe('round trip (property, seeded)', () => {
  it(`parseIptablesSave(serializeSave(x)) deep-equals x for ${CASES} random rulesets`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const x = new Gen(prng(seed), false).ruleset(false);
      const text = serializeSave(x);
      assert.deepEqual(parseIptablesSave(text, { source: `seed ${seed}`, family: x.family }), x, `seed ${seed}\n${text}`);
    }
  });

  it(`… and with iptables-save -c counters on every rule, ${CASES} more`, () => {
    for (let seed = 1001; seed <= 1000 + CASES; seed++) {
      const x = new Gen(prng(seed), false).ruleset(true);
      const text = serializeSave(x, { counters: true });
      assert.deepEqual(parseIptablesSave(text, { source: `seed ${seed}`, family: x.family }), x, `seed ${seed}\n${text}`);
    }
  });

  it(`parseIptablesSave(serializeRestore(x)) deep-equals x minus counters and built-in policies, ${CASES} rulesets`, () => {
    for (let seed = 2001; seed <= 2000 + CASES; seed++) {
      const x = new Gen(prng(seed), true).ruleset(true);
      const text = serializeRestore(x);
      assert.deepEqual(parseIptablesSave(text, { source: `seed ${seed}`, family: x.family }), restoreForm(x), `seed ${seed}\n${text}`);
    }
  });

  it('serializeRestore writes kube-proxy’s quoting, which cannot carry every word (documented limit, not a parse fault)', () => {
    // kube-proxy quotes a word only when it has a blank, and escapes nothing. iptables-restore then reads a
    // bare `"` as the start of a quote, drops a `\` inside a quoted word, and loses an empty word.
    const cases: Array<[string, string[]]> = [
      ['say "hi"', ['--comment', 'say ', 'hi']],
      ['a \\ b', ['--comment', 'a  b']],
      ['', ['--comment']],
    ];
    for (const [comment, words] of cases) {
      const x: Ruleset = { family: 'IPv4', tables: [{ name: 'filter', chains: [{ name: 'X', policy: '-', rules: [{ words: ['--comment', comment] }] }] }] };
      assert.deepEqual(parseIptablesSave(serializeRestore(x)).tables[0]!.chains[0]!.rules[0]!.words, words, JSON.stringify(comment));
      // the save form carries them all
      assert.deepEqual(parseIptablesSave(serializeSave(x)).tables[0]!.chains[0]!.rules[0]!.words, ['--comment', comment]);
    }
  });
});

// ---- real dumps ----------------------------------------------------------------------------------------

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'dumps');

describe('round trip of the real dumps', () => {
  for (const name of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
    it(`${name}: serializeSave(parse(dump)) reproduces the dump's lines, comment lines aside`, () => {
      const text = readFileSync(join(DIR, name), 'utf8');
      const rs = parseIptablesSave(text, { source: name });
      const counters = /^\[\d+:\d+\] -A /m.test(text);
      const lines = (s: string) =>
        s
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'));
      assert.deepEqual(lines(serializeSave(rs, { counters })), lines(text));
      // and the data survives the restore form too (minus counters and built-in policies)
      assert.deepEqual(parseIptablesSave(serializeRestore(rs), { family: rs.family }), restoreForm(rs));
    });
  }
});
