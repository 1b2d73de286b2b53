// parse: `nft list ruleset` text and `nft -j list ruleset` JSON, as nft 1.0.6 printed them after our
// full-sync transaction for upstream's TestOverallNFTablesRules ran in a network namespace (fixtures/;
// a CNI-like `inet` table sits beside kube-proxy's), read back to the table we rendered.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalLines } from '../../../src/core/nftables/canonical.js';
import { kubeProxyTable, otherTables, NFT_JSON, NFT_TEXT } from '../../../src/core/nftables/dumps.js';
import { tableDrift } from '../../../src/core/nftables/drift.js';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import type { Dump } from '../../../src/core/modes/types.js';
import { splitDump } from '../../../src/core/modes/dumps.js';
import { loadCase, renderCase } from './upstream/harness.js';

const FIX = join(import.meta.dirname, 'fixtures');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');

/** Sections as the splitter would cut them: one per `table …` line. */
function textDump(text: string, source = 'fixture'): Dump {
  const lines = text.split('\n');
  const sections: Dump['sections'] = [];
  lines.forEach((l, i) => {
    if (NFT_TEXT.startsSection(l, lines[i + 1]) === 'header') sections.push({ kind: 'nft', text: '', line: i + 1 });
    if (sections.length) sections[sections.length - 1]!.text += l + '\n';
  });
  return { source, sections };
}

const rendered = () => {
  const t = renderCase(loadCase('TestOverallNFTablesRules.yaml'));
  return t;
};

describe('nft list ruleset text', () => {
  it('reads kube-proxy’s table back to what was rendered, keeping the other table aside', () => {
    const dump = textDump(read('overall.nft.txt'));
    const t = kubeProxyTable(dump, 'IPv4');
    assert.deepEqual(canonicalLines(t), canonicalLines(rendered()));
    assert.deepEqual(tableDrift(rendered(), t), []);
    assert.deepEqual(otherTables(dump).map((x) => `${x.nftFamily} ${x.table.name}`), ['inet cni-test']);
  });
  it('a changed listing drifts', () => {
    const text = read('overall.nft.txt').replace('numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80, 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }', 'numgen random mod 1 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 }');
    const kinds = tableDrift(rendered(), kubeProxyTable(textDump(text), 'IPv4')).map((d) => `${d.servicePort} ${d.kind}`);
    assert.ok(kinds.includes('ns4/svc4:p80 missing endpoint'), kinds.join('\n'));
    assert.ok(kinds.includes('ns4/svc4:p80 probability'), kinds.join('\n'));
  });
  it('an iptables-mode node under iptables-nft is refused with one sentence naming iptables-save', () => {
    assert.throws(() => nftablesMode.parse(textDump(read('iptables-nft.nft.txt'), 'node1.txt'), 'IPv4'), /iptables-nft.*iptables-save instead\.$/);
  });
  it('no kube-proxy table of the family: an empty table', () => {
    assert.equal(kubeProxyTable(textDump(read('overall.nft.txt')), 'IPv6').chains.length, 0);
  });
  it('says where text that is not a listing breaks', () => {
    assert.throws(() => kubeProxyTable({ source: 'x.txt', sections: [{ kind: 'nft', text: 'table ip kube-proxy {\n\tbogus line\n}\n', line: 7 }] }, 'IPv4'), /x\.txt: line 8: unexpected "bogus line"/);
  });
});

describe('dump splitting', () => {
  it('cuts a listing into one section per table, each with the family it names, at its own line', () => {
    const d = splitDump(read('overall.nft.txt'), 'node1.txt', nftablesMode.dumps.primary);
    assert.deepEqual(d.sections.map((s) => [s.kind, s.family ?? null, s.line, s.text.split('\n')[0]]), [
      ['nft', 'IPv4', 1, 'table ip kube-proxy {'],
      ['nft', null, 228, 'table inet cni-test {'],
    ]);
    assert.equal(nftablesMode.parse(d, 'IPv4').chains.length, 32);
  });
});

