// ipvs engine at scale: render + serialize (ipvsadm-restore, ipset save and the companion iptables-restore
// text) for 10,000 services / 100,000 endpoints.
import { setDefaults } from '../../src/core/config/index.js';
import { renderIpvs, serializeCompanionRestore, serializeIpvsOutput } from '../../src/core/ipvs/index.js';
import { buildProxyState } from '../../src/core/model/index.js';
import { measure } from '../measure.js';
import { syntheticCluster } from '../synthetic.js';
import type { BenchCase } from '../types.js';

const config = setDefaults({ mode: 'ipvs', clusterCIDR: '10.128.0.0/9' });
const node = { name: 'node-0', ips: ['192.168.0.0'], podCIDRs: ['10.128.0.0/24'] };

export const ipvsRender: BenchCase = {
  name: 'ipvs render + serialize: 10,000 services / 100,000 endpoints',
  targetMs: 1000,
  targetRssMB: 512,
  async run() {
    const objects = syntheticCluster({ services: 10_000, endpointsPerService: 10, seed: 42 });
    let text = '';
    let vs = 0;
    let rs = 0;
    const m = await measure(() => {
      const state = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'node-0' });
      const st = renderIpvs({ state, config, node });
      text = serializeIpvsOutput([st]) + serializeCompanionRestore([st]);
      vs = st.virtualServers.length;
      rs = st.virtualServers.reduce((n, v) => n + v.realServers.length, 0);
    }, 5, 1);
    return { ...m, detail: `${vs} virtual servers, ${rs} real servers, ${(text.length / 1e6).toFixed(1)} MB of ipvsadm + ipset + iptables text` };
  },
};
