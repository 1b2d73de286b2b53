// The 1.36+ layout, beyond upstream's own expected table (TestOverallNFTablesRules.1.36.yaml, from a fork
// tracking 1.36): the objects behind a real 1.36 node's published `nft list table ip kube-proxy`
// (fixtures/layout-1.36.*) rendered by us equal every object that listing shows, in the one spelling
// canonicalLines brings both sides to. The listing is abridged (its author left out the filter and
// nat-output chains and the no-endpoint maps). upstream.test.ts runs upstream's packet-flow tables through
// the 1.36 render, as it does for the older layouts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import { canonicalLines } from '../../../src/core/nftables/canonical.js';
import { kubeProxyTable, NFT_TEXT } from '../../../src/core/nftables/dumps.js';
import { layoutById, layoutForVersion } from '../../../src/core/nftables/layout.js';
import { plan } from '../../../src/core/nftables/plan.js';
import { renderNftables } from '../../../src/core/nftables/render.js';
import { dumpLines } from '../../../src/core/nftables/serialize.js';
import type { NftTable } from '../../../src/core/nftables/types.js';
import type { Dump } from '../../../src/core/modes/types.js';
import { buildProxyState, nodeIPs, podCIDRs } from '../../../src/core/model/index.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { loadCase, renderCase } from './upstream/harness.js';

const FIX = join(import.meta.dirname, 'fixtures');

function textDump(text: string): Dump {
  const lines = text.split('\n');
  const sections: Dump['sections'] = [];
  lines.forEach((l, i) => {
    if (NFT_TEXT.startsSection(l, lines[i + 1]) === 'header') sections.push({ kind: 'nft', text: '', line: i + 1 });
    if (sections.length) sections[sections.length - 1]!.text += l + '\n';
  });
  return { source: 'fixture', sections };
}

/** Our 1.36 render of the walkthrough's cluster, as kube-proxy on node "pi" would write it. */
function renderListingObjects(mutate?: (c: ReturnType<typeof loadCase>) => void): NftTable {
  const c = loadCase('../fixtures/layout-1.36.objects.yaml');
  mutate?.(c);
  const node = c.nodes[0]!;
  const state = buildProxyState({ services: c.services, endpointSlices: c.endpointSlices }, { ipFamily: 'IPv4', nodeName: 'pi' });
  const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.244.0.0/16', nodePortAddresses: ['primary'] } as never));
  return renderNftables({ state, config, node: { name: 'pi', ips: nodeIPs(node, 'IPv4'), podCIDRs: podCIDRs(node), localAddresses: ['127.0.0.1', '192.168.0.231'] }, layout: layoutForVersion('1.36.0') });
}

/** canonicalLines grouped by object: "chain services" -> its line and its rules' lines. */
function objects(t: NftTable): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] = [];
  for (const l of canonicalLines(t).slice(1)) {
    const m = /^add (chain|set|map) \S+ \S+ (\S+)/.exec(l);
    if (m) out.set(`${m[1]} ${m[2]}`, (cur = []));
    cur.push(l);
  }
  return out;
}

