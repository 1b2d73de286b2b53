// computeProbability: fmt.Sprintf("%0.10f", 1.0/float64(n)), the --probability of the n-th-from-last
// endpoint rule. Go rounds the exact binary value of the float to 10 decimals, ties to even
// (strconv's decimal rounding); Number.prototype.toFixed breaks ties upwards, which differs for values
// such as 1/2048 = 0.00048828125 (Go: 0.0004882812). So the digits are computed exactly here.

const cache: string[] = [];

/** Go's %.{prec}f of a finite, non-negative double. */
export function formatFixedGo(x: number, prec: number): string {
  if (!Number.isFinite(x) || x < 0) throw new Error(`formatFixedGo: unsupported value ${x}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exponentBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (exponentBits === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  // x = mantissa * 2^exponent; scaled = x * 10^prec
  const scale = 10n ** BigInt(prec);
  let q: bigint;
  if (exponent >= 0) {
    q = mantissa * scale * (1n << BigInt(exponent));
  } else {
    const num = mantissa * scale;
    const den = 1n << BigInt(-exponent);
    q = num / den;
    const twiceRem = (num % den) * 2n;
    if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(prec + 1, '0');
  return prec === 0 ? digits : `${digits.slice(0, -prec)}.${digits.slice(-prec)}`;
}

export function computeProbability(n: number): string {
  let p = cache[n];
  if (p === undefined) {
    p = formatFixedGo(1 / n, 10);
    if (n < 10000) cache[n] = p;
  }
  return p;
}
