// checkObjects: what kube-proxy skips is left out with one warning per object; duplicates are said.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkObjects } from '../../../src/core/objects/check.js';
import type { LocatedObject } from '../../../src/core/objects/decode.js';
import type { EndpointSlice, KubeObject, Node, Service } from '../../../src/core/objects/types.js';

const at = (object: KubeObject, where = 'f.yaml:1'): LocatedObject => ({ object, where });
const svc = (spec: Service['spec'], name = 'web'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec });
const slice = (s: Partial<EndpointSlice>): EndpointSlice => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'shop' }, addressType: 'IPv4', ...s });

describe('checkObjects', () => {
  it('passes valid objects through untouched (the same objects) and says nothing', () => {
    const s = svc({ clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] });
    const e = slice({ endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
    const headless = svc({ clusterIP: 'None', ports: [{ port: 80 }] }, 'headless');
    const r = checkObjects([at(s), at(e), at(headless)]);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.objects[0], s);
    assert.equal(r.objects[1], e);
    assert.equal(r.objects.length, 3);
  });

  it('a Service whose cluster IP (or one of clusterIPs) is not an address is left out, named with its place', () => {
    const r = checkObjects([at(svc({ clusterIP: '999.1.1.1', ports: [{ port: 80 }] }), 's.yaml:7'), at(svc({ clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.2', 'fd00::x'] }, 'dual'))]);
    assert.equal(r.objects.length, 0);
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0], /^Service shop\/web \(s\.yaml:7\): spec\.clusterIP "999\.1\.1\.1" \(not an IP address, so the whole Service/);
    assert.match(r.warnings[1], /^Service shop\/dual \(f\.yaml:1\): spec\.clusterIPs\[1\] "fd00::x"/);
  });

  it('bad service ports (0, 70000, -1, "eighty", missing, a bad nodePort or protocol) are left out in one warning', () => {
    const ports = [{ port: 0 }, { port: 70000 }, { port: -1 }, { port: 'eighty' }, { name: 'none' }, { port: 81, nodePort: 99999 }, { port: 82, protocol: 'ICMP' }, { name: 'ok', port: 80 }] as never;
    const r = checkObjects([at(svc({ clusterIP: '10.96.0.3', ports }))]);
    assert.equal(r.warnings.length, 1);
    assert.equal(
      r.warnings[0],
      'Service shop/web (f.yaml:1): spec.ports[0].port 0 (not 1-65535), spec.ports[1].port 70000 (not 1-65535), spec.ports[2].port -1 (not 1-65535), spec.ports[3].port "eighty" (not 1-65535), spec.ports[4].port missing (not 1-65535), spec.ports[5].nodePort 99999 (not 0-65535), spec.ports[6].protocol "ICMP" (not TCP, UDP or SCTP); kube-proxy skips these, so they are left out.',
    );
    assert.deepEqual((r.objects[0] as Service).spec!.ports, [{ name: 'ok', port: 80 }]);
  });

  it('a health-check node port out of range is dropped', () => {
    const r = checkObjects([at(svc({ clusterIP: '10.96.0.8', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 70000, ports: [{ port: 80 }] }))]);
    assert.equal(r.warnings[0], 'Service shop/web (f.yaml:1): spec.healthCheckNodePort 70000 (not 0-65535); kube-proxy skips it, so it is left out.');
    assert.equal((r.objects[0] as Service).spec!.healthCheckNodePort, undefined);
  });

  it('externalIPs and load-balancer IPs that are not addresses are skipped', () => {
    const s: Service = { ...svc({ clusterIP: '10.96.0.4', externalIPs: ['1.2.3.4', 'nope'], ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }, { ip: '5.6.7' }, { hostname: 'lb.example' }] } } };
    const r = checkObjects([at(s)]);
    assert.match(r.warnings[0], /spec\.externalIPs\[1\] "nope" \(not an IP address\), status\.loadBalancer\.ingress\[1\]\.ip "5\.6\.7" \(not an IP address\); kube-proxy skips these/);
    const out = r.objects[0] as Service;
    assert.deepEqual(out.spec!.externalIPs, ['1.2.3.4']);
    assert.deepEqual(out.status!.loadBalancer!.ingress, [{ ip: '5.6.7.8' }, { hostname: 'lb.example' }]);
    assert.deepEqual(s.spec!.externalIPs, ['1.2.3.4', 'nope'], 'the input object is not changed');
  });

  it('endpoints whose first address is not an IP, or of the other family, and ports kube-proxy ignores, are left out', () => {
    const e = slice({
      endpoints: [{ addresses: ['not-an-ip'] }, { addresses: ['fd00::1'] }, { addresses: [] }, { addresses: ['10.0.0.9'] }],
      ports: [{ name: 'a', port: 0 }, { port: 80 }, { name: 'b', port: 'eighty' as never }, { name: 'c', port: 8080 }],
    });
    const r = checkObjects([at(e)]);
    assert.equal(r.warnings.length, 1);
    assert.equal(
      r.warnings[0],
      'EndpointSlice shop/web-1 (f.yaml:1): ports[0].port 0 (not 1-65535), ports[1].name missing (a port with no name), ports[2].port "eighty" (not 1-65535), endpoints[0].addresses[0] "not-an-ip" (not an IP address), endpoints[1].addresses[0] "fd00::1" (IPv6 in an IPv4 slice), endpoints[2].addresses empty; kube-proxy skips these, so they are left out.',
    );
    const out = r.objects[0] as EndpointSlice;
    assert.deepEqual(out.endpoints, [{ addresses: ['10.0.0.9'] }]);
    assert.deepEqual(out.ports, [{ name: 'c', port: 8080 }]);
    // An IPv6 slice keeps IPv6 and drops IPv4.
    const v6 = checkObjects([at(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::2'] }, { addresses: ['10.0.0.1'] }], ports: [{ name: '', port: 80 }] }))]);
    assert.match(v6.warnings[0], /endpoints\[1\]\.addresses\[0\] "10\.0\.0\.1" \(IPv4 in an IPv6 slice\); kube-proxy skips it, so it is left out\.$/);
  });

  it('Node addresses that are not IPs are left out; hostnames are not addresses to check', () => {
    const n: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.300' }, { type: 'Hostname', address: 'w1' }, { type: 'InternalIP', address: '10.0.0.3' }] } };
    const r = checkObjects([at(n)]);
    assert.equal(r.warnings[0], 'Node w1 (f.yaml:1): status.addresses[0].address "10.0.0.300" (InternalIP, not an IP address); kube-proxy skips it, so it is left out.');
    assert.deepEqual((r.objects[0] as Node).status!.addresses!.map((a) => a.address), ['w1', '10.0.0.3']);
  });

  it('the same object twice: the later one is used in the earlier one\'s place, and said; identical copies are read once', () => {
    const a = svc({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] });
    const b = svc({ clusterIP: '10.96.0.6', ports: [{ port: 80 }] });
    const other = svc({ clusterIP: '10.96.0.7', ports: [{ port: 80 }] }, 'other');
    const r = checkObjects([at(a, 'a.yaml:1'), at(other), at(b, 'b.yaml:3')]);
    assert.deepEqual(r.objects, [other, b]);
    assert.deepEqual(r.warnings, ['Service shop/web (b.yaml:3) is given twice (also at a.yaml:1); the later one is used, as kubectl apply would leave it.']);
    const same = checkObjects([at(a, 'a.yaml:1'), at(structuredClone(a), 'a2.yaml:1')]);
    assert.equal(same.objects.length, 1);
    assert.match(same.warnings[0], /is given twice \(also at a\.yaml:1\), identically; it is read once\.$/);
    // Same name in another namespace, or another kind, is not a duplicate.
    const ns = checkObjects([at(a), at({ ...a, metadata: { name: 'web', namespace: 'other' } }), at({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'shop' } })]);
    assert.deepEqual(ns.warnings, []);
  });
});
