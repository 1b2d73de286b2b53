// What kind of saved rules a file holds, from its text alone.

export type DumpKind = 'iptables-save' | 'ipvsadm' | 'nft' | 'unknown';

/** iptables-save (`*nat` … `COMMIT`), `ipvsadm -Sn` (`-A -t VIP:PORT -s rr`), `nft list ruleset` (`table ip …`). */
export function detectDumpKind(text: string): DumpKind {
  const ipvs = /^-A -[tuf] \S+/m.test(text) || /^-a -[tuf] \S+ -r /m.test(text);
  if (ipvs) return 'ipvsadm';
  if (/^table (ip|ip6|inet|arp|bridge|netdev) \S+ \{/m.test(text)) return 'nft';
  if (/^\*(nat|filter|mangle|raw|security)\s*$/m.test(text) && /^COMMIT\s*$/m.test(text)) return 'iptables-save';
  return 'unknown';
}

export const DUMP_MODE: Record<Exclude<DumpKind, 'unknown'>, string> = { 'iptables-save': 'iptables', ipvsadm: 'ipvs', nft: 'nftables' };
