// A small cluster in network namespaces:
//
//   client ─┐                       lan: a bridge standing in for the node network (192.168.77.0/24)
//           ├─ br0 (lan) ─┬─ eth0 [node]  ─ cni0 ─┬─ veth1 ── eth0 [pod-1]   node: the kube-proxy host
//                         │     sink0 (ifb) ◄─ service CIDR route          └─ veth2 ── eth0 [pod-2]
//                         └─ eth0 [node2] ─ cni0 ─── veth1 ── eth0 [remote-1]   (optional second node)
//
// Devices are created directly inside their namespaces (`ip -n A link add … peer … netns B`), so nothing is
// ever created, addressed or routed in the host's own namespace, and no namespace routes to the host.
import { SERVICE_CIDR, SERVICE_CIDR6, CLIENT_HOST, MAX_PODS_PER_NODE, NODE_NET_PREFIX, NODE_NET_PREFIX6, nodeAddress, nodeNetAddress, podAddress, podCIDR, podGateway } from './addresses.js';
import { removeNamespace, sweepStale } from './cleanup.js';
import { newRunPrefix } from './names.js';
import { execOk, ipBatch, run, describeFailure } from './proc.js';
import { forgetNamespace, trackNamespace } from './registry.js';
import { startServer, type ServePorts, type Server, type StartServerOptions } from './servers.js';

export interface TopologyOptions {
  /** pods on the node (default 2) */
  pods?: number;
  /** pods on a second node, i.e. remote endpoints; 0 (default) means no second node */
  remotePods?: number;
  /** IPv6 addresses and routes too (all `nodad`) */
  dualStack?: boolean;
  /** net.ipv4.ip_forward (and IPv6 forwarding) on the nodes; default true, as a node must route for its pods */
  ipForward?: boolean;
  /** net.ipv4.conf.all.route_localnet on the node (localhost NodePorts); default false */
  routeLocalnet?: boolean;
  /** bridge-nf-call-iptables/ip6tables on the nodes, as kubeadm requires; default true */
  bridgeNfCall?: boolean;
}

export interface Host {
  /** role name, also what its server answers with: node, node2, client, pod-1, remote-1 … */
  readonly name: string;
  readonly ns: string;
  readonly ipv4: string;
  readonly ipv6?: string;
}

export interface NodeHost extends Host {
  readonly podCIDR: string;
  readonly podCIDR6?: string;
}

export interface Topology {
  /** `pm-<pid>-<n>`: every namespace name starts with it */
  readonly prefix: string;
  readonly node: NodeHost;
  readonly node2?: NodeHost;
  readonly client: Host;
  readonly pods: readonly Host[];
  readonly remotePods: readonly Host[];
  readonly serviceCIDR: string;
  readonly serviceCIDR6?: string;
  readonly dualStack: boolean;
  /** every namespace made, in creation order */
  readonly namespaces: readonly string[];
  /** servers started so far */
  readonly servers: readonly Server[];
  /** start a server in each host answering with its name; default ports tcp 80 and udp 80 */
  serve(hosts: Host | readonly Host[], ports?: ServePorts, opts?: StartServerOptions): Promise<Server[]>;
  /** kill every process started here or living in our namespaces, delete the namespaces by name; idempotent */
  destroy(): Promise<void>;
}

interface Plan {
  prefix: string;
  dualStack: boolean;
  lan: string;
  node: NodeHost;
  node2?: NodeHost;
  client: Host;
  pods: Host[];
  remotePods: Host[];
  namespaces: string[];
}

let swept = false;

/** Build the namespaces; on any failure everything made so far is removed before the error is thrown. */
export async function createTopology(opts: TopologyOptions = {}): Promise<Topology> {
  if (!swept) {
    swept = true;
    sweepStale(); // leftovers of crashed earlier runs (owner pid dead) only
  }
  const plan = makePlan(newRunPrefix(), opts);
  const topo = new NamespaceTopology(plan);
  try {
    await build(plan, opts);
  } catch (e) {
    await topo.destroy();
    throw e;
  }
  return topo;
}

function count(n: number | undefined, dflt: number, what: string): number {
  const v = n ?? dflt;
  if (!Number.isInteger(v) || v < 0 || v > MAX_PODS_PER_NODE) throw new Error(`${what} must be 0..${MAX_PODS_PER_NODE}, got ${v}`);
  return v;
}

