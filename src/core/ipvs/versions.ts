// What kube-proxy's ipvs proxier writes differs by release in its companion iptables rules; its ipsets and
// virtual servers have stayed the same across the modelled releases. This file is the one table of those
// differences (each with the upstream change and first release) and turns a rendering of the newest into
// the rendering of an older release. Host capabilities (MASQUERADE --random-fully) are the iptables mode's
// (iptables/versions.ts): the same iptables binary writes both.
//
// | feature        | first | what kube-proxy writes from then on                                   | source |
// |----------------|-------|-----------------------------------------------------------------------|--------|
// | ipvsFilter     | <1.26 | filter KUBE-IPVS-FILTER from INPUT: NEW connections to a kube-ipvs0   | kubernetes#72236's fix; a 1.26 |
// |                |       | address on a port no service uses are rejected                        | node shows it (k3s-io/k3s#7183) |
// | localhostReturn| 1.26  | nat KUBE-SERVICES starts with `-s 127.0.0.0/8 -j RETURN` (::1/128)     | kubernetes#112950 (opened |
// |                |       |                                                                       | 2022-10-10, before 1.26's freeze; |
// |                |       |                                                                       | taken as 1.26, not confirmed) |
// | ipvsOutFilter  | 1.29  | filter KUBE-IPVS-OUT-FILTER from OUTPUT: the node itself is dropped   | kubernetes#119791 (fixes #119656, |
// |                |       | at a LoadBalancer IP whose loadBalancerSourceRanges exclude it        | reviewed 2023-10, after 1.28.0 of |
// |                |       |                                                                       | 2023-08-15) |
//
// Both older-than-range facts are always on here; the range is the iptables mode's (1.26 to the newest).
import type { Ruleset } from '../iptables/types.js';
import { iptablesVersion } from '../iptables/versions.js';
import { CHAIN } from './names.js';
import type { IpvsState } from './types.js';

export type IpvsFeature = 'ipvsFilter' | 'localhostReturn' | 'ipvsOutFilter';

export interface IpvsVersionFact {
  feature: IpvsFeature;
  /** The first kube-proxy minor release (1.x) that writes it. */
  since: number;
  what: string;
  source: string;
}

export const IPVS_VERSION_FACTS: readonly IpvsVersionFact[] = [
  { feature: 'ipvsFilter', since: 25, what: 'filter KUBE-IPVS-FILTER rejecting unused ports on kube-ipvs0 addresses', source: 'kubernetes/kubernetes#72236' },
  { feature: 'localhostReturn', since: 26, what: 'nat KUBE-SERVICES returns traffic from 127.0.0.0/8 (::1/128) first', source: 'kubernetes/kubernetes#112950' },
  { feature: 'ipvsOutFilter', since: 29, what: 'filter KUBE-IPVS-OUT-FILTER dropping the node at LoadBalancer IPs its source ranges exclude', source: 'kubernetes/kubernetes#119791' },
];

export interface IpvsVersion {
  version: string;
  minor: number;
  assumed: boolean;
  features: ReadonlySet<IpvsFeature>;
}

/** The release `version` of kube-proxy ("1.28.3"; undefined: the newest known), as the iptables mode reads it. */
export function ipvsVersion(version: string | undefined): IpvsVersion {
  const v = iptablesVersion(version);
  return { version: v.version, minor: v.minor, assumed: v.assumed, features: new Set(IPVS_VERSION_FACTS.filter((f) => v.minor >= f.since).map((f) => f.feature)) };
}

/** The rendering (of the newest release) as kube-proxy of an older release writes it. */
export function stateForVersion(st: IpvsState, features: ReadonlySet<IpvsFeature>): IpvsState {
  if (features.has('ipvsOutFilter')) return st;
  return { ...st, iptables: withoutChain(st.iptables, 'filter', CHAIN.ipvsOutFilter), jumps: st.jumps.filter((j) => j.target !== CHAIN.ipvsOutFilter) };
}

function withoutChain(rs: Ruleset, table: string, chain: string): Ruleset {
  return {
    ...rs,
    tables: rs.tables.map((t) => {
      if (t.name !== table) return t;
      const { writeOrder, ...rest } = t;
      const kept = { ...rest, chains: t.chains.filter((c) => c.name !== chain) };
      return writeOrder ? { ...kept, writeOrder: writeOrder.filter((w) => w.chain !== chain) } : kept;
    }),
  };
}
