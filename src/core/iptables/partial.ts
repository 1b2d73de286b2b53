// kube-proxy's partial sync: the restore input that turns the rules of `prev` (what the host holds) into
// those of `next`, writing only what changed.
//
// What syncProxyRules writes when it is not doing a full sync:
//   *filter  the whole filter table, always (it is small);
//   *nat     the chain lines of KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ and all
//            of their rules (every service's KUBE-SERVICES / KUBE-NODEPORTS rules are rewritten each time);
//            the chains and rules of the services that changed (their KUBE-SVC-, KUBE-SVL-, KUBE-EXT-,
//            KUBE-FW- and KUBE-SEP- chains), each service's lines in their usual place; the other services'
//            chains are neither declared nor written, so iptables-restore --noflush leaves them as they
//            are; then a `:CHAIN - [0:0]` line (which flushes it) and, after all rules but the final
//            KUBE-SERVICES -> KUBE-NODEPORTS jump(s), a `-X CHAIN` line for every service chain the host
//            has that `next` no longer uses.
// A full sync is the same with every service written (and stale chains still deleted).
//
// "Changed": upstream rewrites a service when its Service or EndpointSlice objects changed since the
// last sync (its change trackers). We have no trackers, so by default a service port is rewritten when
// the chains `next` gives it differ in any way from the ones `prev` has (a chain added, gone, or with
// other rules). Pass `changed` to use upstream's rule instead: exactly the listed service ports (the
// caller's change tracking) are rewritten, whether or not their rules differ, as TestSyncProxyRules-
// LargeClusterMode relies on. Service chains are grouped by their hash: KUBE-SVC-H, KUBE-SVL-H,
// KUBE-EXT-H, KUBE-FW-H, plus every KUBE-SEP- chain their rules jump to.
//
// Stale chains are listed in chain-name order (upstream walks a set difference, in map order).

import type { Chain, Rule, Ruleset, Table } from './types.js';
import { KUBE_CHAINS, chainNames, isServiceChainName, serviceChainHash } from './names.js';
import { rulesInWriteOrder, type OrderedRule } from './render/order.js';
import { chainLine, restoreRuleText, restoreTableLines } from './serialize.js';

export interface PartialRestoreOptions {
  /** Write every service's chains (a full sync), still deleting stale chains. */
  full?: boolean;
  /** Upstream's rule: rewrite exactly these service ports (and no others). */
  changed?: Iterable<{ name: string; protocol: string }>;
  /** Delete stale service chains (default true; upstream skips it in large clusters between cleanups). */
  deleteStale?: boolean;
}

interface Groups {
  /** Chain name -> group key. */
  groupOf: Map<string, string>;
}

function groupChains(table: Table | undefined): Groups {
  const groupOf = new Map<string, string>();
  if (!table) return { groupOf };
  for (const c of table.chains) {
    if (!isServiceChainName(c.name) || c.name.startsWith('KUBE-SEP-')) continue;
    groupOf.set(c.name, serviceChainHash(c.name)!);
  }
  for (const c of table.chains) {
    if (!c.name.startsWith('KUBE-SVC-') && !c.name.startsWith('KUBE-SVL-')) continue;
    const key = groupOf.get(c.name)!;
    for (const r of c.rules) {
      const target = jumpTarget(r);
      if (target !== null && target.startsWith('KUBE-SEP-') && !groupOf.has(target)) groupOf.set(target, key);
    }
  }
  for (const c of table.chains) {
    if (isServiceChainName(c.name) && !groupOf.has(c.name)) groupOf.set(c.name, `chain:${c.name}`);
  }
  return { groupOf };
}

function jumpTarget(rule: Rule): string | null {
  const w = rule.words;
  for (let i = 0; i < w.length - 1; i++) if (w[i] === '-j' || w[i] === '--jump') return w[i + 1]!;
  return null;
}

