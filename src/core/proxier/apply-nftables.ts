// The nftables mode on a host: the plan's transaction through `nft -f -`, conntrack clean-up.
import { ConntrackCommandBackend } from '../host/conntrack.js';
import { NftCommandBackend } from '../host/nft.js';
import type { FamilyState, ProxyModeDefinition } from '../modes/types.js';
import type { HostTarget, ModeHost } from './host.js';

export function nftablesHost(def: ProxyModeDefinition<FamilyState>, target: HostTarget): ModeHost {
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
