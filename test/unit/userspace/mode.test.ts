// The userspace mode through the registry: an iptables-save dump declaring KUBE-PORTALS-* is a userspace
// dump (an iptables node's is not), its rules read back into service ports and proxy ports, drift that
// never counts proxy port numbers, and the tracer through portal rules into the proxy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalRule } from '../../../src/core/iptables/canonical.js';
import { modeOfDump, readDump } from '../../../src/core/modes/registry.js';
import { renderUserspace, userspaceMode, type UserspaceState } from '../../../src/core/userspace/index.js';
import { portalJumpRules } from '../../../src/core/userspace/index.js';
import { NODE_IP, view } from './fixtures.js';

const DOCS = readFileSync('test/unit/userspace/dumps/docs-userspace.txt', 'utf8');

/** What iptables-save would print for a rendered state: built-in chains with the jumps, rules in the kernel's order, ports shifted. */
function saveLike(s: UserspaceState, shift: number, drop?: RegExp): string {
  const out: string[] = [];
  for (const t of s.rules.tables) {
    out.push(`*${t.name}`);
    const builtins = t.name === 'nat' ? ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] : ['INPUT', 'FORWARD', 'OUTPUT'];
    for (const b of builtins) out.push(`:${b} ACCEPT [0:0]`);
    for (const c of t.chains) out.push(`:${c.name} - [0:0]`);
    for (const j of portalJumpRules().filter((x) => x.table === t.name)) {
      const line = `-A ${j.chain} ${canonicalRule(j.words, 'IPv4')}`;
      if (!drop || !drop.test(line)) out.push(line);
    }
    for (const c of t.chains) {
      for (const r of c.rules) {
        const line = `-A ${c.name} ${canonicalRule(r.words, 'IPv4')}`.replace(/\b(3\d{4})\b(?!.*--dport 3\d{4})/g, (p) => (Number(p) >= 32768 && Number(p) < 33000 ? String(Number(p) + shift) : p));
        if (!drop || !drop.test(line)) out.push(line);
      }
    }
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

const SPECS = [
  { name: 'web', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, nodePort: 30080, targetPort: 8080 }], endpoints: ['10.244.0.5', '10.244.0.6'], affinitySeconds: 60 },
  { name: 'dns', clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' as const }], endpoints: ['10.244.0.2'] },
  { name: 'empty', clusterIP: '10.96.0.30', ports: [{ name: 'http', port: 80 }] },
];

