// `set --leftovers` / `--cleanup`: which of kube-proxy's rules the running mode does not write (from live-rule
// dumps), the removal script run by a real sh against recording stand-ins of the tools, and the same through
// the API: dumps served by pods/exec from kube-proxy pods, the clean-up pod created, its script run, deleted.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { WebSocketServer } from 'ws';
import type { Server } from 'node:http';
import { describeLeftover, findLeftovers, removalOutcome, removalScript, removalSteps, selfCleanup, summarizeLeftovers, type NodeDumps } from '../../src/core/setmode/leftovers.js';
import { KubeClient } from '../../src/kube/client.js';
import { cleanup } from '../../src/kube/cleanup.js';
import { loadKubeConfig } from '../../src/kube/kubeconfig.js';
import { cleanupLeftovers, listLeftovers } from '../../src/kube/set-mode-leftovers.js';
import { objectServer } from './object-server.js';
import { BIN, cleanEnv, ROOT } from '../cli/run.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

// A node that ran iptables mode and now runs ipvs: ipvs rewrote nat KUBE-SERVICES and added its chains;
// the iptables mode's service chains and filter chains are still there.
const AFTER_IPTABLES_TO_IPVS = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-IPVS-FILTER - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -j KUBE-FIREWALL
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-ABC - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-XYZ - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20/32 --dport 80 -j KUBE-SVC-XYZ
-A KUBE-SVC-XYZ -j KUBE-SEP-ABC
-A KUBE-SEP-ABC -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080
COMMIT
`;

// A node that ran ipvs and now runs iptables: ipvs chains, its IPVS servers, kube-ipvs0, its ipsets.
const AFTER_IPVS_TO_IPTABLES = `*filter
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-IPVS-OUT-FILTER - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-NODEPORTS - [0:0]
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
COMMIT
`;
const IPVSADM = `-A -t 10.96.0.1:443 -s rr
-a -t 10.96.0.1:443 -r 192.168.10.11:6443 -m -w 1
-A -u 10.96.0.10:53 -s rr
-A -t 192.168.10.11:30080 -s rr
-A -t 172.16.0.5:80 -s wlc
-A -t 192.168.10.11:8443 -s rr
`;
const ADDRS = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 192.168.10.11/24 brd 192.168.10.255 scope global eth0\\       valid_lft forever preferred_lft forever
5: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever
5: kube-ipvs0    inet 10.96.0.10/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever
`;
const IPSETS = 'KUBE-CLUSTER-IP\nKUBE-HEALTH-CHECK-NODE-PORT\nmy-own-set\nKUBE-6-CLUSTER-IP\n';
const NFT = 'table inet filter\ntable ip kube-proxy\ntable ip6 kube-proxy\n';

const dumps = (o: Record<string, string>, notRead: string[] = []): NodeDumps => ({ outputs: new Map(Object.entries(o)), notRead });

test('iptables -> ipvs: the service chains and the chains ipvs does not write, with the jumps into them from chains that stay', () => {
  const r = findLeftovers('worker-1', 'ipvs', dumps({ 'iptables nft IPv4': AFTER_IPTABLES_TO_IPVS, addresses: ADDRS, ipvs: IPVSADM, ipset: IPSETS, nft: NFT }));
  const lines = r.leftovers.map(describeLeftover);
  assert.deepEqual(lines, [
    'iptables-nft IPv4 filter: a rule in INPUT jumping to KUBE-EXTERNAL-SERVICES',
    'iptables-nft IPv4 filter: a rule in INPUT jumping to KUBE-NODEPORTS',
    'iptables-nft IPv4 filter: a rule in OUTPUT jumping to KUBE-SERVICES',
    'iptables-nft IPv4 filter: chain KUBE-EXTERNAL-SERVICES',
    'iptables-nft IPv4 filter: chain KUBE-NODEPORTS',
    'iptables-nft IPv4 filter: chain KUBE-SERVICES',
    'iptables-nft IPv4 nat: a rule in KUBE-SERVICES jumping to KUBE-SVC-XYZ',
    'iptables-nft IPv4 nat: chain KUBE-NODEPORTS',
    'iptables-nft IPv4 nat: chain KUBE-SEP-ABC',
    'iptables-nft IPv4 nat: chain KUBE-SVC-XYZ',
    'nft table ip kube-proxy',
    'nft table ip6 kube-proxy',
  ]);
  // kubelet's KUBE-FIREWALL, and what ipvs writes (nat KUBE-SERVICES, KUBE-NODE-PORT, KUBE-IPVS-FILTER …) stay; so do its IPVS servers and sets
  assert.ok(!lines.some((l) => /KUBE-FIREWALL|KUBE-FORWARD|KUBE-NODE-PORT\b|KUBE-IPVS|KUBE-POSTROUTING|KUBE-MARK-MASQ|IPVS virtual|ipset|kube-ipvs0/.test(l)));
  assert.equal(summarizeLeftovers(r.leftovers), '6 iptables chains, 4 jump rules, 2 nft tables');
});

