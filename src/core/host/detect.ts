// Which iptables backend a node uses: iptables-nft or iptables-legacy, decided the way kube-proxy's image
// decides it. kube-proxy runs `iptables*` through kubernetes-sigs/iptables-wrappers, whose wrapper (the
// installer script's `iptables-wrapper`, and pkg/xtables DetectMode in its Go port) does, ignoring errors:
//   1. kubelet (1.17+) creates KUBE-IPTABLES-HINT / KUBE-KUBELET-CANARY in the mangle table: if
//      `iptables-nft-save -t mangle` or `ip6tables-nft-save -t mangle` shows one -> nft;
//   2. else if `iptables-legacy-save` or `ip6tables-legacy-save` (all tables: `-t mangle` would make the
//      legacy kernel create the table) shows one -> legacy;
//   3. else count rule lines (`^-`) of both families in each backend: legacy only when it has MORE,
//      so nft when they are equal or there are none.
// One deviation: when one backend's tools cannot run at all (not installed) and the other's can, the one
// that runs is chosen (the wrapper would pick nft and then fail).

import type { CommandRunner } from './backend.js';
import { iptablesCommand, type IptablesKind } from './iptables.js';
import { NOT_STARTED } from './runner.js';

export interface BackendEvidence {
  /** a save command of this backend ran */
  available: boolean;
  /** kubelet's KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY chain is there */
  kubeletChains: boolean;
  /** rule lines (`-A …`) over both families; undefined when never counted */
  rules?: number;
  /** KUBE-* chains over both families (for the report; not part of the decision); undefined when never counted */
  kubeChains?: number;
}

export interface Detection {
  kind: IptablesKind;
  /** one sentence: why this backend */
  reason: string;
  nft: BackendEvidence;
  legacy: BackendEvidence;
}

const KUBELET_CHAINS = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)\b/m;

export function hasKubeletChains(save: string): boolean {
  return KUBELET_CHAINS.test(save);
}

/** Rule lines of iptables-save output (`-A …`, or `[p:b] -A …` with counters). */
export function countRules(save: string): number {
  let n = 0;
  for (const line of save.split('\n')) if (line.startsWith('-') || /^\[\d+:\d+\] -/.test(line)) n++;
  return n;
}

export function countKubeChains(save: string): number {
  let n = 0;
  for (const line of save.split('\n')) if (line.startsWith(':KUBE-')) n++;
  return n;
}

/** Decide as kube-proxy's iptables-wrapper does (see the top of this file). */
export async function detectIptablesKind(run: CommandRunner): Promise<Detection> {
  const nft: BackendEvidence = { available: false, kubeletChains: false };
  const legacy: BackendEvidence = { available: false, kubeletChains: false };
  const save = async (ev: BackendEvidence, kind: IptablesKind, family: 'IPv4' | 'IPv6', args: string[]): Promise<string> => {
    const r = await run([iptablesCommand(kind, family, 'save'), ...args]);
    if (r.code !== NOT_STARTED) ev.available = true;
    return r.code === 0 ? r.stdout : '';
  };

  for (const family of ['IPv4', 'IPv6'] as const) {
    if (hasKubeletChains(await save(nft, 'nft', family, ['-t', 'mangle']))) {
      nft.kubeletChains = true;
      return { kind: 'nft', reason: `kubelet's chains are in iptables-nft's ${family} mangle table`, nft, legacy };
    }
  }
  const legacyText: string[] = [];
  for (const family of ['IPv4', 'IPv6'] as const) {
    const text = await save(legacy, 'legacy', family, []);
    legacyText.push(text);
    if (hasKubeletChains(text)) {
      legacy.kubeletChains = true;
      return { kind: 'legacy', reason: `kubelet's chains are in iptables-legacy's ${family} tables`, nft, legacy };
    }
  }
  const nftText: string[] = [];
  for (const family of ['IPv4', 'IPv6'] as const) nftText.push(await save(nft, 'nft', family, []));
  legacy.rules = legacyText.reduce((n, t) => n + countRules(t), 0);
  nft.rules = nftText.reduce((n, t) => n + countRules(t), 0);
  legacy.kubeChains = legacyText.reduce((n, t) => n + countKubeChains(t), 0);
  nft.kubeChains = nftText.reduce((n, t) => n + countKubeChains(t), 0);

  if (!nft.available && legacy.available) return { kind: 'legacy', reason: 'iptables-nft is not installed and iptables-legacy is', nft, legacy };
  if (legacy.rules > nft.rules) {
    return { kind: 'legacy', reason: `iptables-legacy holds more rules (${legacy.rules}) than iptables-nft (${nft.rules})`, nft, legacy };
  }
  if (nft.rules > 0) return { kind: 'nft', reason: `iptables-nft holds as many rules or more (${nft.rules}) than iptables-legacy (${legacy.rules})`, nft, legacy };
  return { kind: 'nft', reason: 'neither backend holds rules, and nft is the default', nft, legacy };
}
