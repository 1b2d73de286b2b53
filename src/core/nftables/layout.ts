// The table layouts kube-proxy's nftables mode has shipped, by kube-proxy version.
//
// | versions   | layout | what changed                                                           | source |
// |------------|--------|------------------------------------------------------------------------|--------|
// | < 1.29     | —      | no nftables mode (alpha arrived in 1.29)                               | KEP-3866 |
// | 1.29       | 1.29   | as first merged: filter-{input,forward,output} at dstnat-1 (-101), one  | first-merged proxier.go |
// |            |        | endpoints-check chain (NodePort rule behind `fib daddr type local`), a | (danwinship/nftables era, |
// |            |        | `forward` chain with `ct state invalid drop` unless be_liberal (#120412;| the index's copy); tnqn/ |
// |            |        | removed by #122663, 1.30), firewall-check from input/forward/output,  | kubernetes proxier_test.go |
// |            |        | i.e. after DNAT, so                                                    |        |
// |            |        | LoadBalancerSourceRanges were not enforced (fixed by #122614);         | @e2526fc0 (#122296's branch, |
// |            |        | LoadBalancerSourceRanges as the firewall / firewall-allow sets (a      | Dec 2023–Jan 2024);        |
// |            |        | concatenated interval set, kernel >= 5.6); no cluster-ips set, no      | CHANGELOG-1.30.md alpha.1 |
// |            |        | cluster-ips-check; unset nodePortAddresses = all IPs                   | "since v1.29.0" |
// |            |        | Assumed, not pinned to a tag: v1.29.x equals both sources around it   |        |
// |            |        | (the first-merged tree, Oct 2023, and #122296's branch agree on every  |        |
// |            |        | object but the LB source-range ones); no v1.29 tag's own test is in the|        |
// |            |        | index, so the firewall objects' text is assembled from proxier.go, and |        |
// |            |        | no 1.29.x patch release is known to change the table.                  |        |
// | 1.30.x     | —      | not modelled: two 1.30-cycle tables are in the index and no copy of the | see the note below |
// |            |        | release-1.30 branch or a v1.30.x tag says which one shipped. Both have  |        |
// |            |        | filter-{prerouting,input,forward,output} at -110 (#122614), filter-    |        |
// |            |        | output-post-dnat at -90, cluster-ips + cluster-ips-check (#122692),    |        |
// |            |        | firewall-ips (#122296), no `forward` chain (#122663), nodePortAddresses|        |
// |            |        | "primary" when unset (v1.30.0 notes, #122724). (A) ONE endpoints-check |        |
// |            |        | from input/forward/output, its NodePort rule behind `fib daddr type    |        |
// |            |        | local` (or @nodeport-ips);                                             |        |
// |            |        | (B) service-/nodeport-endpoints-check (NodePort check from input only),|        |
// |            |        | whose objects equal the 1.31 layout's.                                 |        |
// | 1.31–1.33  | 1.31   | filter-{prerouting,input,forward,output} at -110, filter-output-post-  | proxier.go @b0f823e6ccd8 |
// |            |        | dnat at -90 for cluster-ips-check; ClusterIP masquerade rule matches   |        |
// |            |        | `ip daddr X tcp dport P`                                               |        |
// | 1.34–1.35  | 1.34   | filter-prerouting-pre-dnat / filter-output-pre-dnat at -110, filter-   | proxier_test.go @81810de635aa, |
// |            |        | input/forward/output at 0 (kubernetes#132456); the ClusterIP masquerade | kubernetes#132456, #131492 |
// |            |        | rule drops the protocol/port match (kubernetes#131492)                 |        |
// | 1.36+      | 1.36   | no mark-for-masquerade chain: `mark set mark or MARK` inline           | jesseward/kubernetes |
// |            |        | (kubernetes#135800); ClusterIP masquerade once, on @cluster-ips, in    | proxier.go + _test.go |
// |            |        | `services`; hairpin-connections set of local endpoints; without       | @5ec89f49a148, |
// |            |        | affinity no endpoint chains: `dnat ip addr . port to numgen random mod | kubernetes#136499, |
// |            |        | N map {…}` (kubernetes#136499); base chains and jumps as 1.34          | a 1.36 node's listing |
//
// 1.30, what was read (2026-12-02). Neither 1.30-cycle copy in the index is v1.30.0:
//   (A) openshift/kubernetes proxier.go + proxier_test.go @84a2e12f4ce8 imports github.com/danwinship/
//       knftables and logs through klog globals, while v1.30.0's notes list the move to sigs.k8s.io/knftables
//       and kube-proxy's contextual logging (#122197): A is older than the release;
//   (B) ashierj/superdemo (a copy of the tree) proxier.go + proxier_test.go @86435b28282e passes
//       nodePortAddresses as a list of the node's /32 and /128 (#123105's way), and #123105 is in v1.31.0's
//       notes; v1.30 had #122724's NewNodePortAddresses(family, cidrs, primaryIP) (seen in an iptables
//       proxier.go copy of that time, no nftables one): B is newer than the release cut.
// So v1.30.0 lies between A and B, and the one table difference between them (the split) is not dated.
// Also read: aroradaman/kubernetes @4177b600 (1.31, the 1.31 fixture's source), RebelloPrinston/
// CustomScheduler @6ff458fa (B plus a flowtable rule, not upstream), GoogleCloudPlatform/kubernetes
// @3a65f31d and kubernetes_copy @d3e0d569 (later). Not found: kubernetes/kubernetes files at v1.30.0's
// commit 7c48c2bd (not stored there), a release-1.30 fork (aks-lts/kubernetes, k3s-io/kubernetes hold no
// pkg/proxy/nftables), a 1.30 node's listing in the pages corpus, a release note for the split in
// CHANGELOG-1.30.md or -1.31.md's v1.31.0 API changes.
//
// 1.29 is checked byte for byte against TestOverallNFTablesRules as tnqn @e2526fc0 has it, with the
// LoadBalancerSourceRanges objects as the first-merged proxier.go writes them (test/unit/nftables/upstream/
// base-1.29.nft says which lines are which), and in real traffic by test/kernel/nftables.test.ts.
// 1.36+ is checked byte for byte against that fork's TestOverallNFTablesRules (upstream's own test at the
// 1.36 layout) and object for object against a real 1.36 node's published `nft list table`.
// Offline (no --kube-proxy-version) the newest rendered layout is used.
import { NODE_PORT_ADDRESSES_PRIMARY } from '../config/index.js';
import { InputError } from '../errors.js';
import type { NftBaseChain } from './types.js';
import { CHAIN } from './names.js';

