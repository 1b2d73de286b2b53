// The ipvs engine on a real kernel. This machine's kernel has no IP_VS (`ipvsadm -Ln`: "Protocol not
// available"), so:
//  - the ipsets and companion iptables rules are programmed for real in the topology's node namespace (ipset
//    restore, iptables-nft-restore --noflush, the jump rules) and read back (ipset save, iptables-save),
//    then re-synced after a change (stale members removed, nothing flushed);
//  - the IPVS part runs where the kernel has IP_VS and is otherwise skipped with the reason printed;
//  - the fallback path runs for real: the probe says IPVS is missing -> the decision falls back to the
//    iptables engine -> its rules are applied -> a connection to the ClusterIP lands on a pod; with noFallback
//    the decision is kube-proxy >= 1.25's one sentence.
import assert from 'node:assert/strict';
import test from 'node:test';
import { setDefaults } from '../../src/core/config/index.js';
import { IpvsCommandBackend, IptablesCommandBackend, applyIpvsState, ensureNfacct, localRunner, netnsRunner, nfacctNamesIn, probeIpvsSupport } from '../../src/core/host/index.js';
import { jumpRules, renderIptables, serializeRestore } from '../../src/core/iptables/index.js';
import { decideIpvs, parseIpsetSave, renderIpvs } from '../../src/core/ipvs/index.js';
import { buildProxyState } from '../../src/core/model/index.js';
import type { EndpointSlice, Service } from '../../src/core/objects/types.js';
import { announceSkip, connect, execOk, kernelSkipReason, parseReply, withTopology, type Host, type Topology } from './harness/index.js';

const TOOLS = ['ipset', 'ipvsadm', 'iptables-nft', 'iptables-nft-restore', 'iptables-nft-save', 'nfacct'];
const skip = announceSkip(kernelSkipReason(TOOLS), 'ipvs engine');
const NS = 'pm';
const CLUSTER_CIDR = '10.244.0.0/16';
const WEB_IP = '10.96.0.20';
const LB_IP = '203.0.113.30';

