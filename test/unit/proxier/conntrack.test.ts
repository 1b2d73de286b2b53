import assert from 'node:assert/strict';
import test from 'node:test';
import { CONNTRACK_CONCURRENCY, ConntrackCommandBackend, FakeConntrack, conntrackBatch } from '../../../src/core/host/conntrack.js';
import type { CommandRunner } from '../../../src/core/host/backend.js';
import { Proxier } from '../../../src/core/proxier/index.js';
import { conntrackArgs, staleConntrack, type ConntrackDeletion } from '../../../src/core/proxier/conntrack.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import { updateProxyView } from '../../../src/core/proxy-view-update.js';
import { FakeClock, FakeHost, config, iptables, node, service, slice } from './fakes.js';

const udp = (name: string, ip: string, extra: Record<string, unknown> = {}) =>
  service(name, ip, { ports: [{ name: 'http', port: 53, targetPort: 53, protocol: 'UDP' }], ...extra });
const udpSlice = (svc: string, ips: string[]) => ({ ...slice(svc, ips), ports: [{ name: 'http', port: 53, protocol: 'UDP' }] }) as ReturnType<typeof slice>;
const view = (services: ReturnType<typeof service>[], slices: ReturnType<typeof slice>[]) => buildProxyView({ services, endpointSlices: slices, nodes: [node('node-a')] }, config(), 'test');

test('a UDP endpoint gone: entries DNATed to it from the cluster IP, external IPs and node port are deleted', () => {
  const svc = udp('dns', '10.96.0.53', { type: 'NodePort', externalIPs: ['192.0.2.7'], ports: [{ name: 'http', port: 53, targetPort: 53, protocol: 'UDP', nodePort: 30053 }] });
  const before = view([svc], [udpSlice('dns', ['10.244.1.5', '10.244.1.6'])]);
  const after = view([svc], [udpSlice('dns', ['10.244.1.6'])]);
  const stale = staleConntrack(before, after);
  assert.deepEqual(stale, [
    { kind: 'port-nat', family: 'IPv4', port: 30053, dest: '10.244.1.5' },
    { kind: 'nat', family: 'IPv4', origin: '10.96.0.53', dest: '10.244.1.5' },
    { kind: 'nat', family: 'IPv4', origin: '192.0.2.7', dest: '10.244.1.5' },
  ]);
  assert.deepEqual(conntrackArgs(stale[1]!), ['-D', '--orig-dst', '10.96.0.53', '--dst-nat', '10.244.1.5', '-p', 'udp']);
  assert.deepEqual(conntrackArgs(stale[0]!), ['-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.244.1.5']);
});

test('a UDP service port that gets its first endpoint: every entry to its IPs is deleted; TCP is never touched', () => {
  const before = view([udp('dns', '10.96.0.53'), service('web', '10.96.0.80')], [udpSlice('dns', [])]);
  const after = view([udp('dns', '10.96.0.53'), service('web', '10.96.0.80')], [udpSlice('dns', ['10.244.1.9']), slice('web', ['10.244.1.8'])]);
  assert.deepEqual(staleConntrack(before, after), [{ kind: 'ip', family: 'IPv4', ip: '10.96.0.53' }]);
  assert.deepEqual(staleConntrack(after, after), [], 'nothing changed: nothing stale');
  const tcpGone = view([service('web', '10.96.0.80')], [slice('web', [])]);
  assert.deepEqual(staleConntrack(after, tcpGone).filter((d) => d.kind === 'nat'), [{ kind: 'nat', family: 'IPv4', origin: '10.96.0.53', dest: '10.244.1.9' }], 'only the UDP endpoint, not the TCP one');
});

test('after a partial view update: the gone endpoint of the changed service is found, the unchanged services (their entries kept as they were) are passed over', () => {
  const services = [udp('dns', '10.96.0.53'), udp('ntp', '10.96.0.123')];
  const before = view(services, [udpSlice('dns', ['10.244.1.5', '10.244.1.6']), udpSlice('ntp', ['10.244.1.7'])]);
  const objects = { services, endpointSlices: [udpSlice('dns', ['10.244.1.6']), udpSlice('ntp', ['10.244.1.7'])], nodes: [node('node-a')] };
  const u = updateProxyView(before, objects, new Set(['ns/dns']), config(), 'test');
  assert.equal(u.incremental, true);
  const [b, a] = [before.families[0]!.state, u.view.families[0]!.state];
  assert.equal(a.endpointsMap.get('ns/ntp:http'), b.endpointsMap.get('ns/ntp:http'), 'the unchanged service keeps its entry');
  assert.deepEqual(staleConntrack(before, u.view), [{ kind: 'nat', family: 'IPv4', origin: '10.96.0.53', dest: '10.244.1.5' }]);
});

