// set's equivalence report at scale: every service port of a 10,000-service cluster traced from a pod, the
// node and outside through the rules iptables mode renders and through those the target mode renders, on
// each node compared (src/core/equivalence/compare.ts, as `set MODE --dry-run` makes it).
import { setDefaults } from '../../src/core/config/index.js';
import { compareModes, type EquivalenceReport } from '../../src/core/equivalence/compare.js';
import { nodeViews } from '../../src/core/equivalence/views.js';
import { measure } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import type { BenchCase } from '../types.js';

const SERVICES = 10_000;
const NODES = Number(process.env.PROXYMODE_BENCH_EQ_NODES ?? 3);

type Objects = ReturnType<typeof syntheticCluster>;

function run(objects: Objects, target: 'ipvs' | 'nftables') {
  const config = setDefaults({ mode: 'iptables', clusterCIDR: '10.128.0.0/9' });
  // as plan.ts makes them: the model built once, each node's view with its own local endpoints
  const views = nodeViews(objects, config, 'bench');
  return compareModes({ views, currentConfig: config, targetConfig: { ...config, mode: target } });
}

const detail = (r: EquivalenceReport) => `${r.nodes.length} nodes, ${r.pathsTraced} paths traced, ${r.groups.length} difference groups (${r.groups.reduce((n, g) => n + g.paths.length, 0)} paths differ); median of 3, the code bundled as the CLI ships it`;

/** The cluster is the input (the CLI reads it from the API or files): made before the clock starts. */
function reportCase(target: 'ipvs' | 'nftables'): BenchCase {
  return {
    name: `set --dry-run equivalence report: 10,000 services, ${NODES} nodes, iptables -> ${target}`,
    targetMs: 10_000,
    bundled: true,
    async run() {
      const objects = syntheticCluster({ services: SERVICES, endpointsPerService: 10, nodes: NODES, seed: 42 });
      let r: EquivalenceReport | undefined;
      const m = await measure(() => {
        r = run(objects, target);
      }, 3, 0);
      return { ...m, detail: detail(r!) };
    },
  };
}

export const equivalenceIpvs = reportCase('ipvs');
export const equivalenceNftables = reportCase('nftables');
