// The fallback decision (pure) and the host side (probe, apply order, failure reporting) through a scripted runner.
import assert from 'node:assert/strict';
import test from 'node:test';
import { IpvsApplyError, IpvsCommandBackend, applyIpvsState, probeIpvsSupport, type CommandRunner, type IptablesBackend } from '../../../src/core/host/index.js';
import { decideIpvs, missingModules, parseIpvsadmSave, type IpvsProbe } from '../../../src/core/ipvs/index.js';
import { fakeSync, makeTestEndpointSlice, makeTestService } from './helpers.js';

const ok: IpvsProbe = { ipvsAvailable: true, schedulerUsable: true, modules: ['ip_vs', 'ip_vs_rr', 'nf_conntrack'], moduleListsReadable: true, ipsetVersion: '7.17' };

test('decision: IPVS usable -> ipvs', () => {
  assert.deepEqual(decideIpvs(ok, 'rr', { noFallback: true }), { mode: 'ipvs' });
});

test('decision: no IP_VS in the kernel -> iptables with the reason logged (<= 1.24), or the one-sentence refusal (>= 1.25)', () => {
  const probe: IpvsProbe = { ipvsAvailable: false, ipvsError: 'Protocol not available', schedulerUsable: null, modules: [], moduleListsReadable: false, ipsetVersion: '7.17' };
  const fb = decideIpvs(probe, 'rr', { noFallback: false });
  assert.equal(fb.mode, 'iptables');
  assert.match((fb as { log: string }).log, /^Can't use the IPVS proxier, using the iptables proxier instead: the kernel has no IPVS \(ipvsadm: Protocol not available; module ip_vs missing\)\.$/);
  const no = decideIpvs(probe, 'rr', { noFallback: true });
  assert.deepEqual(no, { mode: 'none', reason: 'the kernel has no IPVS (ipvsadm: Protocol not available; module ip_vs missing)', error: "can't use the IPVS proxier: the kernel has no IPVS (ipvsadm: Protocol not available; module ip_vs missing)." });
});

test('decision: scheduler module missing, old ipset, module lists', () => {
  assert.match((decideIpvs({ ...ok, schedulerUsable: false, schedulerError: 'Memory allocation problem' }, 'mh', { noFallback: true }) as { error: string }).error, /the IPVS scheduler mh is not available/);
  assert.match((decideIpvs({ ...ok, ipsetVersion: '5.4' }, 'rr', { noFallback: true }) as { error: string }).error, /ipset version: 5.4 is less than min required version: 6.0/);
  assert.match((decideIpvs({ ...ok, ipsetVersion: null }, 'rr', { noFallback: false }) as { reason: string }).reason, /ipset is not installed/);
  assert.match((decideIpvs({ ...ok, schedulerUsable: null }, 'sh', { noFallback: true }) as { reason: string }).reason, /required kernel modules are not loaded: ip_vs_sh/);
  assert.deepEqual(missingModules(['ip_vs', 'ip_vs_rr', 'nf_conntrack_ipv4'], 'rr'), []);
});

/** A runner that answers from a table of argv prefixes and records the calls. */
function fakeHost(answers: Array<[string, { code?: number; stdout?: string; stderr?: string }]>): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = async (argv, stdin) => {
    const line = argv.join(' ');
    calls.push(stdin ? `${line} <<${stdin.trim().split('\n').length} lines` : line);
    const hit = answers.find(([p]) => line.startsWith(p));
    return { code: 0, stdout: '', stderr: '', ...(hit?.[1] ?? {}) };
  };
  return { run, calls };
}

