// `rules --diff`: the rendered states beside the live ones, family by family, in the mode's own drift and
// canonical lines. Which families could not be compared is said, never taken as "in sync".
import type { Drift, FamilyState, IPFamily, ProxyModeDefinition } from './types.js';
import { driftReason, type Reason, type ReasonIndex } from '../why/index.js';

export interface Comparison {
  /** `because`: the object field the expected side comes from (with provenance), or that nothing rendered does. */
  drift: Array<Drift & { family: IPFamily; because?: Reason }>;
  /** The canonical lines of each compared family, expected then live. */
  pairs: Array<{ family: IPFamily; expected: string[]; live: string[] }>;
  /** Families the node proxies that the live rules lack. */
  missingLive: IPFamily[];
  /** Families the live rules hold that the node has no address of. */
  unexpectedLive: IPFamily[];
}

/** `proxied`: the families the node has an address of (the others are rendered only when the live side has them). */
export function compareStates<S extends FamilyState>(def: ProxyModeDefinition<S>, expected: readonly S[], live: readonly S[], proxied: readonly IPFamily[], why?: ReasonIndex): Comparison {
  const out: Comparison = { drift: [], pairs: [], missingLive: [], unexpectedLive: [] };
  for (const e of expected) {
    const a = live.find((x) => x.family === e.family);
    if (!a) {
      if (proxied.includes(e.family)) out.missingLive.push(e.family);
      continue;
    }
    out.drift.push(...def.drift(e, a).map((d) => ({ family: e.family, ...d, ...(why ? { because: driftReason(why, d) } : {}) })));
    out.pairs.push({ family: e.family, expected: def.canonicalLines(e), live: def.canonicalLines(a) });
  }
  for (const a of live) if (!expected.some((e) => e.family === a.family)) out.unexpectedLive.push(a.family);
  return out;
}
