// "Did you mean …": names close to one the user typed, for error sentences.

/** Up to `max` candidates within a small edit distance of `typed` (or containing it), closest first. */
export function closeNames(typed: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: Array<[number, string]> = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(typed, c);
    if (d <= Math.max(1, Math.floor(typed.length / 4)) || c.includes(typed) || typed.includes(c)) scored.push([d, c]);
  }
  return scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)).slice(0, max).map(([, c]) => c);
}

/** Levenshtein distance, two rows. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
