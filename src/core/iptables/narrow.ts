// One service's part of a ruleset: the rules in kube-proxy's top-level chains whose comment names the
// service, and the per-service chains those rules reach. `rules SERVICE -o restore|json` prints this.
import type { Chain, Ruleset } from './types.js';
import { viewRule } from './words.js';

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

/** `servicePrefix` is "ns/name" (every port) or "ns/name:port". */
export function narrowRuleset(rs: Ruleset, servicePrefix: string): Ruleset {
  const names = (comment: string | undefined) => !!comment && (comment === servicePrefix || comment.startsWith(servicePrefix.includes(':') ? `${servicePrefix} ` : `${servicePrefix}:`) || comment.startsWith(`${servicePrefix} `));
  return {
    family: rs.family,
    tables: rs.tables.map((t) => {
      const byName = new Map(t.chains.map((c) => [c.name, c]));
      const keep = new Set<string>();
      const reach = (name: string | undefined) => {
        if (!name || keep.has(name) || !SERVICE_CHAIN.test(name) || !byName.has(name)) return;
        keep.add(name);
        for (const r of byName.get(name)!.rules) reach(viewRule(r).target?.name);
      };
      const chains: Chain[] = [];
      for (const c of t.chains) {
        if (SERVICE_CHAIN.test(c.name)) continue;
        const rules = c.rules.filter((r) => names(viewRule(r).comment));
        for (const r of rules) reach(viewRule(r).target?.name);
        if (rules.length) chains.push({ ...c, rules });
      }
      for (const c of t.chains) if (keep.has(c.name)) chains.push(c);
      return { name: t.name, chains };
    }).filter((t) => t.chains.length > 0),
  };
}
