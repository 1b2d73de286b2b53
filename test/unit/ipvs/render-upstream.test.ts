// Cases ported from kubernetes/kubernetes pkg/proxy/ipvs/proxier_test.go (the newest stored form: EndpointSlice
// era, KUBE-IPVS-FILTER/OUT-FILTER): expected IPVS state (FakeIPVS), ipset entries (ExpectedIPSet) and
// iptables jumps (ExpectedIptablesChain), as facts. Upstream keys IPVS by a Go map; we compare as maps too.
import assert from 'node:assert/strict';
import test from 'node:test';
import { chainJumps, fakeSync, ipvsMap, makeTestEndpointSlice, makeTestService, members, testHostname } from './helpers.js';

const np = (protocol: 'TCP' | 'UDP' | 'SCTP', extra: Record<string, unknown> = {}) =>
  makeTestService('ns1', 'svc1', { type: 'NodePort', clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol, nodePort: 3001 }], ...extra });

test('TestNodePortIPv4: 1 service with node port, has 2 endpoints (one IPv6, ignored by the IPv4 proxier)', () => {
  const st = fakeSync({
    services: [np('TCP')],
    slices: [
      makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1' }], [{ name: 'p80', port: 80, protocol: 'TCP' }]),
      makeTestEndpointSlice('ns1', 'svc1', 2, 'IPv6', [{ ip: '1002:ab8::2:10' }], [{ name: 'p80', port: 80, protocol: 'TCP' }]),
    ],
    nodeIPs: ['100.101.102.103', '2001:db8::1:1'],
  });
  assert.deepEqual(ipvsMap(st), {
    '10.20.30.41:80/TCP rr': ['10.180.0.1:80 w1'],
    '100.101.102.103:3001/TCP rr': ['10.180.0.1:80 w1'],
  });
});

