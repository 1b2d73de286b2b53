// What a ruleset does for each service port, read back from the rules themselves (rendered or live):
// how traffic enters (cluster IP, node port, external/load-balancer IPs), which chain balances it, each
// endpoint's share, when the source is masqueraded, and what is rejected or dropped. The `rules` view and
// `rules --diff` use it; it reads only kube-proxy's comments, chains and words, never the model.
import type { BalancerSummary, EndpointShare, EntrySummary, ServicePortSummary } from '../modes/types.js';
import type { Chain, Rule, Ruleset } from './types.js';
import { viewRule, type ModuleMatch, type RuleView } from './words.js';

export type { BalancerSummary, EndpointShare, EntrySummary, ServicePortSummary } from '../modes/types.js';

const ENTRY_KINDS = ['cluster IP', 'external IP', 'loadbalancer IP'];

export function summarizeRuleset(rs: Ruleset): ServicePortSummary[] {
  const nat = chainIndex(rs, 'nat');
  const filter = chainIndex(rs, 'filter');
  const byPort = new Map<string, ServicePortSummary>();
  const get = (sp: string) => {
    let s = byPort.get(sp);
    if (!s) byPort.set(sp, (s = { servicePort: sp, entries: [], balancers: [], verdicts: [] }));
    return s;
  };

  // Layouts before the KUBE-EXT chains (about 1.23) mark for masquerade right in KUBE-SERVICES and
  // KUBE-NODEPORTS, in a rule before the entry's own jump: a condition of that entry, not an entry.
  const earlyMasq = new Map<string, string>();
  const entryRule = (kind: string, sp: string, v: RuleView) => {
    const e = entryOf(kind, v);
    const key = `${sp} ${kind} ${e.address}:${e.port}/${e.protocol}`;
    if (v.target!.name === 'KUBE-MARK-MASQ') earlyMasq.set(key, condition(v) || 'always');
    else if (!get(sp).entries.some((x) => `${sp} ${x.kind} ${x.address}:${x.port}/${x.protocol}` === key)) get(sp).entries.push(e);
  };
  for (const rule of nat.get('KUBE-SERVICES')?.rules ?? []) {
    const v = viewRule(rule);
    const m = v.comment ? /^(\S+) (cluster IP|external IP|loadbalancer IP)$/.exec(v.comment) : null;
    if (!m || !v.target) continue;
    entryRule(m[2], m[1], v);
  }
  for (const rule of nat.get('KUBE-NODEPORTS')?.rules ?? []) {
    const v = viewRule(rule);
    if (!v.comment || !v.target) continue;
    entryRule('nodePort', v.comment.split(' ')[0], v);
  }
  for (const s of byPort.values()) {
    const balanced = new Set<string>();
    for (const e of s.entries) {
      const masq = new Set<string>();
      const seen = new Set<string>();
      const visit = (chain: string) => {
        if (seen.has(chain) || !nat.has(chain)) return;
        seen.add(chain);
        const rules = nat.get(chain)!.rules.map(viewRule);
        if (/^KUBE-(SVC|SVL)-/.test(chain) && !balanced.has(chain)) {
          balanced.add(chain);
          s.balancers.push(balance(chain, rules, nat));
        }
        for (const v of rules) {
          const next = v.target?.name;
          if (next === 'KUBE-MARK-MASQ') masq.add(condition(v) || 'always');
          else if (next && /^KUBE-(SVC|SVL|EXT|FW)-/.test(next)) visit(next);
        }
      };
      visit(e.target);
      const early = earlyMasq.get(`${s.servicePort} ${e.kind} ${e.address}:${e.port}/${e.protocol}`);
      if (early) masq.add(early);
      e.masquerade = masq.has('always') ? ['always'] : masq.size ? [...masq] : ['never'];
    }
  }
  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) {
    for (const rule of filter.get(chain)?.rules ?? []) {
      const v = viewRule(rule);
      if (!v.comment || !v.target) continue;
      const [sp, ...rest] = v.comment.split(' ');
      if (!byPort.has(sp) && !sp.includes('/')) continue;
      const entry = get(sp);
      if (v.target.name === 'ACCEPT' && /health check node port/.test(v.comment)) {
        entry.entries.push({ ...entryOf('health check node port', v), target: 'ACCEPT' });
      } else {
        // A cluster IP without endpoints has only its REJECT here: it is still a way in (trace finds it by it).
        if (chain === 'KUBE-SERVICES' && rest.join(' ') === 'has no endpoints' && !entry.entries.some((e) => e.kind === 'cluster IP')) {
          entry.entries.push({ ...entryOf('cluster IP', v), target: v.target.name, masquerade: ['never'] });
        }
        entry.verdicts.push(`${v.target.name}${portOf(v) !== null ? ` ${portOf(v)}/${protocolOf(v)}` : ''}: ${rest.join(' ')}`);
      }
    }
  }
  return [...byPort.values()].sort((a, b) => (a.servicePort < b.servicePort ? -1 : a.servicePort > b.servicePort ? 1 : 0));
}