describe('the 1.36+ layout', () => {
  it('is what kube-proxy 1.36 and later writes, and the offline default', () => {
    assert.equal(layoutForVersion('v1.36.0').id, '1.36');
    assert.equal(layoutForVersion('1.37.2').id, '1.36');
    assert.equal(layoutForVersion(undefined).id, '1.36');
  });

  const listed = kubeProxyTable(textDump(readFileSync(join(FIX, 'layout-1.36.nft.txt'), 'utf8')), 'IPv4');
  const ours = renderListingObjects();
  it('renders every object of a real 1.36 listing exactly as listed (canonical spelling)', () => {
    const want = objects(listed);
    const got = objects(ours);
    assert.deepEqual([...want.keys()].filter((k) => !got.has(k)), []);
    for (const [k, lines] of want) assert.deepEqual(got.get(k), lines, k);
  });
  it('has no endpoint chains and no mark-for-masquerade chain without affinity', () => {
    assert.deepEqual(ours.chains.filter((c) => c.name.startsWith('endpoint-') || c.name === 'mark-for-masquerade'), []);
  });
  it('keeps the 1.34 base chains and jumps', () => {
    const base = (t: NftTable) => t.chains.filter((c) => c.base).map((c) => `${c.name} ${c.base!.hook} ${c.base!.priority} ${c.rules.map((r) => r.rule).join('; ')}`);
    const t134 = renderListingObjects();
    const r134 = renderNftables({ ...{ state: buildProxyState({ services: [], endpointSlices: [] }, { ipFamily: 'IPv4', nodeName: 'pi' }) }, config: applyPlatformDefaults(setDefaults({ mode: 'nftables' } as never)), node: { name: 'pi', ips: [], podCIDRs: [] }, layout: layoutById('1.34') });
    assert.deepEqual(base(t134), base(r134));
  });
  it('the listing after a pod was replaced is one partial transaction away: one chain, hairpin elements', () => {
    const after = renderListingObjects((c) => {
      const ep = c.endpointSlices.find((s) => s.metadata?.name === 'backend-api-k47lx')!.endpoints!.find((e) => e.addresses[0] === '10.244.0.10')!;
      ep.addresses = ['10.244.0.11'];
    });
    const text = plan(ours, after, { changed: ['kproxy-lab/backend-api:http'] }).text();
    assert.equal(
      text,
      [
        'add chain ip kube-proxy service-YVSKLJHA-kproxy-lab/backend-api/tcp/http',
        'flush chain ip kube-proxy service-YVSKLJHA-kproxy-lab/backend-api/tcp/http',
        'add rule ip kube-proxy service-YVSKLJHA-kproxy-lab/backend-api/tcp/http meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.244.0.11 . 9898 , 1 : 10.244.0.8 . 9898 }',
        'add element ip kube-proxy hairpin-connections { 10.244.0.11 . 10.244.0.11 . tcp . 9898 }',
        'delete element ip kube-proxy hairpin-connections { 10.244.0.10 . 10.244.0.10 . tcp . 9898 }',
        '',
      ].join('\n'),
    );
  });
});

describe('1.36 rules in upstream’s words', () => {
  const t = renderCase({ ...loadCase('TestOverallNFTablesRules.yaml'), layout: '1.36' });
  const lines = dumpLines(t);
  it('inlines the masquerade mark and masquerades hairpin connections through the set', () => {
    for (const l of [
      'add set ip kube-proxy hairpin-connections { type ipv4_addr . ipv4_addr . inet_proto . inet_service ; comment "service hairpin connections" ; }',
      'add rule ip kube-proxy masquerading mark and 0x4000 != 0 mark set mark xor 0x4000 masquerade fully-random',
      'add rule ip kube-proxy masquerading ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random',
      'add rule ip kube-proxy services ip daddr @cluster-ips ip saddr != 10.0.0.0/8 mark set mark or 0x4000 comment "masquerade clusterIP traffic from outside cluster"',
      // upstream's own svc1 line, as kubernetes#140362's diff shows it as context
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 meta l4proto tcp dnat ip addr . port to numgen random mod 1 map { 0 : 10.180.0.1 . 80 }',
    ]) {
      assert.ok(lines.includes(l), `${l}\n--\n${lines.join('\n')}`);
    }
    assert.ok(!lines.some((l) => l.includes('mark-for-masquerade')));
  });
});

describe('1.36 summaries', () => {
  const t = renderCase({ ...loadCase('TestOverallNFTablesRules.1.36.yaml') });
  const s = (sp: string) => nftablesMode.summarize(t).find((x) => x.servicePort === sp)!;
  it('reads the masquerade mark set inline: ClusterIPs from `services`, external chains from their own rules', () => {
    const entry = (sp: string, kind: string) => s(sp).entries.find((e) => e.kind === kind)!.masquerade;
    assert.deepEqual(entry('ns1/svc1:p80', 'cluster IP'), ['ip saddr != 10.0.0.0/8']);
    assert.deepEqual(entry('ns3/svc3:p80', 'nodePort'), ['always']);
    assert.deepEqual(entry('ns2/svc2:p80', 'nodePort'), ['fib saddr type local']);
  });
  it('balances over the numgen DNAT map, and over endpoint chains with affinity', () => {
    assert.deepEqual(s('ns4/svc4:p80').balancers.map((b) => b.endpoints.map((e) => `${e.endpoint} ${e.probability}`)), [['10.180.0.4:80 0.5', '10.180.0.5:80 0.5']]);
    assert.deepEqual(s('ns5/svc5:p80').balancers.map((b) => [b.affinitySeconds, b.endpoints.map((e) => e.endpoint)]), [[10800, ['10.180.0.3:80']]]);
  });
});
