// serialize and parse: ipvsadm -Sn / -Ln (--stats, --rate), ipset save, the combined dump, the address list.
import assert from 'node:assert/strict';
import test from 'node:test';
import { parseIpsetSave, parseIpvsDump, parseIpvsadmList, parseIpvsadmSave, mergeIpvsLists, serializeAddresses, serializeCompanionRestore, serializeIpsetSave, serializeIpvsadm, serializeIpvsOutput } from '../../../src/core/ipvs/index.js';
import { fakeSync, makeTestEndpointSlice, makeTestService } from './helpers.js';

const state = () =>
  fakeSync({
    services: [makeTestService('ns1', 'svc1', { type: 'NodePort', clusterIP: '10.20.30.41', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 3053 }] })],
    slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1', node: 'test-hostname' }, { ip: '10.180.0.2' }], [{ name: 'p80', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }])],
    nodeIPs: ['100.101.102.103'],
  });

test('ipvsadm -Sn text: -A with scheduler and persistence, -a with -m -w, ordered by address', () => {
  assert.equal(
    serializeIpvsadm([state()]),
    [
      '-A -u 10.20.30.41:53 -s rr -p 600',
      '-a -u 10.20.30.41:53 -r 10.180.0.1:53 -m -w 1',
      '-a -u 10.20.30.41:53 -r 10.180.0.2:53 -m -w 1',
      '-A -t 10.20.30.41:80 -s rr -p 600',
      '-a -t 10.20.30.41:80 -r 10.180.0.1:8080 -m -w 1',
      '-a -t 10.20.30.41:80 -r 10.180.0.2:8080 -m -w 1',
      '-A -t 100.101.102.103:3001 -s rr -p 600',
      '-a -t 100.101.102.103:3001 -r 10.180.0.1:8080 -m -w 1',
      '-a -t 100.101.102.103:3001 -r 10.180.0.2:8080 -m -w 1',
      '-A -u 100.101.102.103:3053 -s rr -p 600',
      '-a -u 100.101.102.103:3053 -r 10.180.0.1:53 -m -w 1',
      '-a -u 100.101.102.103:3053 -r 10.180.0.2:53 -m -w 1',
      '',
    ].join('\n'),
  );
});

test('ipset save text: create lines as kube-proxy creates the sets, members sorted', () => {
  const text = serializeIpsetSave([state()]);
  assert.match(text, /^create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536\nadd KUBE-LOOP-BACK 10.180.0.1,tcp:8080,10.180.0.1\nadd KUBE-LOOP-BACK 10.180.0.1,udp:53,10.180.0.1\n/);
  assert.match(text, /\ncreate KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 3001\n/);
  assert.match(text, /\ncreate KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536\nadd KUBE-IPVS-IPS 10.20.30.41\n$/);
});

test('round trip: -o ipvsadm text + iptables-save parse back to the same virtual servers, sets and rules', () => {
  const st = state();
  const back = parseIpvsDump(serializeIpvsOutput([st]) + serializeCompanionRestore([st]), 'IPv4', 'dump');
  const strip = (v: (typeof st.virtualServers)[number]) => ({ ...v, servicePort: undefined, kind: undefined });
  assert.deepEqual(
    back.virtualServers.map((v) => JSON.stringify({ ...v, servicePort: undefined, kind: undefined })).sort(),
    st.virtualServers.map((v) => JSON.stringify(strip(v))).sort(),
  );
  assert.deepEqual(back.ipsets.map((s) => [s.name, s.members]), st.ipsets.map((s) => [s.name, s.members]));
  assert.deepEqual(back.addresses, ['10.20.30.41']);
  assert.deepEqual(back.iptables.tables.map((t) => t.chains.map((c) => [c.name, c.rules.length])), st.iptables.tables.map((t) => t.chains.map((c) => [c.name, c.rules.length])));
});

