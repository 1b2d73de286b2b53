// Whether two rendered states are the same data: what lets nodes whose rules came out alike share one
// tracer (its compiled and indexed rules), instead of compiling the same 300,000 rules once per node.
// Plain data only (objects, arrays, Maps, Sets, typed arrays, primitives); anything else is the same only
// when it is the very same object. Walking both is far cheaper than compiling either.

export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map) {
    const y = b as Map<unknown, unknown>;
    if (a.size !== y.size) return false;
    const ya = y.entries();
    for (const [k, v] of a) {
      const [k2, v2] = ya.next().value as [unknown, unknown];
      if (!sameData(k, k2) || !sameData(v, v2)) return false;
    }
    return true;
  }
  if (a instanceof Set) {
    const y = b as Set<unknown>;
    if (a.size !== y.size) return false;
    const ya = y.values();
    for (const v of a) if (!sameData(v, ya.next().value)) return false;
    return true;
  }
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * `next` with every part that is the same data as the part at the same place in `prev` replaced by prev's
 * (`prev` itself when all of it is): what differs between two nodes' renderings is kept, the rest is shared.
 * Tracers keep what they index of a state by the object (a set's member index, a chain's parsed rules), so
 * the second node finds the first node's. Neither input is changed; a replaced part is only ever read.
 */
export function shareWith<T>(prev: T, next: T): T {
  return share(prev, next) as T;
}

/** b's data, as a itself when alike (so `share(a, b) === a` says they are), else sharing a's alike parts. */
function share(a: unknown, b: unknown): unknown {
  if (a === b) return a;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b) ? a : b;
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return b;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return b;
    // the bulk: a rule's words, alike to the last one (no call, nothing made)
    let i0 = 0;
    while (i0 < a.length && a[i0] === y[i0]) i0++;
    if (i0 === a.length) return a;
    let out: unknown[] | null = null;
    for (let i = i0; i < a.length; i++) {
      const ai = a[i];
      // equal primitives (most of a rule's words) without a call
      const r = ai === y[i] ? ai : share(ai, y[i]);
      if (r === ai && !out) continue;
      out ??= a.slice(0, i);
      out[i] = r;
    }
    return out ?? a;
  }
  // Maps, Sets and typed arrays are shared whole or not at all; other class instances never.
  if (proto !== Object.prototype && proto !== null) return sameData(a, b) ? a : b;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const ka = Object.keys(x);
  const kb = Object.keys(y);
  const sameKeys = ka.length === kb.length && ka.every((k, i) => k === kb[i]);
  let out: Record<string, unknown> | null = null;
  for (let i = 0; i < kb.length; i++) {
    const k = kb[i]!;
    const xk = x[k];
    const r = !(k in x) ? y[k] : xk === y[k] ? xk : share(xk, y[k]);
    if (sameKeys && r === x[k] && !out) continue;
    if (!out) {
      out = Object.create(proto) as Record<string, unknown>;
      for (let j = 0; j < i; j++) out[kb[j]!] = x[kb[j]!];
    }
    out[k] = r;
  }
  return out ?? a;
}
