// Drift between the rules a node should have and the rules it has, per service port: missing or extra
// service ports, entries (cluster IP, node port …), balancing chains, endpoints, shares and verdicts,
// plus kube-proxy chains left behind. Both sides are read through the same summary, so spelling
// differences between our rendering and iptables-save do not count as drift.
//
// Node-wide, the base chains (base.ts) are compared rule by rule in one canonical spelling, comments and
// counting-only nfacct matches left out and order ignored; each difference names the traffic it affects.
import { kernelProbability } from './canonical.js';
import type { Drift, ServicePortSummary } from '../modes/types.js';
import { baseChainDrift, type RenderedInfo } from './base-drift.js';
import { summarizeRuleset } from './summary.js';
import type { Ruleset } from './types.js';

export { expectedJumps } from './base-drift.js';

// What render knew that a Ruleset does not hold: the built-in-chain jumps of the version rendered.
const RENDERED = new WeakMap<Ruleset, RenderedInfo>();

/** Keeps what the rendering of `rs` assumed, for drift against it. */
export function rememberRendering(rs: Ruleset, info: RenderedInfo): void {
  RENDERED.set(rs, info);
}

export type { Drift } from '../modes/types.js';

export function rulesetDrift(expected: Ruleset, actual: Ruleset): Drift[] {
  const drift: Drift[] = [];
  const exp = new Map(summarizeRuleset(expected).map((s) => [s.servicePort, s]));
  const act = new Map(summarizeRuleset(actual).map((s) => [s.servicePort, s]));
  for (const [sp, e] of exp) {
    const a = act.get(sp);
    if (!a) drift.push({ servicePort: sp, kind: 'missing service', detail: `no rules for ${sp} on the node` });
    else drift.push(...servicePortDrift(e, a));
  }
  for (const sp of act.keys()) {
    if (!exp.has(sp)) drift.push({ servicePort: sp, kind: 'extra service', detail: `the node still has rules for ${sp}` });
  }
  // Only per-service chains can be stale: kubelet and kube-proxy also own chains outside the restore
  // (KUBE-KUBELET-CANARY, KUBE-PROXY-CANARY, KUBE-IPTABLES-HINT, KUBE-MARK-DROP on older nodes).
  const expChains = kubeChains(expected);
  const actChains = kubeChains(actual);
  for (const c of actChains) if (!expChains.has(c) && SERVICE_CHAIN.test(c)) drift.push({ servicePort: '', kind: 'stale object', object: `chain ${c}`, detail: `the node still has chain ${c}` });
  for (const c of expChains) if (!actChains.has(c)) drift.push({ servicePort: '', kind: 'missing object', object: `chain ${c}`, detail: missingChainDetail(c, expected.family) });
  drift.push(...baseChainDrift(expected, actual, RENDERED.get(expected)));
  return drift;
}

const CHAIN_EFFECT: Record<string, string> = {
  'nat/KUBE-POSTROUTING': 'no traffic is SNATed',
  'nat/KUBE-MARK-MASQ': 'no traffic is marked for SNAT, so none is SNATed',
  'nat/KUBE-NODEPORTS': 'every NodePort is unreachable',
  'nat/KUBE-SERVICES': 'no service is reachable',
  'filter/KUBE-FORWARD': 'marked traffic is not forwarded where FORWARD drops, and invalid packets are not dropped',
  'filter/KUBE-FIREWALL': 'packets from outside to 127.0.0.0/8 are not dropped (route_localnet exposes localhost services)',
  'filter/KUBE-PROXY-FIREWALL': 'loadBalancerSourceRanges are not enforced',
  'filter/KUBE-EXTERNAL-SERVICES': 'external traffic to services without endpoints is not rejected',
  'filter/KUBE-SERVICES': 'traffic to services without endpoints is not rejected',
  'filter/KUBE-NODEPORTS': 'health check node ports are not accepted where INPUT drops',
};

function missingChainDetail(chain: string, family: string): string {
  const effect = CHAIN_EFFECT[chain];
  return `no chain ${chain} on the node${effect ? ` (${family}): ${effect}` : ''}`;
}

