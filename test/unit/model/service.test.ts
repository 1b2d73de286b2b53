// Service -> service ports, as kube-proxy's serviceToServiceMap / newBaseServiceInfo build them.
// Cases follow upstream's servicechangetracker_test.go (TestServiceToServiceMap and friends) plus the
// rules of pkg/api/v1/service/util.go and pkg/proxy/util.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IPFamily, Service } from '../../../src/core/objects/types.js';
import {
  buildProxyState,
  externallyAccessible,
  serviceIPFamilies,
  servicePortNameString,
  serviceToServicePorts,
  shouldSkipService,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../../../src/core/model/index.js';
import { objectsFromYAML, sp } from './fixtures.js';

function svc(yaml: string): Service {
  const { services } = objectsFromYAML(yaml);
  assert.equal(services.length, 1);
  return services[0]!;
}

function portsOf(s: Service, family: IPFamily = 'IPv4') {
  return serviceToServicePorts(s, family);
}

describe('servicePortNameString', () => {
  it('is ns/name:port, and ns/name when the port has no name (protocol never appears)', () => {
    assert.equal(servicePortNameString({ namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'UDP' }), 'ns1/svc1:p80');
    assert.equal(servicePortNameString({ namespace: 'ns1', name: 'svc1', port: '', protocol: 'TCP' }), 'ns1/svc1');
  });
});

describe('which services kube-proxy proxies', () => {
  const base = (extra: string) => `
kind: Service
metadata: {namespace: ns2, name: s${extra.length}}
spec:
  ${extra}
  ports: [{name: rpc, protocol: UDP, port: 1234}]
`;
  it('skips headless services (clusterIP None or empty)', () => {
    assert.equal(shouldSkipService(svc(base('clusterIP: None'))), true);
    assert.equal(shouldSkipService(svc(base('clusterIP: ""'))), true);
    assert.equal(shouldSkipService(svc(base('type: ClusterIP'))), true); // no clusterIP at all
    assert.deepEqual(portsOf(svc(base('clusterIP: None'))), []);
  });
  it('skips ExternalName services even when a clusterIP is set', () => {
    const s = svc(`
kind: Service
metadata: {namespace: ns2, name: external-name}
spec: {type: ExternalName, clusterIP: 172.16.55.4, externalName: foo2.bar.com, ports: [{name: portz, protocol: UDP, port: 1235}]}
`);
    assert.equal(shouldSkipService(s), true);
    assert.deepEqual(portsOf(s), []);
    // the same service as ClusterIP is proxied, so the type is what skips it
    assert.equal(portsOf({ ...s, spec: { ...s.spec, type: 'ClusterIP' } }).length, 1);
  });
  it('skips services labelled for another proxy or as headless, whatever the value', () => {
    const labelled = (labels: string) =>
      svc(`
kind: Service
metadata: {namespace: ns, name: s, labels: ${labels}}
spec: {clusterIP: 10.0.0.1, ports: [{name: p, port: 80}]}
`);
    assert.deepEqual(portsOf(labelled('{service.kubernetes.io/service-proxy-name: cilium}')), []);
    assert.deepEqual(portsOf(labelled('{service.kubernetes.io/service-proxy-name: ""}')), []);
    assert.deepEqual(portsOf(labelled('{service.kubernetes.io/headless: ""}')), []);
    assert.equal(portsOf(labelled('{app: web}')).length, 1);
  });
});

describe('service port fields', () => {
  it('cluster IP service: one port per spec port, keyed by name, protocol kept', () => {
    const ports = portsOf(
      svc(`
kind: Service
metadata: {namespace: ns2, name: cluster-ip}
spec:
  type: ClusterIP
  clusterIP: 172.16.55.4
  ports:
  - {name: p1, protocol: UDP, port: 1234, nodePort: 4321}
  - {name: p2, protocol: UDP, port: 1235, nodePort: 5321}
`),
    );
    assert.deepEqual(
      ports.map((p) => [p.key, p.clusterIP, p.port, p.protocol]),
      [
        ['ns2/cluster-ip:p1', '172.16.55.4', 1234, 'UDP'],
        ['ns2/cluster-ip:p2', '172.16.55.4', 1235, 'UDP'],
      ],
    );
    assert.deepEqual(ports[0]!.name, { namespace: 'ns2', name: 'cluster-ip', port: 'p1', protocol: 'UDP' });
  });

  it('protocol defaults to TCP; SCTP is kept', () => {
    const ports = portsOf(
      svc(`
kind: Service
metadata: {namespace: ns, name: s}
spec: {clusterIP: 10.0.0.1, ports: [{name: a, port: 80}, {name: b, protocol: SCTP, port: 7777}]}
`),
    );
    assert.deepEqual(ports.map((p) => p.protocol), ['TCP', 'SCTP']);
  });

  it('an unnamed port is keyed "ns/name" with an empty port name', () => {
    const [p] = portsOf(svc(`{kind: Service, metadata: {namespace: ns, name: web}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}`));
    assert.equal(p!.key, 'ns/web');
    assert.equal(p!.name.port, '');
  });

  it('NodePort: the node port is carried and makes the port externally accessible', () => {
    const [p1, p2] = portsOf(
      svc(`
kind: Service
metadata: {namespace: ns2, name: node-port}
spec:
  type: NodePort
  clusterIP: 172.16.55.10
  ports: [{name: port1, protocol: UDP, port: 345, nodePort: 678}, {name: port2, protocol: TCP, port: 344, nodePort: 677}]
`),
    );
    assert.equal(p1!.nodePort, 678);
    assert.equal(p2!.nodePort, 677);
    assert.equal(externallyAccessible(p1!), true);
    const plain = portsOf(svc(`{kind: Service, metadata: {namespace: n, name: c}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}`));
    assert.equal(plain[0]!.nodePort, 0);
    assert.equal(externallyAccessible(plain[0]!), false);
  });

  it('LoadBalancer: ingress IPs become VIPs unless ipMode is Proxy; hostnames are ignored', () => {
    const lb = (ipMode: string) =>
      portsOf(
        svc(`
kind: Service
metadata: {namespace: ns1, name: load-balancer}
spec:
  type: LoadBalancer
  clusterIP: 172.16.55.11
  loadBalancerIP: 5.6.7.8
  ports: [{name: port3, protocol: UDP, port: 8675, nodePort: 30061}]
status:
  loadBalancer:
    ingress: [{ip: 10.1.2.4${ipMode}}, {hostname: lb.example.com}]
`),
      )[0]!;
    assert.deepEqual(lb('').loadBalancerVIPs, ['10.1.2.4']);
    assert.deepEqual(lb(', ipMode: VIP').loadBalancerVIPs, ['10.1.2.4']);
    assert.deepEqual(lb(', ipMode: Proxy').loadBalancerVIPs, []);
    // spec.loadBalancerIP is not an ingress address and is never programmed
    assert.ok(!lb('').loadBalancerVIPs.includes('5.6.7.8'));
  });

  const mixed = (name: string, clusterIP: string) => `
kind: Service
metadata: {namespace: test, name: ${name}}
spec:
  clusterIP: "${clusterIP}"
  externalIPs: [8.8.8.8, "2001:db8:85a3:0:0:8a2e:370:7335", not-an-ip, ""]
  loadBalancerSourceRanges: [0.0.0.0/1, "2001:db8::/32"]
  ports: [{name: testPort, protocol: TCP, port: 12345}]
status:
  loadBalancer:
    ingress: [{ip: 8.8.8.8}, {ip: "2001:db8:85a3:0:0:8a2e:370:7335"}]
`;

  it('IPv4 mode keeps only IPv4 external IPs, source ranges and VIPs', () => {
    const [p] = portsOf(svc(mixed('filterIPv6InIPV4Mode', '10.0.0.1')), 'IPv4');
    assert.deepEqual(p!.externalIPs, ['8.8.8.8']);
    assert.deepEqual(p!.loadBalancerSourceRanges, ['0.0.0.0/1']);
    assert.deepEqual(p!.loadBalancerVIPs, ['8.8.8.8']);
  });

  it('IPv6 mode keeps only IPv6 ones, printed in canonical form', () => {
    const [p] = portsOf(svc(mixed('filterIPv4InIPV6Mode', '2001:db8:85a3:0:0:8a2e:370:7334')), 'IPv6');
    assert.equal(p!.clusterIP, '2001:db8:85a3::8a2e:370:7334');
    assert.deepEqual(p!.externalIPs, ['2001:db8:85a3::8a2e:370:7335']);
    assert.deepEqual(p!.loadBalancerSourceRanges, ['2001:db8::/32']);
    assert.deepEqual(p!.loadBalancerVIPs, ['2001:db8:85a3::8a2e:370:7335']);
  });

  it('a pre-dual-stack service whose clusterIP is of the other family is not proxied', () => {
    assert.deepEqual(portsOf(svc(mixed('invalidIPv6InIPV4Mode', '2001:db8:85a3:0:0:8a2e:370:7334')), 'IPv4'), []);
    assert.deepEqual(portsOf(svc(mixed('invalidIPv4InIPV6Mode', '10.0.0.1')), 'IPv6'), []);
  });

  it('loadBalancerSourceRanges are trimmed and printed as networks; invalid ones dropped', () => {
    const [p] = portsOf(
      svc(`
kind: Service
metadata: {namespace: test, name: extra-space}
spec:
  clusterIP: 10.0.0.1
  loadBalancerSourceRanges: [" 10.1.2.0/28", "192.168.7.9/24 ", "10.0.0.0/33", garbage]
  ports: [{name: testPort, port: 12345}]
`),
    );
    assert.deepEqual(p!.loadBalancerSourceRanges, ['10.1.2.0/28', '192.168.7.0/24']);
  });

  it('sessionAffinity ClientIP takes timeoutSeconds, defaulting to 10800; otherwise None', () => {
    const withAffinity = (cfg: string) =>
      portsOf(
        svc(`
kind: Service
metadata: {namespace: ns, name: s}
spec: {clusterIP: 10.0.0.1, sessionAffinity: ClientIP, ${cfg} ports: [{port: 80}]}
`),
      )[0]!.sessionAffinity;
    assert.deepEqual(withAffinity(''), { type: 'ClientIP', maxAgeSeconds: 10800 });
    assert.deepEqual(withAffinity('sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}},'), {
      type: 'ClientIP',
      maxAgeSeconds: 60,
    });
    const none = portsOf(svc(`{kind: Service, metadata: {namespace: n, name: s}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}`));
    assert.deepEqual(none[0]!.sessionAffinity, { type: 'None' });
  });
});

describe('traffic policies and health check node port', () => {
  const withPolicy = (spec: string) =>
    portsOf(
      svc(`
kind: Service
metadata: {namespace: ns1, name: only-local-load-balancer}
spec: {clusterIP: 172.16.55.12, ${spec}, ports: [{name: portx, protocol: UDP, port: 8677, nodePort: 30063}]}
status: {loadBalancer: {ingress: [{ip: 10.1.2.3}]}}
`),
    )[0]!;

  it('LoadBalancer with externalTrafficPolicy Local: external policy Local and the health check node port', () => {
    const p = withPolicy('type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 345');
    assert.equal(p.externalPolicyLocal, true);
    assert.equal(p.healthCheckNodePort, 345);
  });
  it('LoadBalancer with externalTrafficPolicy Cluster has no health check node port', () => {
    const p = withPolicy('type: LoadBalancer, externalTrafficPolicy: Cluster, healthCheckNodePort: 345');
    assert.equal(p.externalPolicyLocal, false);
    assert.equal(p.healthCheckNodePort, 0);
  });
  it('NodePort with Local policy: external policy Local but no health check (only load balancers need one)', () => {
    const p = withPolicy('type: NodePort, externalTrafficPolicy: Local, healthCheckNodePort: 345');
    assert.equal(p.externalPolicyLocal, true);
    assert.equal(p.healthCheckNodePort, 0);
  });
  it('externalTrafficPolicy Local counts only when the service is externally accessible by type', () => {
    assert.equal(withPolicy('type: ClusterIP, externalTrafficPolicy: Local').externalPolicyLocal, false);
    assert.equal(
      withPolicy('type: ClusterIP, externalIPs: [1.2.3.4], externalTrafficPolicy: Local').externalPolicyLocal,
      true,
    );
  });
  it('internalTrafficPolicy Local sets internalPolicyLocal', () => {
    assert.equal(withPolicy('internalTrafficPolicy: Local').internalPolicyLocal, true);
    assert.equal(withPolicy('internalTrafficPolicy: Cluster').internalPolicyLocal, false);
  });

  it('usesClusterEndpoints / usesLocalEndpoints follow both policies and external accessibility', () => {
    const cases: Array<[Partial<Parameters<typeof sp>[0]>, boolean, boolean]> = [
      [{}, true, false],
      [{ internalPolicyLocal: true }, false, true],
      [{ internalPolicyLocal: true, nodePort: 30000 }, true, true],
      [{ externalPolicyLocal: true }, true, false], // not externally accessible: eTP ignored
      [{ externalPolicyLocal: true, nodePort: 30000 }, true, true],
      [{ externalPolicyLocal: true, externalIPs: ['1.2.3.4'] }, true, true],
      [{ externalPolicyLocal: true, loadBalancerVIPs: ['5.6.7.8'] }, true, true],
    ];
    for (const [f, cluster, local] of cases) {
      assert.equal(usesClusterEndpoints(sp(f)), cluster, JSON.stringify(f));
      assert.equal(usesLocalEndpoints(sp(f)), local, JSON.stringify(f));
    }
  });

  it('trafficDistribution and the topology-mode annotation are carried for display', () => {
    const [p] = portsOf(
      svc(`
kind: Service
metadata: {namespace: ns, name: s, annotations: {service.kubernetes.io/topology-mode: Auto}}
spec: {clusterIP: 10.0.0.1, trafficDistribution: PreferClose, ports: [{port: 80}]}
`),
    );
    assert.equal(p!.trafficDistribution, 'PreferClose');
    assert.equal(p!.hintsAnnotation, 'Auto');
  });
});

describe('dual stack', () => {
  const dual = svc(`
kind: Service
metadata: {namespace: ns, name: dual}
spec:
  ipFamilyPolicy: PreferDualStack
  ipFamilies: [IPv6, IPv4]
  clusterIP: fd00:10:96::a
  clusterIPs: [fd00:10:96::a, 10.96.0.10]
  ports: [{name: http, port: 80}]
`);
  const v6only = svc(`
kind: Service
metadata: {namespace: ns, name: v6only}
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  clusterIP: fd00:10:96::b
  clusterIPs: [fd00:10:96::b]
  ports: [{name: http, port: 80}]
`);

  it('each family state gets the cluster IP of its own family', () => {
    const objects = { services: [dual, v6only], endpointSlices: [] };
    const v4 = buildProxyState(objects, { ipFamily: 'IPv4', nodeName: 'n' });
    const v6 = buildProxyState(objects, { ipFamily: 'IPv6', nodeName: 'n' });
    assert.deepEqual([...v4.serviceMap.keys()], ['ns/dual:http']);
    assert.equal(v4.serviceMap.get('ns/dual:http')!.clusterIP, '10.96.0.10');
    assert.deepEqual([...v6.serviceMap.keys()], ['ns/dual:http', 'ns/v6only:http']);
    assert.equal(v6.serviceMap.get('ns/dual:http')!.clusterIP, 'fd00:10:96::a');
  });

  it('serviceIPFamilies lists the families programmed, primary first', () => {
    assert.deepEqual(serviceIPFamilies(dual), ['IPv6', 'IPv4']);
    assert.deepEqual(serviceIPFamilies(v6only), ['IPv6']);
    assert.deepEqual(serviceIPFamilies(svc(`{kind: Service, metadata: {namespace: n, name: s}, spec: {clusterIP: 10.0.0.1}}`)), ['IPv4']);
    assert.deepEqual(serviceIPFamilies(svc(`{kind: Service, metadata: {namespace: n, name: s}, spec: {clusterIP: None, ipFamilies: [IPv4]}}`)), []);
    // ipFamilies is authoritative: a family listed without a matching clusterIPs entry is not programmed
    assert.deepEqual(
      serviceIPFamilies(svc(`{kind: Service, metadata: {namespace: n, name: s}, spec: {clusterIP: 10.0.0.1, clusterIPs: [10.0.0.1], ipFamilies: [IPv4, IPv6]}}`)),
      ['IPv4'],
    );
  });
});

describe('serviceMap', () => {
  it('is ordered by key and the last object for a namespace/name wins', () => {
    const { services } = objectsFromYAML(`
kind: Service
metadata: {namespace: b, name: z}
spec: {clusterIP: 10.0.0.2, ports: [{name: x, port: 1}]}
---
kind: Service
metadata: {namespace: a, name: y}
spec: {clusterIP: 10.0.0.1, ports: [{name: x, port: 1}]}
---
kind: Service
metadata: {namespace: b, name: z}
spec: {clusterIP: 10.0.0.3, ports: [{name: x, port: 2}]}
`);
    const st = buildProxyState({ services, endpointSlices: [] }, { ipFamily: 'IPv4', nodeName: 'n' });
    assert.deepEqual([...st.serviceMap.keys()], ['a/y:x', 'b/z:x']);
    assert.equal(st.serviceMap.get('b/z:x')!.clusterIP, '10.0.0.3');
    assert.equal(st.serviceMap.get('b/z:x')!.port, 2);
  });
});
