// trace --compare's changes as data: verdict, endpoints and their odds, masquerade, affinity; nothing when equal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceResult } from '../../../src/core/trace/types.js';
import { compareTraces } from '../../../src/core/whatif/index.js';

const result = (over: Partial<TraceResult>): TraceResult => ({
  mode: 'iptables', verdict: 'forwarded', endpoints: [], masquerade: false, masqueradeReason: 'no rule marked it', hops: [], qualifications: [], ...over,
});
const ep = (ip: string, probability: number) => ({ ip, port: 8080, probability, masquerade: false });

describe('compareTraces', () => {
  it('finds nothing between equal traces', () => {
    const r = result({ endpoints: [ep('10.0.0.1', 1)] });
    assert.deepEqual(compareTraces(r, structuredClone(r)), []);
  });

  it('names endpoints added, removed and re-weighted, and the verdict', () => {
    const before = result({ endpoints: [ep('10.0.0.1', 0.5), ep('10.0.0.2', 0.5)] });
    const after = result({ endpoints: [ep('10.0.0.1', 1 / 3), ep('10.0.0.3', 1 / 3), ep('fd00::4', 1 / 3)] });
    assert.deepEqual(compareTraces(before, after).map((c) => c.text), ['endpoints 2 → 3: 10.0.0.1:8080 50% → 33.3%, +10.0.0.3:8080 (33.3%), +[fd00::4]:8080 (33.3%), -10.0.0.2:8080 (was 50%)']);
    const rejected = compareTraces(before, result({ verdict: 'rejected', masquerade: null, masqueradeReason: 'rejected first' }));
    assert.deepEqual(rejected.map((c) => c.what), ['verdict', 'endpoints', 'masquerade']);
    assert.equal(rejected[2]!.text, 'masquerade: no → unknown (rejected first)');
  });

  it('names a change of session affinity', () => {
    const c = compareTraces(result({}), result({ affinity: { seconds: 600, name: 'KUBE-SEP-X' } }));
    assert.deepEqual(c.map((x) => x.text), ['session affinity: none → 600s']);
  });
});
