// What the 1.29 layout does not share with newer releases: an unset nodePortAddresses meant every local IP
// (the "primary" default, #122724, came in 1.30); the `forward` chain's `ct state invalid drop` was written
// only when the node's nf_conntrack_tcp_be_liberal was 0 (#120412): read from a live table when there is
// one, otherwise assumed and said so; and its own objects (endpoints-check, forward, firewall /
// firewall-allow) in drift words and reasons.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nftablesMode } from '../../../src/core/nftables/mode.js';
import { applyPlatformDefaults, setDefaults } from '../../../src/core/config/index.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import type { NftTable } from '../../../src/core/nftables/types.js';
import { loadCase } from './upstream/harness.js';
import { memberEffect, ruleMissingEffect, setMissingEffect } from '../../../src/core/nftables/base-drift.js';
import { examples, world } from '../why/world.js';

const c = loadCase('TestNodePorts.yaml');
const configOf = (fields: Record<string, unknown>) => applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.0.0.0/8', ...fields } as never));

function render(fields: Record<string, unknown>, version: string, live?: NftTable[]) {
  const config = configOf(fields);
  const view = buildProxyView({ services: c.services, endpointSlices: c.endpointSlices, nodes: c.nodes }, config, 'test');
  const notes: Array<{ kind: string; text: string; assumed: boolean }> = [];
  const [v4] = nftablesMode.render(view, config, { kubeProxyVersion: version, note: (kind, text, assumed) => notes.push({ kind, text, assumed }), ...(live ? { live } : {}) });
  const rules = v4!.chains.flatMap((ch) => ch.rules.map((r) => `${ch.name}: ${r.rule}`));
  return { table: v4!, rules, notes };
}

describe('nodePortAddresses by release', () => {
  it('the loader leaves an unset field unset (the release decides), and keeps a written ["primary"]', () => {
    assert.deepEqual(configOf({}).nodePortAddresses, []);
    assert.deepEqual(configOf({ nodePortAddresses: ['primary'] }).nodePortAddresses, ['primary']);
  });
  it('1.29 with ["primary"] written answers NodePorts on the primary node IP only', () => {
    const { table, rules } = render({ nodePortAddresses: ['primary'] }, '1.29');
    assert.ok(rules.includes('services: ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'), rules.join('\n'));
    assert.deepEqual(table.sets.find((s) => s.name === 'nodeport-ips')?.elements.map((e) => e.key[0]), ['192.168.0.2']);
  });
  it('1.29 with the field unset answers NodePorts on every local IP (fib daddr type local, no nodeport-ips set)', () => {
    const { table, rules } = render({}, '1.29');
    assert.ok(rules.includes('services: fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports'), rules.join('\n'));
    assert.ok(!table.sets.some((s) => s.name === 'nodeport-ips'));
  });
  it('1.31 with the field unset answers them on the primary node IP only', () => {
    const { table, rules } = render({}, '1.31');
    assert.ok(rules.includes('services: ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'), rules.join('\n'));
    assert.deepEqual(table.sets.find((s) => s.name === 'nodeport-ips')?.elements.map((e) => e.key[0]), ['192.168.0.2']);
  });
  it('1.29 keeps CIDRs that were written', () => {
    const { table, rules } = render({ nodePortAddresses: ['192.168.0.0/24'] }, '1.29');
    assert.ok(rules.includes('services: ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'), rules.join('\n'));
    assert.ok(table.sets.some((s) => s.name === 'nodeport-ips'));
  });
});

