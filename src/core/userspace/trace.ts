// One packet through the userspace proxier: the portal rules (nat PREROUTING for traffic arriving at the
// node, nat OUTPUT for the node's own) send it to the proxy port; the proxy accepts it and opens its own
// connection to the next endpoint of its round robin (or the client's sticky one), from a node address.
import { canonicalRule } from '../iptables/canonical.js';
import type { Hop, ModeEvaluator, NodeContext, Packet, TraceResult } from '../trace/types.js';
import { canonicalIP } from '../trace/addr.js';
import { CONTAINER_NODEPORT_CHAIN, CONTAINER_PORTAL_CHAIN, HOST_NODEPORT_CHAIN, HOST_PORTAL_CHAIN, NON_LOCAL_NODEPORT_CHAIN, portalJumpRules } from './names.js';
import { readPortalRule } from './read-rules.js';
import { PROXY_MASQUERADE_REASON } from './summary.js';
import type { UserspaceState } from './types.js';

const MODE = 'userspace';

function isLocal(dst: string, node: NodeContext): boolean | undefined {
  if (dst.startsWith('127.') || dst === '::1') return true;
  if (!node.localAddresses) return undefined;
  return node.localAddresses.some((a) => canonicalIP(a) === canonicalIP(dst));
}

export function userspaceEvaluator(states: readonly UserspaceState[]): ModeEvaluator {
  return { mode: MODE, trace: (p, node) => traceOne(states, p, node) };
}

function traceOne(states: readonly UserspaceState[], p: Packet, node: NodeContext): TraceResult {
  const family = p.dst.includes(':') ? 'IPv6' : 'IPv4';
  const state = states.find((s) => s.family === family);
  const hops: Hop[] = [];
  const qualifications: string[] = [];
  const miss = (): TraceResult => ({ mode: MODE, verdict: 'not-matched', endpoints: [], masquerade: false, masqueradeReason: 'no portal rule matched, so the proxy never sees the packet', hops, qualifications });
  if (!state) return miss();
  const fromNode = p.entry === 'node';
  const hook = fromNode ? 'OUTPUT' : 'PREROUTING';
  const local = isLocal(p.dst, node);
  const chains = fromNode ? [HOST_PORTAL_CHAIN, HOST_NODEPORT_CHAIN] : [CONTAINER_PORTAL_CHAIN, CONTAINER_NODEPORT_CHAIN];
  const proto = p.protocol.toUpperCase();
  for (const chainName of chains) {
    const nodePorts = chainName === HOST_NODEPORT_CHAIN || chainName === CONTAINER_NODEPORT_CHAIN;
    const jump = jumpRule(state, hook, chainName);
    if (!jump) {
      qualifications.push(`nat ${hook} has no jump to ${chainName}`);
      continue;
    }
    if (nodePorts && local !== true) {
      if (local === undefined) qualifications.push(`whether ${p.dst} is a local address is unknown; its node-port rules were not evaluated`);
      continue;
    }
    hops.push({ table: 'nat', chain: hook, rule: canonicalRule(jump, state.family), action: `jump ${chainName}`, depth: 0 });
    const chain = state.rules.tables.find((t) => t.name === 'nat')?.chains.find((c) => c.name === chainName);
    for (const r of chain?.rules ?? []) {
      const pr = readPortalRule(chainName, r);
      if (pr.protocol !== proto || pr.port !== p.dport) continue;
      if (pr.ip !== null && canonicalIP(pr.ip) !== canonicalIP(p.dst)) continue;
      if (pr.dstLocal && local !== true) continue;
      if (pr.physdevNotIn) {
        // pods reach the node over a bridge: their packets are bridged in, which this rule leaves to the next
        if (p.entry === 'pod-local') continue;
      }
      const to = pr.target === 'REDIRECT' ? `REDIRECT to port ${pr.proxyPort} (the address the packet came in on)` : `DNAT to ${pr.toAddress}`;
      hops.push({ table: 'nat', chain: chainName, rule: canonicalRule(r.words, state.family), action: to, depth: 1 });
      return intoProxy(state, pr.servicePort, pr.proxyPort ?? 0, p, hops, qualifications, fromNode);
    }
    hops.pop(); // nothing matched in this chain: the packet returned to the built-in chain
  }
  return miss();
}

/** The rule jumping from the built-in chain: iptablesInit's when rendered, the dump's own otherwise. */
function jumpRule(state: UserspaceState, hook: string, chain: string): string[] | undefined {
  if (state.rendered) return portalJumpRules().find((j) => j.chain === hook && j.target === chain)?.words;
  const c = state.rules.tables.find((t) => t.name === 'nat')?.chains.find((x) => x.name === hook);
  return c?.rules.find((r) => r.words.includes(chain))?.words;
}

function intoProxy(state: UserspaceState, servicePort: string, proxyPort: number, p: Packet, hops: Hop[], qualifications: string[], fromNode: boolean): TraceResult {
  const proxy = state.proxies.find((x) => x.servicePort === servicePort);
  const name = `proxy port ${proxyPort}/${p.protocol.toUpperCase()}`;
  const accept = fromNode ? undefined : nonLocalAccept(state, proxyPort);
  if (accept) hops.push({ table: 'filter', chain: NON_LOCAL_NODEPORT_CHAIN, rule: canonicalRule(accept, state.family), action: 'ACCEPT (a new connection to the proxy port)', depth: 1 });
  if (state.rendered) qualifications.push(`proxy port ${proxyPort} is a stand-in: on a node the kernel (or portRange's allocator) picks it`);
  const base = { mode: MODE, masquerade: true as const, masqueradeReason: PROXY_MASQUERADE_REASON, hops, qualifications };
  if (!proxy || proxy.endpoints === null) {
    qualifications.push("the proxy's endpoints and round-robin order live in kube-proxy's memory, not in the rules");
    hops.push({ table: 'proxy', chain: name, rule: servicePort, action: 'accepted by the proxy (endpoints unknown)', depth: 0 });
    return { ...base, verdict: 'accepted', endpoints: [] };
  }
  const eps = proxy.endpoints;
  if (eps.length === 0) {
    hops.push({ table: 'proxy', chain: name, rule: servicePort, action: p.protocol.toUpperCase() === 'UDP' ? 'datagram dropped: no endpoints' : 'connection accepted and closed: no endpoints', depth: 0 });
    return { ...base, verdict: 'rejected', endpoints: [], masquerade: false, masqueradeReason: 'no endpoint is connected to' };
  }
  const order = eps.join(', ');
  hops.push({
    table: 'proxy',
    chain: name,
    rule: `round robin over ${order}`,
    action: `connect to the next endpoint (kube-proxy shuffles this list on every endpoints change; a failed connect tries the next, waiting 250ms, 500ms, 1s, 2s)`,
    depth: 0,
  });
  const endpoints = eps.map((e) => {
    const i = e.lastIndexOf(':');
    return { ip: e.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(e.slice(i + 1)), probability: 1 / eps.length, via: name, masquerade: true };
  });
  const out: TraceResult = { ...base, verdict: 'forwarded', endpoints };
  if (proxy.affinitySeconds !== null) out.affinity = { seconds: proxy.affinitySeconds, name: `client IPs of ${name}` };
  return out;
}

function nonLocalAccept(state: UserspaceState, proxyPort: number): string[] | undefined {
  const c = state.rules.tables.find((t) => t.name === 'filter')?.chains.find((x) => x.name === NON_LOCAL_NODEPORT_CHAIN);
  return c?.rules.find((r) => readPortalRule(NON_LOCAL_NODEPORT_CHAIN, r).proxyPort === proxyPort)?.words;
}

