// narrow: one service's (or namespace's) part of a kube-proxy table: its chains and affinity sets, and
// the elements of the fixed sets and maps that route it. Fixed chains are dropped.
import { clusterIPOwners, elementServicePort, servicePortMatches } from './index-table.js';
import { SET, isAffinitySetName, isServiceChainName, servicePortOfName } from './names.js';
import type { NftTable } from './types.js';

export function narrowTable(t: NftTable, prefix: string): NftTable {
  const mine = (name: string) => servicePortMatches(servicePortOfName(name) ?? '', prefix);
  const owners = clusterIPOwners(t);
  return {
    ...t,
    chains: t.chains.filter((c) => isServiceChainName(c.name) && mine(c.name)),
    sets: t.sets
      .filter((s) => !isAffinitySetName(s.name) || mine(s.name))
      .map((s) => ({
        ...s,
        elements: isAffinitySetName(s.name)
          ? s.elements
          : s.elements.filter((e) => {
              const sp = s.name === SET.clusterIPs ? owners.get(e.key[0]!) : elementServicePort(e);
              return sp !== undefined && sp !== null && servicePortMatches(sp, prefix);
            }),
      }))
      .filter((s) => s.elements.length > 0 || isAffinitySetName(s.name)),
  };
}
