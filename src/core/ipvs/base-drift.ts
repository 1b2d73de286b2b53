// Node-wide drift of the ipvs mode: the ipsets (name, type, members), the addresses bound to kube-ipvs0
// (where the live side listed them), the companion iptables rules in kube-proxy's chains, and its jumps in
// the built-in chains. Rules compare as the iptables mode compares them (base-drift.ts's ruleKey: one
// spelling, no comments, order ignored). Each drift says what traffic it affects and the family; what a set
// member does is read off the rules that match its set (masquerading, KUBE-IPVS-FILTER, source ranges …).
import { builtinJumpDrift, effectOfChange, effectOfMissing, ruleKey, targetOf } from '../iptables/base-drift.js';
import type { JumpRule } from '../iptables/render/jumps.js';
import type { Chain, Ruleset, TableName } from '../iptables/types.js';
import type { Drift } from '../modes/types.js';
import { joinHostPort } from '../net/ip.js';
import { CHAIN, IPSET_INFO, IPTABLES_CHAINS, SET } from './names.js';
import type { IpvsState } from './types.js';

/** KUBE-6-CLUSTER-IP -> KUBE-CLUSTER-IP (and the 31-character cuts of the IPv6 names). */
function baseName(name: string): string {
  if (!name.startsWith('KUBE-6-')) return name;
  const rest = 'KUBE-' + name.slice(7);
  return Object.values(SET).find((s) => s.startsWith(rest)) ?? rest;
}

// ---- what a set member stands for ----

const MEMBER_NOUN: Record<string, string> = {
  [SET.clusterIP]: 'ClusterIP',
  [SET.externalIP]: 'external IP',
  [SET.externalIPLocal]: 'external IP (Local policy)',
  [SET.loadBalancer]: 'LoadBalancer',
  [SET.loadBalancerLocal]: 'LoadBalancer (Local policy)',
  [SET.loadBalancerFW]: 'LoadBalancer',
  [SET.loadBalancerSourceCIDR]: 'LoadBalancer',
  [SET.loadBalancerSourceIP]: 'LoadBalancer',
  [SET.nodePortTCP]: 'NodePort',
  [SET.nodePortUDP]: 'NodePort',
  [SET.nodePortSCTP]: 'NodePort',
  [SET.nodePortLocalTCP]: 'NodePort (Local policy)',
  [SET.nodePortLocalUDP]: 'NodePort (Local policy)',
  [SET.nodePortLocalSCTP]: 'NodePort (Local policy)',
  [SET.healthCheckNodePort]: 'health check node port',
  [SET.loopBack]: 'endpoint',
  [SET.ipvsIPs]: 'service address',
};

/** "10.96.0.10,udp:53" of KUBE-CLUSTER-IP -> "ClusterIP 10.96.0.10:53/UDP"; "30080" of KUBE-NODE-PORT-TCP -> "NodePort 30080/TCP". */
export function describeMember(setName: string, member: string): string {
  const base = baseName(setName);
  const noun = MEMBER_NOUN[base] ?? `member of ${setName}`;
  if (/^\d+$/.test(member)) {
    const proto = /-(TCP|UDP)$/.exec(base)?.[1];
    return `${noun} ${member}${proto ? `/${proto}` : ''}`;
  }
  const m = /^([^,]+),(\w+):(\d+)(?:,(.+))?$/.exec(member);
  if (!m) return `${noun} ${member}`;
  const hp = `${joinHostPort(m[1]!, Number(m[3]))}/${m[2]!.toUpperCase()}`;
  if (base === SET.loadBalancerSourceCIDR || base === SET.loadBalancerSourceIP) return `${noun} ${hp} from ${m[4]}`;
  return `${noun} ${hp}`;
}

// ---- what the rules matching a set do, said of one member or of all ----

interface Role {
  /** Said of one member that is missing ("… is not masqueraded from outside the cluster"). */
  missing: string;
  /** Said of a member kube-proxy would not have. */
  extra: string;
  /** Said of the whole rule missing. */
  rule: string;
  /** Said of the rule found in another form (same set, same target). */
  changed: string;
}

