// Unified text diff of two rule listings, coloured on a terminal.
import type { ChalkInstance } from 'chalk';
import { createTwoFilesPatch } from 'diff';

export function unifiedDiff(expected: string[], actual: string[], labels: [string, string]): string {
  const patch = createTwoFilesPatch(labels[0], labels[1], expected.join('\n') + '\n', actual.join('\n') + '\n', '', '', { context: 2 });
  // Drop the "====" separator line jsdiff puts first; keep ---/+++ and the hunks.
  return patch.split('\n').filter((l) => !/^=+$/.test(l)).join('\n').trimEnd();
}

export function colourDiff(text: string, color: ChalkInstance): string {
  return text
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? color.green(l) : l.startsWith('-') && !l.startsWith('---') ? color.red(l) : l.startsWith('@@') ? color.cyan(l) : l))
    .join('\n');
}