describe('userspace mode', () => {
  it('a dump whose PREROUTING/OUTPUT jump to KUBE-PORTALS-* is claimed by userspace; a plain iptables node\'s dump stays iptables', () => {
    assert.equal(modeOfDump(readDump(DOCS, 'docs')).mode, 'userspace');
    const plain = readFileSync('test/unit/iptables/dumps/flannel-kubeadm-1.29.txt', 'utf8');
    assert.equal(modeOfDump(readDump(plain, 'flannel')).mode, 'iptables');
    // chains left behind without their jumps (a node that switched modes) do not make a userspace node
    const leftovers = plain.replace(/^(:KUBE-SERVICES - \[0:0\])$/m, '$1\n:KUBE-PORTALS-CONTAINER - [0:0]\n:KUBE-PORTALS-HOST - [0:0]');
    assert.notEqual(leftovers, plain);
    assert.equal(modeOfDump(readDump(leftovers, 'leftovers')).mode, 'iptables');
  });

  it('parses service ports, portals and proxy ports from the rules; endpoints are unknown', () => {
    const st = userspaceMode.parse(readDump(DOCS, 'docs'), 'IPv4');
    assert.deepEqual(
      st.proxies.map((p) => `${p.servicePort} ${p.protocol} ${p.proxyPort} ${p.portals.map((x) => `${x.kind}=${x.ip ?? '*'}:${x.port}`).join(',')} ${p.endpoints}`),
      ['default/hostnames:default TCP 48577 cluster IP=10.0.1.175:80 null', 'default/ssh-service1: TCP 36463 cluster IP=10.254.132.107:2222,nodePort=*:30239 null'],
    );
    // the Docker rules in the same chains are not the proxier's
    assert.ok(!userspaceMode.canonicalLines(st).some((l) => l.includes('DOCKER')));
    const sum = userspaceMode.summarize(st);
    assert.equal(sum[1]!.entries.find((e) => e.kind === 'nodePort')!.target, 'proxy port 36463/TCP');
  });

  it('drift: none for the same rules on other proxy ports; a lost rule, a missing jump and a strange service are named', () => {
    const { view: v, config } = view(SPECS, {}, [NODE_IP]);
    const [expected] = renderUserspace(v, config);
    const same = userspaceMode.parse(readDump(saveLike(expected!, 1000), 'same'), 'IPv4');
    assert.notEqual(same.proxies[0]!.proxyPort, expected!.proxies[0]!.proxyPort);
    assert.deepEqual(userspaceMode.drift(expected!, same), []);
    const broken = userspaceMode.parse(readDump(saveLike(expected!, 0, /KUBE-NODEPORT-HOST .*default\/web|-j KUBE-NODEPORT-NON-LOCAL/), 'broken'), 'IPv4');
    const kinds = userspaceMode.drift(expected!, broken).map((d) => `${d.servicePort} ${d.kind}`);
    assert.deepEqual(kinds.sort(), [' missing object', 'default/web:http missing entry']);
    const extra = userspaceMode.parse(readDump(DOCS, 'docs'), 'IPv4');
    assert.ok(userspaceMode.drift(expected!, extra).some((d) => d.kind === 'extra service' && d.servicePort === 'default/hostnames:default'));
  });

  it('trace: from outside to the cluster IP, REDIRECT into the proxy, round robin over the endpoints, the node as source', () => {
    const { view: v, config } = view(SPECS, {}, [NODE_IP]);
    const ev = userspaceMode.tracer(renderUserspace(v, config), { rendered: true });
    const r = ev.trace({ src: '192.168.77.100', dst: '10.96.0.20', dport: 80, protocol: 'TCP', entry: 'external' }, { localAddresses: [NODE_IP] });
    assert.equal(r.verdict, 'forwarded');
    assert.deepEqual(r.endpoints.map((e) => `${e.ip}:${e.port} ${e.probability}`), ['10.244.0.5:8080 0.5', '10.244.0.6:8080 0.5']);
    assert.equal(r.masquerade, true);
    assert.deepEqual(r.affinity, { seconds: 60, name: 'client IPs of proxy port 32770/TCP' });
    assert.deepEqual(r.hops.map((h) => `${h.table} ${h.chain}`), ['nat PREROUTING', 'nat KUBE-PORTALS-CONTAINER', 'filter KUBE-NODEPORT-NON-LOCAL', 'proxy proxy port 32770/TCP']);
    assert.match(r.hops[3]!.rule, /^round robin over 10\.244\.0\.5:8080, 10\.244\.0\.6:8080/);
  });

  it('trace: the node itself DNATs to node IP:proxy port; a node port needs a local destination; no endpoints closes', () => {
    const { view: v, config } = view(SPECS, {}, [NODE_IP]);
    const ev = userspaceMode.tracer(renderUserspace(v, config), { rendered: true });
    const fromNode = ev.trace({ src: NODE_IP, dst: '10.96.0.10', dport: 53, protocol: 'UDP', entry: 'node' }, { localAddresses: [NODE_IP] });
    assert.equal(fromNode.hops[1]!.chain, 'KUBE-PORTALS-HOST');
    assert.equal(fromNode.hops[1]!.action, `DNAT to ${NODE_IP}:32768`);
    const np = ev.trace({ src: '192.168.77.100', dst: NODE_IP, dport: 30080, protocol: 'TCP', entry: 'external' }, { localAddresses: [NODE_IP] });
    assert.deepEqual(np.hops.map((h) => h.chain), ['PREROUTING', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-NON-LOCAL', 'proxy port 32770/TCP']);
    const elsewhere = ev.trace({ src: '192.168.77.100', dst: '192.168.77.3', dport: 30080, protocol: 'TCP', entry: 'external' }, { localAddresses: [NODE_IP] });
    assert.equal(elsewhere.verdict, 'not-matched');
    const empty = ev.trace({ src: '192.168.77.100', dst: '10.96.0.30', dport: 80, protocol: 'TCP', entry: 'external' }, { localAddresses: [NODE_IP] });
    assert.equal(empty.verdict, 'rejected');
  });

  it('trace of a dump: into the proxy, endpoints unknown and said so; a missing jump is a qualification', () => {
    const states = [userspaceMode.parse(readDump(DOCS, 'docs'), 'IPv4')];
    const r = userspaceMode.tracer(states, { rendered: false }).trace({ src: '10.244.1.5', dst: '10.0.1.175', dport: 80, protocol: 'TCP', entry: 'pod-remote' }, {});
    assert.equal(r.verdict, 'accepted');
    assert.ok(r.qualifications.some((q) => q.includes("kube-proxy's memory")));
    const nojump = [userspaceMode.parse(readDump(DOCS.replace(/^-A OUTPUT -m comment.*KUBE-PORTALS-HOST\n/m, ''), 'docs'), 'IPv4')];
    const n = userspaceMode.tracer(nojump, { rendered: false }).trace({ src: '10.0.0.5', dst: '10.0.1.175', dport: 80, protocol: 'TCP', entry: 'node' }, {});
    assert.equal(n.verdict, 'not-matched');
    assert.ok(n.qualifications.includes('nat OUTPUT has no jump to KUBE-PORTALS-HOST'));
  });

  it('plan: the portal chains rewritten whole, its text the script', () => {
    const { view: v, config } = view(SPECS, {}, [NODE_IP]);
    const [s] = renderUserspace(v, config);
    const plan = userspaceMode.plan(undefined, s!);
    assert.equal(plan.mode, 'userspace');
    assert.equal(plan.text(), userspaceMode.formats.restore!.write([s!]));
  });
});
