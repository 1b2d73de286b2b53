// kubectl's --request-timeout values: "0" (no timeout), a bare number of seconds, or a Go duration
// such as "5s", "1m30s", "250ms".
import { isDuration, parseDuration } from '../core/config/duration.js';
import { InputError } from '../core/errors.js';

export function parseRequestTimeout(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!isDuration(v) || parseDuration(v) < 0) {
    throw new InputError(`--request-timeout "${value}" is not a duration; use a value like 0, 30, 5s or 1m.`);
  }
  return Math.round(parseDuration(v));
}

/** A --timeout flag's value (set's rollout, sync --all-nodes' pods): a positive duration, in ms. */
export function parseTimeoutFlag(value: string): number {
  try {
    const ms = parseRequestTimeout(value);
    if (ms > 0) return ms;
  } catch {
    // said below, in --timeout's own words
  }
  throw new InputError(`--timeout "${value}" is not a positive duration; use a value like 90s or 5m.`);
}
