// trace --compare: what an edit changes in a packet's fate, as data. The verdict, the endpoints with their
// odds, masquerade and affinity are compared; hops only as a count (their text is in the two traces).
import { joinHostPort } from '../net/ip.js';
import type { TraceResult } from '../trace/types.js';

export interface TraceChange {
  what: 'verdict' | 'endpoints' | 'masquerade' | 'affinity' | 'hops';
  before: unknown;
  after: unknown;
  /** One line for people: "verdict: forwarded → rejected". */
  text: string;
}

const pct = (p: number) => `${(Math.round(p * 1000) / 10).toString()}%`;

export function compareTraces(before: TraceResult, after: TraceResult): TraceChange[] {
  const changes: TraceChange[] = [];
  if (before.verdict !== after.verdict) changes.push({ what: 'verdict', before: before.verdict, after: after.verdict, text: `verdict: ${before.verdict} → ${after.verdict}` });
  const odds = (r: TraceResult) => new Map(r.endpoints.map((e) => [joinHostPort(e.ip, e.port), e.probability]));
  const b = odds(before);
  const a = odds(after);
  const parts: string[] = [];
  for (const [ep, p] of a) {
    if (!b.has(ep)) parts.push(`+${ep} (${pct(p)})`);
    else if (Math.abs(b.get(ep)! - p) > 1e-9) parts.push(`${ep} ${pct(b.get(ep)!)} → ${pct(p)}`);
  }
  for (const [ep, p] of b) if (!a.has(ep)) parts.push(`-${ep} (was ${pct(p)})`);
  if (parts.length) {
    const list = (m: Map<string, number>) => [...m].map(([ip, probability]) => ({ endpoint: ip, probability }));
    changes.push({ what: 'endpoints', before: list(b), after: list(a), text: `endpoints ${b.size} → ${a.size}: ${parts.join(', ')}` });
  }
  if (before.masquerade !== after.masquerade) {
    const say = (m: boolean | null) => (m === null ? 'unknown' : m ? 'yes' : 'no');
    changes.push({ what: 'masquerade', before: before.masquerade, after: after.masquerade, text: `masquerade: ${say(before.masquerade)} → ${say(after.masquerade)} (${after.masqueradeReason})` });
  }
  const aff = (r: TraceResult) => (r.affinity ? r.affinity.seconds : null);
  if (aff(before) !== aff(after)) {
    const say = (s: number | null) => (s === null ? 'none' : `${s}s`);
    changes.push({ what: 'affinity', before: aff(before), after: aff(after), text: `session affinity: ${say(aff(before))} → ${say(aff(after))}` });
  }
  if (before.hops.length !== after.hops.length) changes.push({ what: 'hops', before: before.hops.length, after: after.hops.length, text: `rules met: ${before.hops.length} → ${after.hops.length}` });
  return changes;
}
