// Model build: 10,000 services with 100,000 endpoints from objects to kube-proxy's service and endpoint maps.
import { buildProxyState } from '../../src/core/model/index.js';
import { measure } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import type { BenchCase } from '../types.js';

export const modelBuild: BenchCase = {
  name: 'model build: 10,000 services / 100,000 endpoints',
  targetMs: 300,
  targetRssMB: 300,
  async run() {
    const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
    let endpoints = 0;
    const m = await measure(() => {
      const state = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'node-0' });
      endpoints = 0;
      for (const eps of state.endpointsMap.values()) endpoints += eps.length;
    }, 7, 2);
    if (endpoints !== 100_000) throw new Error(`model build produced ${endpoints} endpoints, expected 100000`);
    return { ...m, detail: `${objects.endpointSlices.length} slices, ${endpoints} endpoints` };
  },
};
