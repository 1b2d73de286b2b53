// The state of one kube-proxy nftables table (`table ip kube-proxy` or `table ip6 kube-proxy`), as data:
// what `nft list table` shows and what knftables' Fake.Dump() prints, before it is text.
import type { IPFamily } from '../objects/types.js';
import type { FamilyState } from '../modes/types.js';

export type NftFamily = 'ip' | 'ip6';
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** The hook a base chain is attached to; regular chains have none. */
export interface NftBaseChain {
  type: 'filter' | 'nat' | 'route';
  hook: NftHook;
  /** Numeric priority as `nft` prints it after knftables resolved "dstnat-10" and friends. */
  priority: number;
  /** `policy accept` is the default and what kube-proxy leaves. */
  policy?: 'accept' | 'drop';
}

export interface NftRule {
  /** The rule's statements as kube-proxy writes them (knftables Rule.Rule), without the trailing comment. */
  rule: string;
  comment?: string;
}

export interface NftChain {
  name: string;
  base?: NftBaseChain;
  comment?: string;
  rules: NftRule[];
}

export interface NftElement {
  key: string[];
  /** A map element's value ("goto service-…", "drop"); absent for a set element. */
  value?: string[];
  comment?: string;
}

/** A named set or map. */
export interface NftSet {
  name: string;
  map: boolean;
  /** "ipv4_addr", "ipv4_addr . inet_proto . inet_service : verdict" … */
  type: string;
  flags?: string[];
  /** Default element timeout in seconds (affinity sets). */
  timeout?: number;
  comment?: string;
  elements: NftElement[];
}

export interface NftTable extends FamilyState {
  family: IPFamily;
  /** "kube-proxy" */
  name: string;
  comment?: string;
  chains: NftChain[];
  sets: NftSet[];
  /** The layout the table was rendered with, or the one it was recognised as when parsed. */
  layout?: string;
}

export const KUBE_PROXY_TABLE = 'kube-proxy';

export function nftFamily(family: IPFamily): NftFamily {
  return family === 'IPv6' ? 'ip6' : 'ip';
}