test('the examples/ node after iptables -> ipvs: every service chain is a leftover, KUBE-FIREWALL never', () => {
  const v4 = readFileSync(join(ROOT, 'examples', 'node1.iptables-save'), 'utf8').split('# ip6tables')[0];
  const r = findLeftovers('node1', 'ipvs', dumps({ 'iptables legacy IPv4': v4 }));
  const chains = r.leftovers.filter((l) => l.kind === 'chain').map((l) => (l as any).chain);
  const serviceChains = [...v4.matchAll(/^:(KUBE-(?:SVC|SEP|EXT|FW|SVL)-\S+)/gm)].map((m) => m[1]);
  assert.ok(serviceChains.length > 10);
  for (const c of serviceChains) assert.ok(chains.includes(c), c);
  assert.ok(!chains.includes('KUBE-FIREWALL'));
  assert.ok(r.leftovers.every((l) => l.kind !== 'chain' || l.backend === 'legacy'));
});

test('ipvs -> iptables: kube-proxy\'s IPVS servers (kube-ipvs0 addresses, NodePorts on node addresses), kube-ipvs0, its ipsets; nothing someone else made', () => {
  const r = findLeftovers('worker-1', 'iptables', dumps({ 'iptables nft IPv4': AFTER_IPVS_TO_IPTABLES, ipvs: IPVSADM, addresses: ADDRS, ipset: IPSETS, nft: NFT }, ['nft list tables (exited 127)']));
  assert.deepEqual(r.leftovers.map(describeLeftover), [
    'iptables-nft IPv4 filter: a rule in INPUT jumping to KUBE-IPVS-FILTER',
    'iptables-nft IPv4 filter: a rule in INPUT jumping to KUBE-NODE-PORT',
    'iptables-nft IPv4 filter: a rule in OUTPUT jumping to KUBE-IPVS-OUT-FILTER',
    'iptables-nft IPv4 filter: chain KUBE-IPVS-FILTER',
    'iptables-nft IPv4 filter: chain KUBE-IPVS-OUT-FILTER',
    'iptables-nft IPv4 filter: chain KUBE-NODE-PORT',
    'IPVS virtual server tcp 10.96.0.1:443',
    'IPVS virtual server udp 10.96.0.10:53',
    'IPVS virtual server tcp 192.168.10.11:30080',
    'device kube-ipvs0 with 2 addresses',
    'ipset KUBE-6-CLUSTER-IP',
    'ipset KUBE-CLUSTER-IP',
    'ipset KUBE-HEALTH-CHECK-NODE-PORT',
    'nft table ip kube-proxy',
    'nft table ip6 kube-proxy',
  ]);
  assert.deepEqual(r.notRead, ['nft list tables (exited 127)']);
});

