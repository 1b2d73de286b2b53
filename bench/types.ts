import type { Measurement } from './measure.js';

export interface BenchResult extends Measurement {
  detail?: string;
}

export interface BenchCase {
  name: string;
  targetMs?: number;
  targetRssMB?: number;
  run(): Promise<BenchResult>;
}
