// The one adapter between the proxier and a host's backends: "read what this mode holds on this host (or
// network namespace), apply this mode's Plan atomically, remove what kube-proxy's modes write". Every call
// into src/core/host/ from the sync path is here, so a backend's interface changing is one edit. It is the
// one place that knows which backend serves which mode (the commands and the proxier never do).
import type { KubeProxyConfiguration } from '../config/index.js';
import { NotImplementedError } from '../errors.js';
import type { CommandRunner } from '../host/backend.js';
import { detectIptablesKind } from '../host/detect.js';
import { IptablesCommandBackend, iptablesCommand } from '../host/iptables.js';
import { ensureNfacct, nfacctNamesIn } from '../host/nfacct.js';
import { NftCommandBackend } from '../host/nft.js';
import { ConntrackCommandBackend } from '../host/conntrack.js';
import { CANARY_CHAIN, type CanaryHost } from './canary.js';
import type { ConntrackCleaner } from './conntrack.js';
import { KUBE_CHAINS, isServiceChainName, jumpRules } from '../iptables/index.js';
import { parseIptablesSave } from '../iptables/parse.js';
import type { IptablesPlan } from '../iptables/plan.js';
import { CHAIN as IPVS_CHAIN, SET as IPVS_SET } from '../ipvs/names.js';
import { USERSPACE_CHAINS } from '../userspace/names.js';
import { userspaceHost } from './apply-userspace.js';
import type { FamilyState, IPFamily, Plan, ProxyModeDefinition } from '../modes/types.js';

/** A mode's rules on one host, as the proxier needs them. */
export interface ModeHost {
  /** "this host", "network namespace node-1". */
  readonly description: string;
  /** What the host holds of this mode for `family`, parsed as the mode's state; undefined when nothing. */
  read(family: IPFamily): Promise<FamilyState | undefined>;
  /** Applies the plan as one change: all of it, or (throwing one sentence) none of it. */
  apply(plan: Plan): Promise<void>;
  /** When sync stops: release what only lives while it runs (the userspace proxy's sockets and the rules to them). */
  close?(): Promise<void>;
  /** The mode this host programs when it is not the one asked (ipvs falling back to iptables). */
  readonly def?: ProxyModeDefinition<FamilyState>;
  /** Deletes stale UDP conntrack entries after a successful apply. */
  readonly conntrack?: ConntrackCleaner;
  /** kube-proxy's canary chains (the iptables mode). */
  readonly canary?: CanaryHost;
}

export interface HostTarget {
  run: CommandRunner;
  description: string;
  /** The network namespace `run` enters, if any (a process that must live there is started in it). */
  netns?: string;
  /** The kube-proxy version whose behaviour to follow where it changed (the ipvs fallback). */
  kubeProxyVersion?: string;
  /** One line per event a host side says on its own (the ipvs fallback, a port it could not claim). */
  log?: (line: string) => void;
}

/** The host side of `def`: one sentence (NotImplementedError) when this adapter cannot apply that mode yet. */
export async function modeHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget, config: KubeProxyConfiguration): Promise<ModeHost> {
  if (def.mode === 'iptables') return iptablesHost(def, target, config);
  if (def.mode === 'nftables') return nftablesHost(def, target);
  if (def.mode === 'userspace') return userspaceHost(def, target, config);
  if (def.mode === 'ipvs') return (await import('./apply-ipvs.js')).ipvsHost(def, target, config);
  throw new NotImplementedError(`applying mode ${def.mode}'s plans to a host (\`kubectl proxymode sync\`)`);
}

export async function iptablesHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget, config: KubeProxyConfiguration): Promise<ModeHost> {
  const { run } = target;
  const kind = (await detectIptablesKind(run)).kind;
  const backend = new IptablesCommandBackend(kind, run);
  return {
    description: `${target.description} (iptables-${kind})`,
    conntrack: new ConntrackCommandBackend(run),
    canary: iptablesCanary(backend),
    async read(family) {
      const text = await backend.save(family);
      return def.parse({ source: target.description, sections: [{ kind: 'iptables-save', text, family, line: 1 }] }, family);
    },
    async apply(plan) {
      await ensureNfacct(run, nfacctNamesIn(plan.text()));
      // the iptables mode's plans are IptablesPlans (iptables/plan.ts), which the backend executes
      await backend.apply(plan as IptablesPlan);
      // kube-proxy's jumps from the built-in chains, outside its restore input (EnsureChain, EnsureRule)
      if (plan.full) {
        for (const j of jumpRules(config, plan.family)) {
          await backend.ensureChain(plan.family, j.table, j.target);
          await backend.ensureRule(plan.family, j.table, j.chain, j.words, j.position);
        }
      }
    },
  };
}

function nftablesHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget): ModeHost {
  const nft = new NftCommandBackend(target.run);
  return {
    description: target.description,
    conntrack: new ConntrackCommandBackend(target.run),
    async read(family) {
      const table = await nft.readTable(family);
      return table ? (table as unknown as FamilyState) : undefined;
    },
    async apply(plan) {
      await nft.apply(plan.text());
    },
  };
}

