// Timing helpers shared by the benchmark cases.
export interface Measurement {
  samplesMs: number[];
  medianMs: number;
  maxRssMB: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs fn `runs` times after `warmup` unmeasured runs; RSS is this process's peak (each case runs in its own process). */
export async function measure(fn: () => unknown | Promise<unknown>, runs: number, warmup = 1): Promise<Measurement> {
  // Collect the previous run's garbage first (bench/run.ts starts cases with --expose-gc), so peak RSS
  // reflects one run's working set rather than the heap growth of many runs in a row.
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  for (let i = 0; i < warmup; i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc();
    const t0 = process.hrtime.bigint();
    await fn();
    samplesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { samplesMs, medianMs: median(samplesMs), maxRssMB: process.resourceUsage().maxRSS / 1024 };
}