function masqueradeCondition(words: string): string {
  if (/(^| )! -s /.test(words) || /(^| )! -i /.test(words)) return ' from outside the cluster';
  if (/ src,dst( |$)/.test(words)) return ' from the node itself';
  return '';
}

/** What a rule that matches a set does for that set's members; undefined for rules that change nothing of note. */
function roleOf(table: TableName, chain: string, k: string, noun: string): Role | undefined {
  const target = targetOf(k);
  const where = `${table}/${chain}`;
  if (target === 'KUBE-MARK-MASQ' && where === `nat/${CHAIN.nodePort}`) {
    return { missing: 'is not masqueraded: replies from endpoints on other nodes bypass this node', extra: 'is masqueraded though no service has it', rule: 'no NodePort traffic is masqueraded: replies from endpoints on other nodes bypass this node', changed: "NodePort traffic is masqueraded on another condition than kube-proxy's" };
  }
  if (target === 'KUBE-MARK-MASQ' || target === CHAIN.loadBalancer) {
    const cond = masqueradeCondition(k);
    return { missing: `is not masqueraded${cond}`, extra: `is masqueraded${cond} though no service has it`, rule: `no ${noun} traffic is masqueraded${cond}`, changed: `${noun} traffic is masqueraded on another condition than kube-proxy's (${cond.trim() || 'always'})` };
  }
  if (target === 'RETURN' && (where === `nat/${CHAIN.nodePort}` || where === `nat/${CHAIN.loadBalancer}`)) {
    return { missing: "is masqueraded: externalTrafficPolicy Local loses the client's source IP", extra: 'is kept from masquerading though it has no Local policy', rule: "every Local-policy port is masqueraded: clients' source IPs are lost", changed: 'Local-policy ports are kept from masquerading on another condition than kube-proxy\'s' };
  }
  if (target === 'MASQUERADE' && where === `nat/${CHAIN.postrouting}`) {
    return { missing: 'is not masqueraded when its pod reaches itself through its service (hairpin traffic fails)', extra: 'is masqueraded as hairpin traffic though it is not a local endpoint', rule: 'a pod reaching itself through its service is not masqueraded (hairpin traffic fails)', changed: 'hairpin traffic is masqueraded on another condition than kube-proxy\'s' };
  }
  if (target === 'RETURN' && where === `filter/${CHAIN.ipvsFilter}`) {
    return { missing: 'is rejected by KUBE-IPVS-FILTER (new connections)', extra: 'gets through KUBE-IPVS-FILTER though no service has it (a host service on that port is reachable)', rule: `new connections to every ${noun} are rejected by KUBE-IPVS-FILTER`, changed: `${noun} traffic gets through KUBE-IPVS-FILTER on another condition than kube-proxy's` };
  }
  if (target === 'REJECT' && where === `filter/${CHAIN.ipvsFilter}`) {
    return { missing: 'is not guarded: new connections to its ports no service uses reach host services', extra: 'is guarded though nothing is bound there (new connections to it are rejected)', rule: 'host services are reachable on every service address (ports no service uses are not rejected)', changed: 'service addresses are guarded on another condition than kube-proxy\'s' };
  }
  if (target === 'ACCEPT' && where === `filter/${CHAIN.nodePort}`) {
    return { missing: 'is not accepted where INPUT drops (load balancers see this node as unhealthy)', extra: 'is accepted though no service has it', rule: 'health check node ports are not accepted where INPUT drops', changed: 'health check node ports are accepted on another condition than kube-proxy\'s' };
  }
  if (target === CHAIN.sourceRangesFirewall) {
    return { missing: 'is not checked against its loadBalancerSourceRanges (every client gets in)', extra: 'is checked against source ranges it does not have (clients are dropped)', rule: 'loadBalancerSourceRanges are not enforced', changed: 'loadBalancerSourceRanges are checked on another condition than kube-proxy\'s' };
  }
  if (target === 'RETURN' && where === `filter/${CHAIN.sourceRangesFirewall}`) {
    return { missing: 'is dropped though its loadBalancerSourceRanges allow it', extra: 'is let in though its loadBalancerSourceRanges do not name it', rule: 'clients loadBalancerSourceRanges allow are dropped', changed: 'clients are let in on another condition than their loadBalancerSourceRanges' };
  }
  return undefined;
}

