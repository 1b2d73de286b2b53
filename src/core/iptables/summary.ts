// What a ruleset does for each service port, read back from the rules themselves (rendered or live):
// how traffic enters (cluster IP, node port, external/load-balancer IPs), which chain balances it, each
// endpoint's share, when the source is masqueraded, and what is rejected or dropped. The `rules` view and
// `rules --diff` use it; it reads only kube-proxy's comments, chains and words, never the model.
import type { Chain, Rule, Ruleset } from './types.js';
import { viewRule, type ModuleMatch, type RuleView } from './words.js';

export interface EntrySummary {
  /** "cluster IP", "external IP", "loadbalancer IP", "nodePort", "health check node port". */
  kind: string;
  protocol: string;
  /** Destination address (without /32 or /128) or "*" for node ports on every local address. */
  address: string;
  port: number | null;
  /** First chain the entry jumps to (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-), or the verdict. */
  target: string;
  /** When the source is rewritten on this path: "always", "never", or the condition's words ("! -s 10.244.0.0/16"). */
  masquerade: string[];
}

export interface EndpointShare {
  endpoint: string;
  chain: string;
  /** Share of new connections that reach this endpoint through `chain` (1 for the last one standing). */
  probability: number;
}

export interface ServicePortSummary {
  /** "ns/name:port" as kube-proxy's comments name it. */
  servicePort: string;
  entries: EntrySummary[];
  /** Balancing chains (KUBE-SVC-, KUBE-SVL-) with their endpoints. */
  chains: Array<{ chain: string; endpoints: EndpointShare[]; affinitySeconds: number | null; /** Share of new connections no endpoint rule takes (0 in a healthy chain). */ fallThrough: number }>;
  /** Rejects and drops kube-proxy installs for this service port ("has no endpoints", source ranges …). */
  verdicts: string[];
}

const ENTRY_KINDS = ['cluster IP', 'external IP', 'loadbalancer IP'];

export function summarizeRuleset(rs: Ruleset): ServicePortSummary[] {
  const nat = chainIndex(rs, 'nat');
  const filter = chainIndex(rs, 'filter');
  const byPort = new Map<string, ServicePortSummary>();
  const get = (sp: string) => {
    let s = byPort.get(sp);
    if (!s) byPort.set(sp, (s = { servicePort: sp, entries: [], chains: [], verdicts: [] }));
    return s;
  };

  for (const rule of nat.get('KUBE-SERVICES')?.rules ?? []) {
    const v = viewRule(rule);
    const m = v.comment ? /^(\S+) (cluster IP|external IP|loadbalancer IP)$/.exec(v.comment) : null;
    if (!m || !v.target) continue;
    get(m[1]).entries.push(entryOf(m[2], v));
  }
  for (const rule of nat.get('KUBE-NODEPORTS')?.rules ?? []) {
    const v = viewRule(rule);
    if (!v.comment || !v.target) continue;
    get(v.comment.split(' ')[0]).entries.push(entryOf('nodePort', v));
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
          s.chains.push(balance(chain, rules, nat));
        }
        for (const v of rules) {
          const next = v.target?.name;
          if (next === 'KUBE-MARK-MASQ') masq.add(condition(v) || 'always');
          else if (next && /^KUBE-(SVC|SVL|EXT|FW)-/.test(next)) visit(next);
        }
      };
      visit(e.target);
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
function balance(chain: string, rules: RuleView[], nat: Map<string, Chain>): ServicePortSummary['chains'][number] {
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
    endpoints.push({ endpoint: dnatOf(nat.get(target)?.rules ?? []), chain: target, probability: remaining * p });
    remaining *= 1 - p;
  }
  return { chain, endpoints, affinitySeconds, fallThrough: endpoints.length ? remaining : 0 };
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