test('probe on this kind of kernel (CONFIG_MODULES off, no IP_VS): module lists unreadable, ipvsadm says Protocol not available', async () => {
  const h = fakeHost([
    ['cat /proc/modules', { code: 1, stderr: 'cat: /proc/modules: No such file or directory' }],
    ['uname -r', { stdout: '6.18.0\n' }],
    ['cat /lib/modules', { code: 1 }],
    ['modprobe', { code: 127, stderr: 'spawn modprobe ENOENT' }],
    ['ipvsadm -Ln', { code: 2, stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" }],
    ['ipset --version', { stdout: 'ipset v7.17, protocol version: 7\n' }],
  ]);
  const probe = await probeIpvsSupport(h.run, 'rr');
  assert.equal(probe.ipvsAvailable, false);
  assert.equal(probe.moduleListsReadable, false);
  assert.equal(probe.ipsetVersion, '7.17');
  assert.equal(probe.ipvsError, 'Protocol not available');
  assert.ok(h.calls.includes('modprobe -- ip_vs'));
});

test('probe with IPVS: tries a dummy TEST-NET-2 virtual server with the scheduler, then deletes it', async () => {
  const h = fakeHost([
    ['cat /proc/modules', { stdout: 'ip_vs 1 0 - Live 0x0\nip_vs_rr 1 0 - Live 0x0\nnf_conntrack 1 0 - Live 0x0\n' }],
    ['uname -r', { stdout: '6.1.0\n' }],
    ['ipvsadm -Ln', { stdout: 'IP Virtual Server version 1.2.1 (size=4096)\n' }],
  ]);
  const probe = await probeIpvsSupport(h.run, 'rr');
  assert.equal(probe.schedulerUsable, true);
  assert.ok(h.calls.includes('ipvsadm -A -t 198.51.100.0:20000 -s rr'));
  assert.ok(h.calls.includes('ipvsadm -D -t 198.51.100.0:20000'));
});

function fakeIptables(fail = false): IptablesBackend & { log: string[] } {
  const log: string[] = [];
  return {
    kind: 'fake',
    log,
    save: async () => '',
    apply: async (plan) => {
      log.push(`apply ${plan.operations.length}`);
      if (fail) throw new Error('iptables-restore: line 3 failed');
    },
    test: async () => {},
    ensureChain: async (_f, t, c) => (log.push(`chain ${t} ${c}`), true),
    ensureRule: async (_f, t, c) => (log.push(`rule ${t} ${c}`), true),
    deleteRule: async () => true,
    version: async () => '1.8.9',
  };
}

const st = () =>
  fakeSync({
    services: [makeTestService('ns1', 'svc1', { clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] })],
    slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1' }], [{ name: 'p80', port: 80, protocol: 'TCP' }])],
    nodeIPs: [],
  });

test('apply: reads what the node holds, then runs the plan: ipsets, IPVS, iptables, addresses, then clean-up', async () => {
  const h = fakeHost([
    ['ipset save', { stdout: 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 10.9.9.9,tcp:80\n' }],
    ['ipvsadm -Sn', { stdout: '-A -t 10.9.9.9:80 -s rr\n-a -t 10.9.9.9:80 -r 10.180.0.9:80 -m -w 1\n' }],
    ['ip -o addr show dev kube-ipvs0', { stdout: '5: kube-ipvs0    inet 10.9.9.9/32 scope global kube-ipvs0\n' }],
  ]);
  const ipt = fakeIptables();
  const r = await applyIpvsState(st(), h.run, { ipvs: new IpvsCommandBackend(h.run), iptables: ipt });
  assert.deepEqual(r.steps, ['ipsets', 'ipvs', 'iptables', 'addresses', 'cleanup']);
  assert.deepEqual(h.calls, [
    'ipset save',
    'ipvsadm -Sn',
    'ip -o addr show dev kube-ipvs0',
    `ipset restore -exist <<${r.plan.steps[0]!.operations.length} lines`,
    'ipvsadm -R <<2 lines',
    'ip -batch - <<1 lines',
    'ipvsadm -R <<1 lines',
    'ip -batch - <<1 lines',
    'ipset restore -exist <<1 lines',
  ]);
  assert.equal(ipt.log[0], `apply ${r.plan.iptables.operations.length}`);
  assert.equal(ipt.log.filter((l) => l.startsWith('rule')).length, 9);
  assert.deepEqual(
    r.plan.steps.filter((s) => s.part === 'cleanup').map((s) => s.text()),
    ['-D -t 10.9.9.9:80\n', 'addr del 10.9.9.9/32 dev kube-ipvs0\n', 'del KUBE-CLUSTER-IP 10.9.9.9,tcp:80\n'],
  );
});

test('a failure names its step; nothing after it runs', async () => {
  const h = fakeHost([]);
  await assert.rejects(applyIpvsState(st(), h.run, { ipvs: new IpvsCommandBackend(h.run), iptables: fakeIptables(true) }), (e: unknown) => {
    assert.ok(e instanceof IpvsApplyError);
    assert.equal(e.part, 'iptables');
    assert.match(e.message, /^applying the ipvs rules failed at step "iptables" \(iptables-restore: line 3 failed\); the steps before it are applied/);
    return true;
  });
  assert.ok(!h.calls.some((c) => c.startsWith('ip -batch')));
  const h2 = fakeHost([['ipvsadm -Sn', { code: 2, stderr: "Can't initialize ipvs: Protocol not available" }]]);
  await assert.rejects(applyIpvsState(st(), h2.run, { ipvs: new IpvsCommandBackend(h2.run), iptables: fakeIptables() }), /^IpvsApplyError: reading the node's ipvs state failed \(`ipvsadm -Sn` failed \(exit 2: .*Protocol not available.*\); nothing was changed/);
  assert.ok(!h2.calls.some((c) => c.startsWith('ipset restore')));
});