export type LayoutId = '1.29' | '1.31' | '1.34' | '1.36';

export interface BaseChainSpec extends NftBaseChain {
  name: string;
}

export interface JumpSpec {
  from: string;
  to: string;
  /** Prefixed with `ct state new`. */
  newOnly: boolean;
}

export interface NftLayout {
  id: LayoutId;
  versions: string;
  baseChains: BaseChainSpec[];
  /** nftablesJumpChains, in kube-proxy's order (it fixes rule order inside the base chains). */
  jumps: JumpSpec[];
  /** The ClusterIP masquerade rule also matches `PROTO dport PORT`. */
  clusterIPMatchesPort: boolean;
  /**
   * 1.36+: no mark-for-masquerade chain (its `mark set mark or MARK` is written where the jump was), one
   * ClusterIP masquerade rule on @cluster-ips in `services`, hairpin traffic found through the
   * hairpin-connections set, and endpoint chains only for session affinity (`dnat … to numgen … map`).
   */
  inlineMasquerade: boolean;
  /**
   * The tables as first merged (1.29): one endpoints-check chain (its NodePort rule still behind `fib
   * daddr type local`), a `forward` chain dropping `ct state invalid`, LoadBalancerSourceRanges as the
   * firewall / firewall-allow sets, and no cluster-ips set or cluster-ips-check chain.
   */
  firstMerged: boolean;
}

const NAT_CHAINS: BaseChainSpec[] = [
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: -100 },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
];

const NAT_JUMPS: JumpSpec[] = [
  { from: 'nat-output', to: CHAIN.services, newOnly: false },
  { from: 'nat-prerouting', to: CHAIN.services, newOnly: false },
  { from: 'nat-postrouting', to: CHAIN.masquerading, newOnly: false },
];

/**
 * nftablesJumpChains: the endpoint checks run on input/forward/output (reject is only valid there on
 * older kernels), the firewall check before DNAT, the cluster-IP check after it.
 */
function filterJumps(preDnatPrerouting: string, preDnatOutput: string, postDnatOutput: string): JumpSpec[] {
  return [
    { from: 'filter-input', to: CHAIN.nodePortEndpointsCheck, newOnly: true },
    { from: 'filter-input', to: CHAIN.serviceEndpointsCheck, newOnly: true },
    { from: 'filter-forward', to: CHAIN.serviceEndpointsCheck, newOnly: true },
    { from: 'filter-output', to: CHAIN.serviceEndpointsCheck, newOnly: true },
    { from: preDnatPrerouting, to: CHAIN.firewallCheck, newOnly: true },
    { from: preDnatOutput, to: CHAIN.firewallCheck, newOnly: true },
    ...NAT_JUMPS,
    { from: 'filter-forward', to: CHAIN.clusterIPsCheck, newOnly: true },
    { from: postDnatOutput, to: CHAIN.clusterIPsCheck, newOnly: true },
  ];
}

/**
 * 1.29 (nftablesJumpChains as first merged): filters at dstnat-1, before DNAT, so firewall-check saw the
 * service IP; the endpoints check, the `forward` chain and the firewall check each from their hooks.
 */
