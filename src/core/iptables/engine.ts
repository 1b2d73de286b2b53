// The iptables mode's faces for commands: render a node's view, read live rules back, describe and compare.
import type { KubeProxyConfiguration } from '../config/index.js';
import type { ProxyView } from '../proxy-view.js';
import { canonicalKubeRules } from './canonical.js';
import { rulesetDrift } from './drift.js';
import { renderIptables, serializeRestore } from './index.js';
import { narrowRuleset } from './narrow.js';
import { parseIptablesSave } from './parse.js';
import { summarizeRuleset } from './summary.js';
import type { IPFamily, Ruleset } from './types.js';

export const iptablesEngine = {
  mode: 'iptables' as const,

  render(view: ProxyView, config: KubeProxyConfiguration): Ruleset[] {
    return view.families.map((f) =>
      renderIptables({
        state: f.state,
        config,
        node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, labels: view.node?.metadata?.labels },
      }),
    );
  },

  parseLive(text: string, family: IPFamily, source: string): Ruleset {
    return parseIptablesSave(text, { family, source });
  },

  /** What iptables-restore takes; dual stack prints the IPv6 part after a comment line (ip6tables-restore's input). */
  restoreText(rulesets: Ruleset[]): string {
    return rulesets.map((rs, i) => (i > 0 || rulesets.length > 1 ? `# ${rs.family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} input\n` : '') + serializeRestore(rs)).join('');
  },

  narrow: narrowRuleset,
  summarize: summarizeRuleset,
  drift: rulesetDrift,
  canonicalLines: canonicalKubeRules,
};

export type IptablesEngine = typeof iptablesEngine;