test('switching to nftables leaves its own tables; when kube-proxy cleans up by itself (server_linux.go platformCleanup)', () => {
  const r = findLeftovers('w', 'nftables', dumps({ nft: NFT, ipset: IPSETS }));
  assert.deepEqual(r.leftovers.map(describeLeftover), ['ipset KUBE-6-CLUSTER-IP', 'ipset KUBE-CLUSTER-IP', 'ipset KUBE-HEALTH-CHECK-NODE-PORT']);
  assert.match(selfCleanup('iptables', 'nftables', 31, undefined) ?? '', /^kube-proxy 1\.31 removes the iptables mode's rules itself/);
  assert.equal(selfCleanup('iptables', 'nftables', 28, undefined), undefined);
  assert.equal(selfCleanup('nftables', 'iptables', 30, undefined), undefined, 'the NFTablesProxyMode gate is off by default before 1.31');
  assert.match(selfCleanup('nftables', 'iptables', 30, true) ?? '', /removes the nftables tables itself/);
  assert.match(selfCleanup('nftables', 'ipvs', 31, undefined) ?? '', /removes the nftables tables itself when it starts in ipvs mode/);
  assert.equal(selfCleanup('nftables', 'iptables', 32, false), undefined);
  assert.ok(selfCleanup('nftables', 'iptables', 33, false), 'GA from 1.33: no gate');
  assert.equal(selfCleanup('iptables', 'ipvs', 35, true), undefined, 'iptables <-> ipvs: never');
});

/** A folder of stand-ins for the tools: each records its argv and stdin; `ipset destroy KUBE-CLUSTER-IP` fails as in use. */
function fakeTools(): { dir: string; calls: () => string[]; raw: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'pm-tools-'));
  const record = join(dir, 'calls');
  writeFileSync(record, '');
  for (const t of ['ipvsadm', 'iptables-nft', 'iptables-nft-restore', 'ip6tables-nft', 'ipset', 'ip', 'nft']) {
    const fail = t === 'ipset' ? `if [ "$2" = KUBE-CLUSTER-IP ]; then echo "ipset v7.17: Set cannot be destroyed: it is in use by a kernel component" >&2; exit 1; fi\n` : '';
    writeFileSync(join(dir, t), `#!/bin/sh\n${fail}printf '%s' "${t}" >> ${record}; for a in "$@"; do printf ' [%s]' "$a" >> ${record}; done; if [ "${t}" = iptables-nft-restore ]; then printf ' <<%s>>' "$(cat)" >> ${record}; fi; echo >> ${record}\n`);
    chmodSync(join(dir, t), 0o755);
  }
  return { dir, calls: () => readFileSync(record, 'utf8').trim().split('\n').filter(Boolean), raw: () => readFileSync(record, 'utf8') };
}

function runScript(script: string, dir: string): string {
  return execFileSync('sh', ['-c', script], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
}

test('the removal script, run by sh: the steps in a working order, comments with spaces intact, one failure stops none', () => {
  const r = findLeftovers('worker-1', 'iptables', dumps({ 'iptables nft IPv4': AFTER_IPVS_TO_IPTABLES, ipvs: IPVSADM, addresses: ADDRS, ipset: IPSETS, nft: NFT }));
  const steps = removalSteps(r.leftovers);
  const tools = fakeTools();
  const log = runScript(removalScript(steps), tools.dir);
  const calls = tools.calls();
  assert.equal(calls[0], 'ipvsadm [-D] [-t] [10.96.0.1:443]');
  assert.ok(calls.includes('iptables-nft [-w] [-t] [filter] [-D] [INPUT] [-m] [comment] [--comment] [kubernetes ipvs access filter] [-j] [KUBE-IPVS-FILTER]'), calls.join('\n'));
  assert.ok(tools.raw().includes('iptables-nft-restore [-w] [--noflush] <<*filter\n:KUBE-IPVS-FILTER - [0:0]\n:KUBE-IPVS-OUT-FILTER - [0:0]\n:KUBE-NODE-PORT - [0:0]\n-X KUBE-IPVS-FILTER\n-X KUBE-IPVS-OUT-FILTER\n-X KUBE-NODE-PORT\nCOMMIT>>'), tools.raw());
  const order = calls.map((c) => c.split(' ')[0]);
  assert.ok(order.lastIndexOf('ipvsadm') < order.indexOf('iptables-nft') && order.lastIndexOf('iptables-nft') < order.indexOf('iptables-nft-restore') && order.indexOf('iptables-nft-restore') < order.indexOf('ipset') && order.lastIndexOf('ipset') < order.indexOf('ip') && order.indexOf('ip') < order.indexOf('nft'));
  assert.ok(calls.includes('ip [link] [del] [kube-ipvs0]'));
  assert.ok(calls.includes('nft [delete] [table] [ip6] [kube-proxy]'));
  const outcome = removalOutcome(steps, log);
  assert.equal(outcome.length, steps.length);
  const failed = outcome.filter((o) => !o.ok);
  assert.deepEqual(failed, [{ what: 'ipset KUBE-CLUSTER-IP', ok: false, why: 'ipset v7.17: Set cannot be destroyed: it is in use by a kernel component' }]);
});

// ---- through the API: pods/exec into each node's kube-proxy pod, then the clean-up pod ----

/** pods/exec: answers each command from `byCommand` (exit 127 when it has none), as the v4 channel protocol does. */
function serveExec(server: Server, byCommand: (node: string, argv: string[]) => string | undefined): void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url!, 'http://x');
    const pod = url.pathname.split('/')[6];
    const argv = url.searchParams.getAll('command');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const out = byCommand(pod.replace('kube-proxy-', ''), argv);
      if (out !== undefined) {
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(out)]));
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }))]));
      } else {
        ws.send(Buffer.concat([Buffer.from([2]), Buffer.from(`${argv[0]}: not found\n`)]));
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '127' }] } }))]));
      }
      ws.close();
    });
  });
}