function objects(pods: readonly Host[], withApi = true): { services: Service[]; endpointSlices: EndpointSlice[] } {
  const svc = (name: string, spec: NonNullable<Service['spec']>, lb?: string): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { ipFamilies: ['IPv4'], clusterIPs: spec.clusterIP ? [spec.clusterIP] : undefined, ...spec },
    ...(lb ? { status: { loadBalancer: { ingress: [{ ip: lb }] } } } : {}),
  });
  const slice = (name: string, hosts: readonly Host[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-x`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: hosts.map((h) => ({ addresses: [h.ipv4], nodeName: 'node', conditions: { ready: true } })),
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  return {
    services: [
      svc('web', { type: 'LoadBalancer', clusterIP: WEB_IP, externalTrafficPolicy: 'Local', healthCheckNodePort: 32100, loadBalancerSourceRanges: ['192.168.77.0/24'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30180 }] }, LB_IP),
      ...(withApi ? [svc('api', { type: 'ClusterIP', clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }] })] : []),
    ],
    endpointSlices: [slice('web', pods), ...(withApi ? [slice('api', pods.slice(0, 1))] : [])],
  };
}

function renderFor(topo: Topology, objs: ReturnType<typeof objects>) {
  const config = setDefaults({ mode: 'ipvs', clusterCIDR: CLUSTER_CIDR });
  const state = buildProxyState(objs, { ipFamily: 'IPv4', nodeName: 'node' });
  return { config, state: renderIpvs({ state, config, node: { name: 'node', ips: [topo.node.ipv4], podCIDRs: [topo.node.podCIDR] } }) };
}

test('ipvs engine: ipsets and companion iptables rules programmed for real', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 2 }, async (topo) => {
    const run = netnsRunner(topo.node.ns);
    const ipvs = new IpvsCommandBackend(run);
    const iptables = new IptablesCommandBackend('nft', run, { waitSeconds: 10 });
    const first = renderFor(topo, objects(topo.pods));
    // this kernel has no IP_VS and no dummy devices: IPVS and kube-ipvs0 are checked separately below
    const r = await applyIpvsState(first.state, run, { ipvs, iptables, skipIpvs: true, skipAddresses: true });
    assert.deepEqual(r.steps, ['ipsets', 'iptables', 'cleanup']);

    const sets = new Map(parseIpsetSave(await ipvs.ipset.save()).map((s) => [s.name, s.members]));
    assert.deepEqual(sets.get('KUBE-CLUSTER-IP'), ['10.96.0.20,tcp:80', '10.96.0.21,tcp:80']);
    assert.deepEqual(sets.get('KUBE-LOAD-BALANCER'), [`${LB_IP},tcp:80`]);
    assert.deepEqual(sets.get('KUBE-LOAD-BALANCER-LOCAL'), [`${LB_IP},tcp:80`]);
    assert.deepEqual(sets.get('KUBE-LOAD-BALANCER-SOURCE-CIDR'), [`${LB_IP},tcp:80,192.168.77.0/24`]);
    assert.deepEqual(sets.get('KUBE-LOAD-BALANCER-SOURCE-IP'), [`${LB_IP},tcp:80,${LB_IP}`]); // the node IP is in the range
    assert.deepEqual(sets.get('KUBE-NODE-PORT-TCP'), ['30180']);
    assert.deepEqual(sets.get('KUBE-NODE-PORT-LOCAL-TCP'), ['30180']);
    assert.deepEqual(sets.get('KUBE-HEALTH-CHECK-NODE-PORT'), ['32100']);
    assert.deepEqual(sets.get('KUBE-LOOP-BACK'), topo.pods.map((p) => `${p.ipv4},tcp:80,${p.ipv4}`).sort());
    assert.deepEqual(sets.get('KUBE-IPVS-IPS'), ['10.96.0.20', '10.96.0.21', LB_IP]);
    // ipset members as the kernel prints them equal what we render
    for (const s of first.state.ipsets) assert.deepEqual(sets.get(s.name), s.members, s.name);

    const nat = await iptables.save('IPv4', 'nat');
    assert.match(nat, /^-A KUBE-SERVICES ! -s 10\.244\.0\.0\/16 -m comment --comment "Kubernetes service cluster ip \+ port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/m);
    assert.match(nat, /^-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN$/m);
    assert.match(nat, /^-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
    const filter = await iptables.save('IPv4', 'filter');
    assert.match(filter, /^-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable$/m);
    assert.match(filter, /^-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip \+ port \+ source cidr for packet filter purpose" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN$/m);
    assert.match(filter, /^-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER$/m);
    const kubeRules = (nat + filter).split('\n').filter((l) => /^-A KUBE-/.test(l)).length;
    const rendered = first.state.iptables.tables.reduce((n, tb) => n + tb.chains.reduce((m, c) => m + c.rules.length, 0), 0);
    assert.equal(kubeRules, rendered);

    // a re-sync after `api` is deleted: its members go, nothing else changes, and the jumps are not duplicated
    const second = renderFor(topo, objects(topo.pods, false));
    await applyIpvsState(second.state, run, { ipvs, iptables, skipIpvs: true, skipAddresses: true });
    const after = new Map(parseIpsetSave(await ipvs.ipset.save()).map((s) => [s.name, s.members]));
    assert.deepEqual(after.get('KUBE-CLUSTER-IP'), ['10.96.0.20,tcp:80']);
    assert.deepEqual(after.get('KUBE-IPVS-IPS'), ['10.96.0.20', LB_IP]);
    const nat2 = await iptables.save('IPv4', 'nat');
    assert.equal(nat2.split('\n').filter((l) => l.startsWith('-A PREROUTING') && l.includes('KUBE-SERVICES')).length, 1);
  });
});

test('ipvs engine: IPVS virtual servers on the kernel', { skip, timeout: 60_000 }, async (t) => {
  const probe = await probeIpvsSupport(localRunner(), 'rr');
  if (!probe.ipvsAvailable) {
    const reason = `this kernel has no IP_VS (ipvsadm -Ln: ${probe.ipvsError}); the IPVS part of the engine is covered by unit tests and the fallback test below`;
    announceSkip(reason, t.name);
    t.skip(reason);
    return;
  }
  await withTopology(t, { pods: 2 }, async (topo) => {
    const run = netnsRunner(topo.node.ns);
    const ipvs = new IpvsCommandBackend(run);
    const iptables = new IptablesCommandBackend('nft', run, { waitSeconds: 10 });
    const { state } = renderFor(topo, objects(topo.pods));
    await applyIpvsState(state, run, { ipvs, iptables });
    const live = await ipvs.save();
    assert.match(live, new RegExp(`^-A -t ${WEB_IP.replace(/\./g, '\\.')}:80 -s rr$`, 'm'));
    const r = await connect(topo.client.ns, WEB_IP, 80);
    assert.ok(r.ok);
  });
});

test('ipvs engine: fallback to the iptables engine when the kernel has no IPVS, for real', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 2 }, async (topo) => {
    const run = netnsRunner(topo.node.ns);
    const probe = await probeIpvsSupport(run, 'rr');
    if (probe.ipvsAvailable) {
      const reason = 'this kernel has IP_VS: the fallback does not happen here';
      announceSkip(reason, t.name);
      t.skip(reason);
      return;
    }
    const decision = decideIpvs(probe, 'rr', { noFallback: false });
    assert.equal(decision.mode, 'iptables');
    t.diagnostic((decision as { log: string }).log);
    const refused = decideIpvs(probe, 'rr', { noFallback: true });
    assert.equal(refused.mode, 'none');
    assert.match((refused as { error: string }).error, /^can't use the IPVS proxier: the kernel has no IPVS \(ipvsadm: .+\)\.$/);

    // kube-proxy <= 1.24 now runs the iptables proxier with the same configuration
    await topo.serve(topo.pods, { tcp: [80] });
    const config = setDefaults({ mode: 'iptables', clusterCIDR: CLUSTER_CIDR });
    const state = buildProxyState(objects(topo.pods), { ipFamily: 'IPv4', nodeName: 'node' });
    const rs = renderIptables({ state, config, node: { name: 'node', ips: [topo.node.ipv4], podCIDRs: [topo.node.podCIDR] } });
    const text = serializeRestore(rs);
    const backend = new IptablesCommandBackend('nft', run, { waitSeconds: 10 });
    await ensureNfacct(run, nfacctNamesIn(text));
    await backend.restore('IPv4', text, { noflush: true });
    for (const j of jumpRules(config, 'IPv4')) {
      await backend.ensureChain('IPv4', j.table, j.target);
      await backend.ensureRule('IPv4', j.table, j.chain, j.words, j.position);
    }
    const names = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await connect(topo.client.ns, WEB_IP, 80);
      assert.ok(r.ok, JSON.stringify(r));
      names.add(parseReply(r.reply).name);
    }
    for (const n of names) assert.ok(topo.pods.some((p) => p.name === n), n);
    t.diagnostic(`ClusterIP ${WEB_IP}:80 served by ${[...names].sort().join(', ')} through the fallback iptables rules`);
    await execOk(topo.node.ns, ['true']);
  });
});