test('TestNodePortIPv4: 1 UDP service with node port, has endpoints (nodePortAddresses 0.0.0.0/0)', () => {
  const st = fakeSync({
    services: [np('UDP')],
    slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1' }], [{ name: 'p80', port: 80, protocol: 'UDP' }])],
    nodeIPs: ['100.101.102.103'],
    config: { nodePortAddresses: ['0.0.0.0/0'] },
  });
  assert.deepEqual(ipvsMap(st), {
    '10.20.30.41:80/UDP rr': ['10.180.0.1:80 w1'],
    '100.101.102.103:3001/UDP rr': ['10.180.0.1:80 w1'],
  });
  assert.deepEqual(members(st, 'KUBE-NODE-PORT-UDP'), ['3001']);
  assert.deepEqual(chainJumps(st, 'nat', 'KUBE-NODE-PORT'), [{ jump: 'KUBE-MARK-MASQ', set: 'KUBE-NODE-PORT-UDP' }]);
  assert.deepEqual(chainJumps(st, 'filter', 'KUBE-NODE-PORT'), [{ jump: 'ACCEPT', set: 'KUBE-HEALTH-CHECK-NODE-PORT' }]);
  // upstream lists KUBE-SERVICES jumps: MARK-MASQ on KUBE-CLUSTER-IP, KUBE-NODE-PORT, ACCEPT on KUBE-CLUSTER-IP
  const svc = chainJumps(st, 'nat', 'KUBE-SERVICES').filter((j) => j.jump !== 'RETURN');
  assert.deepEqual(svc, [
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
    { jump: 'KUBE-NODE-PORT', set: '' },
    { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
  ]);
});

test('TestNodePortIPv4: service has node port but no endpoints: virtual servers without real servers', () => {
  const st = fakeSync({ services: [np('TCP')], slices: [], nodeIPs: ['100.101.102.103'] });
  assert.deepEqual(ipvsMap(st), { '10.20.30.41:80/TCP rr': [], '100.101.102.103:3001/TCP rr': [] });
});

test('TestNodePortIPv4: SCTP node port on a node with multiple node IPs: hash ip,port entries per node IP', () => {
  const st = fakeSync({
    services: [np('SCTP')],
    slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1' }], [{ name: 'p80', port: 80, protocol: 'SCTP' }])],
    nodeIPs: ['100.101.102.103', '100.101.102.104', '100.101.102.105', '2001:db8::1:1', '2001:db8::1:2', '2001:db8::1:3'],
  });
  assert.deepEqual(ipvsMap(st), {
    '10.20.30.41:80/SCTP rr': ['10.180.0.1:80 w1'],
    '100.101.102.103:3001/SCTP rr': ['10.180.0.1:80 w1'],
    '100.101.102.104:3001/SCTP rr': ['10.180.0.1:80 w1'],
    '100.101.102.105:3001/SCTP rr': ['10.180.0.1:80 w1'],
  });
  assert.deepEqual(members(st, 'KUBE-NODE-PORT-SCTP-HASH'), ['100.101.102.103,sctp:3001', '100.101.102.104,sctp:3001', '100.101.102.105,sctp:3001']);
});

test('TestNodePortIPv4: SCTP node port with externalTrafficPolicy Local: cluster IP keeps all endpoints, node port only local ones', () => {
  const st = fakeSync({
    services: [np('SCTP', { externalTrafficPolicy: 'Local' })],
    slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1', node: testHostname }, { ip: '10.180.1.1', node: 'otherHost' }], [{ name: 'p80', port: 80, protocol: 'SCTP' }])],
    nodeIPs: ['100.101.102.103'],
  });
  assert.deepEqual(ipvsMap(st), {
    '10.20.30.41:80/SCTP rr': ['10.180.0.1:80 w1', '10.180.1.1:80 w1'],
    '100.101.102.103:3001/SCTP rr': ['10.180.0.1:80 w1'],
  });
  assert.deepEqual(members(st, 'KUBE-NODE-PORT-SCTP-HASH'), ['100.101.102.103,sctp:3001']);
  assert.deepEqual(members(st, 'KUBE-NODE-PORT-LOCAL-SCTP-HASH'), ['100.101.102.103,sctp:3001']);
  assert.deepEqual(chainJumps(st, 'nat', 'KUBE-NODE-PORT'), [
    { jump: 'RETURN', set: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH' },
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-NODE-PORT-SCTP-HASH' },
  ]);
});

const ep80 = (ips: Array<{ ip: string; node?: string }>, svc = 'svc1') => makeTestEndpointSlice('ns1', svc, 1, 'IPv4', ips, [{ name: 'p80', port: 80, protocol: 'TCP' }]);
const noRet = (j: Array<{ jump: string; set: string }>) => j.filter((x) => !(x.jump === 'RETURN' && x.set === ''));

test('TestOnlyLocalNodePorts: nodePortAddresses CIDRs pick 100.101.102.103; local and masquerade node-port sets', () => {
  const st = fakeSync({
    services: [np('TCP', { externalTrafficPolicy: 'Local' })],
    slices: [ep80([{ ip: '10.180.0.1', node: testHostname }, { ip: '10.180.1.1', node: 'other-hostname' }])],
    nodeIPs: ['100.101.102.103', '2001:db8::'],
    config: { nodePortAddresses: ['100.101.102.0/24', '2001:db8::0/64'] },
  });
  assert.equal(st.virtualServers.length, 2);
  assert.deepEqual(ipvsMap(st)['100.101.102.103:3001/TCP rr'], ['10.180.0.1:80 w1']);
  assert.deepEqual(members(st, 'KUBE-NODE-PORT-TCP'), ['3001']);
  assert.deepEqual(members(st, 'KUBE-NODE-PORT-LOCAL-TCP'), ['3001']);
  assert.deepEqual(noRet(chainJumps(st, 'nat', 'KUBE-SERVICES')), [
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
    { jump: 'KUBE-NODE-PORT', set: '' },
    { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
  ]);
  assert.deepEqual(chainJumps(st, 'nat', 'KUBE-NODE-PORT'), [
    { jump: 'RETURN', set: 'KUBE-NODE-PORT-LOCAL-TCP' },
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-NODE-PORT-TCP' },
  ]);
  assert.deepEqual(chainJumps(st, 'filter', 'KUBE-NODE-PORT'), [{ jump: 'ACCEPT', set: 'KUBE-HEALTH-CHECK-NODE-PORT' }]);
});

test('TestHealthCheckNodePort: only LoadBalancer services with externalTrafficPolicy Local put their health check port in the set', () => {
  const lb = (name: string, policy: 'Local' | 'Cluster', hc: number) =>
    makeTestService('ns1', name, { type: 'LoadBalancer', clusterIP: '10.20.30.41', externalTrafficPolicy: policy, healthCheckNodePort: hc, ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3000 }] });
  const st = fakeSync({ services: [lb('valid-svc1', 'Local', 30000), lb('valid-svc2', 'Local', 30001), lb('invalid-svc3', 'Cluster', 30002)], slices: [], nodeIPs: ['100.101.102.103'], config: { nodePortAddresses: ['100.101.102.0/24', '2001:db8::0/64'] } });
  assert.deepEqual(members(st, 'KUBE-HEALTH-CHECK-NODE-PORT'), ['30000', '30001']);
  assert.deepEqual(chainJumps(st, 'nat', 'KUBE-NODE-PORT'), [
    { jump: 'RETURN', set: 'KUBE-NODE-PORT-LOCAL-TCP' },
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-NODE-PORT-TCP' },
  ]);
});

test('TestLoadBalancerSourceRanges: LB, LB-FW and SOURCE-CIDR sets; firewall chains; node not in range is dropped from the node', () => {
  const st = fakeSync({
    services: [makeTestService('ns1', 'svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', loadBalancerSourceRanges: ['10.0.0.0/8'], ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }, ['1.2.3.4'])],
    slices: [ep80([{ ip: '10.180.0.1' }])],
    nodeIPs: ['100.101.102.103'],
  });
  assert.deepEqual(ipvsMap(st), { '10.20.30.41:80/TCP rr': ['10.180.0.1:80 w1'], '1.2.3.4:80/TCP rr': ['10.180.0.1:80 w1'] });
  assert.deepEqual(members(st, 'KUBE-LOAD-BALANCER'), ['1.2.3.4,tcp:80']);
  assert.deepEqual(members(st, 'KUBE-LOAD-BALANCER-FW'), ['1.2.3.4,tcp:80']);
  assert.deepEqual(members(st, 'KUBE-LOAD-BALANCER-SOURCE-CIDR'), ['1.2.3.4,tcp:80,10.0.0.0/8']);
  assert.deepEqual(members(st, 'KUBE-LOAD-BALANCER-SOURCE-IP'), []);
  assert.deepEqual(noRet(chainJumps(st, 'nat', 'KUBE-SERVICES')), [
    { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
    { jump: 'KUBE-NODE-PORT', set: '' },
    { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
    { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
  ]);
  assert.deepEqual(chainJumps(st, 'filter', 'KUBE-PROXY-FIREWALL'), [{ jump: 'KUBE-SOURCE-RANGES-FIREWALL', set: 'KUBE-LOAD-BALANCER-FW' }]);
  assert.deepEqual(chainJumps(st, 'filter', 'KUBE-SOURCE-RANGES-FIREWALL'), [{ jump: 'RETURN', set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR' }, { jump: 'DROP', set: '' }]);
  const out = st.iptables.tables.find((t) => t.name === 'filter')!.chains.find((c) => c.name === 'KUBE-IPVS-OUT-FILTER')!;
  assert.deepEqual(out.rules.map((r) => r.words.join(' ')), ['-s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP']);
});

test('TestAcceptIPVSTraffic: KUBE-SERVICES jumps for ClusterIP with externalIPs, LoadBalancer and NodePort services', () => {
  const mk = (type: 'ClusterIP' | 'LoadBalancer' | 'NodePort', ip: string, name: string) =>
    makeTestService('ns1', name, { type, clusterIP: ip, ports: [{ name: 'p80', port: 80, protocol: 'TCP', ...(type === 'ClusterIP' ? {} : { nodePort: 80 }) }], ...(type === 'ClusterIP' ? { externalIPs: ['5.6.7.8'] } : {}) }, type === 'LoadBalancer' ? ['1.2.3.4'] : []);
  const st = fakeSync({ services: [mk('ClusterIP', '10.20.30.40', 'svc1'), mk('LoadBalancer', '10.20.30.41', 'svc2'), mk('NodePort', '10.20.30.42', 'svc3')], slices: [], nodeIPs: ['100.101.102.103'] });
  assert.deepEqual(noRet(chainJumps(st, 'nat', 'KUBE-SERVICES')), [
    { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
    { jump: 'KUBE-MARK-MASQ', set: 'KUBE-EXTERNAL-IP' },
    { jump: 'ACCEPT', set: 'KUBE-EXTERNAL-IP' },
    { jump: 'ACCEPT', set: 'KUBE-EXTERNAL-IP' },
    { jump: 'KUBE-NODE-PORT', set: '' },
    { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
    { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
  ]);
});

test('TestOnlyLocalLoadBalancing: the LB virtual server gets the local endpoint only; LB-LOCAL set returns early', () => {
  const st = fakeSync({
    services: [makeTestService('ns1', 'svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] }, ['1.2.3.4'])],
    slices: [ep80([{ ip: '10.180.0.1', node: testHostname }, { ip: '10.180.1.1', node: 'other-hostname' }])],
    nodeIPs: [],
  });
  assert.equal(st.virtualServers.length, 2);
  assert.deepEqual(ipvsMap(st)['1.2.3.4:80/TCP rr'], ['10.180.0.1:80 w1']);
  assert.deepEqual(members(st, 'KUBE-LOAD-BALANCER-LOCAL'), ['1.2.3.4,tcp:80']);
  assert.deepEqual(chainJumps(st, 'nat', 'KUBE-LOAD-BALANCER'), [{ jump: 'RETURN', set: 'KUBE-LOAD-BALANCER-LOCAL' }, { jump: 'KUBE-MARK-MASQ', set: '' }]);
});

test('session affinity ClientIP: persistent virtual servers with the affinity timeout; mh gets mh-port; scheduler from config', () => {
  const svc = makeTestService('ns1', 'svc1', { type: 'NodePort', clusterIP: '10.20.30.41', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } }, externalIPs: ['50.60.70.81'], ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] });
  const st = fakeSync({ services: [svc], slices: [], nodeIPs: ['100.101.102.103'], config: { ipvs: { scheduler: 'mh' } } });
  for (const v of st.virtualServers) {
    assert.equal(v.persistentTimeout, 10800);
    assert.equal(v.scheduler, 'mh');
    assert.deepEqual(v.schedFlags, ['mh-port']);
  }
  assert.equal(st.virtualServers.length, 3);
});

test('graceful termination: a real server that is gone stays at weight 0 while it drains', () => {
  const svc = makeTestService('ns1', 'svc1', { clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] });
  const before = fakeSync({ services: [svc], slices: [ep80([{ ip: '10.180.0.1' }, { ip: '10.180.0.2' }])], nodeIPs: [] });
  const after = fakeSync({ services: [svc], slices: [ep80([{ ip: '10.180.0.1' }, { ip: '10.180.0.2', ready: false, serving: true, terminating: true } as never])], nodeIPs: [], previous: before });
  assert.deepEqual(ipvsMap(after), { '10.20.30.41:80/TCP rr': ['10.180.0.1:80 w1', '10.180.0.2:80 w0'] });
  assert.equal(after.virtualServers[0]!.realServers.find((r) => r.weight === 0)?.terminating, true);
});

test('terminating endpoints are used (weight 1) only when no endpoint is ready, as CategorizeEndpoints falls back', () => {
  const svc = makeTestService('ns1', 'svc1', { clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] });
  const st = fakeSync({ services: [svc], slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.2', ready: false, serving: true, terminating: true }], [{ name: 'p80', port: 80, protocol: 'TCP' }])], nodeIPs: [] });
  assert.deepEqual(ipvsMap(st), { '10.20.30.41:80/TCP rr': ['10.180.0.2:80 w1'] });
});

test('IPv6: sets are KUBE-6-…, truncated to 31 characters, family inet6; the loopback RETURN is ::1/128', () => {
  const svc = makeTestService('ns1', 'svc1', { clusterIP: '2020::1', ipFamilies: ['IPv6'], ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] });
  const st = fakeSync({ services: [svc], slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv6', [{ ip: '1002:ab8::2:1' }], [{ name: 'p80', port: 80, protocol: 'TCP' }])], nodeIPs: ['2001:db8::1:1'], family: 'IPv6' });
  const names = st.ipsets.map((s) => s.name);
  assert.ok(names.includes('KUBE-6-CLUSTER-IP'));
  assert.ok(names.includes('KUBE-6-LOAD-BALANCER-SOURCE-CID'), names.join(' '));
  assert.ok(names.every((n) => n.length <= 31));
  assert.deepEqual(members(st, 'KUBE-6-CLUSTER-IP'), ['2020::1,tcp:80']);
  assert.equal(st.ipsets.find((s) => s.name === 'KUBE-6-CLUSTER-IP')!.family, 'inet6');
  assert.deepEqual(st.iptables.tables[0]!.chains[0]!.rules[0]!.words, ['-s', '::1/128', '-j', 'RETURN']);
});