const kubeProxyPod = (node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `kube-proxy-${node}`, namespace: 'kube-system', labels: { 'k8s-app': 'kube-proxy' } }, spec: { nodeName: node, containers: [{ name: 'kube-proxy' }] }, status: { phase: 'Running' } });

test('through the API: each node read by exec in its kube-proxy pod; --cleanup runs one privileged pod per node with exactly the steps, deleted after', async (t) => {
  const tools = fakeTools();
  const pods: any[] = [];
  const s = await objectServer({
    seed: [kubeProxyPod('worker-1'), kubeProxyPod('worker-2')],
    upgrade: (server) =>
      serveExec(server, (node, argv) => {
        const cmd = argv.join(' ');
        if (node === 'worker-2') return cmd === 'iptables-nft-save' ? '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n' : undefined; // a clean node, and an image without the other tools
        return { 'iptables-nft-save': AFTER_IPVS_TO_IPTABLES, 'ipvsadm -Sn': IPVSADM, 'ip -o addr show': ADDRS, 'ipset list -n': IPSETS, 'nft list tables': NFT }[cmd] ?? (cmd.includes('legacy') || cmd.startsWith('ip6') ? '' : undefined);
      }),
    created: (_k, o) => o.kind === 'Pod' && pods.push(o),
    status: (path, o) => (path.includes('/pods/proxymode-cleanup-') ? { ...o, status: { phase: 'Succeeded' } } : o),
    // the clean-up pod's log: its script, really run by sh against the stand-ins
    log: (p) => runScript(pods.find((x) => p.endsWith(x.metadata.name)).spec.containers[0].command[2], tools.dir),
  });
  t.after(() => s.close());
  const client = new KubeClient(loadKubeConfig({ kubeconfig: s.kubeconfig }), 5_000);
  const found = await listLeftovers(client, ['worker-1', 'worker-2'], { newMode: 'iptables' });
  assert.equal(summarizeLeftovers(found[0].leftovers), '3 iptables chains, 3 jump rules, 3 IPVS virtual servers, 1 kube-ipvs0 device, 3 ipsets, 2 nft tables');
  assert.deepEqual(found[1].leftovers, []);
  assert.deepEqual(found[1].notRead.map((n) => n.replace(' (exited 127)', '')), ['ip6tables-nft-save', 'iptables-legacy-save', 'ip6tables-legacy-save', 'ipvsadm -Sn', 'ipset list -n', 'ip -o addr show', 'nft list tables']);

  const removed = await cleanupLeftovers(client, found, { image: 'img:1', pollMs: 10 });
  assert.equal(removed.length, 1, 'no pod for a node without leftovers');
  assert.equal(removed[0].node, 'worker-1');
  assert.equal(removed[0].steps.filter((x) => x.ok).length, removed[0].steps.length - 1);
  assert.equal(pods.length, 1);
  const spec = pods[0].spec;
  assert.equal(spec.nodeName, 'worker-1');
  assert.equal(spec.hostNetwork, true);
  assert.equal(spec.containers[0].securityContext.privileged, true);
  assert.equal(spec.automountServiceAccountToken, false);
  assert.deepEqual(spec.containers[0].command.slice(0, 2), ['sh', '-c']);
  assert.equal(spec.containers[0].args, undefined);
  assert.ok(s.requests.includes(`DELETE /api/v1/namespaces/kube-system/pods/${pods[0].metadata.name}`));
  assert.ok(!s.requests.some((q) => q.startsWith('POST') && /serviceaccounts|clusterroles/.test(q)), 'the clean-up pod reads no API, so no RBAC is made');
  assert.equal(cleanup.pending.length, 0);
  assert.ok(tools.calls().includes('ip [link] [del] [kube-ipvs0]'));
});

