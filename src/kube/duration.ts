// kubectl's --request-timeout values: "0" (no timeout), a bare number of seconds, or a Go duration
// such as "5s", "1m30s", "250ms".
import { InputError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseRequestTimeout(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) {
    throw new InputError(`--request-timeout "${value}" is not a duration; use a value like 0, 30, 5s or 1m.`);
  }
  return Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]], 0));
}
