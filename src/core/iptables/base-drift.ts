// Node-wide drift: the base chains kube-proxy writes in every sync (KUBE-POSTROUTING, KUBE-MARK-MASQ,
// KUBE-FORWARD, KUBE-FIREWALL, KUBE-PROXY-FIREWALL, the tail rule of nat KUBE-SERVICES and what is not a
// service's in KUBE-NODEPORTS), and the jumps it keeps in the built-in chains when the dump has those.
//
// Rules compare in canonical.ts's spelling, less their comments (words for humans) and nfacct matches
// (counting only: a packet goes the same way with or without them); order never counts, since a base chain's
// rules each decide on their own (the RETURN of unmarked packets is the one order that matters, and a
// RETURN missing or moved shows as a changed rule set or masquerades everything, named below). Each drift
// says what traffic it affects and the family.
import type { Drift } from '../modes/types.js';
import { canonicalRule } from './canonical.js';
import { jumpRules, type JumpRule } from './render/jumps.js';
import type { Chain, IPFamily, Ruleset, TableName } from './types.js';
import { iptablesVersion, type IptablesFeature } from './versions.js';

export interface RenderedInfo {
  /** The jumps kube-proxy of the rendered version keeps in the built-in chains. */
  jumps: JumpRule[];
}

/** The built-in-chain jumps kube-proxy of a release (its features) ensures; the KUBE-FIREWALL ones from 1.27. */
export function expectedJumps(features: ReadonlySet<IptablesFeature>, family: IPFamily): JumpRule[] {
  return jumpRules(undefined, family).filter(
    (j) => (j.target !== 'KUBE-FIREWALL' || features.has('kubeFirewall')) && (j.target !== 'KUBE-PROXY-FIREWALL' || features.has('proxyFirewall')),
  );
}

interface BaseChain {
  table: TableName;
  chain: string;
  /** Which of the chain's rules are node-wide (the rest are a service's, compared per service port). */
  nodeWide(words: readonly string[]): boolean;
}

const COMMENT_OF = (words: readonly string[]): string | undefined => {
  const i = words.indexOf('--comment');
  return i >= 0 ? words[i + 1] : undefined;
};
/** A service's rule: its comment starts with "namespace/name". */
const isServiceRule = (words: readonly string[]): boolean => /^[^\s/]+\/[^\s/]+/.test(COMMENT_OF(words) ?? '');
const notService = (words: readonly string[]) => !isServiceRule(words);

const BASE_CHAINS: readonly BaseChain[] = [
  { table: 'nat', chain: 'KUBE-POSTROUTING', nodeWide: () => true },
  { table: 'nat', chain: 'KUBE-MARK-MASQ', nodeWide: () => true },
  { table: 'nat', chain: 'KUBE-SERVICES', nodeWide: (w) => w[w.length - 1] === 'KUBE-NODEPORTS' && w[w.length - 2] === '-j' },
  { table: 'nat', chain: 'KUBE-NODEPORTS', nodeWide: notService },
  { table: 'filter', chain: 'KUBE-FORWARD', nodeWide: () => true },
  { table: 'filter', chain: 'KUBE-FIREWALL', nodeWide: () => true },
  { table: 'filter', chain: 'KUBE-PROXY-FIREWALL', nodeWide: notService },
  { table: 'filter', chain: 'KUBE-SERVICES', nodeWide: notService },
  { table: 'filter', chain: 'KUBE-EXTERNAL-SERVICES', nodeWide: notService },
  { table: 'filter', chain: 'KUBE-NODEPORTS', nodeWide: notService },
];

/** The words without `-m comment --comment X` and `-m nfacct --nfacct-name X`. */
function semanticWords(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '-m' && (words[i + 1] === 'comment' || words[i + 1] === 'nfacct') && (words[i + 2] === '--comment' || words[i + 2] === '--nfacct-name')) {
      i += 3;
      continue;
    }
    out.push(words[i]!);
  }
  return out;
}

/** A rule in one canonical spelling less comments and nfacct matches: equal keys do the same to a packet. */
export function ruleKey(words: readonly string[], family: IPFamily): string {
  return canonicalRule(semanticWords(words), family);
}

function chainOf(rs: Ruleset, table: TableName, chain: string): Chain | undefined {
  return rs.tables.find((t) => t.name === table)?.chains.find((c) => c.name === chain);
}

export function targetOf(k: string): string {
  return /(?:^| )-[jg] (\S+)/.exec(k)?.[1] ?? '';
}

