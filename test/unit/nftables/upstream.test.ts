// The cases ported from upstream's nftables proxier_test.go (upstream/*.yaml, see upstream/harness.ts):
// the rendered table, as knftables' Fake.Dump() spells it and put through upstream's own normalisation
// (helpers_test.go sortNFTablesTransaction), equals upstream's expected text byte for byte; and every
// packet-flow test gives upstream's answer when traced through the table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dumpText } from '../../../src/core/nftables/serialize.js';
import type { NftTable } from '../../../src/core/nftables/types.js';
import { CASE_DIR, loadCase, readNft, renderCase, sortLikeUpstream, tracePacket, withVariant, type FlowTest, type UpstreamCase } from './upstream/harness.js';

function runFlows(t: NftTable, flows: FlowTest[]): void {
  const failures: string[] = [];
  for (const f of flows) {
    const got = tracePacket(t, f);
    if (got.output !== f.output || got.masq !== (f.masq ?? false)) {
      failures.push(`${f.name}: ${f.sourceIP} -> ${f.destIP}:${f.destPort} gave ${JSON.stringify(got.output)} masq=${got.masq}, want ${JSON.stringify(f.output)} masq=${f.masq ?? false}\n      ${got.hops.join('\n      ')}`);
    }
  }
  assert.deepEqual(failures, []);
}

function checkCase(c: UpstreamCase): void {
  const t = renderCase(c);
  if (c.expect) assert.equal(sortLikeUpstream(dumpText(t)), sortLikeUpstream(readNft(c.base ?? 'base.nft') + readNft(c.expect)));
  if (c.flows) runFlows(t, c.flows);
  if (c.flowsWithoutEndpoints) runFlows(renderCase(c, { withoutEndpoints: true }), c.flowsWithoutEndpoints);
}

const files = readdirSync(CASE_DIR).filter((f) => f.endsWith('.yaml')).sort();

describe(`upstream nftables proxier_test.go cases`, () => {
  for (const file of files) {
    const c = loadCase(file);
    if (c.variants && c.variants.length > 0) {
      describe(`${c.upstream} (${file})`, () => {
        for (const v of c.variants!) it(v.name, () => checkCase(withVariant(c, v)));
      });
    } else {
      it(`${c.upstream} (${file})`, () => checkCase(c));
    }
  }
});

// The 1.31–1.33 branch's packet-flow tables are the same as the newest ones (read at
// aroradaman/kubernetes @ 4177b600d4b97a67b765a18ddeeb295ef757b212): every flow again under that layout.
describe('upstream packet flows under the 1.31–1.33 layout', () => {
  for (const file of files) {
    const c = { ...loadCase(file), layout: '1.31', expect: undefined };
    for (const v of c.variants?.length ? c.variants : [undefined]) {
      it(`${c.upstream}${v ? ` (${v.name})` : ''}`, () => checkCase(withVariant(c, v && { ...v, expect: undefined, layout: '1.31' })));
    }
  }
});

// The 1.29 layout: every flow again, except those whose answer came with a later change:
// - no cluster-ips set yet (kubernetes#122692 added it): a packet to an unused port of a ClusterIP, or to
//   an unallocated ClusterIP, is neither rejected nor dropped by kube-proxy; it goes on untouched;
// - firewall-check ran in input/forward/output, after DNAT, where the destination is already the
//   endpoint: LoadBalancerSourceRanges let every source in (kubernetes#122614, "fixed
//   LoadBalancerSourceRanges not working for nftables mode", v1.30.0-alpha.1). Upstream's own 1.29 test
//   still said DROP: its tracer ordered base chains by priority across hooks (#122614 says so).
const LB_UNFILTERED = { output: '10.180.0.1:80', masq: true };
const AT_1_29: Record<string, { output: string; masq: boolean }> = {
  "svc1 does not accept svc2's ports": { output: '', masq: false },
  'packet to unallocated cluster ip': { output: '', masq: false },
  'TCP-only port does not match UDP traffic': { output: '', masq: false },
  'blocked external to LB1': LB_UNFILTERED,
  'blocked external to LB2': LB_UNFILTERED,
  'pod to LB1 (blocked by LoadBalancerSourceRanges)': LB_UNFILTERED,
  'pod to LB2 (blocked by LoadBalancerSourceRanges)': LB_UNFILTERED,
};
function at129(c: UpstreamCase): UpstreamCase {
  const fix = (fs: FlowTest[] | undefined) => fs?.map((f) => (AT_1_29[f.name] ? { ...f, ...AT_1_29[f.name] } : f));
  return { ...c, flows: fix(c.flows), flowsWithoutEndpoints: fix(c.flowsWithoutEndpoints) };
}
describe('upstream packet flows under the 1.29 layout', () => {
  for (const file of files) {
    const c = { ...loadCase(file), layout: '1.29', expect: undefined };
    for (const v of c.variants?.length ? c.variants : [undefined]) {
      it(`${c.upstream}${v ? ` (${v.name})` : ''}`, () => checkCase(at129(withVariant(c, v && { ...v, expect: undefined, layout: '1.29' }))));
    }
  }
});

// No 1.36 proxier_test.go is in the index; its packet flows are taken to be the older ones (what a
// packet meets did not change, only how the rules say it): every flow again under the 1.36 render.
describe('upstream packet flows under the 1.36 layout', () => {
  for (const file of files) {
    const c = { ...loadCase(file), layout: '1.36', expect: undefined };
    for (const v of c.variants?.length ? c.variants : [undefined]) {
      it(`${c.upstream}${v ? ` (${v.name})` : ''}`, () => checkCase(withVariant(c, v && { ...v, expect: undefined, layout: '1.36' })));
    }
  }
});

describe('sortLikeUpstream (helpers_test.go Test_sortNFTablesTransaction)', () => {
  it('sorts upstream’s testInput to its testExpected (helpers_test.go @ 803d40a57714b8d054430fedb25b48c20ba9d52c)', () => {
    const fx = (f: string) => readFileSync(join(import.meta.dirname, 'fixtures', f), 'utf8');
    assert.equal(sortLikeUpstream(fx('sort-input.nft')), fx('sort-expected.nft').trim());
  });
  it('orders by object type, then name, keeps rule order, sorts the rest by line', () => {
    const input = ['add rule ip t b x', 'add chain ip t b', 'add element ip t s { 2 }', 'add rule ip t a y', 'add rule ip t b w', 'add element ip t s { 1 }', '# c', '', 'add table ip t { comment "c" ; }'].join('\n');
    assert.equal(
      sortLikeUpstream(input),
      ['add table ip t { comment "c" ; }', 'add chain ip t b', 'add rule ip t a y', 'add rule ip t b x', 'add rule ip t b w', 'add element ip t s { 1 }', 'add element ip t s { 2 }'].join('\n'),
    );
  });
});
