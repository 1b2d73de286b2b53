// drift: what differs between the table kube-proxy should have and the one a host holds, in the shared
// vocabulary. Per service port through the summaries (entries, endpoints, odds, affinity, masquerade,
// verdicts); node-wide through the objects themselves (chains, their rules, sets), spelling settled by
// canonicalRule so `nft list`'s words never count as a difference.
import type { Drift, ServicePortSummary } from '../modes/types.js';
import { baseChainChange, chainMissingEffect, isFixedChain, memberEffect, ruleExtraEffect, ruleMissingEffect, setMissingEffect } from './base-drift.js';
import { canonicalElement } from './canonical.js';
import { elementServicePort } from './index-table.js';
import { isAffinitySetName, isServiceChainName, servicePortOfName } from './names.js';
import { canonicalRule } from './spelling.js';
import { summarizeTable } from './summary.js';
import type { NftTable } from './types.js';

const entryKey = (e: ServicePortSummary['entries'][number]) => `${e.kind} ${e.address}:${e.port}/${e.protocol}`;

function serviceDrift(exp: ServicePortSummary, act: ServicePortSummary, out: Drift[]): void {
  const sp = exp.servicePort;
  const ae = new Map(act.entries.map((e) => [entryKey(e), e]));
  const ee = new Map(exp.entries.map((e) => [entryKey(e), e]));
  for (const [k, e] of ee) {
    const a = ae.get(k);
    if (!a) out.push({ servicePort: sp, kind: 'missing entry', detail: k });
    else if (a.masquerade.join(' | ') !== e.masquerade.join(' | ')) out.push({ servicePort: sp, kind: 'masquerade', detail: `${k}: masquerades ${a.masquerade.join(', ') || 'never'}, should ${e.masquerade.join(', ') || 'never'}` });
  }
  for (const k of ae.keys()) if (!ee.has(k)) out.push({ servicePort: sp, kind: 'extra entry', detail: k });
  const ab = new Map(act.balancers.map((b) => [b.name, b]));
  for (const b of exp.balancers) {
    const a = ab.get(b.name);
    const have = new Map((a?.endpoints ?? []).map((e) => [e.endpoint, e]));
    for (const e of b.endpoints) {
      const h = have.get(e.endpoint);
      if (!h) out.push({ servicePort: sp, kind: 'missing endpoint', detail: `${e.endpoint} (via ${b.name})` });
      else if (Math.abs(h.probability - e.probability) > 1e-9) out.push({ servicePort: sp, kind: 'probability', detail: `${e.endpoint}: ${h.probability.toFixed(4)}, should be ${e.probability.toFixed(4)}` });
      have.delete(e.endpoint);
    }
    for (const e of have.keys()) out.push({ servicePort: sp, kind: 'extra endpoint', detail: `${e} (via ${b.name})` });
    if (a && a.affinitySeconds !== b.affinitySeconds) out.push({ servicePort: sp, kind: 'affinity', detail: `${a.affinitySeconds ?? 'none'}, should be ${b.affinitySeconds ?? 'none'}` });
    ab.delete(b.name);
  }
  for (const a of ab.values()) for (const e of a.endpoints) out.push({ servicePort: sp, kind: 'extra endpoint', detail: `${e.endpoint} (via ${a.name})` });
  const av = new Set(act.verdicts);
  for (const v of exp.verdicts) if (!av.has(v)) out.push({ servicePort: sp, kind: 'verdict', detail: `missing: ${v}` });
  const ev = new Set(exp.verdicts);
  for (const v of act.verdicts) if (!ev.has(v)) out.push({ servicePort: sp, kind: 'verdict', detail: `extra: ${v}` });
}

