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
  return share(prev, next).value as T;
}

function share(a: unknown, b: unknown): { value: unknown; same: boolean } {
  if (a === b) return { value: a, same: true };
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return { value: b, same: Number.isNaN(a) && Number.isNaN(b) };
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return { value: b, same: false };
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return { value: b, same: false };
    let out: unknown[] | null = null;
    for (let i = 0; i < a.length; i++) {
      const r = share(a[i], y[i]);
      if (r.same) continue;
      out ??= a.slice(0, i);
      out[i] = r.value;
      for (let j = i + 1; j < a.length; j++) {
        const s = share(a[j], y[j]);
        out[j] = s.same ? a[j] : s.value;
      }
      break;
    }
    return out ? { value: out, same: false } : { value: a, same: true };
  }
  if (proto !== Object.prototype && proto !== null) {
    // Maps, Sets and typed arrays are shared whole or not at all; other class instances never.
    const same = sameData(a, b);
    return { value: same ? a : b, same };
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const sameKeys = ka.length === kb.length && ka.every((k, i) => k === kb[i]);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const k of kb) {
    const r = sameKeys ? share(x[k], y[k]) : { value: k in x ? share(x[k], y[k]).value : y[k], same: false };
    if (r.same && !out) continue;
    if (!out) {
      out = Object.create(proto) as Record<string, unknown>;
      for (const k2 of kb) {
        if (k2 === k) break;
        out[k2] = x[k2];
      }
    }
    out[k] = r.same ? x[k] : r.value;
  }
  return out ? { value: out, same: false } : { value: a, same: true };
}