describe('nft -j list ruleset JSON', () => {
  // nft 1.0.6 leaves table and chain comments out of its JSON; everything else reads back.
  const withoutObjectComments = (lines: string[]) => lines.map((l) => l.replace(/^(add (?:table|chain) .*?)(?: \{ comment "[^"]*" ; \}| comment "[^"]*" ;)/, '$1'));
  it('reads to the same table as the text listing', () => {
    const json = read('overall.nft.json');
    assert.ok(NFT_JSON.startsSection(json.split('\n')[0]!, undefined));
    const t = kubeProxyTable({ source: 'j', sections: [{ kind: 'nft-json', text: json, line: 1 }] }, 'IPv4');
    assert.deepEqual(withoutObjectComments(canonicalLines(t)), withoutObjectComments(canonicalLines(rendered())));
    assert.deepEqual(tableDrift(rendered(), t), []);
  });
});

// A 1.36 node's `nft list table ip kube-proxy` (as published in a walkthrough of a 1.36 cluster; base
// chains beyond nat-prerouting/-postrouting left out there): no endpoint chains, the masquerade mark set
// inline, hairpin traffic masqueraded through the hairpin-connections set. Read, summarized and traced.
describe('a 1.36-layout listing', () => {
  const t = kubeProxyTable(textDump(read('layout-1.36.nft.txt')), 'IPv4');
  it('summarizes the numgen DNAT maps as balancers', () => {
    const s = nftablesMode.summarize(t).find((x) => x.servicePort === 'kproxy-lab/backend-api:http')!;
    assert.deepEqual(s.balancers.map((b) => b.endpoints.map((e) => `${e.endpoint} ${e.probability}`)), [['10.244.0.10:9898 0.5', '10.244.0.8:9898 0.5']]);
  });
  it('traces: pod traffic kept, hairpin and off-cluster traffic masqueraded', () => {
    const ev = nftablesMode.tracer([t], { rendered: false });
    const node = { localAddresses: ['192.168.0.231'] };
    const pod = ev.trace({ src: '10.244.0.9', dst: '10.100.192.23', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node);
    assert.deepEqual(pod.endpoints.map((e) => [e.ip, e.port, e.probability, e.masquerade]), [['10.244.0.10', 9898, 0.5, false], ['10.244.0.8', 9898, 0.5, false]]);
    assert.deepEqual(pod.qualifications, []);
    const hairpin = ev.trace({ src: '10.244.0.8', dst: '10.100.192.23', dport: 80, protocol: 'TCP', entry: 'pod-local' }, node);
    assert.deepEqual(hairpin.endpoints.map((e) => [e.ip, e.masquerade]), [['10.244.0.10', false], ['10.244.0.8', true]]);
    const outside = ev.trace({ src: '192.168.0.50', dst: '10.100.192.23', dport: 80, protocol: 'TCP', entry: 'external' }, node);
    assert.ok(outside.endpoints.every((e) => e.masquerade));
  });
});

// The 1.29 layout as nft 1.0.6 listed it after its full-sync transaction for TestOverallNFTablesRules at
// 1.29 ran in a network namespace (fixtures/layout-1.29.nft.*): the interval set of concatenations
// (firewall-allow), the `forward` chain and the single endpoints-check read back to the rendered table.
describe('a 1.29-layout listing', () => {
  const rendered129 = () => renderCase(loadCase('TestOverallNFTablesRules.1.29.yaml'));
  it('text and JSON both read back to the rendered table, without drift', () => {
    const fromText = kubeProxyTable(textDump(read('layout-1.29.nft.txt')), 'IPv4');
    assert.deepEqual(canonicalLines(fromText), canonicalLines(rendered129()));
    assert.deepEqual(tableDrift(rendered129(), fromText), []);
    const fromJSON = kubeProxyTable({ source: 'fixture', sections: [{ kind: 'nft-json', text: read('layout-1.29.nft.json'), line: 1 }] }, 'IPv4');
    // nft 1.0.6 leaves table and chain comments out of its JSON (as above)
    const noObjectComments = (lines: string[]) => lines.map((l) => l.replace(/^(add (?:table|chain) .*?)(?: \{ comment "[^"]*" ; \}| comment "[^"]*" ;)/, '$1'));
    assert.deepEqual(noObjectComments(canonicalLines(fromJSON)), noObjectComments(canonicalLines(rendered129())));
    assert.deepEqual(tableDrift(rendered129(), fromJSON), []);
  });
  it('a source range taken out of firewall-allow is drift', () => {
    const text = read('layout-1.29.nft.txt').replace(/\t\telements = \{ 5\.6\.7\.8 \. tcp \. 80 \. 203\.0\.113\.0\/25 comment "ns5\/svc5:p80" \}\n/, '');
    assert.notEqual(text, read('layout-1.29.nft.txt'));
    assert.notDeepEqual(tableDrift(rendered129(), kubeProxyTable(textDump(text), 'IPv4')), []);
  });
});