function makePlan(prefix: string, opts: TopologyOptions): Plan {
  const dual = opts.dualStack ?? false;
  const nPods = count(opts.pods, 2, 'pods');
  const nRemote = count(opts.remotePods, 0, 'remotePods');
  const v6 = (a: { v6: string }) => (dual ? a.v6 : undefined);
  const nodeHost = (k: number): NodeHost => ({
    name: k === 1 ? 'node' : `node${k}`,
    ns: `${prefix}-${k === 1 ? 'node' : `node${k}`}`,
    ipv4: nodeAddress(k).v4,
    ipv6: v6(nodeAddress(k)),
    podCIDR: podCIDR(k).v4,
    podCIDR6: v6(podCIDR(k)),
  });
  const podHosts = (k: number, n: number, role: string): Host[] =>
    Array.from({ length: n }, (_, i) => ({
      name: `${role}-${i + 1}`,
      ns: `${prefix}-${role}-${i + 1}`,
      ipv4: podAddress(k, i + 1).v4,
      ipv6: v6(podAddress(k, i + 1)),
    }));
  const node = nodeHost(1);
  const node2 = nRemote > 0 ? nodeHost(2) : undefined;
  const client: Host = { name: 'client', ns: `${prefix}-client`, ipv4: nodeNetAddress(CLIENT_HOST).v4, ipv6: v6(nodeNetAddress(CLIENT_HOST)) };
  const pods = podHosts(1, nPods, 'pod');
  const remotePods = podHosts(2, nRemote, 'remote');
  const lan = `${prefix}-lan`;
  const namespaces = [lan, node.ns, ...(node2 ? [node2.ns] : []), client.ns, ...pods.map((p) => p.ns), ...remotePods.map((p) => p.ns)];
  return { prefix, dualStack: dual, lan, node, node2, client, pods, remotePods, namespaces };
}

