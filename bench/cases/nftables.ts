// nftables mode at scale: render + serialize kube-proxy's full-sync `nft -f` transaction for 10,000
// services / 100,000 endpoints, for each layout; and one endpoint's partial transaction at that size.
import { applyPlatformDefaults, setDefaults } from '../../src/core/config/index.js';
import { buildProxyState } from '../../src/core/model/index.js';
import { LAYOUTS } from '../../src/core/nftables/layout.js';
import { plan } from '../../src/core/nftables/plan.js';
import { servicePortOfName } from '../../src/core/nftables/names.js';
import { transactionText } from '../../src/core/nftables/serialize.js';
import { renderNftables } from '../../src/core/nftables/render.js';
import type { NftTable } from '../../src/core/nftables/types.js';
import type { EndpointSlice } from '../../src/core/objects/types.js';
import { measure } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import type { BenchCase } from '../types.js';

const config = applyPlatformDefaults(setDefaults({ mode: 'nftables', clusterCIDR: '10.128.0.0/9' } as never));
const node = { name: 'node-0', ips: ['192.168.0.0'], podCIDRs: ['10.128.0.0/24'] };

function renderAll(objects: ReturnType<typeof syntheticCluster>, layoutId: string): NftTable {
  const state = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'node-0' });
  return renderNftables({ state, config, node, layout: LAYOUTS.find((l) => l.id === layoutId)! });
}

function renderCase(layoutId: string): BenchCase {
  return {
    name: `nftables render + serialize (full-sync nft -f transaction), ${layoutId} layout: 10,000 services / 100,000 endpoints`,
    targetMs: 1000,
    targetRssMB: 512,
    async run() {
      const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
      let text = '';
      const m = await measure(() => {
        text = transactionText(renderAll(objects, layoutId));
      }, 5, 1);
      return { ...m, detail: `${(text.length / 1e6).toFixed(1)} MB, ${text.split('\n').filter((l) => l.startsWith('add rule')).length} rules` };
    },
  };
}

export const nftablesRender = renderCase('1.34');
export const nftablesRender131 = renderCase('1.31');

export const nftablesPartial: BenchCase = {
  name: 'nftables partial transaction for one changed endpoint at 10,000 services',
  targetMs: 20,
  async run() {
    const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
    const before = renderAll(objects, '1.34');
    // one endpoint of one service moves to a new address
    const slices = [...objects.endpointSlices];
    const i = slices.findIndex((s) => (s.endpoints ?? []).length > 0);
    const moved: EndpointSlice = structuredClone(slices[i]!);
    moved.endpoints![0]!.addresses = ['10.255.255.254'];
    slices[i] = moved;
    const after = renderAll({ ...objects, endpointSlices: slices }, '1.34');
    // kube-proxy's change tracker names the changed service; so does this plan
    const changed = [...after.chains].map((c) => c.name).filter((n) => n.startsWith('service-') && n.includes(`-${moved.metadata!.namespace}/${moved.metadata!.labels!['kubernetes.io/service-name']}/`));
    const changedPorts = changed.map((n) => servicePortOfName(n)!);
    let ops = 0;
    const m = await measure(() => {
      const p = plan(before, after, { changed: changedPorts });
      ops = p.operations.length;
      p.text();
    }, 5, 1);
    return { ...m, detail: `${ops} operations (the render itself is not counted: kube-proxy keeps its state between syncs)` };
  },
};
