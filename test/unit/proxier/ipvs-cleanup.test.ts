// sync --cleanup, the ipvs part (host/ipvs-cleanup.ts): which virtual servers are kube-proxy's, and the
// commands run for them and kube-ipvs0, through a scripted runner that records every call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandResult } from '../../../src/core/host/backend.js';
import { cleanupIpvs, deleteVirtualServersText, kubeProxyVirtualServers, linkKind } from '../../../src/core/host/ipvs-cleanup.js';
import { parseIpvsadmSave } from '../../../src/core/ipvs/parse.js';
import { cleanupHost } from '../../../src/core/proxier/index.js';

const SAVE = [
  '-A -t 10.96.0.10:53 -s rr',
  '-a -t 10.96.0.10:53 -r 10.244.1.5:53 -m -w 1',
  '-A -u 10.96.0.10:53 -s rr',
  '-A -t 192.168.0.7:30080 -s rr', // a node port on the node's address
  '-A --sctp-service 192.168.0.7:30132 -s rr', // an SCTP node port
  '-A -t 203.0.113.9:443 -s rr', // a load-balancer IP, known only from its set (device already gone)
  '-A -t [fd00::10]:80 -s rr',
  '-A -t 192.168.0.7:8443 -s wlc', // keepalived's, not kube-proxy's
  '-A -u 172.16.0.1:53 -s rr', // another foreign one
  '',
].join('\n');

