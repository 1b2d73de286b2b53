// The iptables mode on a host: iptables-restore of the plan, the jumps kube-proxy ensures in the built-in
// chains after a full sync, its nfacct counters, the canary chains and conntrack clean-up.
import type { KubeProxyConfiguration } from '../config/index.js';
import { ConntrackCommandBackend } from '../host/conntrack.js';
import { detectIptablesKind } from '../host/detect.js';
import { IptablesCommandBackend } from '../host/iptables.js';
import { ensureNfacct, nfacctNamesIn } from '../host/nfacct.js';
import { jumpRules } from '../iptables/index.js';
import type { IptablesPlan } from '../iptables/plan.js';
import type { FamilyState, ProxyModeDefinition } from '../modes/types.js';
import { CANARY_CHAIN, type CanaryHost } from './canary.js';
import type { HostTarget, ModeHost } from './host.js';

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

function iptablesCanary(backend: IptablesCommandBackend): CanaryHost {
  type Table = Parameters<IptablesCommandBackend['ensureChain']>[1];
  return {
    exists: (family, table) => backend.chainExists(family, table as Table, CANARY_CHAIN),
    ensure: async (family, table) => void (await backend.ensureChain(family, table as Table, CANARY_CHAIN)),
    remove: (family, table) => backend.deleteChain(family, table as Table, CANARY_CHAIN),
  };
}
