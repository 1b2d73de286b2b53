// trace --compare for people: the trace before the what-if edits, the trace after, then what changed.
// Blocks one above the other rather than columns: a hop line is wider than half a terminal.
import type { ChalkInstance } from 'chalk';
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
    ...block('Before (objects as read):', before.text),
    '',
    ...block('After (with the what-if edits):', after.text),
    '',
    color.bold('What changed:'),
    ...(changes.length ? changes.map((c) => `  ${c.text}`) : ['  nothing: the same verdict, endpoints, odds and masquerade']),
  ];
  return lines.join('\n');
}