const SETS = [
  { name: 'KUBE-NODE-PORT-TCP', members: ['30080'] },
  { name: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', members: ['192.168.0.7,sctp:30132'] },
  { name: 'KUBE-LOAD-BALANCER', members: ['203.0.113.9,tcp:443'] },
  { name: 'KUBE-6-CLUSTER-IP', members: ['fd00::10,tcp:80'] },
  { name: 'SOMEONE-ELSES', members: ['172.16.0.1,udp:53', '8443'] },
];

test('kube-proxy\'s virtual servers: bound to kube-ipvs0, in its service sets, or on a node port; others are kept', () => {
  const all = parseIpvsadmSave(SAVE);
  const ours = kubeProxyVirtualServers(all, { bound: ['10.96.0.10'], sets: SETS });
  assert.deepEqual(ours.map((v) => `${v.protocol} ${v.address}:${v.port}`), ['TCP 10.96.0.10:53', 'UDP 10.96.0.10:53', 'TCP 192.168.0.7:30080', 'SCTP 192.168.0.7:30132', 'TCP 203.0.113.9:443', 'TCP fd00::10:80']);
  // a UDP service on a TCP node port's number is not a node port
  const udp = parseIpvsadmSave('-A -u 192.168.0.7:30080 -s rr\n');
  assert.deepEqual(kubeProxyVirtualServers(udp, { bound: [], sets: SETS }), []);
  // nothing marks them: nothing is kube-proxy's
  assert.deepEqual(kubeProxyVirtualServers(all, { bound: [], sets: [] }), []);
});

test('the deletion is ipvsadm-restore input, one -D per virtual server, IPv6 in brackets', () => {
  const text = deleteVirtualServersText(parseIpvsadmSave('-A -t 10.96.0.10:53 -s rr\n-A -u 10.96.0.10:53 -s rr\n-A --sctp-service 192.168.0.7:30132 -s rr\n-A -t [fd00::10]:80 -s rr\n'));
  assert.equal(text, '-D -t 10.96.0.10:53\n-D -u 10.96.0.10:53\n-D --sctp-service 192.168.0.7:30132\n-D -t [fd00::10]:80\n');
});

/** A runner answering by the command line's start; every call recorded with its stdin. */
function scripted(answers: Record<string, Partial<CommandResult>>) {
  const calls: Array<{ argv: string; stdin?: string }> = [];
  const run = async (argv: readonly string[], stdin?: string): Promise<CommandResult> => {
    const line = argv.join(' ');
    calls.push({ argv: line, ...(stdin !== undefined ? { stdin } : {}) });
    const key = Object.keys(answers).filter((k) => line.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    const a = key !== undefined ? answers[key]! : { code: 127, stderr: 'spawn ENOENT' };
    return { code: a.code ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  };
  return { run, calls };
}

// `ip -d -o link show` lines as iproute2 6.x prints them (the bridge, ifb and lo ones taken on this machine)
const DUMMY_LINK = '2: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default \\    link/ether 6a:1c:0e:3f:8b:21 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 0 maxmtu 0 \\    dummy addrgenmode eui64 numtxqueues 1 numrxqueues 1\n';
const BRIDGE_LINK = '2: kube-ipvs0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 0a:39:93:02:db:8c brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \\    bridge forward_delay 1500 hello_time 200 max_age 2000 stp_state 0 priority 32768 addrgenmode eui64\n';

test('the link kind: dummy, bridge, ifb, and a device without one', () => {
  assert.equal(linkKind(DUMMY_LINK), 'dummy');
  assert.equal(linkKind(BRIDGE_LINK), 'bridge');
  assert.equal(linkKind('3: i0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 32\\    link/ether 0e:2d:bf:be:63:ef brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 \\    ifb addrgenmode eui64 numtxqueues 1\n'), 'ifb');
  assert.equal(linkKind('1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1\n'), 'plain');
});

const IPSET_SAVE = [
  'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535',
  'add KUBE-NODE-PORT-TCP 30080',
  'create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 65536',
  'add KUBE-LOAD-BALANCER 203.0.113.9,tcp:443',
  '',
].join('\n');

test('cleanupIpvs: reads the device, the table and the sets, deletes kube-proxy\'s servers in one ipvsadm -R, then kube-ipvs0', async () => {
  const { run, calls } = scripted({
    'ip -d -o link show dev kube-ipvs0': { stdout: DUMMY_LINK },
    'ip -o addr show dev kube-ipvs0': { stdout: '5: kube-ipvs0    inet 10.96.0.10/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n' },
    'ipvsadm -Sn': { stdout: SAVE },
    'ipset save': { stdout: IPSET_SAVE },
    'ipvsadm -R': {},
    'ip link del kube-ipvs0': {},
  });
  const notes: string[] = [];
  const removed = await cleanupIpvs(run, (l) => notes.push(l));
  assert.deepEqual(calls.map((c) => c.argv), ['ip -d -o link show dev kube-ipvs0', 'ip -o addr show dev kube-ipvs0', 'ipvsadm -Sn', 'ipset save', 'ipvsadm -R', 'ip link del kube-ipvs0']);
  assert.equal(calls[4]!.stdin, '-D -t 10.96.0.10:53\n-D -u 10.96.0.10:53\n-D -t 192.168.0.7:30080\n-D -t 203.0.113.9:443\n');
  assert.deepEqual(removed, ['4 IPVS virtual servers of kube-proxy', 'kube-ipvs0 with 1 service address']);
  assert.deepEqual(notes, ['4 IPVS virtual servers not made by kube-proxy left in place.']);
});

test('cleanupIpvs on a kernel without IPVS: no virtual server touched, nothing said of it, kube-ipvs0 still removed', async () => {
  const { run, calls } = scripted({
    'ip -d -o link show dev kube-ipvs0': { stdout: DUMMY_LINK },
    'ip -o addr show dev kube-ipvs0': { stdout: '' },
    'ipvsadm -Sn': { code: 2, stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" },
    'ip link del kube-ipvs0': {},
  });
  const notes: string[] = [];
  assert.deepEqual(await cleanupIpvs(run, (l) => notes.push(l)), ['kube-ipvs0 with 0 service addresses']);
  assert.deepEqual(calls.map((c) => c.argv), ['ip -d -o link show dev kube-ipvs0', 'ip -o addr show dev kube-ipvs0', 'ipvsadm -Sn', 'ip link del kube-ipvs0']);
  assert.deepEqual(notes, []);
});

test('cleanupIpvs without ipvsadm says the servers were not checked; without the device it deletes none', async () => {
  const { run, calls } = scripted({ 'ip -d -o link show dev kube-ipvs0': { code: 1, stderr: 'Device "kube-ipvs0" does not exist.' } });
  const notes: string[] = [];
  assert.deepEqual(await cleanupIpvs(run, (l) => notes.push(l)), []);
  assert.deepEqual(calls.map((c) => c.argv), ['ip -d -o link show dev kube-ipvs0', 'ipvsadm -Sn']);
  assert.deepEqual(notes, ['IPVS virtual servers not checked: ipvsadm is not installed.']);
});

test('cleanupIpvs: a refused deletion is one sentence naming the command, and kube-ipvs0 is kept', async () => {
  const { run, calls } = scripted({
    'ip -d -o link show dev kube-ipvs0': { stdout: DUMMY_LINK },
    'ip -o addr show dev kube-ipvs0': { stdout: '5: kube-ipvs0    inet 10.96.0.10/32 scope global kube-ipvs0\n' },
    'ipvsadm -Sn': { stdout: '-A -t 10.96.0.10:53 -s rr\n' },
    'ipset save': { stdout: '' },
    'ipvsadm -R': { code: 1, stderr: 'Memory allocation problem\n' },
  });
  await assert.rejects(cleanupIpvs(run), (e: Error) => /^`ipvsadm -R` failed \(exit 1: Memory allocation problem\)\.$/.test(e.message));
  assert.ok(!calls.some((c) => c.argv.startsWith('ip link del')));
});

test('cleanupHost removes the ipvs part before it destroys the ipsets that tell node ports', async () => {
  const { run, calls } = scripted({
    'ip -d -o link show dev kube-ipvs0': { stdout: DUMMY_LINK },
    'ip -o addr show dev kube-ipvs0': { stdout: '5: kube-ipvs0    inet 10.96.0.10/32 scope global kube-ipvs0\n' },
    'ipvsadm -Sn': { stdout: '-A -t 192.168.0.7:30080 -s rr\n' },
    'ipset save': { stdout: IPSET_SAVE },
    'ipvsadm -R': {},
    'ip link del kube-ipvs0': {},
    'nft --version': { code: 127 },
    'ipset list -n': { stdout: 'KUBE-NODE-PORT-TCP\nKUBE-LOAD-BALANCER\n' },
    'ipset destroy': {},
  });
  const removed = await cleanupHost({ run, description: 'test host' });
  const order = calls.map((c) => c.argv);
  assert.ok(order.indexOf('ipvsadm -R') < order.indexOf('ipset destroy KUBE-NODE-PORT-TCP'));
  assert.equal(calls.find((c) => c.argv === 'ipvsadm -R')!.stdin, '-D -t 192.168.0.7:30080\n');
  assert.deepEqual(removed, ['1 IPVS virtual server of kube-proxy', 'kube-ipvs0 with 1 service address', 'ipset KUBE-NODE-PORT-TCP', 'ipset KUBE-LOAD-BALANCER']);
});

test('cleanupIpvs leaves a kube-ipvs0 that is not a dummy link, and its addresses mark no virtual server', async () => {
  const { run, calls } = scripted({
    'ip -d -o link show dev kube-ipvs0': { stdout: BRIDGE_LINK },
    'ipvsadm -Sn': { stdout: '-A -t 10.96.0.10:53 -s rr\n' },
    'ipset save': { stdout: '' },
  });
  const notes: string[] = [];
  assert.deepEqual(await cleanupIpvs(run, (l) => notes.push(l)), []);
  assert.deepEqual(calls.map((c) => c.argv), ['ip -d -o link show dev kube-ipvs0', 'ipvsadm -Sn', 'ipset save']);
  assert.deepEqual(notes, ['kube-ipvs0 is a bridge link, not the dummy kube-proxy makes: left in place.', '1 IPVS virtual server not made by kube-proxy left in place.']);
});
