// kube-proxy's own packet-flow expectations (runPacketFlowTests in upstream's proxier_test.go, ported as
// test/unit/iptables/upstream/*.yaml) traced through core/trace's iptables evaluator — the real tracer,
// in netfilter's hook order — instead of the test-only port of upstream's tracer in harness.ts.
//
// Upstream states a flow by source IP only; the entry follows from it: a node address (or loopback) is
// the node itself, an address in the fake cluster CIDR 10.0.0.0/8 (fd00:10::/64) a pod on this node,
// anything else outside the cluster. Upstream's "output" is the DNAT destinations (all of them, as its
// tracer follows every probability branch), or ACCEPT/REJECT/DROP, or "" when nothing applies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { Ruleset } from '../../../src/core/iptables/index.js';
import { nodeIPs, podCIDRs } from '../../../src/core/model/index.js';
import { iptablesEvaluator } from '../../../src/core/trace/iptables.js';
import { parseNet, netContains, parseIPSloppy } from '../../../src/core/trace/addr.js';
import type { PacketEntry, TraceResult } from '../../../src/core/trace/types.js';
import { CASE_DIR, FAKE_INTERFACE_ADDRESSES, TEST_NODE_NAME, loadCase, renderCase, withVariant, type FlowTest, type UpstreamCase } from '../iptables/upstream/harness.js';

const CLUSTER = ['10.0.0.0/8', 'fd00:10::/64'].map((c) => parseNet(c)!);

export function entryFor(src: string, local: string[]): PacketEntry {
  if (local.includes(src) || src === '127.0.0.1' || src === '::1') return 'node';
  const ip = parseIPSloppy(src)!;
  return CLUSTER.some((n) => netContains(n, ip)) ? 'pod-local' : 'external';
}

export function upstreamOutput(r: TraceResult): string {
  switch (r.verdict) {
    case 'forwarded':
      return r.endpoints.map((e) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`)).sort().join(', ');
    case 'accepted':
      return 'ACCEPT';
    case 'rejected':
      return 'REJECT';
    case 'dropped':
      return 'DROP';
    default:
      return '';
  }
}

let flowCount = 0;

function runFlows(c: UpstreamCase, rs: Ruleset, flows: FlowTest[]): void {
  const node = c.nodes.find((n) => n.metadata?.name === TEST_NODE_NAME);
  const local = c.localAddresses ?? FAKE_INTERFACE_ADDRESSES;
  const ev = iptablesEvaluator(rs);
  const failures: string[] = [];
  for (const f of flows) {
    flowCount++;
    const r = ev.trace(
      { src: f.sourceIP, dst: f.destIP, dport: f.destPort, protocol: f.protocol ?? 'TCP', entry: entryFor(f.sourceIP, local) },
      { nodeName: TEST_NODE_NAME, localAddresses: local, podCIDRs: node ? podCIDRs(node) : [] },
    );
    const want = f.output.split(', ').sort().join(', ');
    const got = upstreamOutput(r);
    const wantMasq = f.masq ?? false;
    if (got !== want || (r.verdict === 'forwarded' && r.masquerade !== wantMasq) || r.qualifications.filter((q) => !q.includes('built-in chains')).length) {
      failures.push(
        `${f.name}: ${f.sourceIP} -> ${f.destIP}:${f.destPort} gave ${JSON.stringify(got)} (${r.verdict}) masq=${r.masquerade}, want ${JSON.stringify(want)} masq=${wantMasq}` +
          `${r.qualifications.length ? `\n    qualified: ${r.qualifications.join('; ')}` : ''}\n    hops:\n      ${r.hops.map((h) => `${h.table} ${h.chain}: ${h.rule} => ${h.action}`).join('\n      ')}`,
      );
    }
  }
  assert.deepEqual(failures, []);
}

function checkCase(c: UpstreamCase): void {
  if (c.flows) runFlows(c, renderCase(c), c.flows);
  if (c.flowsWithoutEndpoints) runFlows(c, renderCase(c, { withoutEndpoints: true }), c.flowsWithoutEndpoints);
  if (c.flowsWithoutServices) runFlows(c, renderCase(c, { withoutServices: true }), c.flowsWithoutServices);
}

const files = readdirSync(CASE_DIR).filter((f) => f.endsWith('.yaml') && f !== 'TestSyncProxyRulesRepeated.yaml').sort();

describe('upstream packet-flow cases through core/trace (iptables)', () => {
  for (const file of files) {
    const c = loadCase(file);
    if (c.variants?.length) {
      describe(`${c.upstream} (${file})`, () => {
        for (const v of c.variants!) it(v.name, () => checkCase(withVariant(c, v)));
      });
    } else if (c.flows || c.flowsWithoutEndpoints || c.flowsWithoutServices) {
      it(`${c.upstream} (${file})`, () => checkCase(c));
    }
  }
  it('traced every flow', () => {
    assert.equal(flowCount, 239, `${flowCount} flows traced`);
  });
});