export function tableDrift(expected: NftTable, actual: NftTable): Drift[] {
  const out: Drift[] = [];
  const es = new Map(summarizeTable(expected).map((s) => [s.servicePort, s]));
  const as = new Map(summarizeTable(actual).map((s) => [s.servicePort, s]));
  for (const [sp, e] of es) {
    const a = as.get(sp);
    if (!a) out.push({ servicePort: sp, kind: 'missing service', detail: `${sp} is not in the host's table` });
    else serviceDrift(e, a, out);
  }
  for (const sp of as.keys()) if (!es.has(sp)) out.push({ servicePort: sp, kind: 'extra service', detail: `${sp} is in the host's table but not in the view` });

  // objects: chains and their rules; the fixed chains' differences name the traffic they affect
  const fam = `(${expected.family})`;
  const ac = new Map(actual.chains.map((c) => [c.name, c]));
  const ec = new Map(expected.chains.map((c) => [c.name, c]));
  const owner = (name: string) => (isServiceChainName(name) || isAffinitySetName(name) ? (servicePortOfName(name) ?? '') : '');
  for (const c of expected.chains) {
    const a = ac.get(c.name);
    const fixed = isFixedChain(c.name);
    if (!a) {
      out.push({ servicePort: owner(c.name), kind: 'missing object', object: `chain ${c.name}`, detail: `chain ${c.name} is missing${fixed ? ` ${fam}: ${chainMissingEffect(c.name)}` : ''}` });
      continue;
    }
    if (JSON.stringify(a.base ?? null) !== JSON.stringify(c.base ?? null)) out.push({ servicePort: owner(c.name), kind: 'missing object', object: `chain ${c.name}`, detail: `${baseChainChange(c.name, c.base, a.base)} ${fam}` });
    const have = a.rules.map((r) => canonicalRule(r.rule) + (r.comment ?? ''));
    const want = c.rules.map((r) => canonicalRule(r.rule) + (r.comment ?? ''));
    if (have.join('\n') !== want.join('\n')) {
      const before = out.length;
      for (const [i, r] of c.rules.entries()) {
        if (!have.includes(want[i]!)) out.push({ servicePort: owner(c.name), kind: 'missing object', object: `rule ${c.name}`, detail: fixed ? `no \`${canonicalRule(r.rule)}\` in ${c.name} ${fam}: ${ruleMissingEffect(c.name, canonicalRule(r.rule))}` : r.rule });
      }
      for (const [i, r] of a.rules.entries()) {
        if (!want.includes(have[i]!)) out.push({ servicePort: owner(c.name), kind: 'stale object', object: `rule ${c.name}`, detail: fixed ? `${c.name} has \`${canonicalRule(r.rule)}\`, which kube-proxy does not write ${fam}: ${ruleExtraEffect(c.name, canonicalRule(r.rule))}` : r.rule });
      }
      if (out.length === before) out.push({ servicePort: owner(c.name), kind: 'verdict', object: `chain ${c.name}`, detail: 'the same rules in another order' });
    }
  }
  for (const c of actual.chains) if (!ec.has(c.name)) out.push({ servicePort: owner(c.name), kind: 'stale object', object: `chain ${c.name}`, detail: c.rules.length ? `chain ${c.name} is not kube-proxy's now` : `flushed chain ${c.name} awaits deletion` });

  // sets and maps, element by element
  const aset = new Map(actual.sets.map((s) => [s.name, s]));
  for (const s of expected.sets) {
    const a = aset.get(s.name);
    if (!a) {
      out.push({ servicePort: owner(s.name), kind: 'missing object', object: `${s.map ? 'map' : 'set'} ${s.name}`, detail: `${s.map ? 'map' : 'set'} ${s.name} is missing${setMissingEffect(s.name) ? ` ${fam}: ${setMissingEffect(s.name)}` : ''}` });
      continue;
    }
    if (isAffinitySetName(s.name)) continue; // its members are clients, not kube-proxy's
    const text = (e: ReturnType<typeof canonicalElement>) => `${e.key.join(' . ')}${e.value ? ` : ${e.value.join(' ')}` : ''}`;
    const have = new Set(a.elements.map((e) => text(canonicalElement(e))));
    const want = new Set(s.elements.map((e) => text(canonicalElement(e))));
    for (const e of s.elements) if (!have.has(text(canonicalElement(e)))) out.push({ servicePort: elementServicePort(e) ?? '', kind: 'missing set member', object: s.name, detail: `${s.name} ${text(canonicalElement(e))} ${fam}: ${memberEffect(s.name, canonicalElement(e), 'missing')}` });
    for (const e of a.elements) if (!want.has(text(canonicalElement(e)))) out.push({ servicePort: elementServicePort(e) ?? '', kind: 'extra set member', object: s.name, detail: `${s.name} ${text(canonicalElement(e))} ${fam}: ${memberEffect(s.name, canonicalElement(e), 'extra')}` });
  }
  const eset = new Set(expected.sets.map((s) => s.name));
  for (const s of actual.sets) if (!eset.has(s.name)) out.push({ servicePort: owner(s.name), kind: 'stale object', object: `${s.map ? 'map' : 'set'} ${s.name}`, detail: `${s.map ? 'map' : 'set'} ${s.name} is not kube-proxy's now` });
  return out;
}
