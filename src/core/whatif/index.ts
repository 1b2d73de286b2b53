// What if: edits to the objects as read, tried in memory before anything is rendered (never written).
export { parseEdits, type Edit, type EditFlags, type ObjectRef } from './spec.js';
export { applyEdits, type AppliedEdit, type WhatIfObjects } from './apply.js';
export { compareTraces, type TraceChange } from './compare.js';

/** The stderr line for one applied edit. */
export function editLine(e: { flag: string; object: string; change: string }): string {
  return `What if: ${e.object} ${e.change} (${e.flag}; in memory only, nothing is written).`;
}
