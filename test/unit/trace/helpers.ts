// What trace tests compare: endpoints with their shares, and that the shares add up.
import type { TraceResult } from '../../../src/core/trace/index.js';

export const eps = (r: TraceResult) => r.endpoints.map((e) => `${e.ip}:${e.port} ${e.probability.toFixed(4)}`).sort();
export const sum = (r: TraceResult) => r.endpoints.reduce((a, e) => a + e.probability, 0);
