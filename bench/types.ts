import type { Measurement } from './measure.js';

export interface BenchResult extends Measurement {
  detail?: string;
  /** Targets the case checks itself beside its median and RSS (connections/s, a ratio, an apply time), missed ones named. */
  missed?: string[];
}

export interface BenchCase {
  name: string;
  targetMs?: number;
  targetRssMB?: number;
  /** Run on the bundled code, as the CLI ships it (bench/bundled.ts), not through tsx. */
  bundled?: true;
  run(): Promise<BenchResult>;
}
