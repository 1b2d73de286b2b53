// The usual way in: a topology whose destroy() is registered with the test before the test body runs,
// so it happens whether the body passes, fails or throws.
import type { TestContext } from 'node:test';
import { createTopology, type Topology, type TopologyOptions } from './topology.js';

export async function withTopology<T>(t: TestContext, opts: TopologyOptions, fn: (topo: Topology) => Promise<T> | T): Promise<T> {
  const topo = await createTopology(opts); // cleans up after itself if building fails
  t.after(() => topo.destroy());
  return await fn(topo);
}