async function build(plan: Plan, opts: TopologyOptions): Promise<void> {
  for (const ns of plan.namespaces) {
    trackNamespace(ns); // before creating: a half-made topology is still cleaned up at exit
    const r = await run('ip', ['netns', 'add', ns], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(describeFailure(`ip netns add ${ns}`, r));
  }
  // Sysctls before devices exist, so every new interface inherits the `default` values.
  await Promise.all(plan.namespaces.map((ns) => setSysctls(ns, plan, opts)));
  // Order matters only for veths: whoever creates a pair puts its peer into the next namespace.
  await ipBatch(plan.lan, lanCommands(plan));
  const nodes = [plan.node, plan.node2].filter((n): n is NodeHost => n !== undefined);
  await Promise.all(nodes.map((n, i) => ipBatch(n.ns, nodeCommands(plan, i + 1))));
  await Promise.all([
    ipBatch(plan.client.ns, clientCommands(plan)),
    ...plan.pods.map((p) => ipBatch(p.ns, podCommands(p, 1, plan.dualStack))),
    ...plan.remotePods.map((p) => ipBatch(p.ns, podCommands(p, 2, plan.dualStack))),
  ]);
}

async function setSysctls(ns: string, plan: Plan, opts: TopologyOptions): Promise<void> {
  // rp_filter off: kube-proxy's DNAT/SNAT and local-traffic paths trip strict reverse-path checks, and IPv4
  // settings of a new namespace are inherited from the host, whatever it uses. No DAD: addresses usable at once.
  const common = [
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
    'net.ipv4.conf.lo.rp_filter=0',
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.accept_dad=0',
  ];
  const isNode = ns === plan.node.ns || ns === plan.node2?.ns;
  const forward = opts.ipForward ?? true;
  const node = isNode
    ? [
        `net.ipv4.ip_forward=${forward ? 1 : 0}`,
        ...(plan.dualStack ? [`net.ipv6.conf.all.forwarding=${forward ? 1 : 0}`] : []),
        ...(ns === plan.node.ns ? [`net.ipv4.conf.all.route_localnet=${opts.routeLocalnet ? 1 : 0}`] : []),
        // With a second node on the same LAN the node would send the client ICMP redirects (which bypass its
        // rules) and spend the per-host ICMP budget on them, delaying a REJECT's port-unreachable by a second.
        'net.ipv4.conf.all.send_redirects=0',
        'net.ipv4.conf.default.send_redirects=0',
        'net.ipv4.icmp_ratelimit=0',
      ]
    : [];
  await execOk(ns, ['sysctl', '-q', '-w', ...common, ...node]);
  // Bridged pod-to-pod traffic through iptables, as real bridge CNIs get it; the lan switch stays out of it.
  const nf = isNode && (opts.bridgeNfCall ?? true) ? 1 : 0;
  if (isNode || ns === plan.lan) {
    await execOk(ns, ['sysctl', '-q', '-w', `net.bridge.bridge-nf-call-iptables=${nf}`, `net.bridge.bridge-nf-call-ip6tables=${nf}`]);
  }
}

function lanCommands(plan: Plan): string[] {
  const hosts = [plan.node, plan.node2, plan.client].filter((h): h is Host => h !== undefined);
  return [
    'link set lo up',
    'link add br0 type bridge',
    'link set br0 up',
    ...hosts.flatMap((h) => [
      `link add p-${h.name} type veth peer name eth0 netns ${h.ns}`,
      `link set p-${h.name} master br0`,
      `link set p-${h.name} up`,
    ]),
  ];
}

/** Node k: InternalIP on eth0, cni0 bridge with the pods' gateway, one veth per pod; node 1 also gets the sink. */
function nodeCommands(plan: Plan, k: number): string[] {
  const self = k === 1 ? plan.node : plan.node2!;
  const other = k === 1 ? plan.node2 : plan.node;
  const pods = k === 1 ? plan.pods : plan.remotePods;
  const dual = plan.dualStack;
  const gw = podGateway(k);
  const lines = [
    'link set lo up',
    `addr add ${self.ipv4}/${NODE_NET_PREFIX} dev eth0`,
    ...(dual ? [`addr add ${self.ipv6}/${NODE_NET_PREFIX6} dev eth0 nodad`] : []),
    'link set eth0 up',
    'link add cni0 type bridge',
    `addr add ${gw.v4}/24 dev cni0`,
    ...(dual ? [`addr add ${gw.v6}/64 dev cni0 nodad`] : []),
    'link set cni0 up',
    ...pods.flatMap((p, i) => [
      `link add veth${i + 1} type veth peer name eth0 netns ${p.ns}`,
      `link set veth${i + 1} master cni0`,
      // as bridge CNIs set hairpinMode, so a pod can reach itself through its service
      `link set veth${i + 1} type bridge_slave hairpin on`,
      `link set veth${i + 1} up`,
    ]),
  ];
  if (k === 1) {
    // No default route here: without a route for the service CIDR, REJECT and locally generated traffic
    // to ClusterIPs fail in routing before netfilter sees them. An ifb device swallows what nothing DNATs.
    lines.push('link add sink0 type ifb', 'link set sink0 up', `route add ${SERVICE_CIDR} dev sink0`);
    if (dual) lines.push(`route add ${SERVICE_CIDR6} dev sink0`);
  }
  if (other) {
    lines.push(`route add ${other.podCIDR} via ${other.ipv4}`);
    if (dual) lines.push(`route add ${other.podCIDR6} via ${other.ipv6}`);
  }
  return lines;
}

function podCommands(pod: Host, k: number, dual: boolean): string[] {
  const gw = podGateway(k);
  return [
    'link set lo up',
    `addr add ${pod.ipv4}/24 dev eth0`,
    ...(dual ? [`addr add ${pod.ipv6}/64 dev eth0 nodad`] : []),
    'link set eth0 up',
    // the pod's default route leads to its node (inside the topology), never to the host
    `route add default via ${gw.v4}`,
    ...(dual ? [`route add ::/0 via ${gw.v6}`] : []),
  ];
}

/** The client is outside the cluster: it reaches pod and service CIDRs through the nodes, like a routed LAN. */
function clientCommands(plan: Plan): string[] {
  const { client, node, node2, dualStack: dual } = plan;
  const lines = [
    'link set lo up',
    `addr add ${client.ipv4}/${NODE_NET_PREFIX} dev eth0`,
    ...(dual ? [`addr add ${client.ipv6}/${NODE_NET_PREFIX6} dev eth0 nodad`] : []),
    'link set eth0 up',
    `route add ${SERVICE_CIDR} via ${node.ipv4}`,
    ...(dual ? [`route add ${SERVICE_CIDR6} via ${node.ipv6}`] : []),
  ];
  for (const n of [node, node2]) {
    if (!n) continue;
    lines.push(`route add ${n.podCIDR} via ${n.ipv4}`);
    if (dual) lines.push(`route add ${n.podCIDR6} via ${n.ipv6}`);
  }
  return lines;
}

class NamespaceTopology implements Topology {
  readonly prefix: string;
  readonly node: NodeHost;
  readonly node2?: NodeHost;
  readonly client: Host;
  readonly pods: readonly Host[];
  readonly remotePods: readonly Host[];
  readonly serviceCIDR = SERVICE_CIDR;
  readonly serviceCIDR6?: string;
  readonly dualStack: boolean;
  readonly namespaces: readonly string[];
  readonly servers: Server[] = [];
  private destroyed = false;

  constructor(plan: Plan) {
    this.prefix = plan.prefix;
    this.node = plan.node;
    this.node2 = plan.node2;
    this.client = plan.client;
    this.pods = plan.pods;
    this.remotePods = plan.remotePods;
    this.dualStack = plan.dualStack;
    this.serviceCIDR6 = plan.dualStack ? SERVICE_CIDR6 : undefined;
    this.namespaces = plan.namespaces;
  }

  async serve(hosts: Host | readonly Host[], ports: ServePorts = { tcp: [80], udp: [80] }, opts: StartServerOptions = {}): Promise<Server[]> {
    if (this.destroyed) throw new Error(`topology ${this.prefix} is destroyed`);
    const list: readonly Host[] = Array.isArray(hosts) ? hosts : [hosts as Host];
    const settled = await Promise.allSettled(list.map((h) => startServer(h.ns, h.name, ports, opts)));
    const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    this.servers.push(...started); // even when another failed: destroy() must still stop these
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.servers.map((s) => s.stop()));
    await Promise.all(
      this.namespaces.map(async (ns) => {
        await removeNamespace(ns);
        forgetNamespace(ns);
      }),
    );
  }
}
