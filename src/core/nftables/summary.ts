// summarize: what each service port's part of a kube-proxy table does, in the words every mode shares.
import type { BalancerSummary, EntrySummary, ServicePortSummary } from '../modes/types.js';
import { clusterIPOwners, elementServicePort, elementTarget } from './index-table.js';
import { CHAIN, PREFIX, SET, servicePortOfName, splitHostPort } from './names.js';
import { type ParsedRule, parseRule } from './rule.js';
import type { NftChain, NftTable } from './types.js';

function sortByKey<T>(m: Map<string, T>): Array<[string, T]> {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** `jump mark-for-masquerade`, or (1.36+) the mark it set written inline. */
const MARKS_FOR_MASQUERADE = new RegExp(`\\s*(?:jump ${CHAIN.markMasq}|mark set mark or 0x[0-9a-f]+)$`);

/** The words of a rule's matches before it marks for masquerade ("ip saddr != 10.0.0.0/8"). */
function masqueradeConditions(chain: NftChain | undefined): string[] {
  const out: string[] = [];
  for (const r of chain?.rules ?? []) {
    if (!MARKS_FOR_MASQUERADE.test(r.rule)) continue;
    const cond = r.rule
      .replace(MARKS_FOR_MASQUERADE, '')
      .replace(/^ip6? daddr \S+( \w+ dport \d+)?\s*/, '')
      .trim();
    out.push(cond === '' ? 'always' : cond);
  }
  return out;
}

function dnatTarget(chain: NftChain | undefined): string | undefined {
  for (const r of chain?.rules ?? []) {
    const m = /\bdnat (?:ip6? )?to (\S+)$/.exec(r.rule);
    if (m) return m[1];
  }
  return undefined;
}

function balancerOf(t: NftTable, chain: NftChain, byName: Map<string, NftChain>): BalancerSummary | null {
  for (const r of chain.rules) {
    const p: ParsedRule = parseRule(r.rule);
    const dm = p.statements.find((x) => x.kind === 'dnat-map');
    if (dm && dm.kind === 'dnat-map' && dm.selectors[0]?.kind === 'numgen') {
      // 1.36+: the service chain DNATs straight from a numgen map, no endpoint chains
      const n = dm.selectors[0].mod;
      const eps = dm.entries.map((e) => ({ endpoint: e.to.replace(/ \. (\d+)$/, (_m, port: string) => `:${port}`), via: chain.name, probability: 1 / n }));
      return { name: chain.name, scheduler: 'random', endpoints: eps, affinitySeconds: null, fallThrough: n === eps.length ? 0 : 1 - eps.length / n };
    }
    const s = p.statements.find((x) => x.kind === 'vmap');
    if (!s || s.kind !== 'vmap' || s.selectors[0]?.kind !== 'numgen' || s.target.kind !== 'anon') continue;
    const n = s.selectors[0].mod;
    const eps = s.target.entries.map((e) => {
      const via = e.verdict.split(/\s+/)[1] ?? '';
      return { endpoint: dnatTarget(byName.get(via)) ?? via, via, probability: 1 / n };
    });
    const affinitySet = t.sets.find((x) => eps.some((e) => x.name === PREFIX.affinity + e.via.slice(PREFIX.endpoint.length)));
    return { name: chain.name, scheduler: 'random', endpoints: eps, affinitySeconds: affinitySet?.timeout ?? null, fallThrough: n === eps.length ? 0 : 1 - eps.length / n };
  }
  return null;
}

export function summarizeTable(t: NftTable): ServicePortSummary[] {
  const byName = new Map(t.chains.map((c) => [c.name, c]));
  const sets = new Map(t.sets.map((s) => [s.name, s]));
  const out = new Map<string, ServicePortSummary>();
  const get = (sp: string): ServicePortSummary => {
    let s = out.get(sp);
    if (!s) out.set(sp, (s = { servicePort: sp, entries: [], balancers: [], verdicts: [], setMembers: [] }));
    return s;
  };
  const owners = clusterIPOwners(t);
  const clusterIPMasquerade = masqueradeConditions({ name: CHAIN.services, rules: (byName.get(CHAIN.services)?.rules ?? []).filter((r) => r.rule.includes(`@${SET.clusterIPs}`)) });
  const firewalled = new Set((sets.get(SET.firewallIPs)?.elements ?? []).map((e) => e.key.join(' . ')));

  for (const e of sets.get(SET.serviceIPs)?.elements ?? []) {
    const sp = elementServicePort(e);
    if (!sp) continue;
    const target = elementTarget(e) ?? (e.value ?? []).join(' ');
    const [address, protocol, port] = e.key;
    // every port of a ClusterIP is a cluster IP entry (owners names only the address's first service port)
    const isCluster = owners.has(address!) && !target.startsWith(PREFIX.external);
    const kind: EntrySummary['kind'] = isCluster ? 'cluster IP' : firewalled.has(e.key.join(' . ')) ? 'loadbalancer IP' : 'external IP';
    // 1.36+ marks ClusterIP traffic for masquerade once, in `services`, for every @cluster-ips address
    const masquerade = masqueradeConditions(byName.get(target));
    if (isCluster && masquerade.length === 0) masquerade.push(...clusterIPMasquerade);
    get(sp).entries.push({ kind, protocol: protocol!.toUpperCase(), address: address!, port: Number(port), target, masquerade });
    get(sp).setMembers!.push(`${SET.serviceIPs} ${e.key.join(' . ')}`);
  }
  for (const e of sets.get(SET.serviceNodePorts)?.elements ?? []) {
    const sp = elementServicePort(e);
    if (!sp) continue;
    const target = elementTarget(e) ?? '';
    get(sp).entries.push({ kind: 'nodePort', protocol: e.key[0]!.toUpperCase(), address: '*', port: Number(e.key[1]), target, masquerade: masqueradeConditions(byName.get(target)) });
    get(sp).setMembers!.push(`${SET.serviceNodePorts} ${e.key.join(' . ')}`);
  }
  for (const name of [SET.noEndpointServices, SET.noEndpointNodePorts]) {
    for (const e of sets.get(name)?.elements ?? []) {
      const sp = elementServicePort(e);
      if (!sp) continue;
      const v = (e.value ?? []).join(' ');
      const what = name === SET.noEndpointNodePorts ? `nodePort ${e.key[1]}/${e.key[0]}` : `${e.key[0]}:${e.key[2]}/${e.key[1]}`;
      get(sp).verdicts.push(v === `goto ${CHAIN.reject}` ? `${what} has no endpoints: rejected` : `${what} has no usable local endpoints: ${v === 'drop' ? 'dropped' : v}`);
      get(sp).setMembers!.push(`${name} ${e.key.join(' . ')}`);
    }
  }
  for (const e of sets.get(SET.firewallIPs)?.elements ?? []) {
    const sp = elementServicePort(e);
    const chain = byName.get(elementTarget(e) ?? '');
    if (!sp || !chain) continue;
    for (const r of chain.rules) {
      const m = /saddr != (\{[^}]*\}|\S+) drop$/.exec(r.rule);
      if (m) get(sp).verdicts.push(`${e.key[0]}:${e.key[2]}/${e.key[1]} drops sources outside ${m[1]!.replace(/^\{ | \}$/g, '').split(/\s*,\s*/).join(', ')}`);
    }
    get(sp).setMembers!.push(`${SET.firewallIPs} ${e.key.join(' . ')}`);
  }
  for (const [ip, sp] of owners) get(sp).setMembers!.push(`${SET.clusterIPs} ${ip}`);
  for (const c of t.chains) {
    if (!c.name.startsWith(PREFIX.cluster) && !c.name.startsWith(PREFIX.local)) continue;
    const sp = servicePortOfName(c.name);
    if (!sp) continue;
    const b = balancerOf(t, c, byName);
    if (b && c.name.startsWith(PREFIX.local)) b.local = true;
    if (b) get(sp).balancers.push(b);
  }
  for (const s of out.values()) {
    s.setMembers!.sort();
    for (const b of s.balancers) for (const ep of b.endpoints) ep.endpoint = normEndpoint(ep.endpoint);
  }
  return sortByKey(out).map(([, v]) => v);
}

function normEndpoint(hp: string): string {
  const { ip, port } = splitHostPort(hp);
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The pod CIDR the table treats as local traffic (`ip saddr != CIDR jump …`, `ip saddr CIDR goto …`). */
export function localTrafficCIDR(t: NftTable): string | undefined {
  for (const c of t.chains) {
    if (!c.name.startsWith(PREFIX.cluster) && !c.name.startsWith(PREFIX.external) && c.name !== CHAIN.services) continue;
    for (const r of c.rules) {
      const m = /\bip6? saddr (?:!= )?(\S+\/\d+) (?:jump|goto|mark set) /.exec(r.rule);
      if (m) return m[1];
    }
  }
  return undefined;
}