// ---- the built CLI: `set --leftovers` and `set --leftovers --cleanup` ----

function cli(args: string[], kubeconfig: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, [...args, '--kubeconfig', kubeconfig], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
}

test('CLI: set --leftovers lists per node against the running mode (exit 1 when any); --cleanup removes them and says what failed', async (t) => {
  const tools = fakeTools();
  const pods: any[] = [];
  const s = await objectServer({
    seed: [
      kubeProxyPod('worker-1'),
      kubeProxyPod('worker-2'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n' } },
    ],
    upgrade: (server) =>
      serveExec(server, (node, argv) => {
        const cmd = argv.join(' ');
        if (node === 'worker-2') return cmd.includes('save') ? '' : { 'ipset list -n': '', 'ip -o addr show': '', 'nft list tables': 'table inet filter\n' }[cmd];
        return { 'iptables-nft-save': AFTER_IPVS_TO_IPTABLES, 'ipvsadm -Sn': IPVSADM, 'ip -o addr show': ADDRS, 'ipset list -n': IPSETS, 'nft list tables': NFT }[cmd] ?? (cmd.includes('save') ? '' : undefined);
      }),
    created: (_k, o) => o.kind === 'Pod' && pods.push(o),
    status: (path, o) => (path.includes('/pods/proxymode-cleanup-') ? { ...o, status: { phase: 'Succeeded' } } : o),
    log: (p) => runScript(pods.find((x) => p.endsWith(x.metadata.name)).spec.containers[0].command[2], tools.dir),
  });
  t.after(() => s.close());

  const list = await cli(['set', '--leftovers'], s.kubeconfig);
  assert.equal(list.code, 1, list.stderr);
  assert.match(list.stdout, /^LEFTOVERS \(what iptables mode does not write\)$/m);
  assert.match(list.stdout, /^ {2}worker-1: 3 iptables chains, 3 jump rules, 3 IPVS virtual servers, 1 kube-ipvs0 device, 3 ipsets, 2 nft tables$/m);
  assert.match(list.stdout, /^ {6}IPVS virtual server tcp 10\.96\.0\.1:443$/m);
  assert.match(list.stdout, /^ {2}worker-2: nothing; not read: ipvsadm -Sn \(exited 127\)$/m);
  assert.ok(list.stdout.startsWith('LEFTOVERS'), 'on its own the section opens the output');
  assert.match(list.stderr, /remove them with: kubectl proxymode set --leftovers --cleanup/);
  assert.equal(s.requests.filter((q) => q.startsWith('POST')).length, 0, 'listing creates nothing');

  const json = await cli(['set', '--leftovers', '-o', 'json'], s.kubeconfig);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.mode, 'iptables');
  assert.equal(doc.leftovers[0].leftovers.filter((l: any) => l.kind === 'ipset').length, 3);

  const clean = await cli(['set', '--leftovers', '--cleanup'], s.kubeconfig);
  assert.equal(clean.code, 1, clean.stderr);
  assert.match(clean.stdout, /^ {6}cleanup: 12 of 13 steps done; failed: ipset KUBE-CLUSTER-IP \(ipset v7\.17: Set cannot be destroyed: it is in use by a kernel component\)$/m);
  assert.equal(pods.length, 1, 'one clean-up pod, for the node with leftovers');
  assert.ok(s.requests.includes(`DELETE /api/v1/namespaces/kube-system/pods/${pods[0].metadata.name}`));
  assert.ok(tools.calls().includes('nft [delete] [table] [ip] [kube-proxy]'));
});
