import assert from 'node:assert/strict';
import test from 'node:test';
import type { CommandRunner } from '../../../src/core/host/backend.js';
import { ipvsFallsBack, ipvsHost, UPSTREAM_IPVS_ORDER } from '../../../src/core/proxier/apply-ipvs.js';
import { modeHost } from '../../../src/core/proxier/apply.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { ExitCode, ProxymodeError } from '../../../src/core/errors.js';
import { config, node, service, slice } from './fakes.js';

const ipvs = modeFor('ipvs', 'test');

/** A host without IP_VS (this kernel): ipvsadm cannot initialise; everything else answers empty. */
function noIpvsHost(calls: string[][]): CommandRunner {
  return async (argv) => {
    calls.push([...argv]);
    if (argv[0] === 'ipvsadm') return { code: 2, stdout: '', stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" };
    if (argv[0] === 'ipset' && argv[1] === '--version') return { code: 0, stdout: 'ipset v7.17, protocol version: 7\n', stderr: '' };
    if (argv[0] === 'modprobe') return { code: 1, stdout: '', stderr: 'modprobe: FATAL: Module ip_vs not found\n' };
    return { code: 0, stdout: '', stderr: '' };
  };
}

test('kube-proxy <= 1.24 falls back to iptables when IPVS is unusable, logging its two lines', async () => {
  const logs: string[] = [];
  const host = await modeHost(ipvs, { run: noIpvsHost([]), description: 'test host', kubeProxyVersion: '1.24.17', log: (m) => logs.push(m) }, config({ mode: 'ipvs' }));
  assert.equal(host.def?.mode, 'iptables', 'the proxier programs iptables');
  assert.ok(host.canary, 'with the iptables canary');
  assert.deepEqual(logs, [
    "Can't use the IPVS proxier: the kernel has no IPVS (ipvsadm: Protocol not available; module ip_vs missing)",
    "Can't use ipvs proxier, trying iptables proxier",
  ]);
});

test('kube-proxy >= 1.25 (and the default, newest) refuses with upstream sentence, exit 3', async () => {
  for (const v of ['1.25.0', '1.33.1', undefined]) {
    const calls: string[][] = [];
    await assert.rejects(
      ipvsHost(ipvs, { run: noIpvsHost(calls), description: 'test host', kubeProxyVersion: v }, config({ mode: 'ipvs' })),
      (e: unknown) => e instanceof ProxymodeError && e.exitCode === ExitCode.UNREACHABLE && /^can't use the IPVS proxier: the kernel has no IPVS/.test(e.message),
    );
    assert.ok(!calls.some((c) => c[0] === 'iptables-restore' || c[0] === 'ipset' && c[1] === 'restore'), 'nothing written');
  }
  assert.equal(ipvsFallsBack('v1.24.0'), true);
  assert.equal(ipvsFallsBack('1.25.0'), false);
  assert.equal(ipvsFallsBack(undefined), false);
});

test('with IPVS, a sync runs in upstream order: kube-ipvs0, ipsets, addresses, virtual/real servers, companion rules', async () => {
  const calls: string[][] = [];
  const run: CommandRunner = async (argv, stdin) => {
    calls.push([...argv, ...(stdin ? [`<<${stdin.split('\n')[0]}`] : [])]);
    if (argv[0] === 'ipvsadm' && argv[1] === '-Ln') return { code: 0, stdout: 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n', stderr: '' };
    if (argv[0] === 'ipset' && argv[1] === '--version') return { code: 0, stdout: 'ipset v7.17, protocol version: 7\n', stderr: '' };
    if (argv[0] === 'ip' && argv[1] === 'link' && argv[2] === 'show') return { code: 1, stdout: '', stderr: 'Device "kube-ipvs0" does not exist.\n' };
    if (argv[0] === 'ip' && argv[1] === '-o') return { code: 1, stdout: '', stderr: 'Device "kube-ipvs0" does not exist.\n' };
    return { code: 0, stdout: '', stderr: '' };
  };
  const cfg = config({ mode: 'ipvs' });
  const host = await ipvsHost(ipvs, { run, description: 'test host', kubeProxyVersion: '1.30.0' }, cfg);
  assert.equal(host.def, undefined, 'ipvs itself');
  assert.ok(host.conntrack && !host.canary);
  const view = buildProxyView({ services: [service('web', '10.96.0.10')], endpointSlices: [slice('web', ['10.244.1.5'])], nodes: [node('node-a')] }, cfg, 'test');
  const [state] = ipvs.render(view, cfg, {});
  calls.length = 0;
  const previous = await host.read('IPv4');
  await host.apply(ipvs.plan(previous, state!, { full: true }));
  const tools = calls.map((c) => (c[0] === 'ip' ? `ip ${c[1]} ${c[2]}` : c[0]!.replace(/-(nft|legacy)/, '') + (c[1] === '-R' || c[1] === 'restore' ? ` ${c[1]}` : '')));
  const order = ['ip link add', 'ipset restore', 'ip -batch -', 'ipvsadm -R', 'iptables-restore'].map((t) => tools.indexOf(t));
  assert.ok(order.every((i) => i >= 0), `every step ran: ${tools.join(', ')}`);
  assert.deepEqual([...order].sort((a, b) => a - b), order, `in upstream's order: ${tools.join(', ')}`);
  assert.deepEqual(UPSTREAM_IPVS_ORDER, ['ipsets', 'addresses', 'ipvs', 'iptables', 'cleanup']);
  assert.ok(calls.some((c) => c.join(' ').includes('-A -t 10.96.0.10:80 -s rr')), 'the virtual server written');
});