/**
 * kube-proxy writes a NodePort rule for 127.0.0.0/8 only as 1.31+'s counting copy (`-m nfacct --nfacct-name
 * localhost_nps_accepted_pkts`) of the NodePort's own rule, which takes the same packets anyway (the
 * nodeports jump reaches 127.0.0.0/8 too): it counts, it routes nothing, so its presence is no drift.
 */
function carriesTraffic(x: ServicePortSummary['entries'][number]): boolean {
  return !(x.kind === 'nodePort' && x.address === '127.0.0.0/8');
}

function servicePortDrift(e: ServicePortSummary, a: ServicePortSummary): Drift[] {
  const out: Drift[] = [];
  const sp = e.servicePort;
  const entryKey = (x: ServicePortSummary['entries'][number]) => `${x.kind} ${x.address}:${x.port ?? '*'}/${x.protocol}`;
  diffSets(e.entries.filter(carriesTraffic).map(entryKey), a.entries.filter(carriesTraffic).map(entryKey), (k) => out.push({ servicePort: sp, kind: 'missing entry', detail: k }), (k) => out.push({ servicePort: sp, kind: 'extra entry', detail: k }));
  for (const ee of e.entries) {
    const ae = a.entries.find((x) => entryKey(x) === entryKey(ee));
    if (ae && ae.masquerade.join(' | ') !== ee.masquerade.join(' | ')) {
      out.push({ servicePort: sp, kind: 'masquerade', detail: `${entryKey(ee)}: expected ${ee.masquerade.join(' or ')}, found ${ae.masquerade.join(' or ')}` });
    }
  }
  for (const ec of e.balancers) {
    const ac = a.balancers.find((c) => c.name === ec.name);
    if (!ac) continue; // reported as a missing chain
    const share = (c: typeof ec) => new Map(c.endpoints.map((x) => [x.endpoint, x.probability]));
    const es = share(ec);
    const as = share(ac);
    diffSets([...es.keys()], [...as.keys()], (k) => out.push({ servicePort: sp, kind: 'missing endpoint', detail: `${k} in ${ec.name}` }), (k) => out.push({ servicePort: sp, kind: 'extra endpoint', detail: `${k} in ${ec.name}` }));
    if (ec.affinitySeconds !== ac.affinitySeconds) out.push({ servicePort: sp, kind: 'affinity', detail: `${ec.name}: ClientIP affinity ${ac.affinitySeconds ?? 'none'}, expected ${ec.affinitySeconds ?? 'none'}` });
    if (Math.abs(ec.fallThrough - ac.fallThrough) > 1e-6) {
      out.push({ servicePort: sp, kind: 'probability', detail: `${ec.name}: ${(ac.fallThrough * 100).toFixed(1)}% of new connections match no endpoint rule` });
    }
    for (const [ep, p] of es) {
      const q = as.get(ep);
      // Compare as the kernel stores them; each statistic rule's probability is rounded to 1/2^31.
      if (q !== undefined && Math.abs(p - q) > 1e-6) {
        out.push({ servicePort: sp, kind: 'probability', detail: `${ep} in ${ec.name}: expected ${kernelProbability(p)}, found ${kernelProbability(q)}` });
      }
    }
  }
  diffSets(e.verdicts, a.verdicts, (k) => out.push({ servicePort: sp, kind: 'verdict', detail: `missing: ${k}` }), (k) => out.push({ servicePort: sp, kind: 'verdict', detail: `extra: ${k}` }));
  return out;
}

function diffSets(expected: string[], actual: string[], missing: (k: string) => void, extra: (k: string) => void): void {
  const a = new Set(actual);
  const e = new Set(expected);
  for (const k of e) if (!a.has(k)) missing(k);
  for (const k of a) if (!e.has(k)) extra(k);
}

const SERVICE_CHAIN = /\/KUBE-(SVC|SVL|EXT|FW|SEP)-/;

function kubeChains(rs: Ruleset): Set<string> {
  const out = new Set<string>();
  for (const t of rs.tables) for (const c of t.chains) if (c.name.startsWith('KUBE-')) out.add(`${t.name}/${c.name}`);
  return out;
}
