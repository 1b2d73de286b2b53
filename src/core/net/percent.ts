/** A share as people read it: "33.3%", "50%" (one decimal only where it is not a whole number). */
export function formatPercent(p: number): string {
  const v = p * 100;
  return `${Number.isInteger(Math.round(v * 10) / 10) ? v.toFixed(0) : v.toFixed(1)}%`;
}
