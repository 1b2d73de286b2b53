// Go time.Duration, as kube-proxy reads and prints it.
//
// KubeProxyConfiguration durations are metav1.Duration: in YAML/JSON a *string* that Go's
// time.ParseDuration accepts ("30s", "1m", "2h22m", "1.5h", "250ms", "0"), printed back with
// time.Duration.String() ("30s", "1m0s", "15m0s", "24h0m0s", "250ms", "0s"). Both are ported here
// from Go's src/time/time.go (the algorithm, not the code), working in integer nanoseconds (bigint) so
// that printing is exact.

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const S = 1000n * MS;
const M = 60n * S;
const H = 60n * M;
const MAX_INT64 = (1n << 63n) - 1n;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', NS],
  ['us', US],
  ['\u00b5s', US], // U+00B5 micro sign
  ['\u03bcs', US], // U+03BC Greek small letter mu
  ['ms', MS],
  ['s', S],
  ['m', M],
  ['h', H],
]);

/** Why a duration string was refused, in Go's words ("time: invalid duration ..."). */
export class DurationError extends Error {}

/** Parses a Go duration string into nanoseconds, exactly as time.ParseDuration does. */
export function parseDurationNanos(text: string): bigint {
  const orig = text;
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    // [0-9]*
    let i = 0;
    while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
    const intDigits = s.slice(0, i);
    s = s.slice(i);
    const pre = intDigits.length > 0;
    let v = pre ? BigInt(intDigits) : 0n;
    if (v > MAX_INT64 + 1n) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    // (\.[0-9]*)?
    let fracDigits = '';
    let post = false;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      while (j < s.length && s[j] >= '0' && s[j] <= '9') j++;
      fracDigits = s.slice(0, j);
      s = s.slice(j);
      post = j > 0;
    }
    if (!pre && !post) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    // unit: everything up to the next digit or '.'
    let k = 0;
    while (k < s.length && s[k] !== '.' && !(s[k] >= '0' && s[k] <= '9')) k++;
    if (k === 0) throw new DurationError(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unitText = s.slice(0, k);
    s = s.slice(k);
    const unit = UNITS.get(unitText);
    if (unit === undefined) throw new DurationError(`time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(orig)}`);
    if (v > (1n << 63n) / unit) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    v *= unit;
    if (fracDigits !== '') {
      // Go's leadingFraction: accumulate digits until the next one would overflow, then scale in
      // float64 ("float64 is needed to be nanosecond accurate for fractions of hours").
      let fr = 0n;
      let scale = 1;
      for (const c of fracDigits) {
        if (fr > MAX_INT64 / 10n) break;
        const y = fr * 10n + BigInt(c.charCodeAt(0) - 48);
        if (y > 1n << 63n) break;
        fr = y;
        scale *= 10;
      }
      if (fr > 0n) {
        v += BigInt(Math.trunc(Number(fr) * (Number(unit) / scale)));
        if (v > 1n << 63n) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
      }
    }
    total += v;
    if (total > 1n << 63n) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
  }
  if (neg) return -total;
  if (total > MAX_INT64) throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
  return total;
}

/** Parses a Go duration string ("30s", "1h0m0s", "250ms") into milliseconds (fractional below 1ms). */
export function parseDuration(text: string): number {
  return Number(parseDurationNanos(text)) / 1e6;
}

/** Whether `text` is a duration Go's time.ParseDuration accepts. */
export function isDuration(text: string): boolean {
  try {
    parseDurationNanos(text);
    return true;
  } catch {
    return false;
  }
}

/** Formats nanoseconds as Go's time.Duration.String() does: "0s", "250ms", "30s", "1m0s", "24h0m0s". */
export function formatDurationNanos(nanos: bigint): string {
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  let out: string;
  if (u < S) {
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < US) {
      prec = 0;
      unit = 'ns';
    } else if (u < MS) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const [intPart, frac] = splitFraction(u, prec);
    out = `${intPart}${frac}${unit}`;
  } else {
    const [secs, frac] = splitFraction(u, 9);
    u = secs;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Formats milliseconds as Go's time.Duration.String() does. */
export function formatDuration(ms: number): string {
  return formatDurationNanos(BigInt(Math.round(ms * 1e6)));
}

/** Re-prints a Go duration string in Go's canonical form ("5m" -> "5m0s", "0" -> "0s"). */
export function normalizeDuration(text: string): string {
  return formatDurationNanos(parseDurationNanos(text));
}

// Go's fmtFrac: the last `prec` decimal digits of v become a fraction with trailing zeros (and a
// lone '.') dropped; returns the remaining integer part.
function splitFraction(v: bigint, prec: number): [bigint, string] {
  if (prec === 0) return [v, ''];
  const div = 10n ** BigInt(prec);
  const intPart = v / div;
  const fracDigits = (v % div).toString().padStart(prec, '0').replace(/0+$/, '');
  return [intPart, fracDigits === '' ? '' : `.${fracDigits}`];
}
