// The iptables tracer compiles the two rules of every endpoint chain without reading their words in general
// (compileEndpointRule): what it makes must be what the general compiler makes of the same words, on every
// rule a rendered cluster has and on the edge cases around the two shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setDefaults } from '../../../src/core/config/index.js';
import { nodeViews } from '../../../src/core/equivalence/views.js';
import type { Rule, Ruleset } from '../../../src/core/iptables/types.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import { parseIPSloppy } from '../../../src/core/trace/addr.js';
import { compileEndpointRule, compileRule, type CompiledRule } from '../../../src/core/trace/iptables.js';
import { syntheticCluster } from '../../../bench/synthetic.js';

const SOURCES = ['10.128.0.10', '10.128.0.11', '10.128.0.254', '192.168.0.1', '127.0.0.1', 'fd00::5', 'fd00::6', '::1'];
const PROTOS = ['tcp', 'udp', 'sctp'];

/** Each condition's answer for a grid of packets differing in what these rules read (source, protocol). */
function answers(cr: CompiledRule): string[] {
  const out: string[] = [];
  for (const src of SOURCES) {
    for (const proto of PROTOS) {
      const b = { share: 1, src: parseIPSloppy(src)!, srcText: src, dst: parseIPSloppy('10.96.0.1')!, dstText: '10.96.0.1', dport: 80, sport: 40000, proto, entry: 'pod-local', iif: 'pod', oif: null, mark: 0, dnat: false, masq: false, kubeAccept: false, hops: [], qualifications: [], depth: 0, quiet: true };
      const env = { local: undefined, localExact: new Set<string>(), localNets: [], podNets: [] };
      out.push(cr.conds.map((c) => String(c(b as never, env as never))).join(','));
    }
  }
  return out;
}

function same(rule: Rule, chain: string): boolean {
  const fast = compileEndpointRule(rule, chain);
  if (!fast) return false;
  const full = compileRule(rule, chain);
  const facts = (c: CompiledRule) => ({ rule: c.rule, chain: c.chain, target: c.target, key: c.key, comment: c.comment, probability: c.probability, affinity: c.affinity, conds: c.conds.length });
  assert.deepStrictEqual(facts(fast), facts(full), rule.words.join(' '));
  assert.deepStrictEqual(answers(fast), answers(full), rule.words.join(' '));
  return true;
}

describe('compileEndpointRule', () => {
  it('compiles every endpoint chain rule of a rendered cluster as compileRule does (commented, and not: over 1,000 endpoints)', () => {
    for (const [services, endpoints] of [[40, 3], [120, 10]] as const) {
      const objects = syntheticCluster({ services, endpointsPerService: endpoints, nodes: 3, seed: 7 });
      const config = setDefaults({ mode: 'iptables', clusterCIDR: '10.128.0.0/9' });
      const [view] = nodeViews(objects, config, 'test');
      const [rs] = modeFor('iptables', 'test').render(view!, config) as Ruleset[];
      let endpointRules = 0;
      let fast = 0;
      let commented = 0;
      for (const t of rs!.tables) {
        for (const c of t.chains) {
          for (const r of c.rules) {
            if (c.name.startsWith('KUBE-SEP-')) endpointRules++;
            if (same(r, c.name)) {
              fast++;
              if (r.words[1] === 'comment') commented++;
            } else assert.ok(!c.name.startsWith('KUBE-SEP-'), `an endpoint chain's rule went the general way: ${r.words.join(' ')}`);
          }
        }
      }
      assert.equal(endpointRules, services * endpoints * 2);
      assert.equal(fast, endpointRules, 'only the endpoint chains\' rules have these shapes here');
      assert.equal(commented, services * endpoints > 1000 ? 0 : fast, 'kube-proxy comments endpoint rules below 1,000 endpoints');
    }
  });

  it('holds to compileRule on other families and protocols, and leaves every other shape to it', () => {
    const rule = (s: string): Rule => ({ words: s.split(' ') });
    for (const s of ['-s fd00::5 -j KUBE-MARK-MASQ', '-s 10.128.0.10 -j KUBE-MARK-MASQ', '-m udp -p udp -j DNAT --to-destination 10.128.0.10:53', '-m sctp -p sctp -j DNAT --to-destination [fd00::5]:9000', '-m tcp -p tcp -j DNAT --to-destination 10.128.0.10']) {
      assert.ok(same(rule(s), 'KUBE-SEP-X'), s);
    }
    for (const s of ['-s 10.0.0.0/8 -j KUBE-MARK-MASQ', '-s 10.0.0.1,10.0.0.2 -j KUBE-MARK-MASQ', '-s nonsense -j KUBE-MARK-MASQ', '-d 10.0.0.1 -j KUBE-MARK-MASQ', '-s 10.0.0.1 -j KUBE-MARK-DROP', '-m tcp -p udp -j DNAT --to-destination 10.0.0.1:1', '-m icmp -p icmp -j DNAT --to-destination 10.0.0.1:1', '-m tcp -p tcp -j SNAT --to-source 10.0.0.1', '-m tcp -p tcp -j DNAT --to-destination --random']) {
      assert.equal(compileEndpointRule(rule(s), 'KUBE-SEP-X'), null, s);
    }
  });
});