test('ipvsadm -Ln, --stats and --rate listings parse and merge (K/M suffixes, IPv6, persistence)', () => {
  const plain = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.1:443 rr
  -> 192.168.49.2:8443            Masq    1      3          12        
UDP  10.96.0.10:53 sh persistent 10800
  -> 10.244.0.2:53                Masq    1      0          4         
  -> 10.244.0.3:53                Masq    0      0          0         
TCP  [fd00::10]:80 mh (mh-port)
  -> [fd00:244::5]:8080           Masq    1      0          0         
`;
  const stats = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.96.0.1:443                      15     1200     1100     120K    2.5M
  -> 192.168.49.2:8443                  15     1200     1100     120K    2.5M
`;
  const rate = `Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.96.0.1:443                        1       10        9      800     1600
  -> 192.168.49.2:8443                    1       10        9      800     1600
`;
  const vs = mergeIpvsLists(parseIpvsadmList(plain), parseIpvsadmList(stats), parseIpvsadmList(rate));
  assert.equal(vs.length, 3);
  assert.deepEqual(vs[0]!.realServers[0], { address: '192.168.49.2', port: 8443, weight: 1, forward: 'Masq', activeConns: 3, inactiveConns: 12, stats: { conns: 15, inPkts: 1200, outPkts: 1100, inBytes: 120000, outBytes: 2500000 }, rate: { conns: 1, inPkts: 10, outPkts: 9, inBytes: 800, outBytes: 1600 } });
  assert.equal(vs[1]!.persistentTimeout, 10800);
  assert.equal(vs[1]!.realServers[1]!.weight, 0);
  assert.deepEqual([vs[2]!.address, vs[2]!.scheduler, vs[2]!.schedFlags], ['fd00::10', 'mh', ['mh-port']]);
});

test('ipvsadm -Sn as the tool prints it (long flags too) parses', () => {
  const v = parseIpvsadmSave('-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 192.168.49.2:8443 -m -w 1\n-A --sctp-service [fd00::1]:80 -s sh -b sh-fallback,sh-port -p 60\n-a --sctp-service [fd00::1]:80 -r [fd00::2]:80 -m -w 0\n');
  assert.deepEqual(v.map((x) => [x.protocol, x.address, x.port, x.scheduler, x.schedFlags, x.persistentTimeout, x.realServers.map((r) => `${r.address}:${r.port}/${r.weight}/${r.forward}`)]), [
    ['TCP', '10.96.0.1', 443, 'rr', [], null, ['192.168.49.2:8443/1/Masq']],
    ['SCTP', 'fd00::1', 80, 'sh', ['sh-fallback', 'sh-port'], 60, ['fd00::2:80/0/Masq']],
  ]);
  assert.throws(() => parseIpvsadmSave('-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 1\n', 'f'), /f line 1: real server for 10.0.0.1:80 before its virtual server/);
});

test('ipset save from a real kernel (bucketsize, initval) parses', () => {
  const sets = parseIpsetSave('create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x5b2a1fd8\nadd KUBE-CLUSTER-IP 10.96.0.1,tcp:443\ncreate KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 30080\n');
  assert.deepEqual(sets, [
    { name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', family: 'inet', hashsize: 1024, maxelem: 65536, members: ['10.96.0.1,tcp:443'] },
    { name: 'KUBE-NODE-PORT-TCP', type: 'bitmap:port', range: '0-65535', members: ['30080'] },
  ]);
});

test('kube-ipvs0 address list', () => {
  assert.equal(serializeAddresses([state()]), '10.20.30.41/32\n');
});

test('combined dumps holding an `ipvsadm -Ln` listing keep the real servers of each virtual server (the `  -> ` lines)', () => {
    const listing = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.96.0.10:53 rr',
      '  -> 10.244.0.2:53                Masq    1      0          0',
      '  -> 10.244.0.3:53                Masq    1      1          0',
      '',
    ].join('\n');
    const state = parseIpvsDump(listing, 'IPv4', 'listing') as unknown as { virtualServers: Array<{ port: number; realServers: unknown[] }> };
    assert.deepEqual(state.virtualServers.map((v) => [v.port, v.realServers.length]), [[53, 2]]);
});