/** What the rule `k` of TABLE/CHAIN does for traffic, said of its absence. */
export function effectOfMissing(table: TableName, chain: string, k: string): string {
  const target = targetOf(k);
  const where = `${table}/${chain}`;
  if (where === 'nat/KUBE-POSTROUTING') {
    if (target === 'MASQUERADE') return 'no traffic is SNATed';
    if (target === 'RETURN') return 'all traffic leaving the node is SNATed, not only service traffic';
    if (target === 'MARK') return 'the masquerade mark is not cleared: a packet that crosses the stack again is SNATed again';
  }
  if (where === 'nat/KUBE-MARK-MASQ') return 'no traffic is marked for SNAT, so none is SNATed';
  if (where === 'nat/KUBE-SERVICES') return 'every NodePort is unreachable';
  if (where === 'filter/KUBE-FORWARD') {
    if (/--ctstate INVALID/.test(k)) return 'invalid packets are not dropped (spurious retransmits can reset service connections)';
    if (/-m mark /.test(k)) return 'marked traffic is not forwarded where the FORWARD policy drops';
    if (/RELATED,ESTABLISHED/.test(k)) return 'replies of forwarded service connections are not accepted where the FORWARD policy drops';
  }
  if (where === 'filter/KUBE-FIREWALL') return 'packets from outside to 127.0.0.0/8 are not dropped (route_localnet exposes localhost services)';
  return 'kube-proxy does not write it';
}

/** What a rule kube-proxy does not write does, when it is there. */
export function effectOfExtra(table: TableName, chain: string, k: string): string {
  const where = `${table}/${chain}`;
  const target = targetOf(k);
  if (target === 'DROP' || target === 'REJECT') return `traffic it matches is ${target === 'DROP' ? 'dropped' : 'rejected'}`;
  if (where === 'nat/KUBE-MARK-MASQ') return 'traffic is marked with another bit, which KUBE-POSTROUTING does not SNAT';
  if (target === 'MASQUERADE' || target === 'SNAT') return 'traffic it matches is SNATed';
  if (target === 'KUBE-NODEPORTS') return 'NodePorts are reached on addresses kube-proxy would not open';
  return 'kube-proxy does not write it';
}

/** A rule that differs in one way the reader knows, in words. */
export function effectOfChange(table: TableName, chain: string, expected: string, found: string): string {
  const where = `${table}/${chain}`;
  if (where === 'nat/KUBE-SERVICES') {
    const lo = /! -d 127\.0\.0\.0\/8/;
    if (lo.test(found) && !lo.test(expected)) return 'NodePorts are unreachable on localhost (127.0.0.0/8)';
    if (lo.test(expected) && !lo.test(found)) return 'NodePorts are reachable on localhost, though localhostNodePorts is off';
    return 'NodePorts are reached on other addresses than kube-proxy opens';
  }
  if (where === 'nat/KUBE-POSTROUTING' && targetOf(expected) === 'MASQUERADE') {
    if (/--random-fully/.test(expected) && !/--random-fully/.test(found)) return 'SNAT source ports are not fully randomised (port races under heavy SNAT)';
    return 'service traffic is SNATed differently';
  }
  if (where === 'nat/KUBE-POSTROUTING' || where === 'nat/KUBE-MARK-MASQ' || where === 'filter/KUBE-FORWARD') {
    if (/mark/i.test(expected)) return 'the masquerade mark differs between the rules that set and test it: no traffic is SNATed (and marked traffic is not forwarded)';
  }
  return effectOfMissing(table, chain, expected);
}

function ruleObject(table: TableName, chain: string): string {
  return `rule ${table}/${chain}`;
}

export function baseChainDrift(expected: Ruleset, actual: Ruleset, info: RenderedInfo | undefined): Drift[] {
  const out: Drift[] = [];
  const family = expected.family;
  for (const b of BASE_CHAINS) {
    const e = chainOf(expected, b.table, b.chain);
    const a = chainOf(actual, b.table, b.chain);
    if (!e || !a) continue; // a chain missing altogether is one drift already (drift.ts)
    const ek = e.rules.filter((r) => b.nodeWide(r.words)).map((r) => ruleKey(r.words, family));
    const ak = a.rules.filter((r) => b.nodeWide(r.words)).map((r) => ruleKey(r.words, family));
    const missing = ek.filter((k) => !ak.includes(k));
    const extra = ak.filter((k) => !ek.includes(k));
    const object = ruleObject(b.table, b.chain);
    for (const m of missing) {
      // the same target found in another form: one changed rule
      const i = extra.findIndex((x) => targetOf(x) === targetOf(m));
      if (i >= 0) {
        const found = extra.splice(i, 1)[0]!;
        out.push({ servicePort: '', kind: 'missing object', object, detail: `${b.table}/${b.chain} has \`${found}\`, expected \`${m}\` (${family}): ${effectOfChange(b.table, b.chain, m, found)}` });
      } else {
        out.push({ servicePort: '', kind: 'missing object', object, detail: `no \`${m}\` in ${b.table}/${b.chain} (${family}): ${effectOfMissing(b.table, b.chain, m)}` });
      }
    }
    for (const x of extra) {
      out.push({ servicePort: '', kind: 'stale object', object, detail: `${b.table}/${b.chain} has \`${x}\`, which kube-proxy does not write (${family}): ${effectOfExtra(b.table, b.chain, x)}` });
    }
  }
  out.push(...jumpDrift(expected, actual, info));
  return out;
}

