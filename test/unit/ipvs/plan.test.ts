// planIpvs: the ipvs change as data, each tool's script a list of operations, in the order that never
// black-holes traffic; its companion rules a planIptables plan.
import assert from 'node:assert/strict';
import test from 'node:test';
import { serializeRestore } from '../../../src/core/iptables/serialize.js';
import { parseIpsetSave, parseIpvsadmSave, type IpvsState } from '../../../src/core/ipvs/index.js';
import { planIpvs } from '../../../src/core/ipvs/plan.js';
import { fakeSync, makeTestEndpointSlice, makeTestService } from './helpers.js';

const next = () =>
  fakeSync({
    services: [makeTestService('ns1', 'svc1', { clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] })],
    slices: [makeTestEndpointSlice('ns1', 'svc1', 1, 'IPv4', [{ ip: '10.180.0.1' }], [{ name: 'p80', port: 80, protocol: 'TCP' }])],
    nodeIPs: [],
  });

const held = (ipvsadm: string, ipset: string, addresses: string[]): IpvsState => ({
  family: 'IPv4',
  virtualServers: parseIpvsadmSave(ipvsadm),
  addresses,
  ipsets: parseIpsetSave(ipset),
  iptables: { family: 'IPv4', tables: [] },
  jumps: [],
  timeouts: null,
});

test('virtual and real servers: additions and edits first, stale real servers drained to weight 0, removals last', () => {
  const want = { ...next(), virtualServers: parseIpvsadmSave('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1\n-A -t 10.0.0.2:80 -s rr\n') };
  const cur = held('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.9:80 -m -w 1\n-A -t 10.0.0.9:80 -s rr\n', '', []);
  const plan = planIpvs(cur, want);
  const ipvsadm = plan.steps.filter((s) => s.tool === 'ipvsadm');
  assert.deepEqual(ipvsadm.map((s) => [s.part, s.operations.map((o) => `${o.op}: ${o.object}`), s.text()]), [
    [
      'ipvs',
      ['edit virtual server: 10.0.0.1:80/TCP', 'add real server: 10.0.0.1:80/TCP -> 10.1.0.2:80', 'add virtual server: 10.0.0.2:80/TCP', 'drain real server: 10.0.0.1:80/TCP -> 10.1.0.9:80'],
      '-E -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1\n-A -t 10.0.0.2:80 -s rr\n-e -t 10.0.0.1:80 -r 10.1.0.9:80 -m -w 0\n',
    ],
    ['cleanup', ['delete real server: 10.0.0.1:80/TCP -> 10.1.0.9:80', 'delete virtual server: 10.0.0.9:80/TCP'], '-d -t 10.0.0.1:80 -r 10.1.0.9:80\n-D -t 10.0.0.9:80\n'],
  ]);
});

test('a first sync: every set, server, rule and address added, nothing removed; the text is each script after its command', () => {
  const st = next();
  const plan = planIpvs(undefined, st, { deviceExists: false });
  assert.equal(plan.full, true);
  assert.deepEqual(
    plan.steps.map((s) => `${s.part} ${s.command}`),
    ['ipsets ipset restore -exist', 'ipvs ipvsadm -R', 'iptables iptables-restore --noflush', 'iptables iptables (each chain and rule unless present)', 'addresses ip -batch -'],
  );
  assert.equal(plan.iptables.text(), serializeRestore(st.iptables));
  assert.equal(plan.text(), plan.steps.map((s) => `# ${s.command}\n${s.operations.map((o) => o.text + '\n').join('')}`).join(''));
  const addresses = plan.steps.at(-1)!;
  assert.deepEqual(addresses.text(), 'link add kube-ipvs0 type dummy\naddr add 10.20.30.41/32 dev kube-ipvs0\n');
  const jumps = plan.steps[3]!.operations;
  assert.deepEqual(jumps.slice(0, 2).map((o) => o.text), ['iptables -t nat -N KUBE-SERVICES', 'iptables -t nat -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']);
  assert.ok(jumps.every((o) => o.jump !== undefined));
  assert.ok(!plan.operations.some((o) => /^(delete|unbind|drain)/.test(o.op)));
});

test('a sync with nothing changed writes only the sets (created -exist) and the companion rules', () => {
  const st = next();
  const cur = held(st.virtualServers.map((v) => `-A -t ${v.address}:${v.port} -s ${v.scheduler}\n${v.realServers.map((r) => `-a -t ${v.address}:${v.port} -r ${r.address}:${r.port} -m -w ${r.weight}\n`).join('')}`).join(''), '', st.addresses);
  cur.ipsets = st.ipsets;
  const plan = planIpvs(cur, st);
  assert.equal(plan.full, false);
  assert.deepEqual([...new Set(plan.operations.map((o) => o.op))].filter((o) => !['create set', 'begin table', 'declare chain', 'add rule', 'commit', 'ensure chain', 'ensure rule'].includes(o)), []);
  assert.ok(!plan.steps.some((s) => s.part === 'addresses' || s.part === 'cleanup' || s.part === 'ipvs'));
});