function matchedSet(k: string): string | undefined {
  return /--match-set (\S+)/.exec(k)?.[1];
}

function rulesOf(rs: Ruleset): Array<{ table: TableName; chain: string; key: string }> {
  return rs.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => ({ table: t.name, chain: c.name, key: ruleKey(r.words, rs.family) }))));
}

/** What the rules (of either side) matching `set` do for it. */
function rolesOfSet(set: string, rules: ReadonlyArray<{ table: TableName; chain: string; key: string }>): Role[] {
  const noun = MEMBER_NOUN[baseName(set)] ?? set;
  const out: Role[] = [];
  for (const r of rules) {
    if (matchedSet(r.key) !== set) continue;
    const role = roleOf(r.table, r.chain, r.key, noun);
    if (role && !out.some((x) => x.missing === role.missing)) out.push(role);
  }
  return out;
}

function joinRoles(parts: string[]): string {
  if (parts.length === 0) return 'kube-proxy has it there';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

// ---- ipsets ----

function setDrift(expected: IpvsState, actual: IpvsState): Drift[] {
  const out: Drift[] = [];
  const family = expected.family;
  const rules = [...rulesOf(expected.iptables), ...rulesOf(actual.iptables)];
  const have = new Map(actual.ipsets.map((s) => [s.name, s]));
  for (const e of expected.ipsets) {
    const a = have.get(e.name);
    const object = `ipset ${e.name}`;
    if (!a) {
      const purpose = IPSET_INFO.find((i) => SET[i.key] === baseName(e.name))?.comment ?? '';
      out.push({ servicePort: '', kind: 'missing object', object, detail: `no ipset ${e.name} on the node (${family}): the iptables rules matching it cannot load${purpose ? ` (${purpose})` : ''}` });
      continue;
    }
    if (a.type !== e.type) {
      out.push({ servicePort: '', kind: 'missing object', object, detail: `ipset ${e.name} is ${a.type}, kube-proxy makes it ${e.type} (${family}): its members cannot be kube-proxy's and its matches do not line up` });
      continue;
    }
    const roles = rolesOfSet(e.name, rules);
    const am = new Set(a.members);
    const em = new Set(e.members);
    for (const m of e.members) {
      if (am.has(m)) continue;
      out.push({ servicePort: '', kind: 'missing set member', object, detail: `ipset ${e.name} lacks ${m} (${family}): ${describeMember(e.name, m)} ${joinRoles(roles.map((r) => r.missing))}` });
    }
    for (const m of a.members) {
      if (em.has(m)) continue;
      out.push({ servicePort: '', kind: 'extra set member', object, detail: `ipset ${e.name} still has ${m} (${family}): ${describeMember(e.name, m)} ${joinRoles(roles.map((r) => r.extra))}` });
    }
  }
  return out;
}

// ---- kube-ipvs0 ----

function addressDrift(expected: IpvsState, actual: IpvsState): Drift[] {
  const out: Drift[] = [];
  const family = expected.family;
  const have = new Set(actual.addresses);
  const want = new Set(expected.addresses);
  for (const a of [...want].sort()) {
    if (!have.has(a)) out.push({ servicePort: '', kind: 'missing object', object: `address ${a}`, detail: `${a} is not bound to kube-ipvs0 (${family}): the node does not take traffic to it, so IPVS never sees it and its services are unreachable` });
  }
  for (const a of [...have].sort()) {
    if (!want.has(a)) out.push({ servicePort: '', kind: 'stale object', object: `address ${a}`, detail: `${a} is still bound to kube-ipvs0 (${family}): the node takes traffic to it though no service has it` });
  }
  return out;
}

// ---- companion rules ----

/** Only the chains kube-proxy's ipvs proxier writes, tables by name (for the canonical lines of a diff). */
export function companionChains(rs: Ruleset): Ruleset {
  const own = new Set(IPTABLES_CHAINS.map((c) => `${c.table}/${c.chain}`));
  const tables = rs.tables
    .map((t) => ({ name: t.name, chains: t.chains.filter((c) => own.has(`${t.name}/${c.name}`)) }))
    .filter((t) => t.chains.length)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { family: rs.family, tables };
}

function chainOf(rs: Ruleset, table: TableName, chain: string): Chain | undefined {
  return rs.tables.find((t) => t.name === table)?.chains.find((c) => c.name === chain);
}

const CHAIN_EFFECT: Record<string, string> = {
  [`nat/${CHAIN.services}`]: 'no service traffic is masqueraded',
  [`nat/${CHAIN.postrouting}`]: 'no traffic is SNATed',
  [`nat/${CHAIN.markMasq}`]: 'no traffic is marked for SNAT, so none is SNATed',
  [`nat/${CHAIN.nodePort}`]: 'no NodePort traffic is masqueraded',
  [`nat/${CHAIN.loadBalancer}`]: 'no LoadBalancer traffic is masqueraded',
  [`filter/${CHAIN.forward}`]: 'marked traffic is not forwarded where the FORWARD policy drops',
  [`filter/${CHAIN.nodePort}`]: 'health check node ports are not accepted where INPUT drops',
  [`filter/${CHAIN.proxyFirewall}`]: 'loadBalancerSourceRanges are not enforced',
  [`filter/${CHAIN.sourceRangesFirewall}`]: 'loadBalancerSourceRanges are not enforced',
  [`filter/${CHAIN.ipvsFilter}`]: 'host services are reachable on service addresses',
  [`filter/${CHAIN.ipvsOutFilter}`]: 'the node itself reaches LoadBalancers whose source ranges exclude it',
};

/** What the rule `k` of TABLE/CHAIN does for traffic, said of its absence. */
function ruleMissingEffect(table: TableName, chain: string, k: string): string {
  const where = `${table}/${chain}`;
  const set = matchedSet(k);
  if (set) {
    const role = roleOf(table, chain, k, MEMBER_NOUN[baseName(set)] ?? set);
    if (role) return role.rule;
    if (targetOf(k) === 'ACCEPT') return `${MEMBER_NOUN[baseName(set)] ?? set} traffic goes on through the rest of the nat rules (another rule there may rewrite it)`;
  }
  if (where === `nat/${CHAIN.services}`) {
    if (targetOf(k) === CHAIN.nodePort) return 'no NodePort traffic is masqueraded: replies from endpoints on other nodes bypass this node';
    if (targetOf(k) === 'RETURN') return 'traffic from localhost goes through the service rules, which kube-proxy skips for it';
  }
  if (where === `nat/${CHAIN.loadBalancer}`) return 'no LoadBalancer traffic is masqueraded';
  if (where === `filter/${CHAIN.sourceRangesFirewall}`) return 'clients outside loadBalancerSourceRanges are not dropped';
  if (where === `filter/${CHAIN.ipvsOutFilter}`) {
    const m = /--vaddr (\S+) --vproto (\S+) --vport (\d+)/.exec(k);
    return m ? `the node itself reaches LoadBalancer ${joinHostPort(m[1]!, Number(m[3]))}/${m[2]!.toUpperCase()}, though its loadBalancerSourceRanges exclude it` : CHAIN_EFFECT[where]!;
  }
  return effectOfMissing(table, chain, k);
}

function ruleExtraEffect(table: TableName, chain: string, k: string): string {
  const target = targetOf(k);
  if (target === 'DROP' || target === 'REJECT') return `traffic it matches is ${target === 'DROP' ? 'dropped' : 'rejected'}`;
  if (target === 'KUBE-MARK-MASQ' || target === 'MASQUERADE' || target === 'SNAT') return 'traffic it matches is SNATed';
  if (`${table}/${chain}` === `nat/${CHAIN.markMasq}`) return 'traffic is marked with another bit, which KUBE-POSTROUTING does not SNAT';
  return 'kube-proxy does not write it';
}

function companionDrift(expected: Ruleset, actual: Ruleset): Drift[] {
  const out: Drift[] = [];
  const family = expected.family;
  for (const { table, chain } of IPTABLES_CHAINS) {
    const e = chainOf(expected, table, chain);
    const a = chainOf(actual, table, chain);
    const object = `rule ${table}/${chain}`;
    if (!e) {
      // a chain of another release of kube-proxy (KUBE-IPVS-OUT-FILTER before 1.29): what its rules do is extra
      if (a) out.push({ servicePort: '', kind: 'stale object', object: `chain ${table}/${chain}`, detail: `the node has chain ${table}/${chain}, which kube-proxy of this version does not write (${family})${a.rules.length ? `: ${ruleExtraEffect(table, chain, ruleKey(a.rules[0]!.words, family))}` : ''}` });
      continue;
    }
    if (!a) {
      out.push({ servicePort: '', kind: 'missing object', object: `chain ${table}/${chain}`, detail: `no chain ${table}/${chain} on the node (${family}): ${CHAIN_EFFECT[`${table}/${chain}`] ?? 'kube-proxy writes it'}` });
      continue;
    }
    const ek = e.rules.map((r) => ruleKey(r.words, family));
    const ak = a.rules.map((r) => ruleKey(r.words, family));
    const missing = ek.filter((k) => !ak.includes(k));
    const extra = ak.filter((k) => !ek.includes(k));
    for (const m of missing) {
      // the same target (and set) found in another form: one changed rule
      const i = extra.findIndex((x) => targetOf(x) === targetOf(m) && matchedSet(x) === matchedSet(m));
      if (i >= 0) {
        const found = extra.splice(i, 1)[0]!;
        const set = matchedSet(m);
        const role = set ? roleOf(table, chain, m, MEMBER_NOUN[baseName(set)] ?? set) : undefined;
        const effect = role ? role.changed : effectOfChange(table, chain, m, found);
        out.push({ servicePort: '', kind: 'missing object', object, detail: `${table}/${chain} has \`${found}\`, expected \`${m}\` (${family}): ${effect}` });
      } else {
        out.push({ servicePort: '', kind: 'missing object', object, detail: `no \`${m}\` in ${table}/${chain} (${family}): ${ruleMissingEffect(table, chain, m)}` });
      }
    }
    for (const x of extra) out.push({ servicePort: '', kind: 'stale object', object, detail: `${table}/${chain} has \`${x}\`, which kube-proxy does not write (${family}): ${ruleExtraEffect(table, chain, x)}` });
  }
  return out;
}

const JUMP_EFFECT: Record<string, string> = {
  [`nat/PREROUTING/${CHAIN.services}`]: 'no service traffic from pods or from outside is masqueraded (replies from endpoints on other nodes bypass this node)',
  [`nat/OUTPUT/${CHAIN.services}`]: 'service traffic from the node itself is not masqueraded',
  [`nat/POSTROUTING/${CHAIN.postrouting}`]: 'no traffic is SNATed',
  [`filter/FORWARD/${CHAIN.forward}`]: 'marked traffic is not forwarded where the FORWARD policy drops',
  [`filter/INPUT/${CHAIN.nodePort}`]: 'health check node ports are not accepted where INPUT drops',
  [`filter/INPUT/${CHAIN.proxyFirewall}`]: 'loadBalancerSourceRanges are not enforced for traffic to the node',
  [`filter/FORWARD/${CHAIN.proxyFirewall}`]: 'loadBalancerSourceRanges are not enforced for forwarded traffic',
  [`filter/INPUT/${CHAIN.ipvsFilter}`]: 'host services are reachable on service addresses (ports no service uses are not rejected)',
  [`filter/OUTPUT/${CHAIN.ipvsOutFilter}`]: 'the node itself reaches LoadBalancers whose source ranges exclude it',
};

export interface IpvsBaseOptions {
  /** The live addresses were listed from kube-ipvs0 itself (`ip addr`), not taken from KUBE-IPVS-IPS. */
  addressesListed: boolean;
  /** The built-in-chain jumps kube-proxy of the rendered version keeps. */
  jumps: readonly JumpRule[];
}

export function ipvsBaseDrift(expected: IpvsState, actual: IpvsState, opts: IpvsBaseOptions): Drift[] {
  const out = setDrift(expected, actual);
  if (opts.addressesListed) out.push(...addressDrift(expected, actual));
  if (expected.iptables.tables.length && actual.iptables.tables.length) {
    out.push(...companionDrift(expected.iptables, actual.iptables));
    out.push(...builtinJumpDrift(actual.iptables, opts.jumps, (j) => JUMP_EFFECT[`${j.table}/${j.chain}/${j.target}`]));
  }
  return out;
}

