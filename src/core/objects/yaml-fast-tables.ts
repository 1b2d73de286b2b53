// The fast YAML reader's tables for one read: interned strings, and the key sequences (shapes) of the mappings
// met so far with the object literal compiled for each one met twice. Data only; src/core/objects/yaml-fast.ts
// reads with them.

/**
 * Strings met again and again (keys, and short values such as `TCP` or `true`) are taken from a small table
 * instead of being cut from the text each time: a large input then allocates little beyond its objects.
 * One table per read; a slot holds the last string that hashed there.
 */
export class Interner {
  private readonly slots: Array<string | undefined>;
  constructor(private readonly mask: number) {
    this.slots = new Array<string | undefined>(mask + 1);
  }

  /** t[from, to) as a string; `h` is hashOf(t, from, to) when the caller has it already. */
  get(t: string, from: number, to: number, h = hashOf(t, from, to)): string {
    const slot = (h ^ (h >>> 15)) & this.mask;
    const had = this.slots[slot];
    if (had !== undefined && had.length === to - from) {
      let i = 0;
      while (i < had.length && had.charCodeAt(i) === t.charCodeAt(from + i)) i++;
      if (i === had.length) return had;
    }
    const s = t.slice(from, to);
    this.slots[slot] = s;
    return s;
  }
}

export function hashOf(t: string, from: number, to: number): number {
  let h = to - from;
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + t.charCodeAt(i)) | 0;
  return h;
}

/** The tables one read shares across its documents. */
export interface FastTables {
  keys: Interner;
  values: Interner;
  shapes: Shapes;
}
export const newTables = (): FastTables => ({ keys: new Interner(4095), values: new Interner(4095), shapes: new Shapes() });

/** A mapping's keys so far, in order: a node of the tree of key sequences met in this read. */
export interface Shape {
  keys: string[];
  /** The last of keys. */
  key: string;
  /** The shape that followed this one last time. */
  hot: Shape | undefined;
  next: Map<string, Shape> | undefined;
  uses: number;
  build: ((values: unknown[], base: number) => Record<string, unknown>) | undefined;
}

/**
 * Objects of one key sequence are many in a dump (every endpoint has addresses, conditions, nodeName …).
 * Adding keys one by one costs a map transition each; an object literal of those keys, compiled once per
 * sequence seen twice, makes the object in one step. The tree is bounded: past it, objects are made key by key.
 */
export class Shapes {
  readonly root: Shape = { keys: [], key: '', hot: undefined, next: undefined, uses: 0, build: undefined };
  private count = 0;
  private static readonly MAX_SHAPES = 20_000;
  private static readonly MAX_KEYS = 64;

  step(from: Shape, key: string): Shape | undefined {
    const known = from.next?.get(key);
    if (known) return known;
    if (from.keys.length >= Shapes.MAX_KEYS || this.count >= Shapes.MAX_SHAPES) return undefined;
    this.count++;
    const to: Shape = { keys: [...from.keys, key], key, hot: undefined, next: undefined, uses: 0, build: undefined };
    (from.next ??= new Map()).set(key, to);
    return to;
  }

  /** The compiled literal for this key sequence, from its second use on (one-off sequences are not compiled). */
  literal(shape: Shape): Shape['build'] {
    if (shape.build || ++shape.uses < 2) return shape.build;
    const fields = shape.keys.map((k, i) => `${JSON.stringify(k)}: v[b + ${i}]`).join(', ');
    shape.build = new Function('v', 'b', `return { ${fields} };`) as Shape['build'];
    return shape.build;
  }
}
