// A table under construction, in the order kube-proxy's transaction creates things; render and plan
// both build through it so object order is always kube-proxy's.
import type { IPFamily } from '../objects/types.js';
import type { NftChain, NftElement, NftSet, NftTable } from './types.js';
import { KUBE_PROXY_TABLE } from './types.js';

export class TableBuilder {
  private readonly chains = new Map<string, NftChain>();
  /** Every chain in creation order (the table's order): those of `chain` and of `uniqueChain`. */
  private readonly order: NftChain[] = [];
  private readonly sets = new Map<string, NftSet>();
  /** Element keys per set: one element per key, as nftElementStorage.ensureElem keeps it. */
  private readonly keys = new Map<string, Map<string, number>>();

  constructor(
    readonly family: IPFamily,
    private readonly layout: string,
    private readonly comment = 'rules for kube-proxy',
  ) {}

  /** ensureChain: created once; later calls return the same chain. */
  chain(name: string, extra?: Omit<NftChain, 'name' | 'rules'>): NftChain {
    let c = this.chains.get(name);
    if (!c) {
      c = extra ? { name, ...extra, rules: [] } : { name, rules: [] };
      this.chains.set(name, c);
      this.order.push(c);
    }
    return c;
  }

  /**
   * A chain the caller knows no other call names (an endpoint's: its name holds the service port and the
   * endpoint, each endpoint once per port). Not indexed by name: 100,000 endpoint chains cost a large Map
   * and a flattened, hashed key each for lookups nobody makes.
   */
  uniqueChain(name: string, rules: NftChain['rules']): NftChain {
    const c: NftChain = { name, rules };
    this.order.push(c);
    return c;
  }

  rule(chain: string, rule: string, comment?: string): void {
    this.chain(chain).rules.push(comment === undefined ? { rule } : { rule, comment });
  }

  set(s: Omit<NftSet, 'elements'>): NftSet {
    let out = this.sets.get(s.name);
    if (!out) {
      out = { ...s, elements: [] };
      this.sets.set(s.name, out);
    }
    return out;
  }

  element(set: string, e: NftElement): void {
    const s = this.sets.get(set);
    if (!s) throw new Error(`element for undeclared set ${set}`);
    let keys = this.keys.get(set);
    if (!keys) this.keys.set(set, (keys = new Map()));
    const k = e.key.join(' . ');
    const at = keys.get(k);
    if (at === undefined) {
      keys.set(k, s.elements.length);
      s.elements.push(e);
    } else {
      s.elements[at] = e; // a later value for the same key replaces the earlier one
    }
  }

  finish(): NftTable {
    return { family: this.family, name: KUBE_PROXY_TABLE, comment: this.comment, chains: this.order, sets: [...this.sets.values()], layout: this.layout };
  }
}
