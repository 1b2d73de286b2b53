// `sync --cleanup`: what kube-proxy's modes write, and only that (kube-proxy --cleanup, without its known
// failure after ipvs mode): kube-proxy's IPVS virtual servers and kube-ipvs0, then the chains in both
// iptables backends and families, the nft tables and the ipsets (upstream's ipvs order: the sets last).
import { cleanupIpvs } from '../host/ipvs-cleanup.js';
import { iptablesCommand, IptablesCommandBackend } from '../host/iptables.js';
import { NftCommandBackend } from '../host/nft.js';
import { KUBE_CHAINS, isServiceChainName } from '../iptables/index.js';
import { parseIptablesSave } from '../iptables/parse.js';
import { CHAIN as IPVS_CHAIN, SET as IPVS_SET } from '../ipvs/names.js';
import { USERSPACE_CHAINS } from '../userspace/names.js';
import type { HostTarget } from './host.js';

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
 * CleanupLeftovers for every mode: kube-proxy's IPVS virtual servers and kube-ipvs0 (host/ipvs-cleanup.ts:
 * before the ipsets, which tell its node ports), the jumps from the built-in chains and kube-proxy's chains
 * in both iptables backends and families, the nft `kube-proxy` tables, kube-proxy's ipsets. Resolves what
 * it removed, one phrase each. Tools that are not installed are skipped.
 */
export async function cleanupHost(target: HostTarget): Promise<string[]> {
  const { run } = target;
  const removed: string[] = await cleanupIpvs(run, target.log);
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
