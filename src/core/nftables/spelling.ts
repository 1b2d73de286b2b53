// One spelling for a rule: kube-proxy writes `mark and 0x4000 == 0 return`, `{ 203.0.113.0/25 }` and
// `{ 0 : goto a , 1 : goto b }`; `nft list` prints `meta mark & 0x00004000 == 0x00000000 return`,
// `203.0.113.0/25` and `{ 0 : goto a, 1 : goto b }`. Parsed rules are brought to kube-proxy's words;
// comparisons go through canonicalRule, which also settles what is only spelling (hex width, spaces).

/** nft's listing of a rule -> kube-proxy's words for the same rule. */
export function kubeProxySpelling(rule: string): string {
  let r = rule.trim().replace(/\s+/g, ' ');
  r = r.replace(/\bmeta mark & (0x[0-9a-f]+) (==|!=) (0x[0-9a-f]+|\d+)/g, (_m, mask: string, op: string, v: string) => `mark and ${mask} ${op} ${BigInt(v) === 0n ? '0' : v}`);
  r = r.replace(/\bmeta mark set meta mark \| (0x[0-9a-f]+)/g, 'mark set mark or $1');
  r = r.replace(/\bmeta mark set meta mark \^ (0x[0-9a-f]+)/g, 'mark set mark xor $1');
  // a map of `addr . port` values: nft lists `dnat ip to … map`, kube-proxy (1.36+) writes `dnat ip addr . port to … map`
  r = r.replace(/\bdnat (ip6?) to (?=numgen random mod \d+ map \{)/g, 'dnat $1 addr . port to ');
  r = r.replace(/\breject with icmpx? (type )?port-unreachable\b/g, 'reject');
  r = r.replace(/\breject with icmpv6 (type )?port-unreachable\b/g, 'reject');
  // anonymous sets and maps: kube-proxy separates elements with " , "
  r = r.replace(/\{ ([^{}]*) \}/g, (_m, inner: string) => `{ ${inner.split(/\s*,\s*/).join(' , ')} }`);
  return r;
}

function hexCanon(s: string): string {
  return s.replace(/\b0x0*([0-9a-f]+)\b/gi, (_m, d: string) => `0x${d.toLowerCase()}`);
}

/** The one spelling both sides of a comparison are brought to. */
export function canonicalRule(rule: string): string {
  let r = kubeProxySpelling(rule);
  // a one-element anonymous set is printed without its braces
  r = r.replace(/(saddr|daddr)( != | )\{ ([^{},]+) \}/g, '$1$2$3');
  return hexCanon(r);
}

const UNITS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** "3h", "1d2h3m", "10800s", "10800" -> seconds. */
export function parseDurationSeconds(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|d|h|m|s)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return Math.round(total);
}

const NAMED_PRIORITY: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** "dstnat - 10", "filter", "-110" -> a number. */
export function parsePriority(s: string): number {
  const m = /^([a-z]+)?\s*([+-])?\s*(\d+)?$/.exec(s.trim());
  if (!m) return Number(s);
  if (!m[1]) return Number(s.replace(/\s+/g, ''));
  const base = NAMED_PRIORITY[m[1]] ?? 0;
  const off = m[3] ? Number(m[3]) * (m[2] === '-' ? -1 : 1) : 0;
  return base + off;
}