function iptablesCanary(backend: IptablesCommandBackend): CanaryHost {
  type Table = Parameters<IptablesCommandBackend['ensureChain']>[1];
  return {
    exists: (family, table) => backend.chainExists(family, table as Table, CANARY_CHAIN),
    ensure: async (family, table) => void (await backend.ensureChain(family, table as Table, CANARY_CHAIN)),
    remove: (family, table) => backend.deleteChain(family, table as Table, CANARY_CHAIN),
  };
}

/** Dry runs: the plan's text against what the host holds now. */
export async function planAgainstHost(def: ProxyModeDefinition<FamilyState>, host: ModeHost, next: FamilyState): Promise<Plan> {
  const previous = await host.read(next.family);
  return def.plan(previous, next, { full: true });
}

// ---- cleanup: what kube-proxy's modes write, and only that ----

const KUBELET_CHAINS = new Set([KUBE_CHAINS.firewall.name, 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT']);
const PROXY_CHAINS = new Set<string>([
  ...Object.values(KUBE_CHAINS).map((c) => c.name),
  ...Object.values(IPVS_CHAIN),
  'KUBE-PROXY-CANARY',
  'KUBE-SOURCE-RANGES-FIREWALL',
  ...USERSPACE_CHAINS.map((c) => c.chain),
]);

/** A chain kube-proxy (any mode) creates and CleanupLeftovers removes; kubelet's own chains are not. */
export function isKubeProxyChain(name: string): boolean {
  if (KUBELET_CHAINS.has(name)) return false;
  return PROXY_CHAINS.has(name) || isServiceChainName(name);
}

/** A set kube-proxy's ipvs mode creates (IPv6 sets are KUBE-6-…). */
export function isKubeProxySet(name: string): boolean {
  return Object.values(IPVS_SET).some((s) => name === s || name === `KUBE-6-${s.slice(5)}`.slice(0, 31));
}

/**
 * CleanupLeftovers for every mode: the jumps from the built-in chains and kube-proxy's chains in both
 * iptables backends and families, the nft `kube-proxy` tables, kube-proxy's ipsets. Resolves what it
 * removed, one phrase each. Tools that are not installed are skipped.
 */
export async function cleanupHost(target: HostTarget): Promise<string[]> {
  const { run } = target;
  const removed: string[] = [];
  for (const kind of ['nft', 'legacy'] as const) {
    const probe = await run([iptablesCommand(kind, 'IPv4', 'save'), '-t', 'nat']);
    if (probe.code === 127) continue;
    const backend = new IptablesCommandBackend(kind, run);
    for (const family of ['IPv4', 'IPv6'] as const) {
      let save: string;
      try {
        save = await backend.save(family);
      } catch {
        continue;
      }
      const rs = parseIptablesSave(save, { family, source: target.description });
      const ours = rs.tables.flatMap((t) => t.chains.filter((c) => isKubeProxyChain(c.name)).map((c) => ({ table: t.name, chain: c.name })));
      if (ours.length === 0) continue;
      // jumps into our chains from any chain that is not ours (built-in chains, kube-proxy's ipvs jumps)
      let jumps = 0;
      for (const t of rs.tables) {
        for (const c of t.chains) {
          if (isKubeProxyChain(c.name)) continue;
          for (const r of c.rules) {
            const target = jumpOf(r.words);
            if (target && isKubeProxyChain(target)) {
              if (await backend.deleteRule(family, t.name, c.name, r.words)) jumps++;
            }
          }
        }
      }
      const byTable = new Map<string, string[]>();
      for (const o of ours) byTable.set(o.table, [...(byTable.get(o.table) ?? []), o.chain]);
      const text = [...byTable].map(([table, chains]) => [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT'].join('\n')).join('\n') + '\n';
      await backend.restore(family, text, { noflush: true });
      const tables = [...byTable].map(([t, cs]) => `${cs.length} in ${t}`).join(', ');
      removed.push(`iptables-${kind} ${family}: ${jumps} jump ${jumps === 1 ? 'rule' : 'rules'} from built-in chains, ${ours.length} chains (${tables})`);
    }
  }
  const nft = new NftCommandBackend(run);
  if ((await nft.version()) !== null) {
    for (const family of ['IPv4', 'IPv6'] as const) {
      if (await nft.readTable(family).catch(() => undefined)) {
        await nft.deleteTable(family);
        removed.push(`nft table ${family === 'IPv4' ? 'ip' : 'ip6'} kube-proxy`);
      }
    }
  }
  const sets = await run(['ipset', 'list', '-n']);
  if (sets.code === 0) {
    const names = sets.stdout.split('\n').map((l) => l.trim()).filter(isKubeProxySet);
    // sets referenced by others are destroyed after them: try until a pass removes nothing
    let left = names;
    while (left.length) {
      const next: string[] = [];
      for (const n of left) {
        const r = await run(['ipset', 'destroy', n]);
        if (r.code === 0) removed.push(`ipset ${n}`);
        else next.push(n);
      }
      if (next.length === left.length) break;
      left = next;
    }
  }
  return removed;
}

function jumpOf(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length - 1; i++) if (words[i] === '-j' || words[i] === '-g') return words[i + 1];
  return undefined;
}
