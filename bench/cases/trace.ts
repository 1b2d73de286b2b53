// core/trace at scale: parse a 100,000-rule iptables-save dump and trace one packet (≤ 300 ms), then
// each further packet on the parsed ruleset (≤ 1 ms median). The dump is serializeSave of a synthetic
// render (bench/synthetic.ts), as a node with that many rules would print it.
import { setDefaults } from '../../src/core/config/index.js';
import { renderIptables, serializeSave } from '../../src/core/iptables/index.js';
import { parseIptablesSave } from '../../src/core/iptables/parse.js';
import { buildProxyState } from '../../src/core/model/index.js';
import { iptablesEvaluator } from '../../src/core/trace/iptables.js';
import type { Packet } from '../../src/core/trace/types.js';
import { measure } from '../measure.js';
import { prng, syntheticCluster } from '../synthetic.js';
import type { BenchCase } from '../types.js';

const SERVICES = 3_200;
const ENDPOINTS = 10;

function dumpText(): { text: string; rules: number; targets: Array<{ ip: string; port: number }> } {
  const objects = syntheticCluster({ services: SERVICES, endpointsPerService: ENDPOINTS, seed: 42 });
  const state = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'node-0' });
  const rs = renderIptables({ state, config: setDefaults({ clusterCIDR: '10.128.0.0/9' }), node: { name: 'node-0', ips: ['192.168.0.0'], podCIDRs: ['10.128.0.0/24'] } });
  const text = serializeSave(rs);
  const targets = [...state.serviceMap.values()].map((sp) => ({ ip: sp.clusterIP, port: sp.port }));
  return { text, rules: text.split('\n').filter((l) => l.startsWith('-A ')).length, targets };
}

const ctx = { nodeName: 'node-0', localAddresses: ['192.168.0.0'], podCIDRs: ['10.128.0.0/24'] };
const packet = (t: { ip: string; port: number }): Packet => ({ src: '10.128.0.254', dst: t.ip, dport: t.port, protocol: 'TCP', entry: 'pod-local' });

export const traceFirstPacket: BenchCase = {
  name: 'trace: parse a 100,000-rule iptables-save dump and trace one packet',
  targetMs: 300,
  async run() {
    const { text, rules, targets } = dumpText();
    const last = targets[targets.length - 1]!;
    let verdict = '';
    const m = await measure(() => {
      const rs = parseIptablesSave(text, { family: 'IPv4', source: 'bench' });
      verdict = iptablesEvaluator(rs).trace(packet(last), ctx).verdict;
    }, 5, 1);
    return { ...m, detail: `${rules} rules, ${(text.length / 1e6).toFixed(1)} MB; the last service's cluster IP: ${verdict}` };
  },
};

export const traceNextPacket: BenchCase = {
  name: 'trace: each further packet on a parsed 100,000-rule ruleset (median)',
  targetMs: 1,
  async run() {
    const { text, rules, targets } = dumpText();
    const ev = iptablesEvaluator(parseIptablesSave(text, { family: 'IPv4', source: 'bench' }));
    ev.trace(packet(targets[0]!), ctx);
    const rand = prng(7);
    const picks = Array.from({ length: 200 }, () => targets[Math.floor(rand() * targets.length)]!);
    let i = 0;
    const m = await measure(() => {
      const r = ev.trace(packet(picks[i++ % picks.length]!), ctx);
      if (r.verdict !== 'forwarded') throw new Error(`expected forwarded, got ${r.verdict}`);
    }, 200, 20);
    return { ...m, detail: `${rules} rules; ${picks.length} random services, each first packet of its chains (p90 ${m.samplesMs.slice().sort((a, b) => a - b)[Math.floor(m.samplesMs.length * 0.9)]!.toFixed(3)} ms)` };
  },
};
