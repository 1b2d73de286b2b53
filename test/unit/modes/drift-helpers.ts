// Shared by the drift tests: take one line out of a node's dump or change it (asserting the dump had it, so a
// fixture edit cannot make a test pass by changing nothing), and the one drift a mutation must give.
import assert from 'node:assert/strict';
import type { Drift } from '../../../src/core/modes/types.js';

export function dumpEdits(dump: string) {
  return {
    without(line: string, text = dump): string {
      assert.ok(text.includes(`${line}\n`), `the dump has ${line}`);
      return text.replace(`${line}\n`, '');
    },
    replaced(from: string, to: string): string {
      assert.ok(dump.includes(from), `the dump has ${from}`);
      return dump.replace(from, to);
    },
  };
}

/** The one drift there is. */
export function only(drift: Drift[]): Drift {
  assert.equal(drift.length, 1, drift.map((d) => `${d.kind} ${d.object ?? ''} ${d.detail}`).join('\n'));
  return drift[0]!;
}
