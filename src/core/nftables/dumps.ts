// The dump kinds nftables mode reads: `nft list ruleset` (or `nft list table …`) text, one section per
// table, and `nft -j list ruleset` JSON, one line. Parsing keeps every table; the mode takes kube-proxy's
// table of the family asked for, and refuses an iptables-mode node's ruleset seen through iptables-nft.
import { InputError } from '../errors.js';
import type { Dump, DumpKind, IPFamily } from '../modes/types.js';
import { parseJsonListing } from './parse-json.js';
import { type ListedTable, parseListing } from './parse-text.js';
import { KUBE_PROXY_TABLE, type NftTable, nftFamily } from './types.js';

export const NFT_TEXT: DumpKind = {
  name: 'nft',
  command: 'nft list ruleset',
  // every table is its own section (a header), so each carries the family it names
  startsSection: (line) => (/^table (ip|ip6|inet|arp|bridge|netdev) \S+ \{\s*$/.test(line) ? 'header' : false),
  familyOf: (section) => {
    const m = /^table (ip6?) /.exec(section);
    return m ? (m[1] === 'ip6' ? 'IPv6' : 'IPv4') : undefined;
  },
};

export const NFT_JSON: DumpKind = {
  name: 'nft-json',
  command: 'nft -j list ruleset',
  startsSection: (line) => /^\{\s*"nftables"\s*:/.test(line),
};

/** Every table a dump's nft sections hold. */
export function listedTables(dump: Dump): ListedTable[] {
  const out: ListedTable[] = [];
  for (const s of dump.sections) {
    try {
      if (s.kind === NFT_TEXT.name) out.push(...parseListing(s.text, s.line));
      else if (s.kind === NFT_JSON.name) out.push(...parseJsonListing(s.text));
    } catch (e) {
      throw new InputError(`${dump.source}: ${(e as Error).message}.`);
    }
  }
  return out;
}

/** An iptables-mode kube-proxy seen through iptables-nft: xt tables with KUBE- chains, no kube-proxy table. */
function looksLikeIptablesNft(tables: ListedTable[]): boolean {
  return tables.some((t) => /^(nat|filter|mangle)$/.test(t.table.name) && t.table.chains.some((c) => c.name.startsWith('KUBE-')));
}

export function kubeProxyTable(dump: Dump, family: IPFamily): NftTable {
  const tables = listedTables(dump);
  const mine = tables.find((t) => t.nftFamily === nftFamily(family) && t.table.name === KUBE_PROXY_TABLE);
  if (mine) return mine.table;
  if (looksLikeIptablesNft(tables)) {
    throw new InputError(`${dump.source} is an iptables-mode node's ruleset seen through iptables-nft (KUBE- chains in the ip nat/filter tables), not nftables mode: read it with iptables-save instead.`);
  }
  return { family, name: KUBE_PROXY_TABLE, chains: [], sets: [] };
}

/** The tables that are not kube-proxy's (CNI, firewalld, Docker …), for display. */
export function otherTables(dump: Dump): ListedTable[] {
  return listedTables(dump).filter((t) => t.table.name !== KUBE_PROXY_TABLE);
}
