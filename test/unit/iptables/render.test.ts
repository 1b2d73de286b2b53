// renderIptables and its pieces: chain-name hashing, probabilities, the mark, local-traffic detection
// per detectLocalMode, nodePortAddresses, host facts (nfacct, --random-fully, tcp_be_liberal), large-
// cluster mode, IPv6, and the jump rules kept outside the restore. Upstream tests ported here are named;
// their source is pkg/proxy/iptables/proxier_test.go @ 531be81208e2274ef42e72525a26610a9622bcdf.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlatformDefaults, setDefaults, type KubeProxyConfiguration } from '../../../src/core/config/index.js';
import { buildProxyState } from '../../../src/core/model/index.js';
import type { EndpointSlice, Service } from '../../../src/core/objects/types.js';
import {
  KUBE_CHAINS,
  canaryChains,
  chainNames,
  computeProbability,
  endpointChainName,
  formatMasqueradeMark,
  jumpRules,
  nodePortAddressesFor,
  renderIptables,
  restoreRuleText,
  serializeRestore,
  type IptablesNode,
  type RenderInput,
  type Ruleset,
} from '../../../src/core/iptables/index.js';
import { objectsFromYAML } from '../model/fixtures.js';

function config(input: Record<string, unknown> = {}): KubeProxyConfiguration {
  return applyPlatformDefaults(setDefaults(input as never));
}

const NODE4: IptablesNode = { name: 'test-node', ips: ['192.168.0.2'], podCIDRs: ['10.0.1.0/24'] };
const NODE6: IptablesNode = { name: 'test-node', ips: ['2001:db8::1'], podCIDRs: ['fd00:10:0:1::/64'] };

function render(yaml: string, opts: Partial<RenderInput> & { family?: 'IPv4' | 'IPv6'; cfg?: Record<string, unknown> } = {}): Ruleset {
  const family = opts.family ?? 'IPv4';
  const objects = objectsFromYAML(yaml);
  const state = buildProxyState(objects, { ipFamily: family, nodeName: 'test-node' });
  const { family: _f, cfg, ...rest } = opts;
  return renderIptables({ state, config: config(cfg ?? { clusterCIDR: '10.0.0.0/8,fd00:10::/64' }), node: family === 'IPv4' ? NODE4 : NODE6, ...rest });
}

function chain(rs: Ruleset, table: string, name: string): string[] {
  const c = rs.tables.find((t) => t.name === table)?.chains.find((ch) => ch.name === name);
  return c ? c.rules.map((r) => `-A ${name} ${restoreRuleText(r)}`) : [];
}

const SVC = `
kind: Service
metadata: {namespace: ns1, name: svc1}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ipFamilyPolicy: PreferDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIP: 172.30.0.41
  clusterIPs: [172.30.0.41, "fd00:172:30::41"]
  ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]
  healthCheckNodePort: 30000
status:
  loadBalancer:
    ingress: [{ip: 1.2.3.4}, {ip: "2001:db8:99::4"}]
---
kind: EndpointSlice
metadata: {namespace: ns1, name: svc1-a, labels: {kubernetes.io/service-name: svc1}}
addressType: IPv4
endpoints: [{addresses: [10.180.0.1], nodeName: test-node}, {addresses: [10.180.2.1], nodeName: other}]
ports: [{name: p80, port: 80, protocol: TCP}]
---
kind: EndpointSlice
metadata: {namespace: ns1, name: svc1-b, labels: {kubernetes.io/service-name: svc1}}
addressType: IPv6
endpoints: [{addresses: ["fd00:10:180::1"], nodeName: test-node}]
ports: [{name: p80, port: 80, protocol: TCP}]
`;