const JUMP_EFFECT: Record<string, string> = {
  'nat/PREROUTING/KUBE-SERVICES': 'no service is reachable from pods or from outside the node',
  'nat/OUTPUT/KUBE-SERVICES': 'no service is reachable from the node itself',
  'nat/POSTROUTING/KUBE-POSTROUTING': 'no traffic is SNATed',
  'filter/FORWARD/KUBE-FORWARD': 'marked traffic is not forwarded, and invalid packets are not dropped',
  'filter/INPUT/KUBE-FIREWALL': 'packets from outside to 127.0.0.0/8 are not dropped',
  'filter/OUTPUT/KUBE-FIREWALL': 'locally sent packets to 127.0.0.0/8 are not checked',
  'filter/INPUT/KUBE-PROXY-FIREWALL': 'loadBalancerSourceRanges are not enforced for traffic to the node',
  'filter/FORWARD/KUBE-PROXY-FIREWALL': 'loadBalancerSourceRanges are not enforced for forwarded traffic',
  'filter/OUTPUT/KUBE-PROXY-FIREWALL': 'loadBalancerSourceRanges are not enforced for traffic from the node',
  'filter/INPUT/KUBE-EXTERNAL-SERVICES': 'external traffic to services without endpoints is not rejected (it hangs)',
  'filter/FORWARD/KUBE-EXTERNAL-SERVICES': 'forwarded traffic to services without endpoints is not rejected (it hangs)',
  'filter/INPUT/KUBE-NODEPORTS': 'health check node ports are not accepted where INPUT drops',
  'filter/FORWARD/KUBE-SERVICES': 'forwarded traffic to services without endpoints is not rejected (it hangs)',
  'filter/OUTPUT/KUBE-SERVICES': 'traffic from the node to services without endpoints is not rejected (it hangs)',
};

/** kube-proxy's jumps in the built-in chains of the version rendered. */
function jumpDrift(expected: Ruleset, actual: Ruleset, info: RenderedInfo | undefined): Drift[] {
  const family = expected.family;
  const jumps = info?.jumps ?? expectedJumps(iptablesVersion(undefined).features, family);
  return builtinJumpDrift(actual, jumps, (j) => JUMP_EFFECT[`${j.table}/${j.chain}/${j.target}`]);
}

/**
 * The jumps `jumps` missing from `actual`'s built-in chains, checked where the dump has them: it holds the
 * built-in chain and some jump from a built-in chain to a KUBE- chain (a node's iptables-save). A dump whose
 * built-in chains hold no such jump at all was made from restore input alone (kube-proxy's restore never
 * writes them), not read from a running node, and says nothing of them. Shared with the ipvs mode.
 */
export function builtinJumpDrift(actual: Ruleset, jumps: readonly JumpRule[], effect: (j: JumpRule) => string | undefined): Drift[] {
  const out: Drift[] = [];
  const family = actual.family;
  const BUILTIN = /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/;
  const hasJumps = actual.tables.some((t) => t.chains.some((c) => BUILTIN.test(c.name) && c.rules.some((r) => /^KUBE-/.test(r.words[r.words.length - 1] ?? ''))));
  if (!hasJumps) return out;
  for (const j of jumps) {
    const builtin = chainOf(actual, j.table, j.chain);
    if (!builtin) continue;
    const k = ruleKey(j.words, family);
    if (builtin.rules.some((r) => ruleKey(r.words, family) === k)) continue;
    out.push({
      servicePort: '',
      kind: 'missing object',
      object: `rule ${j.table}/${j.chain}`,
      detail: `no \`${k}\` in ${j.table}/${j.chain} (${family}): ${effect(j) ?? `${j.target} is never reached from ${j.chain}`}`,
    });
  }
  return out;
}
