// The iptables engine end to end: Services and EndpointSlices for the harness topology -> model -> render
// -> restore text -> the node namespace (nfacct counters, iptables-restore --noflush, the jump rules), then
// real TCP and UDP from outside the cluster (the client), from a pod and from the node itself, for
// iptables-nft and iptables-legacy. Asserts where each packet lands and which source the pod sees: kube-
// proxy masquerades traffic to a ClusterIP from outside the cluster CIDR, external traffic with
// externalTrafficPolicy Cluster, node-local traffic to external destinations and hairpin traffic, and
// keeps the source for pod -> service and for externalTrafficPolicy Local.
//
//   client 192.168.77.100 ── node 192.168.77.10 (cni0 10.244.1.1) ── pod-1..4 10.244.1.11..14
//                         └─ node2 192.168.77.11 ── remote-1 10.244.2.11
//   MASQUERADE picks the outgoing interface's address: 10.244.1.1 towards local pods, the node IP towards
//   remote ones.
import assert from 'node:assert/strict';
import test from 'node:test';
import { setDefaults, type KubeProxyConfiguration } from '../../src/core/config/index.js';
import { IptablesCommandBackend, ensureNfacct, netnsRunner, nfacctNamesIn, type CommandRunner, type IptablesKind } from '../../src/core/host/index.js';
import type { Ruleset } from '../../src/core/iptables/types.js';
import { buildProxyState } from '../../src/core/model/index.js';
import type { EndpointSlice, Service } from '../../src/core/objects/types.js';
import {
  connect,
  connectBatch,
  countReplies,
  execOk,
  kernelSkipReason,
  announceSkip,
  parseReply,
  resetNetfilter,
  withTopology,
  type ConnectResult,
  type Host,
  type Proto,
  type Topology,
  TEST_NAMESPACE,
  service,
  slice,
} from './harness/index.js';

// The render engine is written in parallel: skip (saying why) only while it does not export renderIptables.
type IptablesModule = typeof import('../../src/core/iptables/index.js');
const engine = (await import('../../src/core/iptables/index.js').catch(() => undefined)) as Partial<IptablesModule> | undefined;
const renderMissing =
  typeof engine?.renderIptables === 'function' && typeof engine.serializeRestore === 'function' && typeof engine.jumpRules === 'function'
    ? undefined
    : 'src/core/iptables/index.ts does not export renderIptables, serializeRestore and jumpRules yet';

const TOOLS = ['iptables-nft', 'iptables-legacy', 'iptables-nft-restore', 'iptables-legacy-restore', 'iptables-nft-save', 'iptables-legacy-save', 'nft', 'nfacct', 'conntrack'];
const skip = announceSkip(kernelSkipReason(TOOLS) ?? renderMissing, 'iptables engine');

const NS = TEST_NAMESPACE;
const CLUSTER_CIDR = '10.244.0.0/16';
const EXTERNAL_NET = '203.0.113.0/24';
const IP = { web: '10.96.0.10', local: '10.96.0.11', empty: '10.96.0.12', sticky: '10.96.0.13', hairpin: '10.96.0.14' };
const WEB_EXTERNAL_IP = '203.0.113.10';
const WEB_LB_IP = '203.0.113.20';
const LOCAL_LB_IP = '203.0.113.21';
const NODE_PORT = { webTCP: 30080, webUDP: 30081, local: 30090 };
/** chi-square, 2 degrees of freedom, p = 0.001: a fair 3-way split exceeds it once in a thousand runs. */
const CHI2_DF2_P001 = 13.816;

