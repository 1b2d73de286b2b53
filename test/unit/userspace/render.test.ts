// The portal rules proxier.go writes (openPortal, openOnePortal, openNodePort and the iptables*Args
// builders, v1.25), as the cases of proxier_test.go's TestProxyUpdatePublicIPs / TestProxyUpdatePortal
// exercise them: per service port a from-container rule and a from-host rule for the cluster IP and each
// load-balancer IP, three rules for each external IP, three for a node port; REDIRECT when the proxy
// listens on every address, DNAT to the bound address otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { portalJumpRules, renderUserspace, userspaceMode } from '../../../src/core/userspace/index.js';
import type { UserspaceState } from '../../../src/core/userspace/index.js';
import { NODE_IP, view } from './fixtures.js';

const rulesOf = (s: UserspaceState, chain: string) =>
  s.rules.tables.flatMap((t) => t.chains).find((c) => c.name === chain)!.rules.map((r) => r.words.join(' '));

describe('userspace portal rules', () => {
  it('a cluster IP: one from-container REDIRECT and one from-host DNAT to the node IP, each with the service port as comment', () => {
    const { view: v, config } = view([{ name: 'echo', clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80 }], endpoints: ['10.244.0.5'] }]);
    const [s] = renderUserspace(v, config);
    assert.deepEqual(rulesOf(s!, 'KUBE-PORTALS-CONTAINER'), ['-m comment --comment default/echo:http -p tcp -m tcp --dport 80 -d 10.96.0.50/32 -j REDIRECT --to-ports 32768']);
    assert.deepEqual(rulesOf(s!, 'KUBE-PORTALS-HOST'), [`-m comment --comment default/echo:http -p tcp -m tcp --dport 80 -d 10.96.0.50/32 -j DNAT --to-destination ${NODE_IP}:32768`]);
    assert.deepEqual(rulesOf(s!, 'KUBE-NODEPORT-CONTAINER'), []);
  });

  it('external IPs: not-bridged-in and dst-LOCAL from containers, dst-LOCAL from the host (TestProxyUpdatePublicIPs)', () => {
    const { view: v, config } = view([{ name: 'echo', clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80 }], externalIPs: ['4.3.2.1'], endpoints: ['10.244.0.5'] }]);
    const [s] = renderUserspace(v, config);
    assert.deepEqual(rulesOf(s!, 'KUBE-PORTALS-CONTAINER').slice(1), [
      '-m comment --comment default/echo:http -p tcp -m tcp --dport 80 -d 4.3.2.1/32 -m physdev ! --physdev-is-in -j REDIRECT --to-ports 32768',
      '-m comment --comment default/echo:http -p tcp -m tcp --dport 80 -d 4.3.2.1/32 -m addrtype --dst-type LOCAL -j REDIRECT --to-ports 32768',
    ]);
    assert.deepEqual(rulesOf(s!, 'KUBE-PORTALS-HOST').slice(1), [`-m comment --comment default/echo:http -p tcp -m tcp --dport 80 -d 4.3.2.1/32 -m addrtype --dst-type LOCAL -j DNAT --to-destination ${NODE_IP}:32768`]);
  });

  it('a node port and a load-balancer IP, UDP: node-port chains without -d, and NON-LOCAL accepting the proxy port', () => {
    const { view: v, config } = view([{ name: 'dns', clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }], lbIPs: ['5.6.7.8'], endpoints: ['10.244.0.2'] }]);
    const [s] = renderUserspace(v, config);
    assert.deepEqual(rulesOf(s!, 'KUBE-PORTALS-CONTAINER'), [
      '-m comment --comment default/dns:dns -p udp -m udp --dport 53 -d 10.96.0.10/32 -j REDIRECT --to-ports 32768',
      '-m comment --comment default/dns:dns -p udp -m udp --dport 53 -d 5.6.7.8/32 -j REDIRECT --to-ports 32768',
    ]);
    assert.deepEqual(rulesOf(s!, 'KUBE-NODEPORT-CONTAINER'), ['-m comment --comment default/dns:dns -p udp -m udp --dport 30053 -j REDIRECT --to-ports 32768']);
    assert.deepEqual(rulesOf(s!, 'KUBE-NODEPORT-HOST'), [`-m comment --comment default/dns:dns -p udp -m udp --dport 30053 -j DNAT --to-destination ${NODE_IP}:32768`]);
    assert.deepEqual(rulesOf(s!, 'KUBE-NODEPORT-NON-LOCAL'), ['-m comment --comment default/dns:dns -p udp -m udp --dport 32768 -m state --state NEW -j ACCEPT']);
  });

  it('a bound listen address (bindAddress) makes from-container rules DNAT to it too', () => {
    const { view: v, config } = view([{ name: 'echo', clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80 }], endpoints: ['10.244.0.5'] }], { bindAddress: '192.168.77.9' });
    const [s] = renderUserspace(v, config);
    assert.match(rulesOf(s!, 'KUBE-PORTALS-CONTAINER')[0]!, /-j DNAT --to-destination 192\.168\.77\.9:32768$/);
    assert.match(rulesOf(s!, 'KUBE-PORTALS-HOST')[0]!, /-j DNAT --to-destination 192\.168\.77\.9:32768$/);
  });

  it('proxy ports: stand-ins in service-port order from 32768, or from portRange\'s base; SCTP gets no proxy', () => {
    const specs = [
      { name: 'a', clusterIP: '10.96.0.1', ports: [{ name: 'p', port: 1 }, { name: 'q', port: 2, protocol: 'UDP' as const }] },
      { name: 'b', clusterIP: '10.96.0.2', ports: [{ name: 's', port: 3, protocol: 'SCTP' as const }] },
    ];
    const plain = renderUserspace(view(specs).view, view(specs).config)[0]!;
    assert.deepEqual(plain.proxies.map((p) => `${p.servicePort} ${p.protocol} ${p.proxyPort}`), ['default/a:p TCP 32768', 'default/a:q UDP 32769']);
    const { view: v, config } = view(specs, { portRange: '40000-40010' });
    assert.deepEqual(renderUserspace(v, config)[0]!.proxies.map((p) => p.proxyPort), [40000, 40001]);
  });

  it('IPv6: /128 destinations and bracketed DNAT targets', () => {
    const { view: v, config } = view([{ name: 'six', clusterIP: 'fd00:10:96::5', ports: [{ name: 'http', port: 80 }], endpoints: ['fd00:10:244::5'] }], {}, ['fd00:77::2']);
    const s = renderUserspace(v, config).find((x) => x.family === 'IPv6')!;
    assert.deepEqual(rulesOf(s, 'KUBE-PORTALS-HOST'), ['-m comment --comment default/six:http -p tcp -m tcp --dport 80 -d fd00:10:96::5/128 -j DNAT --to-destination [fd00:77::2]:32768']);
    assert.deepEqual(s.proxies[0]!.endpoints, ['[fd00:10:244::5]:80']);
  });

  it('one family only (the userspace proxier never ran dual-stack): the node\'s primary IP\'s, or bindAddress\'s', () => {
    const specs = [
      { name: 'four', clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80 }] },
      { name: 'six', clusterIP: 'fd00:10:96::5', ports: [{ name: 'http', port: 80 }] },
    ];
    const dual = view(specs, {}, ['192.168.77.2', 'fd00:77::2']);
    assert.equal(dual.view.families.length, 2);
    assert.deepEqual(renderUserspace(dual.view, dual.config).map((s) => `${s.family} ${s.proxies.map((p) => p.servicePort)}`), ['IPv4 default/four:http']);
    const sixFirst = view(specs, {}, ['fd00:77::2', '192.168.77.2']);
    assert.deepEqual(renderUserspace(sixFirst.view, sixFirst.config).map((s) => s.family), ['IPv6']);
    const bound = view(specs, { bindAddress: 'fd00:77::2' }, ['192.168.77.2', 'fd00:77::2']);
    assert.deepEqual(renderUserspace(bound.view, bound.config).map((s) => s.family), ['IPv6']);
  });

  it('endpoints: ready ones only (BuildPortsToEndpointsMap); ClientIP affinity carries its timeout', () => {
    const { view: v, config } = view([{ name: 'cart', clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: ['10.244.0.9', '10.244.0.10'], notReady: ['10.244.0.11'], affinitySeconds: 600 }]);
    const p = renderUserspace(v, config)[0]!.proxies[0]!;
    assert.deepEqual(p.endpoints, ['10.244.0.10:8080', '10.244.0.9:8080']);
    assert.equal(p.affinitySeconds, 600);
  });

  it('restore text: filter then nat, only the five chains; the jumps are iptablesInit\'s, portals before node ports', () => {
    const { view: v, config } = view([{ name: 'echo', clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, nodePort: 30080 }], endpoints: ['10.244.0.5'] }]);
    const text = userspaceMode.formats.restore!.write(renderUserspace(v, config));
    assert.deepEqual(text.split('\n').filter((l) => /^[*:]|COMMIT/.test(l)), ['*filter', ':KUBE-NODEPORT-NON-LOCAL - [0:0]', 'COMMIT', '*nat', ':KUBE-PORTALS-CONTAINER - [0:0]', ':KUBE-PORTALS-HOST - [0:0]', ':KUBE-NODEPORT-CONTAINER - [0:0]', ':KUBE-NODEPORT-HOST - [0:0]', 'COMMIT']);
    const jumps = portalJumpRules();
    assert.deepEqual(jumps.map((j) => `${j.chain} ${j.position} ${j.target}`), [
      'PREROUTING prepend KUBE-PORTALS-CONTAINER',
      'OUTPUT prepend KUBE-PORTALS-HOST',
      'PREROUTING append KUBE-NODEPORT-CONTAINER',
      'OUTPUT append KUBE-NODEPORT-HOST',
      'INPUT prepend KUBE-NODEPORT-NON-LOCAL',
    ]);
    assert.ok(jumps[2]!.words.join(' ').startsWith('-m addrtype --dst-type LOCAL -m comment --comment'));
  });
});
