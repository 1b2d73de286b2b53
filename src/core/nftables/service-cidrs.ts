// Which Service CIDRs kube-proxy's nftables proxier knows, so whether it writes the cluster-ips-check
// rule that drops traffic to unallocated ClusterIPs. kube-proxy learns them only from ServiceCIDR objects,
// and only watches those with the MultiCIDRServiceAllocator feature gate: beta and off by default in
// 1.31–1.32, GA and on from 1.33 (cmd/kube-proxy/app/server.go; the proxier's OnServiceCIDRsChanged keeps
// the CIDRs of its family). A node's own table settles it: its drop rule lists what that kube-proxy knew.
import { parseCIDRSloppy } from '../net/ip.js';
import { CHAIN } from './names.js';
import type { NftTable } from './types.js';

/** The first release whose kube-proxy watches ServiceCIDR objects by default. */
export const SERVICE_CIDRS_DEFAULT_FROM = { major: 1, minor: 33 };

/** The CIDRs of a table's "drop unallocated ClusterIPs" rule (`ip daddr { a, b } drop`), if it has one. */
export function serviceCIDRsOfTable(t: NftTable): string[] | undefined {
  const chain = t.chains.find((c) => c.name === CHAIN.clusterIPsCheck);
  for (const r of chain?.rules ?? []) {
    const m = /^ip6? daddr (?:\{ ([^}]*) \}|(\S+)) drop$/.exec(r.rule.trim());
    if (!m) continue;
    return (m[1] ?? m[2]!).split(',').map((s) => s.trim()).filter((s) => parseCIDRSloppy(s) !== null);
  }
  return undefined;
}

function watchesByDefault(version: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version?.trim() ?? '');
  if (!m) return true; // the newest layout
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > SERVICE_CIDRS_DEFAULT_FROM.major || (major === SERVICE_CIDRS_DEFAULT_FROM.major && minor >= SERVICE_CIDRS_DEFAULT_FROM.minor);
}

/**
 * The Service CIDRs to render with: the live table's own (it shows what that kube-proxy knew, gate or
 * not), else the ones given when that version watches ServiceCIDR objects by default, else none.
 */
export function serviceCIDRsFor(version: string | undefined, given: readonly string[] | undefined, live: NftTable | undefined): string[] {
  const fromLive = live ? serviceCIDRsOfTable(live) : undefined;
  if (fromLive) return fromLive;
  if (!given || !watchesByDefault(version)) return [];
  return [...given];
}
