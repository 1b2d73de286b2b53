// core/trace's ipvs evaluator: the companion iptables rules (with the ipsets' members) before IPVS, the
// virtual server lookup, the scheduler's meaning for one packet, and KUBE-POSTROUTING after IPVS — over
// engine output for examples/ (mode ipvs, scheduler rr; sh via a config override) and over a saved dump
// (ipvsadm + ipset save + iptables-save) with no cluster.
import { eps, sum } from './helpers.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { ipvsMode } from '../../../src/core/ipvs/mode.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import { serializeIpsetSave, serializeIpvsadm } from '../../../src/core/ipvs/serialize.js';
import { parseIpvsDump, stateFromText } from '../../../src/core/ipvs/parse.js';
import { shHashKey } from '../../../src/core/ipvs/schedule.js';
import type { IpvsState } from '../../../src/core/ipvs/types.js';
import { ipvsEvaluator, targetsFromState, type NodeContext, type TraceResult } from '../../../src/core/trace/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'proxymode-ipvs-trace-'));
const SH_CONFIG = join(tmp, 'sh.yaml');
writeFileSync(SH_CONFIG, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: sh\n');

async function examples(node: string, configPath?: string) {
  const source = new FileSource(['examples/']);
  const config = await loadProxyConfig(source, configPath, { hostnameOverride: node });
  const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
  const view = buildProxyView({ services, endpointSlices, nodes }, config.config, 'examples');
  const states = ipvsMode.render(view, config.config);
  const v4 = view.families.find((f) => f.family === 'IPv4')!;
  const ctx: NodeContext = { nodeName: node, localAddresses: v4.nodeIPs, podCIDRs: v4.podCIDRs };
  const targets = targetsFromState(view.families.map((f) => f.state));
  const ip = (svc: string) => targets.find((t) => t.service === svc && !t.ip.includes(':'))!;
  return { ev: ipvsEvaluator(states, { rendered: true }), states, ctx, ip, mode: config.effectiveMode, config: config.config };
}

const ipvsHop = (r: TraceResult) => r.hops.find((h) => h.table === 'ipvs')!;

describe('ipvs trace over engine output (examples/, mode ipvs, scheduler rr)', () => {
  it('the examples are mode ipvs; its definition in the registry traces', async () => {
    const { mode, states } = await examples('worker-1');
    assert.equal(mode, 'ipvs');
    assert.equal(modeFor(mode, 'tracing').tracer(states, { rendered: true }).mode, 'ipvs');
  });

  it('rr: a pod to shop/web reaches its three real servers, a third each, through KUBE-CLUSTER-IP; source kept', async () => {
    const { ev, ctx, ip } = await examples('worker-1');
    const t = ip('shop/web');
    const r = ev.trace({ src: '10.244.1.254', dst: t.ip, dport: t.port, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(r.verdict, 'forwarded');
    assert.equal(r.mode, 'ipvs');
    assert.deepEqual(eps(r), ['10.244.0.5:8080 0.3333', '10.244.1.7:8080 0.3333', '10.244.2.4:8080 0.3333']);
    assert.ok(Math.abs(sum(r) - 1) < 1e-9);
    assert.equal(r.masquerade, false);
    assert.deepEqual(r.qualifications, []);
    assert.ok(r.hops.some((h) => h.table === 'nat' && h.chain === 'KUBE-SERVICES' && /--match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT/.test(h.rule)));
    assert.ok(r.hops.some((h) => h.table === 'routing' && /bound to kube-ipvs0/.test(h.rule)));
    const h = ipvsHop(r);
    assert.equal(h.chain, '10.103.81.20:80/TCP');
    assert.equal(h.rule, 'scheduler rr');
    assert.match(h.action, /^to 10\.244\.0\.5:8080 \(33\.3%\), 10\.244\.1\.7:8080 \(33\.3%\), 10\.244\.2\.4:8080 \(33\.3%\) — round robin/);
    // iptables hops before IPVS, POSTROUTING after it
    const i = r.hops.indexOf(h);
    assert.ok(r.hops.slice(0, i).some((x) => x.chain === 'PREROUTING') && r.hops.slice(i).some((x) => x.chain === 'KUBE-POSTROUTING'));
  });

  it('masquerade follows KUBE-MARK-MASQ into KUBE-POSTROUTING: from the node itself, and from outside to a NodePort (KUBE-NODE-PORT-TCP)', async () => {
    const { ev, ctx, ip } = await examples('worker-1');
    const t = ip('shop/web');
    const n = ev.trace({ src: '192.168.10.21', dst: t.ip, dport: t.port, protocol: 'TCP', entry: 'node' }, ctx);
    assert.equal(n.verdict, 'forwarded');
    assert.equal(n.masquerade, true);
    assert.match(n.masqueradeReason, /marked for masquerade by KUBE-SERVICES \("Kubernetes service cluster ip \+ port for masquerade purpose"\), masqueraded in KUBE-POSTROUTING/);
    // api-public: NodePort 30443 (externalTrafficPolicy Cluster) on worker-1's address
    const np = ev.trace({ src: '203.0.113.10', dst: '192.168.10.21', dport: 30443, protocol: 'TCP', entry: 'external' }, ctx);
    assert.equal(np.verdict, 'forwarded');
    assert.ok(np.hops.some((h) => h.chain === 'KUBE-NODE-PORT' && /--match-set KUBE-NODE-PORT-TCP dst/.test(h.rule) && h.action === 'jump KUBE-MARK-MASQ'));
    assert.equal(ipvsHop(np).chain, '192.168.10.21:30443/TCP');
    assert.deepEqual(eps(np), ['10.244.1.12:8080 0.5000', '10.244.2.10:8080 0.5000']);
    assert.equal(np.masquerade, true);
    assert.match(np.masqueradeReason, /KUBE-NODE-PORT .*masqueraded in KUBE-POSTROUTING/);
  });

  it('ClientIP affinity is IPVS persistence: sticky for the timeout', async () => {
    const { ev, ctx, ip } = await examples('worker-1');
    const t = ip('shop/cart');
    const r = ev.trace({ src: '10.244.1.254', dst: t.ip, dport: t.port, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(r.verdict, 'forwarded');
    assert.deepEqual(r.affinity, { seconds: 3600, name: 'ipvs persistence of 10.105.63.211:80/TCP' });
    assert.equal(ipvsHop(r).rule, 'scheduler rr, persistent 3600');
    assert.ok(Math.abs(sum(r) - 1) < 1e-9);
  });

  it('a virtual server with no real servers: IPVS answers ICMP port unreachable (rejected)', async () => {
    const { ev, ctx, ip } = await examples('worker-1');
    const t = ip('shop/recommendations');
    const r = ev.trace({ src: '10.244.1.254', dst: t.ip, dport: t.port, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(r.verdict, 'rejected');
    assert.deepEqual(r.endpoints, []);
    assert.match(ipvsHop(r).action, /^REJECT: no real servers; IPVS answers ICMP port unreachable/);
  });

  it('an unserved port of a virtual address is rejected by KUBE-IPVS-FILTER; an address with no virtual server is not matched', async () => {
    const { ev, ctx } = await examples('worker-1');
    const r = ev.trace({ src: '10.244.1.254', dst: '10.103.81.20', dport: 81, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(r.verdict, 'rejected');
    assert.ok(r.hops.some((h) => h.chain === 'KUBE-IPVS-FILTER' && /KUBE-IPVS-IPS/.test(h.rule) && /^REJECT/.test(h.action)));
    const n = ev.trace({ src: '10.244.1.254', dst: '10.1.2.3', dport: 80, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(n.verdict, 'not-matched');
    assert.deepEqual(n.endpoints, []);
  });

  it('sh (config override): one exact real server per source, by the kernel hash; deterministic', async () => {
    const { ev, ctx, ip, states } = await examples('worker-1', SH_CONFIG);
    const t = ip('shop/web');
    const vs = states[0]!.virtualServers.find((v) => v.address === t.ip && v.port === t.port)!;
    assert.equal(vs.scheduler, 'sh');
    const picks = new Map<string, string>();
    for (const src of ['10.244.2.9', '10.244.2.10', '10.244.2.11', '10.244.2.12']) {
      const r = ev.trace({ src, dst: t.ip, dport: t.port, protocol: 'TCP', entry: 'pod-remote' }, ctx);
      assert.equal(r.verdict, 'forwarded');
      assert.equal(r.endpoints.length, 1);
      assert.equal(r.endpoints[0]!.probability, 1);
      // weight 1 each: bucket i holds real server i mod 3, in list order
      const want = vs.realServers[shHashKey(src) % 3]!;
      assert.equal(r.endpoints[0]!.ip, want.address, src);
      assert.match(ipvsHop(r).action, new RegExp(`deterministic: source hashing hashes the source ${src.replace(/\./g, '\\.')} to bucket ${shHashKey(src)} of 256`));
      // rendered: the node's list order is kube-proxy's, so the pick is qualified
      assert.ok(r.qualifications.some((q) => /order kube-proxy added them/.test(q)));
      picks.set(src, r.endpoints[0]!.ip);
    }
    assert.equal(picks.get('10.244.2.9'), '10.244.2.4');
    assert.equal(picks.get('10.244.2.10'), '10.244.0.5');
    assert.ok(new Set(picks.values()).size > 1, 'different sources may land on different real servers');
  });
});

/** An iptables-save of the companion rules as a node prints it: built-in chains with kube-proxy's jumps. */
function iptablesSave(st: IpvsState): string {
  const out: string[] = [];
  for (const t of st.iptables.tables) {
    out.push(`*${t.name}`);
    const builtins = t.name === 'nat' ? ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] : ['INPUT', 'FORWARD', 'OUTPUT'];
    for (const b of builtins) out.push(`:${b} ACCEPT [0:0]`);
    for (const c of t.chains) out.push(`:${c.name} - [0:0]`);
    for (const b of builtins) for (const j of st.jumps.filter((x) => x.table === t.name && x.chain === b).reverse()) out.push(`-A ${b} -m comment --comment "${j.words[3]}" -j ${j.target}`);
    for (const c of t.chains) for (const r of c.rules) out.push(`-A ${c.name} ${r.words.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ')}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

describe('ipvs trace over a saved dump (no cluster)', () => {
  it('ipvsadm -Sn + ipset save + iptables-save, parsed back: the same answer, exact', async () => {
    const { states } = await examples('worker-1');
    const v4 = states.find((s) => s.family === 'IPv4')!;
    const text = `${serializeIpvsadm([v4])}\n${serializeIpsetSave([v4])}\n${iptablesSave(v4)}`;
    const parsed = parseIpvsDump(text, 'IPv4', 'dump');
    assert.ok(parsed.virtualServers.length > 0 && parsed.ipsets.length > 0 && parsed.iptables.tables.length === 2);
    const ev = ipvsEvaluator([parsed]);
    const ctx: NodeContext = {};
    const r = ev.trace({ src: '10.244.1.254', dst: '10.103.81.20', dport: 80, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(r.verdict, 'forwarded');
    assert.deepEqual(eps(r), ['10.244.0.5:8080 0.3333', '10.244.1.7:8080 0.3333', '10.244.2.4:8080 0.3333']);
    assert.deepEqual(r.qualifications, []);
    // from outside the cluster CIDR the KUBE-CLUSTER-IP masquerade rule marks it
    const ext = ev.trace({ src: '192.168.10.99', dst: '10.103.81.20', dport: 80, protocol: 'TCP', entry: 'external' }, ctx);
    assert.equal(ext.masquerade, true);
    // hairpin: a pod on this node reaching itself through the service is masqueraded (KUBE-LOOP-BACK)
    const sh: IpvsState = { ...parsed, virtualServers: parsed.virtualServers.map((v) => ({ ...v, scheduler: 'sh' })) };
    const hair = ipvsEvaluator([sh]);
    // sh hashes the source: 10.244.1.7 lands on some real server; find a source port-free case where it is itself
    const x = hair.trace({ src: '10.244.1.7', dst: '10.103.81.20', dport: 80, protocol: 'TCP', entry: 'pod-local' }, ctx);
    assert.equal(x.endpoints.length, 1);
    const self = x.endpoints[0]!.ip === '10.244.1.7';
    assert.equal(x.masquerade, self, 'KUBE-LOOP-BACK masquerades exactly the hairpin case');
    if (self) assert.ok(x.hops.some((h) => h.chain === 'KUBE-POSTROUTING' && /KUBE-LOOP-BACK/.test(h.rule) && /^MASQUERADE/.test(h.action)));
  });

  it('lc: live counts from `ipvsadm -Ln` decide; without them the idle tie-break is given and qualified', () => {
    const ln = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.96.0.50:80 lc',
      '  -> 10.244.1.5:8080               Masq    1      7          0',
      '  -> 10.244.2.6:8080               Masq    1      2          3',
      '  -> 10.244.3.7:8080               Masq    0      0          0',
      'TCP  10.96.0.51:80 wlc persistent 10800',
      '  -> 10.244.1.5:8080               Masq    1      0          0',
      'TCP  10.96.0.52:80 rr',
    ].join('\n');
    // (parseIpvsDump's splitDump drops `  -> ` lines; the trace command takes the IPVS lines itself)
    const st = stateFromText({ ipvsadm: ln, ipset: '', iptables: '' }, 'IPv4', 'ln');
    const ev = ipvsEvaluator([st]);
    const r = ev.trace({ src: '10.244.1.254', dst: '10.96.0.50', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    assert.equal(r.verdict, 'forwarded');
    assert.deepEqual(eps(r), ['10.244.2.6:8080 1.0000']);
    assert.match(ipvsHop(r).action, /least connections: depends on live connection counts; with the counts given/);
    assert.ok(r.qualifications.some((q) => /no iptables-save part/.test(q)));
    const p = ev.trace({ src: '10.244.1.254', dst: '10.96.0.51', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    assert.equal(p.affinity?.seconds, 10800);
    assert.equal(ipvsHop(p).rule, 'scheduler wlc, persistent 10800');
    const none = ev.trace({ src: '10.244.1.254', dst: '10.96.0.52', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    assert.equal(none.verdict, 'rejected');

    // -Sn has no counts: the idle answer (first with weight > 0), qualified
    const sn = '-A -t 10.96.0.50:80 -s lc\n-a -t 10.96.0.50:80 -r 10.244.3.7:8080 -m -w 0\n-a -t 10.96.0.50:80 -r 10.244.1.5:8080 -m -w 1\n-a -t 10.96.0.50:80 -r 10.244.2.6:8080 -m -w 1\n';
    const idle = ipvsEvaluator([parseIpvsDump(sn, 'IPv4', 'sn')]).trace({ src: '10.244.1.254', dst: '10.96.0.50', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    assert.equal(idle.verdict, 'forwarded');
    // ipvsadm sorts its listing, so which of the idle servers the kernel takes first is not known: a tie
    assert.deepEqual(eps(idle), ['10.244.1.5:8080 0.5000', '10.244.2.6:8080 0.5000']);
    assert.match(ipvsHop(idle).action, /depends on live connection counts \(unknown here\); with every real server idle the kernel picks the first one: a tie between 10\.244\.1\.5:8080, 10\.244\.2\.6:8080, which the kernel breaks by its own list order/);
    assert.ok(idle.qualifications.some((q) => /least connections depends on live connection counts, which were not given/.test(q)));
  });

  it('wrr: shares from weights, weight 0 gets nothing; dh: exactly one real server by the destination', () => {
    const sn = [
      '-A -t 10.96.0.60:80 -s wrr',
      '-a -t 10.96.0.60:80 -r 10.244.1.5:8080 -m -w 3',
      '-a -t 10.96.0.60:80 -r 10.244.2.6:8080 -m -w 1',
      '-a -t 10.96.0.60:80 -r 10.244.3.7:8080 -m -w 0',
      '-A -t 10.96.0.61:80 -s dh',
      '-a -t 10.96.0.61:80 -r 10.244.1.5:8080 -m -w 1',
      '-a -t 10.96.0.61:80 -r 10.244.2.6:8080 -m -w 1',
    ].join('\n');
    const ev = ipvsEvaluator([parseIpvsDump(sn, 'IPv4', 'sn')]);
    const w = ev.trace({ src: '10.244.1.254', dst: '10.96.0.60', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    assert.deepEqual(eps(w), ['10.244.1.5:8080 0.7500', '10.244.2.6:8080 0.2500']);
    const d1 = ev.trace({ src: '10.244.1.254', dst: '10.96.0.61', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    const d2 = ev.trace({ src: '10.244.2.3', dst: '10.96.0.61', dport: 80, protocol: 'TCP', entry: 'pod-local' }, {});
    assert.equal(d1.endpoints.length, 1);
    assert.deepEqual(d1.endpoints, d2.endpoints, 'dh hashes the destination: every source gets the same one');
    assert.match(ipvsHop(d1).action, /deterministic: destination hashing hashes the destination 10\.96\.0\.61 to bucket \d+ of 256/);
  });
});