describe('nf_conntrack_tcp_be_liberal (1.29 only)', () => {
  const drop = 'forward: ct state invalid drop';
  it('without a live table: assumes 0, writes the drop, and says it assumed so', () => {
    const { rules, notes } = render({}, '1.29');
    assert.ok(rules.includes(drop));
    const n = notes.find((x) => x.kind === 'host');
    assert.ok(n && n.assumed && /nf_conntrack_tcp_be_liberal 0 \(not read/.test(n.text), JSON.stringify(notes));
  });
  it('takes it from a live 1.29 table: a forward chain without the drop means 1', () => {
    const liveTable = render({}, '1.29').table;
    const liberal: NftTable = { ...liveTable, chains: liveTable.chains.map((ch) => (ch.name === 'forward' ? { ...ch, rules: [] } : ch)) };
    const { rules, notes } = render({}, '1.29', [liberal]);
    assert.ok(!rules.includes(drop));
    assert.ok(rules.includes('filter-forward: jump forward'), 'the chain and its jump stay');
    const n = notes.find((x) => x.kind === 'host');
    assert.ok(n && !n.assumed && /be_liberal 1/.test(n.text), JSON.stringify(notes));
    // and a live table with the drop reads as 0
    const strict = render({}, '1.29', [liveTable]);
    assert.ok(strict.rules.includes(drop));
    assert.equal(strict.notes.find((x) => x.kind === 'host')?.assumed, false);
  });
  it('later layouts have no forward chain and say nothing of it', () => {
    const { rules, notes } = render({}, '1.31');
    assert.ok(!rules.some((r) => r.startsWith('forward: ')));
    assert.ok(!notes.some((x) => x.kind === 'host'));
  });
});

describe("1.29's own objects in drift words", () => {
  it('says what a missing forward chain rule, endpoints-check rule or firewall-allow member does to traffic', () => {
    assert.match(ruleMissingEffect('filter-forward', 'jump forward'), /INVALID are not dropped/);
    assert.match(ruleMissingEffect('forward', 'ct state invalid drop'), /INVALID are not dropped.*be_liberal/);
    assert.match(ruleMissingEffect('filter-input', 'ct state new jump endpoints-check'), /^traffic to services and NodePorts without endpoints is not rejected on input/);
    assert.match(ruleMissingEffect('endpoints-check', 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports'), /^NodePorts without endpoints/);
    assert.match(ruleMissingEffect('endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services'), /^traffic to services without endpoints/);
    assert.match(ruleMissingEffect('firewall-allow-check', 'ip daddr . meta l4proto . th dport . ip saddr @firewall-allow return'), /inside loadBalancerSourceRanges are dropped/);
    assert.match(ruleMissingEffect('firewall-allow-check', 'drop'), /not enforced/);
    const allow = { key: ['5.6.7.8', 'tcp', '80', '203.0.113.0/25'] };
    assert.equal(memberEffect('firewall-allow', allow, 'missing'), 'clients in 203.0.113.0/25 are dropped at 5.6.7.8:80/TCP though its loadBalancerSourceRanges let them in');
    assert.equal(memberEffect('firewall-allow', allow, 'extra'), 'clients in 203.0.113.0/25 get into 5.6.7.8:80/TCP though its loadBalancerSourceRanges do not name them');
    assert.match(memberEffect('firewall', { key: ['5.6.7.8', 'tcp', '80'] }, 'missing'), /^loadBalancerSourceRanges of 5\.6\.7\.8:80\/TCP are not enforced/);
    assert.equal(setMissingEffect('firewall-allow'), 'every client of a LoadBalancer IP with loadBalancerSourceRanges is dropped');
  });
});

describe("1.29's own objects in reasons (examples/, worker-1)", () => {
  it('ties the NodePort dispatch to nodePortAddresses (unset: every local IP) and firewall / firewall-allow members to the source ranges', async () => {
    const { objects, config } = await examples();
    const w = world('nftables@1.29', objects, config);
    const fields = (i: { reasons: Array<{ field: string; value?: string }> }) => i.reasons.map((r) => `${r.field}=${r.value ?? ''}`);
    const dispatch = w.index.items.filter((i) => i.chain === 'services' && i.text.includes('@service-nodeports'));
    assert.ok(dispatch.length > 0);
    for (const i of dispatch) {
      assert.match(i.text, /^fib daddr type local/);
      assert.deepEqual(fields(i), ['nodePortAddresses=[] (every local address)']);
    }
    const fenced = w.index.items.filter((i) => i.chain === 'firewall' || i.chain === 'firewall-allow');
    assert.ok(fenced.some((i) => i.chain === 'firewall-allow'), 'examples/ has a service with source ranges');
    for (const i of fenced) assert.ok(fields(i).some((f) => f.startsWith('spec.loadBalancerSourceRanges=')), `${i.chain} ${i.text}: ${fields(i).join('; ')}`);
  });
});
