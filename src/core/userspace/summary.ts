// What a userspace state does per service port, in the words every mode shares, and how two states
// differ. Proxy port numbers never count: a node's kernel (or its random range allocator) picks them, so
// rules are compared with the port spelled PROXY_PORT.
import { canonicalRule } from '../iptables/canonical.js';
import type { Rule, Ruleset } from '../iptables/index.js';
import type { Drift, ServicePortSummary } from '../modes/types.js';
import { NON_LOCAL_NODEPORT_CHAIN, portalJumpRules, USERSPACE_CHAINS } from './names.js';
import type { UserspaceState } from './types.js';

export const PROXY_MASQUERADE_REASON = 'the proxy opens its own connection to the endpoint, so the endpoint sees a node address as the source';

export function summarizeUserspace(state: UserspaceState): ServicePortSummary[] {
  return state.proxies.map((p) => {
    const via = `proxy port ${p.proxyPort}/${p.protocol}`;
    const n = p.endpoints?.length ?? 0;
    return {
      servicePort: p.servicePort,
      entries: p.portals.map((x) => ({ kind: x.kind, protocol: p.protocol, address: x.ip ?? '*', port: x.port, target: via, masquerade: ['always'] })),
      // from a dump the balancer is known to exist (the rules lead to it) but its endpoints are not
      balancers: [{ name: via, scheduler: 'round robin', endpoints: (p.endpoints ?? []).map((e) => ({ endpoint: e, via: 'proxy', probability: 1 / n })), affinitySeconds: p.affinitySeconds, fallThrough: 0 }],
      // the proxy accepts a TCP connection and closes it (drops a UDP datagram) when it finds no endpoint
      verdicts: p.endpoints !== null && n === 0 ? ['closed by the proxy: has no endpoints'] : [],
    };
  });
}

/** A rule's canonical text with its proxy port spelled PROXY_PORT. */
export function canonicalPortalRule(chain: string, rule: Rule, family: 'IPv4' | 'IPv6'): string {
  let text = canonicalRule(rule.words, family)
    .replace(/(--to-ports )\d+/, '$1PROXY_PORT')
    .replace(/(--to-destination \S+):\d+/, '$1:PROXY_PORT');
  if (chain === NON_LOCAL_NODEPORT_CHAIN) text = text.replace(/(--dport )\d+/, '$1PROXY_PORT');
  return `-A ${chain} ${text}`;
}

const OURS = new Set(USERSPACE_CHAINS.map((c) => c.chain));

function builtInJumps(state: UserspaceState): string[] {
  if (state.rendered) return portalJumpRules().map((j) => `-t ${j.table} -A ${j.chain} ${canonicalRule(j.words, state.family)}`);
  const out: string[] = [];
  for (const t of state.rules.tables) for (const c of t.chains) if (!OURS.has(c.name)) for (const r of c.rules) out.push(`-t ${t.name} -A ${c.name} ${canonicalRule(r.words, state.family)}`);
  return out.sort();
}

/** Per service port, its rules' canonical lines (`-t TABLE -A CHAIN …`). */
function linesByServicePort(rs: Ruleset): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of rs.tables) {
    for (const c of t.chains) {
      if (!OURS.has(c.name)) continue;
      for (const r of c.rules) {
        const sp = r.words[r.words.indexOf('--comment') + 1] ?? '';
        out.set(sp, [...(out.get(sp) ?? []), `-t ${t.name} ${canonicalPortalRule(c.name, r, rs.family)}`]);
      }
    }
  }
  return out;
}

export function userspaceCanonicalLines(state: UserspaceState): string[] {
  const lines = [...builtInJumps(state)];
  for (const [, l] of [...linesByServicePort(state.rules)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(...l);
  return lines;
}

export function userspaceDrift(expected: UserspaceState, actual: UserspaceState): Drift[] {
  const out: Drift[] = [];
  const actualJumps = new Set(builtInJumps(actual));
  for (const j of builtInJumps(expected)) {
    if (!actualJumps.has(j)) out.push({ servicePort: '', kind: 'missing object', object: `jump ${j.split(' -j ')[1] ?? j}`, detail: `no rule ${j}` });
  }
  const want = linesByServicePort(expected.rules);
  const have = linesByServicePort(actual.rules);
  for (const [sp, lines] of want) {
    const got = have.get(sp);
    if (!got) {
      out.push({ servicePort: sp, kind: 'missing service', detail: `no portal rules for ${sp}` });
      continue;
    }
    for (const l of lines) if (!got.includes(l)) out.push({ servicePort: sp, kind: 'missing entry', detail: l });
    for (const l of got) if (!lines.includes(l)) out.push({ servicePort: sp, kind: 'extra entry', detail: l });
  }
  for (const sp of have.keys()) if (!want.has(sp)) out.push({ servicePort: sp, kind: 'extra service', detail: `portal rules for ${sp}, which the node should not proxy` });
  // one service port, one socket: portal rules naming different proxy ports send some clients nowhere
  for (const p of actual.proxies) {
    const ports = new Set(actual.rules.tables.flatMap((t) => t.chains.filter((c) => OURS.has(c.name)).flatMap((c) => c.rules.filter((r) => r.words.includes(p.servicePort)).map((r) => proxyPortOf(c.name, r)))).filter((x): x is number => x !== null));
    if (ports.size > 1) out.push({ servicePort: p.servicePort, kind: 'verdict', detail: `portal rules send ${p.servicePort} to different proxy ports (${[...ports].join(', ')})` });
  }
  return out;
}

function proxyPortOf(chain: string, r: Rule): number | null {
  const w = r.words;
  const i = w.indexOf('--to-ports');
  if (i >= 0) return Number(w[i + 1]);
  const d = w.indexOf('--to-destination');
  if (d >= 0) return Number(/:(\d+)$/.exec(w[d + 1] ?? '')?.[1] ?? NaN) || null;
  if (chain === NON_LOCAL_NODEPORT_CHAIN) return Number(w[w.indexOf('--dport') + 1]) || null;
  return null;
}

export function narrowUserspace(state: UserspaceState, prefix: string): UserspaceState {
  const keep = (r: Rule) => (r.words[r.words.indexOf('--comment') + 1] ?? '').startsWith(prefix);
  return {
    ...state,
    proxies: state.proxies.filter((p) => p.servicePort.startsWith(prefix)),
    rules: { family: state.rules.family, tables: state.rules.tables.map((t) => ({ ...t, chains: t.chains.map((c) => (OURS.has(c.name) ? { ...c, rules: c.rules.filter(keep) } : c)) })) },
  };
}
