// trace --compare for people: what decides the packet's fate side by side (verdict, endpoints and odds,
// masquerade, affinity, the deciding hop's reason), what changed, then both whole traces. The whole traces go
// one above the other: a hop line is wider than half a terminal.
import type { ChalkInstance } from 'chalk';
import { joinHostPort } from '../core/net/ip.js';
import { reasonText } from '../core/why/index.js';
import { renderTable } from './table.js';
import type { TraceResult } from '../core/trace/types.js';
import type { TraceChange } from '../core/whatif/index.js';

export function renderTraceCompare(
  before: { text: string; result: TraceResult },
  after: { text: string; result: TraceResult },
  changes: readonly TraceChange[],
  opts: { color: ChalkInstance },
): string {
  const { color } = opts;
  const block = (title: string, text: string) => [color.bold(title), ...text.replace(/\n+$/, '').split('\n').map((l) => (l ? `  ${l}` : l))];
  const lines = [
    ...sideBySide(before.result, after.result).split('\n'),
    '',
    color.bold('What changed:'),
    ...(changes.length ? changes.map((c) => `  ${c.text}`) : ['  nothing: the same verdict, endpoints, odds and masquerade']),
    '',
    ...block('Before (objects as read):', before.text),
    '',
    ...block('After (with the what-if edits):', after.text),
  ];
  return lines.join('\n');
}

const pct = (p: number) => `${(Math.round(p * 1000) / 10).toString()}%`;

/** The facts that decide the packet's fate, BEFORE and AFTER in two columns. */
function sideBySide(before: TraceResult, after: TraceResult): string {
  const facts = (r: TraceResult) => {
    // the object fields the path stood on (the mode and chain policies are the same on both sides)
    const fields = [...new Set(r.hops.flatMap((h) => h.because ?? []).filter((x) => /^(Service|EndpointSlice|Node) /.test(x.object)).map(reasonText))];
    return {
      verdict: r.verdict,
      endpoints: r.endpoints.length ? r.endpoints.map((e) => `${joinHostPort(e.ip, e.port)} ${pct(e.probability)}`).join('\n') : '-',
      masquerade: r.masquerade === null ? 'unknown' : r.masquerade ? 'yes' : 'no',
      affinity: r.affinity ? `ClientIP ${r.affinity.seconds}s` : 'none',
      'rules met': String(r.hops.length),
      because: fields.length ? fields.join('\n') : '-',
    };
  };
  const b = facts(before);
  const a = facts(after);
  return renderTable(['', 'before', 'after'], (Object.keys(b) as (keyof typeof b)[]).map((k) => [k, b[k], a[k]]));
}