const LAYOUT_1_29: NftLayout = {
  id: '1.29',
  versions: '1.29',
  baseChains: [
    { name: 'filter-input', type: 'filter', hook: 'input', priority: -101 },
    { name: 'filter-forward', type: 'filter', hook: 'forward', priority: -101 },
    { name: 'filter-output', type: 'filter', hook: 'output', priority: -101 },
    ...NAT_CHAINS,
  ],
  jumps: [
    { from: 'filter-input', to: CHAIN.endpointsCheck, newOnly: true },
    { from: 'filter-forward', to: CHAIN.endpointsCheck, newOnly: true },
    { from: 'filter-output', to: CHAIN.endpointsCheck, newOnly: true },
    { from: 'filter-forward', to: CHAIN.forward, newOnly: false },
    { from: 'filter-input', to: CHAIN.firewallCheck, newOnly: true },
    { from: 'filter-output', to: CHAIN.firewallCheck, newOnly: true },
    { from: 'filter-forward', to: CHAIN.firewallCheck, newOnly: true },
    ...NAT_JUMPS,
  ],
  clusterIPMatchesPort: true,
  inlineMasquerade: false,
  firstMerged: true,
};

const LAYOUT_1_31: NftLayout = {
  id: '1.31',
  versions: '1.31–1.33',
  baseChains: [
    { name: 'filter-prerouting', type: 'filter', hook: 'prerouting', priority: -110 },
    { name: 'filter-input', type: 'filter', hook: 'input', priority: -110 },
    { name: 'filter-forward', type: 'filter', hook: 'forward', priority: -110 },
    { name: 'filter-output', type: 'filter', hook: 'output', priority: -110 },
    { name: 'filter-output-post-dnat', type: 'filter', hook: 'output', priority: -90 },
    ...NAT_CHAINS,
  ],
  jumps: filterJumps('filter-prerouting', 'filter-output', 'filter-output-post-dnat'),
  clusterIPMatchesPort: true,
  inlineMasquerade: false,
  firstMerged: false,
};

const LAYOUT_1_34: NftLayout = {
  id: '1.34',
  versions: '1.34–1.35',
  baseChains: [
    { name: 'filter-prerouting-pre-dnat', type: 'filter', hook: 'prerouting', priority: -110 },
    { name: 'filter-output-pre-dnat', type: 'filter', hook: 'output', priority: -110 },
    { name: 'filter-forward', type: 'filter', hook: 'forward', priority: 0 },
    { name: 'filter-input', type: 'filter', hook: 'input', priority: 0 },
    { name: 'filter-output', type: 'filter', hook: 'output', priority: 0 },
    ...NAT_CHAINS,
  ],
  jumps: filterJumps('filter-prerouting-pre-dnat', 'filter-output-pre-dnat', 'filter-output'),
  clusterIPMatchesPort: false,
  inlineMasquerade: false,
  firstMerged: false,
};

/** The 1.34 base chains and jumps; what changed is inside the chains (see inlineMasquerade). */
const LAYOUT_1_36: NftLayout = { ...LAYOUT_1_34, id: '1.36', versions: '1.36+', inlineMasquerade: true };

export const LAYOUTS: readonly NftLayout[] = [LAYOUT_1_29, LAYOUT_1_31, LAYOUT_1_34, LAYOUT_1_36];
export const NEWEST_LAYOUT = LAYOUT_1_36;

/** The layout kube-proxy `version` ("1.33.2", "v1.34") writes. */
export function layoutForVersion(version: string | undefined): NftLayout {
  if (version === undefined || version === '') return NEWEST_LAYOUT;
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new InputError(`--kube-proxy-version "${version}" is not a version like 1.34 or 1.34.1.`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 1) throw new InputError(`kube-proxy ${version} is not a 1.x release; the nftables layouts known are for 1.29 and 1.31 onwards.`);
  if (minor < 29) throw new InputError(`kube-proxy ${version} has no nftables mode: it arrived (alpha) in 1.29.`);
  if (minor === 29) return LAYOUT_1_29;
  if (minor === 30) throw new InputError(`kube-proxy ${version}'s nftables tables (1.30) are not modelled (which of the 1.31 changes it already has is not pinned); the layouts known are 1.29 and 1.31 onwards.`);
  if (minor <= 33) return LAYOUT_1_31;
  if (minor <= 35) return LAYOUT_1_34;
  return LAYOUT_1_36;
}

export function layoutById(id: string | undefined): NftLayout {
  return LAYOUTS.find((l) => l.id === id) ?? NEWEST_LAYOUT;
}

/**
 * The nodePortAddresses kube-proxy of `layout` works with. Unset: the node's primary IPs from 1.30 on
 * (#122724, server_linux.go's platformApplyDefaults), every local IP in 1.29, which had no such default
 * ([] = MatchAll). Written values are kept.
 */
export function effectiveNodePortAddresses(list: readonly string[], layout: NftLayout): string[] {
  if (list.length > 0) return [...list];
  return layout.firstMerged ? [] : [NODE_PORT_ADDRESSES_PRIMARY];
}