function chainIndex(rs: Ruleset, table: string): Map<string, Chain> {
  return new Map((rs.tables.find((t) => t.name === table)?.chains ?? []).map((c) => [c.name, c]));
}

function entryOf(kind: string, v: RuleView): EntrySummary {
  const dst = v.matches.find((m) => m.kind === 'address' && m.dir === 'dst');
  const first = dst && dst.kind === 'address' ? dst.addresses[0] : undefined;
  // A host address prints bare; a network (localhost node ports match 127.0.0.0/8) keeps its mask.
  const host = first && (first.mask === undefined || first.mask === '32' || first.mask === '128');
  const address = first ? (host ? first.ip : `${first.ip}/${first.mask}`) : ENTRY_KINDS.includes(kind) ? '?' : '*';
  return { kind, protocol: protocolOf(v), address, port: portOf(v), target: v.target?.name ?? '-', masquerade: [] };
}

function protocolOf(v: RuleView): string {
  const p = v.matches.find((m) => m.kind === 'protocol');
  return p && p.kind === 'protocol' ? p.protocol.toUpperCase() : 'ALL';
}

function portOf(v: RuleView): number | null {
  for (const m of v.matches) {
    const dport = m.kind === 'module' ? (m.ports?.dport ?? m.multiport?.dports) : undefined;
    if (dport?.ranges.length) return dport.ranges[0].from;
  }
  return null;
}

/** Endpoints of a balancing chain with each one's share: each statistic rule takes its probability of what is left. */
function balance(chain: string, rules: RuleView[], nat: Map<string, Chain>): BalancerSummary {
  const endpoints: EndpointShare[] = [];
  let remaining = 1;
  let affinitySeconds: number | null = null;
  for (const v of rules) {
    const target = v.target?.name;
    const recent = v.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.recent?.command === 'rcheck');
    if (recent?.recent?.seconds !== undefined) affinitySeconds = recent.recent.seconds;
    if (!target?.startsWith('KUBE-SEP-') || recent) continue;
    const stat = v.matches.find((m): m is ModuleMatch => m.kind === 'module' && m.module === 'statistic');
    const p = stat?.statistic?.probability ?? 1;
    endpoints.push({ endpoint: dnatOf(nat.get(target)?.rules ?? []), via: target, probability: remaining * p });
    remaining *= 1 - p;
  }
  return { name: chain, scheduler: 'random', endpoints, affinitySeconds, fallThrough: endpoints.length ? remaining : 0, ...(chain.startsWith('KUBE-SVL-') ? { local: true } : {}) };
}

function dnatOf(rules: Rule[]): string {
  for (const r of rules) {
    const t = viewRule(r).target;
    if (t?.name === 'DNAT' && t.toDestination) return t.toDestination;
  }
  return '?';
}

/** The words that limit a KUBE-MARK-MASQ jump, less those that only repeat the entry (destination, protocol, port, comment). */
function condition(v: RuleView): string {
  const words: string[] = [];
  for (const m of v.matches) {
    if (m.kind === 'address' && m.dir === 'dst') continue;
    if (m.kind === 'protocol') continue;
    if (m.kind === 'module' && (m.comment !== undefined || m.ports || m.multiport)) continue;
    words.push(...m.words);
  }
  return words.join(' ');
}

/** The pod CIDR kube-proxy's local-traffic rules name (`! -s CIDR … -j KUBE-MARK-MASQ`), if any. */
export function localTrafficCIDR(rs: Ruleset): string | undefined {
  const nat = rs.tables.find((t) => t.name === 'nat');
  for (const c of nat?.chains ?? []) {
    if (!c.name.startsWith('KUBE-SVC-') && c.name !== 'KUBE-SERVICES') continue;
    for (const r of c.rules) {
      const w = r.words;
      const i = w.indexOf('-s');
      if (i > 0 && w[i - 1] === '!' && w.includes('KUBE-MARK-MASQ')) return w[i + 1];
    }
  }
  return undefined;
}