test('the proxier deletes stale entries after a successful apply only', async () => {
  const clock = new FakeClock();
  const ct = new FakeConntrack();
  const host = Object.assign(new FakeHost(), { conntrack: ct });
  const logs: string[] = [];
  const proxier = new Proxier({ def: iptables, config: config(), host, clock, log: (m) => logs.push(m) });
  proxier.replaceObjects({ services: [udp('dns', '10.96.0.53')], endpointSlices: [udpSlice('dns', ['10.244.1.5', '10.244.1.6'])], nodes: [node('node-a')] });
  assert.equal((await proxier.syncProxyRules()).ok, true);
  assert.deepEqual(ct.deleted, [{ kind: 'ip', family: 'IPv4', ip: '10.96.0.53' }], 'first sync: the service just became active');
  ct.deleted.length = 0;
  host.breakNfacct(true);
  proxier.replaceObjects({ services: [udp('dns', '10.96.0.53', { type: 'NodePort', ports: [{ name: 'http', port: 53, targetPort: 53, protocol: 'UDP', nodePort: 30053 }] })], endpointSlices: [udpSlice('dns', ['10.244.1.6'])], nodes: [node('node-a')] });
  const failed = await proxier.syncProxyRules();
  assert.equal(failed.ok, false, 'the broken host refuses the rules');
  assert.deepEqual(ct.deleted, [], 'a refused apply deletes nothing');
  host.breakNfacct(false);
  ct.deleted.length = 0;
  proxier.replaceObjects({ services: [udp('dns', '10.96.0.53')], endpointSlices: [udpSlice('dns', ['10.244.1.6'])], nodes: [node('node-a')] });
  assert.equal((await proxier.syncProxyRules()).ok, true);
  const deleted: ConntrackDeletion[] = ct.deleted;
  assert.ok(deleted.some((d) => d.kind === 'nat' && d.dest === '10.244.1.5' && d.origin === '10.96.0.53'), JSON.stringify(ct.deleted));
  assert.equal(proxier.metrics.conntrackDeletions >= 2, true);
  await proxier.stop();
});

test('the conntrack backend hands every deletion of a sync to one `conntrack -R -`, a command per line', async () => {
  const calls: Array<{ argv: string[]; stdin?: string }> = [];
  const run: CommandRunner = async (argv, stdin) => {
    calls.push({ argv: [...argv], ...(stdin !== undefined ? { stdin } : {}) });
    return { code: 0, stdout: '', stderr: '' };
  };
  const ct = new ConntrackCommandBackend(run);
  await ct.clear([
    { kind: 'nat', family: 'IPv6', origin: 'fd00::1', dest: 'fd00:244::5' },
    { kind: 'port-nat', family: 'IPv4', port: 30053, dest: '10.244.1.5' },
    { kind: 'ip', family: 'IPv4', ip: '10.96.0.53' },
  ]);
  assert.deepEqual(calls, [{ argv: ['conntrack', '-R', '-'], stdin: '-D --orig-dst fd00::1 --dst-nat fd00:244::5 -p udp -f ipv6\n-D -p udp --dport 30053 --dst-nat 10.244.1.5\n-D --orig-dst 10.96.0.53 -p udp\n' }]);
  await ct.clear([]);
  assert.equal(calls.length, 1, 'nothing stale: no process');
  assert.equal(conntrackBatch([{ kind: 'port', family: 'IPv4', port: 30053 }]), '-D -p udp --dport 30053\n');
});

test('without -R (conntrack-tools < 1.4.6) or when the batch fails: one `conntrack -D` per deletion, at most four at once, "0 flow entries" is done', async () => {
  const calls: string[][] = [];
  let inFlight = 0;
  let most = 0;
  const run: CommandRunner = async (argv) => {
    calls.push([...argv]);
    if (argv[1] === '-R') return { code: 2, stdout: '', stderr: "conntrack v1.4.5 (conntrack-tools): unknown option `-R'\n" };
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    if (argv.includes('10.244.1.5')) return { code: 1, stdout: '', stderr: 'conntrack v1.4.5 (conntrack-tools): 0 flow entries have been deleted.\n' };
    if (argv.includes('10.244.1.6')) return { code: 1, stdout: '', stderr: 'conntrack v1.4.5 (conntrack-tools): Operation failed: invalid parameters\n' };
    return { code: 0, stdout: '', stderr: '' };
  };
  const ct = new ConntrackCommandBackend(run);
  await ct.clear([{ kind: 'nat', family: 'IPv6', origin: 'fd00::1', dest: '10.244.1.5' }]);
  assert.deepEqual(calls[1], ['conntrack', '-D', '--orig-dst', 'fd00::1', '--dst-nat', '10.244.1.5', '-p', 'udp', '-f', 'ipv6']);
  calls.length = 0;
  const many: ConntrackDeletion[] = [{ kind: 'nat', family: 'IPv4', origin: '10.96.0.1', dest: '10.244.1.6' }, ...Array.from({ length: 9 }, (_, k) => ({ kind: 'port', family: 'IPv4', port: 30000 + k }) as ConntrackDeletion)];
  await assert.rejects(ct.clear(many), (e: Error) => e.message === '`conntrack -D --orig-dst 10.96.0.1 --dst-nat 10.244.1.6 -p udp` failed (exit 1: conntrack v1.4.5 (conntrack-tools): Operation failed: invalid parameters).');
  assert.equal(calls.length, 11, 'the batch, then every deletion, the ones after a failed one too');
  assert.equal(most, CONNTRACK_CONCURRENCY);
});

test('no conntrack tool: one sentence, no second try', async () => {
  const calls: string[][] = [];
  const ct = new ConntrackCommandBackend(async (argv) => (calls.push([...argv]), { code: 127, stdout: '', stderr: 'spawn conntrack ENOENT' }));
  await assert.rejects(ct.clear([{ kind: 'port', family: 'IPv4', port: 30053 }]), (e: Error) => /^conntrack is not installed on the node/.test(e.message));
  assert.equal(calls.length, 1);
});