/** The cluster's objects, with `web` served by `webPods`. */
function objects(topo: Topology, webPods: readonly Host[]): { services: Service[]; endpointSlices: EndpointSlice[] } {
  const [p1, p2, p3] = topo.pods;
  const [r1] = topo.remotePods;
  const on = (host: Host) => ({ host, node: host.name.startsWith('remote') ? 'node2' : 'node' });
  const http = { name: 'http', protocol: 'TCP' as const };
  const udp = { name: 'udp', protocol: 'UDP' as const };
  return {
    services: [
      service(
        'web',
        {
          type: 'LoadBalancer',
          clusterIP: IP.web,
          ports: [
            { ...http, port: 80, targetPort: 80, nodePort: NODE_PORT.webTCP },
            { ...udp, port: 80, targetPort: 80, nodePort: NODE_PORT.webUDP },
          ],
          externalIPs: [WEB_EXTERNAL_IP],
          externalTrafficPolicy: 'Cluster',
        },
        WEB_LB_IP,
      ),
      service('local', { type: 'LoadBalancer', clusterIP: IP.local, ports: [{ ...http, port: 80, targetPort: 80, nodePort: NODE_PORT.local }], externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }, LOCAL_LB_IP),
      service('empty', { type: 'ClusterIP', clusterIP: IP.empty, ports: [{ ...http, port: 80, targetPort: 80 }, { ...udp, port: 80, targetPort: 80 }] }),
      service('sticky', { type: 'ClusterIP', clusterIP: IP.sticky, ports: [{ ...http, port: 80, targetPort: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }),
      service('hairpin', { type: 'ClusterIP', clusterIP: IP.hairpin, ports: [{ ...http, port: 80, targetPort: 80 }] }),
    ],
    endpointSlices: [
      slice('web', webPods.map(on), [http, udp]),
      slice('local', [on(p1!), on(r1!)], [http]),
      slice('sticky', [on(p1!), on(p2!), on(p3!)], [http]),
      slice('hairpin', [on(p1!)], [http]),
      slice('empty', [], [http, udp]),
    ],
  };
}

function config(masqueradeAll = false): KubeProxyConfiguration {
  return setDefaults({ clusterCIDR: CLUSTER_CIDR, iptables: { masqueradeAll } });
}

function render(topo: Topology, cfg: KubeProxyConfiguration, webPods: readonly Host[]): Ruleset {
  const state = buildProxyState(objects(topo, webPods), { ipFamily: 'IPv4', nodeName: 'node' });
  const gw = cniGateway(topo);
  return engine!.renderIptables!({
    state,
    config: cfg,
    node: { name: 'node', ips: [topo.node.ipv4], podCIDRs: [topo.node.podCIDR], localAddresses: ['127.0.0.1', topo.node.ipv4, gw] },
  });
}

/** As kube-proxy syncs: nfacct counters first, then the restore, then the jump rules in the built-in chains. */
async function apply(backend: IptablesCommandBackend, run: CommandRunner, cfg: KubeProxyConfiguration, text: string): Promise<void> {
  await ensureNfacct(run, nfacctNamesIn(text));
  await backend.restore('IPv4', text, { noflush: true });
  for (const j of engine!.jumpRules!(cfg, 'IPv4')) {
    await backend.ensureChain('IPv4', j.table, j.target);
    await backend.ensureRule('IPv4', j.table, j.chain, j.words, j.position);
  }
}

const cniGateway = (topo: Topology) => topo.node.podCIDR.replace(/\.0\/24$/, '.1');

interface Seen {
  name: string;
  src: string;
}

function seen(r: ConnectResult, what: string): Seen {
  assert.ok(r.ok, `${what}: ${JSON.stringify(r)}`);
  const p = parseReply(r.reply);
  return { name: p.name, src: p.peerIp };
}

test('iptables engine: packets through rendered rules', { skip, timeout: 120_000 }, async (t) => {
  await withTopology(t, { pods: 4, remotePods: 1, routeLocalnet: true }, async (topo) => {
    const [p1, p2, p3, p4] = topo.pods;
    const [r1] = topo.remotePods;
    assert.ok(p1 && p2 && p3 && p4 && r1);
    await topo.serve([...topo.pods, r1], { tcp: [80], udp: [80] });
    // external and load-balancer IPs: the client routes them to the node; the node needs a route to exist
    // for its own traffic to them (DNAT happens after the first routing decision of locally made packets)
    await execOk(topo.client.ns, ['ip', 'route', 'add', EXTERNAL_NET, 'via', topo.node.ipv4]);
    await execOk(topo.node.ns, ['ip', 'route', 'add', EXTERNAL_NET, 'dev', 'sink0']);
    // The node forwards client -> remote-1 back out of eth0, so it would send the client ICMP redirects
    // (which the client would follow, straight to node2, past the node's rules) and spend the per-host
    // ICMP rate limit on them, delaying the port-unreachable a REJECT sends by a second: neither is kube-proxy's.
    await execOk(topo.node.ns, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0', 'net.ipv4.icmp_ratelimit=0']);
    const node = topo.node.ns;
    const client = topo.client;
    const run = netnsRunner(node);
    const gw = cniGateway(topo);
    const web = [p1, p2, p3].map((p) => p.name);
    /** The source a pod sees when kube-proxy masquerades towards it. */
    const masq = (name: string) => (name.startsWith('remote') ? topo.node.ipv4 : gw);
    const cfg = config();
    const full = render(topo, cfg, [p1, p2, p3]);
    const fullText = engine!.serializeRestore!(full);

    for (const kind of ['nft', 'legacy'] as IptablesKind[]) {
      const backend = new IptablesCommandBackend(kind, run, { waitSeconds: 10 });
      await t.test(`${kind} backend`, async (st) => {
        try {
          const t0 = Date.now();
          await apply(backend, run, cfg, fullText);
          st.diagnostic(`${kind}: applied ${fullText.split('\n').length} lines and ${engine!.jumpRules!(cfg, 'IPv4').length} jump rules in ${Date.now() - t0} ms`);

          await st.test('ClusterIP, NodePort, externalIP and LoadBalancer IP land on the right pods, masqueraded where kube-proxy masquerades', async () => {
            const cases: Array<{ what: string; from: Host | 'node'; ip: string; port: number; proto: Proto; pods: string[]; src: (name: string) => string }> = [
              { what: 'client -> ClusterIP tcp (from outside the cluster CIDR: masqueraded)', from: client, ip: IP.web, port: 80, proto: 'tcp', pods: web, src: masq },
              { what: 'client -> ClusterIP udp', from: client, ip: IP.web, port: 80, proto: 'udp', pods: web, src: masq },
              { what: 'client -> NodePort tcp (ETP Cluster: masqueraded)', from: client, ip: topo.node.ipv4, port: NODE_PORT.webTCP, proto: 'tcp', pods: web, src: masq },
              { what: 'client -> NodePort udp (ETP Cluster)', from: client, ip: topo.node.ipv4, port: NODE_PORT.webUDP, proto: 'udp', pods: web, src: masq },
              { what: 'client -> externalIP (ETP Cluster)', from: client, ip: WEB_EXTERNAL_IP, port: 80, proto: 'tcp', pods: web, src: masq },
              { what: 'client -> LoadBalancer IP (ETP Cluster)', from: client, ip: WEB_LB_IP, port: 80, proto: 'tcp', pods: web, src: masq },
              { what: 'client -> NodePort, ETP Local: local endpoint only, client IP kept', from: client, ip: topo.node.ipv4, port: NODE_PORT.local, proto: 'tcp', pods: [p1.name], src: () => client.ipv4 },
              { what: 'client -> LoadBalancer IP, ETP Local: client IP kept', from: client, ip: LOCAL_LB_IP, port: 80, proto: 'tcp', pods: [p1.name], src: () => client.ipv4 },
              { what: 'pod -> ClusterIP tcp: pod IP kept', from: p4, ip: IP.web, port: 80, proto: 'tcp', pods: web, src: () => p4.ipv4 },
              { what: 'pod -> ClusterIP udp: pod IP kept', from: p4, ip: IP.web, port: 80, proto: 'udp', pods: web, src: () => p4.ipv4 },
              { what: 'pod -> NodePort, ETP Cluster: masqueraded like all external traffic', from: p4, ip: topo.node.ipv4, port: NODE_PORT.webTCP, proto: 'tcp', pods: web, src: masq },
              { what: 'pod -> NodePort, ETP Local: pod traffic to external destinations short-circuits to the cluster chain, pod IP kept', from: p4, ip: topo.node.ipv4, port: NODE_PORT.local, proto: 'tcp', pods: [p1.name, r1.name], src: () => p4.ipv4 },
              { what: 'pod -> LoadBalancer IP, ETP Local: pod IP kept', from: p4, ip: LOCAL_LB_IP, port: 80, proto: 'tcp', pods: [p1.name, r1.name], src: () => p4.ipv4 },
              { what: 'pod -> its own service (hairpin): masqueraded', from: p1, ip: IP.hairpin, port: 80, proto: 'tcp', pods: [p1.name], src: masq },
              { what: 'node -> ClusterIP tcp', from: 'node', ip: IP.web, port: 80, proto: 'tcp', pods: web, src: masq },
              { what: 'node -> ClusterIP udp', from: 'node', ip: IP.web, port: 80, proto: 'udp', pods: web, src: masq },
              { what: 'node -> its NodePort', from: 'node', ip: topo.node.ipv4, port: NODE_PORT.webTCP, proto: 'tcp', pods: web, src: masq },
              { what: 'node -> localhost NodePort (route_localnet)', from: 'node', ip: '127.0.0.1', port: NODE_PORT.webTCP, proto: 'tcp', pods: web, src: masq },
              { what: 'node -> externalIP (LOCAL source: masqueraded)', from: 'node', ip: WEB_EXTERNAL_IP, port: 80, proto: 'tcp', pods: web, src: masq },
            ];
            const results = await Promise.all(
              cases.map((c) => connectBatch(c.from === 'node' ? node : c.from.ns, c.ip, c.port, { proto: c.proto, count: 4, timeoutMs: 2_000 })),
            );
            cases.forEach((c, i) => {
              for (const r of results[i]!.results) {
                const s = seen(r, c.what);
                assert.ok(c.pods.includes(s.name), `${c.what}: landed on ${s.name}, expected one of ${c.pods.join(', ')}`);
                assert.equal(s.src, c.src(s.name), `${c.what}: source seen by ${s.name}`);
              }
            });
          });

          await st.test('ClusterIP with a remote endpoint: local pod sees the cni0 address, the remote one the node IP', async () => {
            const b = await connectBatch(client.ns, IP.local, 80, { count: 30, concurrency: 4, timeoutMs: 2_000 });
            for (const r of b.results) {
              const s = seen(r, 'client -> ClusterIP (ITP Cluster, one local and one remote endpoint)');
              assert.ok([p1.name, r1.name].includes(s.name));
              assert.equal(s.src, masq(s.name), `source seen by ${s.name}`);
            }
            assert.ok(b.counts[p1.name] && b.counts[r1.name], `both endpoints used: ${JSON.stringify(b.counts)}`);
          });

          await st.test('a service without endpoints is refused at once (REJECT: ICMP port unreachable, tcp and udp), from outside, a pod and the node', async () => {
            for (const [from, proto] of [[client.ns, 'tcp'], [client.ns, 'udp'], [p4.ns, 'tcp'], [node, 'tcp'], [node, 'udp']] as const) {
              const r = await connect(from, IP.empty, 80, { proto, timeoutMs: 3_000 });
              // timed inside the client: a loaded machine's process start-up is not the rules' answer
              const ms = r.ms ?? Infinity;
              assert.deepEqual([r.ok, !r.ok && r.error], [false, 'refused'], `${from} ${proto}: ${JSON.stringify(r)}`);
              // the whole client run, process start included, under 1 s: an answer, not the 3 s time-out
              assert.ok(ms < 1_000, `${from} ${proto} refused after ${ms} ms`);
            }
          });

          await st.test('ClientIP affinity sticks: 20 connections, one backend', async () => {
            const b = await connectBatch(client.ns, IP.sticky, 80, { count: 20, concurrency: 1, timeoutMs: 2_000 });
            assert.equal(b.results.filter((r) => r.ok).length, 20, JSON.stringify(b.counts));
            assert.equal(Object.keys(b.counts).length, 1, `one backend: ${JSON.stringify(b.counts)}`);
          });

          await st.test('450 connections spread 1/3 each over 3 endpoints (chi-square, p = 0.001)', async () => {
            const n = 450;
            const b = await connectBatch(client.ns, IP.web, 80, { count: n, concurrency: 8, timeoutMs: 2_000 });
            assert.equal(b.results.filter((r) => r.ok).length, n, JSON.stringify(b.counts));
            const expected = n / 3;
            const chi2 = web.reduce((sum, name) => sum + ((b.counts[name] ?? 0) - expected) ** 2 / expected, 0);
            st.diagnostic(`${kind}: ${JSON.stringify(b.counts)} chi2=${chi2.toFixed(2)}`);
            assert.ok(chi2 < CHI2_DF2_P001, `chi-square ${chi2.toFixed(2)} >= ${CHI2_DF2_P001}: ${JSON.stringify(b.counts)}`);
          });

          await st.test('masqueradeAll: a pod going to a ClusterIP is masqueraded too', async () => {
            const all = config(true);
            const text = engine!.serializeRestore!(render(topo, all, [p1, p2, p3]));
            await apply(backend, run, all, text);
            try {
              const b = await connectBatch(p4.ns, IP.web, 80, { count: 6, timeoutMs: 2_000 });
              for (const r of b.results) {
                const s = seen(r, 'pod -> ClusterIP with masqueradeAll');
                assert.equal(s.src, masq(s.name));
              }
            } finally {
              await apply(backend, run, cfg, fullText);
            }
            const back = seen(await connect(p4.ns, IP.web, 80, { timeoutMs: 2_000 }), 'pod -> ClusterIP after masqueradeAll is off again');
            assert.equal(back.src, p4.ipv4);
          });

          await st.test('endpoint changes re-applied as partial restores are atomic under load', async () => {
            const partial = engine!.partialRestore;
            assert.equal(typeof partial, 'function', 'src/core/iptables/index.ts exports partialRestore');
            const setA = render(topo, cfg, [p1, p2]);
            const setB = render(topo, cfg, [p3]);
            let stop = false;
            // batches of 500: the harness client's answer is cut short past ~200 kB
            const load = (async () => {
              const all: ConnectResult[] = [];
              while (!stop && all.length < 5_000) {
                all.push(...(await connectBatch(client.ns, IP.web, 80, { count: 500, concurrency: 4, timeoutMs: 2_000, deadlineMs: 20_000 })).results);
              }
              return all;
            })();
            let prev = full;
            let switches = 0;
            const t1 = Date.now();
            while (switches < 24) {
              const next = switches % 2 === 0 ? setA : setB;
              await backend.restore('IPv4', partial!(prev, next), { noflush: true });
              prev = next;
              switches++;
              await new Promise((r) => setTimeout(r, 15));
            }
            stop = true;
            const results = await load;
            const counts = countReplies(results);
            st.diagnostic(`${kind}: ${switches} partial restores in ${Date.now() - t1} ms under ${results.length} connections: ${JSON.stringify(counts)}`);
            assert.ok(results.length >= 500);
            assert.deepEqual(results.filter((r) => !r.ok), [], 'no connection failed');
            assert.deepEqual(Object.keys(counts).filter((k) => !web.includes(k)), []);
            assert.ok((counts[p1.name] || counts[p2.name]) && counts[p3.name], 'both endpoint sets served');
            // the host now holds exactly the last ruleset's endpoint chains: stale KUBE-SEP chains were deleted
            const nat = await backend.save('IPv4', 'nat');
            const want = prev.tables.find((tb) => tb.name === 'nat')!.chains.map((c) => c.name).filter((c) => c.startsWith('KUBE-SEP-'));
            const have = [...nat.matchAll(/^:(KUBE-SEP-\S+)/gm)].map((m) => m[1]!);
            assert.deepEqual(have.sort(), [...want].sort());
          });
        } finally {
          await resetNetfilter(node);
        }
      });
    }
  });
});