function sameRules(a: Chain, b: Chain): boolean {
  if (a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) {
    const x = a.rules[i]!.words;
    const y = b.rules[i]!.words;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

function membersByGroup(table: Table | undefined, groups: Groups): Map<string, Chain[]> {
  const out = new Map<string, Chain[]>();
  if (!table) return out;
  for (const c of table.chains) {
    const key = groups.groupOf.get(c.name);
    if (key === undefined) continue;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(c);
  }
  return out;
}

function changedByContent(prevNat: Table | undefined, nextNat: Table): Set<string> {
  const nextGroups = groupChains(nextNat);
  const prevGroups = groupChains(prevNat);
  const nextMembers = membersByGroup(nextNat, nextGroups);
  const prevMembers = membersByGroup(prevNat, prevGroups);
  const changed = new Set<string>();
  for (const [key, chains] of nextMembers) {
    const before = prevMembers.get(key);
    if (!before || before.length !== chains.length) {
      changed.add(key);
      continue;
    }
    const byName = new Map(before.map((c) => [c.name, c] as const));
    for (const c of chains) {
      const old = byName.get(c.name);
      if (!old || !sameRules(old, c)) {
        changed.add(key);
        break;
      }
    }
  }
  return changed;
}

function isFinalNodePortsJump(o: OrderedRule): boolean {
  return o.chain.name === KUBE_CHAINS.services.name && jumpTarget(o.rule) === KUBE_CHAINS.nodePorts.name;
}

/**
 * The nat (or other) table as a partial sync writes it: `writeChain` decides which service chains are
 * declared and filled; `stale` chains are declared and deleted.
 */
function natLines(table: Table, writeChain: (name: string) => boolean, stale: string[]): string[] {
  const lines: string[] = [];
  for (const c of table.chains) {
    if (!isServiceChainName(c.name) || writeChain(c.name)) lines.push(chainLine(c.name));
  }
  for (const name of stale) lines.push(chainLine(name));
  const ordered = rulesInWriteOrder(table).filter((o) => !isServiceChainName(o.chain.name) || writeChain(o.chain.name));
  // -X lines go after every rule but the trailing KUBE-SERVICES -> KUBE-NODEPORTS jump(s)
  let tail = ordered.length;
  while (tail > 0 && isFinalNodePortsJump(ordered[tail - 1]!)) tail--;
  for (let i = 0; i < ordered.length; i++) {
    if (i === tail) for (const name of stale) lines.push(`-X ${name}`);
    const o = ordered[i]!;
    lines.push(`-A ${o.chain.name} ${restoreRuleText(o.rule)}`);
  }
  if (tail === ordered.length) for (const name of stale) lines.push(`-X ${name}`);
  return lines;
}

/** kube-proxy's restore input for a sync from `prev` (undefined: nothing known, a full sync) to `next`. */
export function partialRestore(prev: Ruleset | undefined, next: Ruleset, opts: PartialRestoreOptions = {}): string {
  const nextNat = next.tables.find((t) => t.name === 'nat');
  const prevNat = prev?.tables.find((t) => t.name === 'nat');

  let writeGroup: (key: string) => boolean;
  if (prev === undefined || opts.full) {
    writeGroup = () => true;
  } else if (opts.changed !== undefined) {
    const hashes = new Set<string>();
    for (const c of opts.changed) hashes.add(serviceChainHash(chainNames(c.name, c.protocol).svc)!);
    writeGroup = (key) => hashes.has(key);
  } else {
    const changed = nextNat ? changedByContent(prevNat, nextNat) : new Set<string>();
    writeGroup = (key) => changed.has(key);
  }

  const nextGroups = groupChains(nextNat);
  const writeChain = (name: string): boolean => writeGroup(nextGroups.groupOf.get(name) ?? `chain:${name}`);

  let stale: string[] = [];
  if (prevNat && (opts.deleteStale ?? true)) {
    const active = new Set(nextNat?.chains.map((c) => c.name) ?? []);
    stale = prevNat.chains.map((c) => c.name).filter((n) => isServiceChainName(n) && !active.has(n));
    stale.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  let out = '';
  for (const table of next.tables) {
    out += `*${table.name}\n`;
    const lines = table.name === 'nat' ? natLines(table, writeChain, stale) : restoreTableLines(table);
    for (const line of lines) out += line + '\n';
    out += 'COMMIT\n';
  }
  return out;
}