describe('chain names', () => {
  it('hash service port name + protocol (+ endpoint) as upstream does', () => {
    assert.deepEqual(chainNames('ns1/svc1:p80', 'tcp'), {
      svc: 'KUBE-SVC-XPGD46QRK7WJZT7O',
      svl: 'KUBE-SVL-XPGD46QRK7WJZT7O',
      ext: 'KUBE-EXT-XPGD46QRK7WJZT7O',
      fw: 'KUBE-FW-XPGD46QRK7WJZT7O',
    });
    assert.equal(chainNames('ns1/svc1:p80', 'TCP').svc, 'KUBE-SVC-XPGD46QRK7WJZT7O');
    assert.equal(chainNames('ns2/svc2:p80', 'tcp').svc, 'KUBE-SVC-GNZBNJ2PO5MGZ6GT');
    assert.equal(chainNames('ns5/svc5:p80', 'tcp').fw, 'KUBE-FW-NUKIZ6OKUXPJNT4C');
    assert.equal(chainNames('ns4/svc4:p8082', 'tcp').svc, 'KUBE-SVC-EBDQOQU5SJFXRIL3');
    assert.equal(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
    assert.equal(endpointChainName('ns1/svc1:p80', 'tcp', '10.0.0.0:80'), 'KUBE-SEP-DKGQUZGBKLTPAR56');
    assert.equal(endpointChainName('ns3/svc3:p8081', 'tcp', '203.0.113.4:8081'), 'KUBE-SEP-RUVVH7YV3PHQBDOS');
  });

  it('names the top-level chains and their tables', () => {
    assert.deepEqual(KUBE_CHAINS.services, { name: 'KUBE-SERVICES', tables: ['filter', 'nat'] });
    assert.deepEqual(KUBE_CHAINS.canary.tables, ['mangle', 'nat', 'filter']);
    assert.deepEqual(canaryChains(), [
      { table: 'mangle', chain: 'KUBE-PROXY-CANARY' },
      { table: 'nat', chain: 'KUBE-PROXY-CANARY' },
      { table: 'filter', chain: 'KUBE-PROXY-CANARY' },
    ]);
  });
});

describe('computeProbability (TestComputeProbability)', () => {
  it('prints %0.10f of 1/n', () => {
    const expected: Record<number, string> = {
      1: '1.0000000000',
      2: '0.5000000000',
      10: '0.1000000000',
      100: '0.0100000000',
      1000: '0.0010000000',
      10000: '0.0001000000',
      100000: '0.0000100000',
      100001: '0.0000099999',
    };
    for (const [n, p] of Object.entries(expected)) assert.equal(computeProbability(Number(n)), p);
  });
  it('rounds exact ties to even as Go does (toFixed would not)', () => {
    assert.equal(computeProbability(2048), '0.0004882812');
    assert.equal((1 / 2048).toFixed(10), '0.0004882813');
  });
  it('is strictly increasing as n falls from 100000 to 2', () => {
    let prev = 0;
    for (let i = 100000; i > 1; i--) {
      const p = Number(computeProbability(i));
      assert.ok(p > prev, `probability for ${i}`);
      prev = p;
    }
  });
});

describe('masquerade mark', () => {
  it('is "%#08x" of 1<<masqueradeBit, as kube-proxy prints it', () => {
    assert.equal(formatMasqueradeMark(14), '0x00004000');
    assert.equal(formatMasqueradeMark(0), '0x00000001');
    assert.equal(formatMasqueradeMark(31), '0x80000000');
  });
  it('appears in KUBE-POSTROUTING, KUBE-MARK-MASQ and KUBE-FORWARD; real nodes get --random-fully', () => {
    const rs = render(SVC);
    assert.deepEqual(chain(rs, 'nat', 'KUBE-POSTROUTING'), [
      '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000',
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]);
    assert.deepEqual(chain(rs, 'nat', 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000']);
    const bit = render(SVC, { cfg: { clusterCIDR: '10.0.0.0/8', iptables: { masqueradeBit: 2 } } });
    assert.deepEqual(chain(bit, 'nat', 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x00000004']);
  });
  it('TestMasqueradeRule: --random-fully only when iptables supports it', () => {
    for (const randomFully of [false, true]) {
      const rs = render('', { masqueradeMark: '0x4000', randomFully });
      assert.deepEqual(chain(rs, 'nat', 'KUBE-POSTROUTING'), [
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
        `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}`,
      ]);
    }
  });
});

describe('TestDropInvalidRule', () => {
  const forward = [
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ];
  it('drops ctstate INVALID, counted by nfacct when the counter exists', () => {
    assert.deepEqual(chain(render('', { masqueradeMark: '0x4000', nfacct: false }), 'filter', 'KUBE-FORWARD'), [
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
      ...forward,
    ]);
    assert.deepEqual(chain(render('', { masqueradeMark: '0x4000', nfacct: true }), 'filter', 'KUBE-FORWARD'), [
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
      ...forward,
    ]);
  });
  it('not with nf_conntrack_tcp_be_liberal (the default follows conntrack.tcpBeLiberal)', () => {
    assert.deepEqual(chain(render('', { masqueradeMark: '0x4000', conntrackTCPBeLiberal: true }), 'filter', 'KUBE-FORWARD'), forward);
    const liberal = render('', { masqueradeMark: '0x4000', cfg: { conntrack: { tcpBeLiberal: true } } });
    assert.deepEqual(chain(liberal, 'filter', 'KUBE-FORWARD'), forward);
  });
});

describe('local traffic detection (detectLocalMode)', () => {
  const ext = (rs: Ruleset) => chain(rs, 'nat', 'KUBE-EXT-XPGD46QRK7WJZT7O')[0];
  const svcMasq = (rs: Ruleset) => chain(rs, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O')[0];

  it('ClusterCIDR: the CIDR of the family, from a dual-stack clusterCIDR', () => {
    assert.match(svcMasq(render(SVC))!, / ! -s 10\.0\.0\.0\/8 -j KUBE-MARK-MASQ$/);
    assert.match(ext(render(SVC))!, /"pod traffic for ns1\/svc1:p80 external destinations" -s 10\.0\.0\.0\/8 -j KUBE-SVC-/);
    const v6 = render(SVC, { family: 'IPv6' });
    assert.match(svcMasq(v6)!, / -d fd00:172:30::41 --dport 80 ! -s fd00:10::\/64 -j KUBE-MARK-MASQ$/);
  });
  it('ClusterCIDR without a CIDR of the family: no detector, so no masquerade rule and no pod short-circuit', () => {
    const rs = render(SVC, { cfg: { clusterCIDR: 'fd00:10::/64' } });
    assert.equal(svcMasq(rs), '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ');
    assert.match(ext(rs)!, /masquerade LOCAL traffic/);
  });
  it('NodeCIDR: the node’s pod CIDR of the family', () => {
    const rs = render(SVC, { cfg: { detectLocalMode: 'NodeCIDR' } });
    assert.match(svcMasq(rs)!, / ! -s 10\.0\.1\.0\/24 -j KUBE-MARK-MASQ$/);
    assert.match(svcMasq(render(SVC, { family: 'IPv6', cfg: { detectLocalMode: 'NodeCIDR' } }))!, / ! -s fd00:10:0:1::\/64 -j /);
  });
  it('BridgeInterface and InterfaceNamePrefix: by input interface, for both families', () => {
    const bridge = render(SVC, { cfg: { detectLocalMode: 'BridgeInterface', detectLocal: { bridgeInterface: 'cbr0' } } });
    assert.match(svcMasq(bridge)!, / ! -i cbr0 -j KUBE-MARK-MASQ$/);
    assert.match(ext(bridge)!, /external destinations" -i cbr0 -j KUBE-SVC-/);
    const prefix = render(SVC, { family: 'IPv6', cfg: { detectLocalMode: 'InterfaceNamePrefix', detectLocal: { interfaceNamePrefix: 'veth' } } });
    assert.match(svcMasq(prefix)!, / ! -i veth\+ -j KUBE-MARK-MASQ$/);
    assert.match(ext(prefix)!, /external destinations" -i veth\+ -j KUBE-SVC-/);
  });
  it('masqueradeAll: every cluster IP packet is marked, detector or not', () => {
    const rs = render(SVC, { cfg: { clusterCIDR: '10.0.0.0/8', iptables: { masqueradeAll: true } } });
    assert.equal(
      svcMasq(rs),
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ',
    );
  });
});

describe('nodePortAddresses', () => {
  const last = (rs: Ruleset) => chain(rs, 'nat', 'KUBE-SERVICES').filter((l) => l.endsWith('-j KUBE-NODEPORTS'));
  it('unset: every local address, localhost NodePorts allowed (IPv4) or excluded', () => {
    assert.deepEqual(last(render(SVC)), [
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]);
    assert.match(last(render(SVC, { cfg: { clusterCIDR: '10.0.0.0/8', iptables: { localhostNodePorts: false } } }))[0]!, /--dst-type LOCAL ! -d 127\.0\.0\.0\/8 -j KUBE-NODEPORTS$/);
    assert.match(last(render(SVC, { family: 'IPv6' }))[0]!, /--dst-type LOCAL ! -d ::1\/128 -j KUBE-NODEPORTS$/);
  });
  it('CIDRs: one rule per matching local address (loopback only with localhost NodePorts)', () => {
    const node: IptablesNode = { ...NODE4, localAddresses: ['127.0.0.1', '192.168.0.2', '10.9.0.7', '192.168.0.9'] };
    const rs = render(SVC, { node, cfg: { clusterCIDR: '10.0.0.0/8', nodePortAddresses: ['192.168.0.0/24', '127.0.0.0/8', '2001:db8::/64'] } });
    assert.deepEqual(
      last(rs).map((l) => l.replace(/^.*this chain" /, '')),
      ['-d 192.168.0.2 -j KUBE-NODEPORTS', '-d 192.168.0.9 -j KUBE-NODEPORTS', '-d 127.0.0.1 -j KUBE-NODEPORTS'],
    );
    // 127.0.0.0/8 is in the list, so localhost NodePorts stay on (KUBE-FIREWALL, nfacct rule)
    assert.equal(chain(rs, 'filter', 'KUBE-FIREWALL').length, 1);
    const without = render(SVC, { node, cfg: { clusterCIDR: '10.0.0.0/8', nodePortAddresses: ['192.168.0.0/24'] } });
    assert.equal(chain(without, 'filter', 'KUBE-FIREWALL').length, 0);
    assert.ok(!chain(without, 'nat', 'KUBE-NODEPORTS').some((l) => l.includes('127.0.0.0/8')));
  });
  it('"primary": the node IP of the family; a family without one matches everything', () => {
    const rs = render(SVC, { cfg: { clusterCIDR: '10.0.0.0/8', nodePortAddresses: ['primary'] } });
    assert.deepEqual(last(rs).map((l) => l.replace(/^.*this chain" /, '')), ['-d 192.168.0.2 -j KUBE-NODEPORTS']);
    assert.deepEqual(nodePortAddressesFor(['primary'], 'IPv6', null), { cidrs: ['::/0'], matchAll: true, containsIPv4Loopback: false });
    assert.deepEqual(nodePortAddressesFor(['10.0.0.0/8', '0.0.0.0/0', '127.0.0.1/32'], 'IPv4', null), {
      cidrs: ['0.0.0.0/0'],
      matchAll: true,
      containsIPv4Loopback: true,
    });
  });
});

describe('health check node port, IPv6 and localhost NodePorts', () => {
  it('writes the health check ACCEPT and the localhost nfacct NodePort rule (IPv4)', () => {
    const rs = render(SVC);
    assert.deepEqual(chain(rs, 'filter', 'KUBE-NODEPORTS'), [
      '-A KUBE-NODEPORTS -m comment --comment "ns1/svc1:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT',
    ]);
    assert.deepEqual(chain(rs, 'nat', 'KUBE-NODEPORTS'), [
      '-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    ]);
    // without the nfacct counter there is no separate localhost rule
    assert.equal(chain(render(SVC, { nfacct: false }), 'nat', 'KUBE-NODEPORTS').length, 1);
  });
  it('IPv6: no KUBE-FIREWALL, no localhost rule, bracketed DNAT targets', () => {
    const rs = render(SVC, { family: 'IPv6' });
    assert.ok(!rs.tables[0]!.chains.some((c) => c.name === 'KUBE-FIREWALL'));
    assert.deepEqual(chain(rs, 'nat', 'KUBE-NODEPORTS'), [
      '-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    ]);
    const text = serializeRestore(rs);
    assert.ok(text.includes('-d 2001:db8:99::4 --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O'));
    assert.ok(text.includes('-j DNAT --to-destination [fd00:10:180::1]:80'));
    assert.equal(rs.family, 'IPv6');
  });
});

describe('TestLoadBalancerIngressRouteTypeProxy', () => {
  for (const [name, ipMode, expected] of [
    ['ipMode Proxy', 'Proxy', false],
    ['ipMode VIP', 'VIP', true],
    ['ipMode nil', undefined, true],
  ] as const) {
    it(name, () => {
      const yaml = `
kind: Service
metadata: {namespace: ns1, name: svc1}
spec:
  type: LoadBalancer
  clusterIP: 10.20.30.41
  ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]
status:
  loadBalancer:
    ingress: [{ip: 1.2.3.4${ipMode ? `, ipMode: ${ipMode}` : ''}}]
---
kind: EndpointSlice
metadata: {namespace: ns1, name: svc1-1, labels: {kubernetes.io/service-name: svc1}}
addressType: IPv4
endpoints: [{addresses: [10.180.0.1]}]
ports: [{name: p80, port: 80, protocol: TCP}]
`;
      const rules = render(yaml).tables[1]!.chains.find((c) => c.name === 'KUBE-SERVICES')!.rules;
      assert.equal(rules.some((r) => r.words[r.words.indexOf('-d') + 1] === '1.2.3.4'), expected);
    });
  }
});

describe('large-cluster mode (TestSyncProxyRulesLargeClusterMode)', () => {
  function objects(n: number): { services: Service[]; endpointSlices: EndpointSlice[] } {
    return {
      services: [{ kind: 'Service', metadata: { namespace: 'ns1', name: 'svc1' }, spec: { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] } }],
      endpointSlices: [
        {
          kind: 'EndpointSlice',
          metadata: { namespace: 'ns1', name: 'svc1-1', labels: { 'kubernetes.io/service-name': 'svc1' } },
          addressType: 'IPv4',
          endpoints: Array.from({ length: n }, (_, i) => ({ addresses: [`10.0.${i % 256}.${Math.floor(i / 256)}`] })),
          ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
        },
      ],
    };
  }
  const run = (n: number, largeClusterMode?: boolean) => {
    const state = buildProxyState(objects(n), { ipFamily: 'IPv4', nodeName: 'test-node' });
    return serializeRestore(renderIptables({ state, config: config({ clusterCIDR: '10.0.0.0/8' }), node: NODE4, ...(largeClusterMode === undefined ? {} : { largeClusterMode }) }));
  };
  it('keeps comments up to 1000 endpoints and drops those of SEP and SVC->SEP rules above', () => {
    assert.ok(run(1000).includes('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n'));
    const large = run(1001);
    assert.ok(large.includes('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n'));
    assert.ok(large.includes('-A KUBE-SVC-XPGD46QRK7WJZT7O -m statistic --mode random --probability 0.0009990010 -j KUBE-SEP-DKGQUZGBKLTPAR56\n'));
    // the service's own masquerade rule keeps its comment
    assert.ok(large.includes('-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" '));
  });
  it('can be forced either way', () => {
    assert.ok(!run(2, true).includes('--comment ns1/svc1:p80 '));
    assert.ok(run(1001, false).includes('--comment ns1/svc1:p80 -m tcp -p tcp -j DNAT'));
  });
});

describe('jumpRules', () => {
  it('lists iptablesJumpChains then the kubelet KUBE-FIREWALL jumps, all prepended', () => {
    const rules = jumpRules(config(), 'IPv4');
    assert.equal(rules.length, 14);
    assert.ok(rules.every((r) => r.position === 'prepend'));
    assert.deepEqual(rules[0], {
      table: 'filter',
      chain: 'INPUT',
      target: 'KUBE-EXTERNAL-SERVICES',
      words: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES'],
      position: 'prepend',
      removedOnCleanup: true,
    });
    assert.deepEqual(
      rules.map((r) => `${r.table} ${r.chain} -> ${r.target}`),
      [
        'filter INPUT -> KUBE-EXTERNAL-SERVICES',
        'filter FORWARD -> KUBE-EXTERNAL-SERVICES',
        'filter INPUT -> KUBE-NODEPORTS',
        'filter FORWARD -> KUBE-SERVICES',
        'filter OUTPUT -> KUBE-SERVICES',
        'filter FORWARD -> KUBE-FORWARD',
        'filter INPUT -> KUBE-PROXY-FIREWALL',
        'filter OUTPUT -> KUBE-PROXY-FIREWALL',
        'filter FORWARD -> KUBE-PROXY-FIREWALL',
        'nat OUTPUT -> KUBE-SERVICES',
        'nat PREROUTING -> KUBE-SERVICES',
        'nat POSTROUTING -> KUBE-POSTROUTING',
        'filter INPUT -> KUBE-FIREWALL',
        'filter OUTPUT -> KUBE-FIREWALL',
      ],
    );
    assert.deepEqual(rules[12]!.words, ['-j', 'KUBE-FIREWALL']);
    assert.equal(rules[12]!.removedOnCleanup, false);
    assert.deepEqual(rules[11]!.words, ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING']);
    assert.deepEqual(jumpRules(config(), 'IPv6'), rules);
  });
});

describe('determinism', () => {
  it('gives the same bytes whatever the order of the objects', () => {
    const { services, endpointSlices } = objectsFromYAML(SVC + `
---
kind: Service
metadata: {namespace: a, name: first}
spec: {clusterIP: 172.30.9.9, ports: [{name: x, port: 1, protocol: UDP}]}
---
kind: EndpointSlice
metadata: {namespace: a, name: first-1, labels: {kubernetes.io/service-name: first}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.2]}, {addresses: [10.9.0.10]}]
ports: [{name: x, port: 1, protocol: UDP}]
`);
    const a = buildProxyState({ services, endpointSlices }, { ipFamily: 'IPv4', nodeName: 'test-node' });
    const b = buildProxyState({ services: [...services].reverse(), endpointSlices: [...endpointSlices].reverse() }, { ipFamily: 'IPv4', nodeName: 'test-node' });
    const cfg = config({ clusterCIDR: '10.0.0.0/8' });
    assert.equal(serializeRestore(renderIptables({ state: a, config: cfg, node: NODE4 })), serializeRestore(renderIptables({ state: b, config: cfg, node: NODE4 })));
  });
});
