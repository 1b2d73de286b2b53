// Reading portal rules back: which service port, portal and proxy port each rule of the userspace
// chains stands for, from its words (ours or iptables-save's, in either order).
import type { Rule } from '../iptables/index.js';
import { viewWords } from '../iptables/words.js';
import { CONTAINER_NODEPORT_CHAIN, CONTAINER_PORTAL_CHAIN, HOST_NODEPORT_CHAIN, HOST_PORTAL_CHAIN, NON_LOCAL_NODEPORT_CHAIN } from './names.js';

export interface PortalRule {
  chain: string;
  servicePort: string;
  protocol: string;
  /** Destination address without its prefix length; null when the rule has none (node ports). */
  ip: string | null;
  /** --dport: the portal's port (the proxy port in KUBE-NODEPORT-NON-LOCAL). */
  port: number | null;
  dstLocal: boolean;
  physdevNotIn: boolean;
  /** REDIRECT, DNAT or ACCEPT. */
  target: string;
  /** Where the packet is sent: "REDIRECT to port 32768", "DNAT to 192.168.77.2:32768", "ACCEPT". */
  toAddress: string | null;
  proxyPort: number | null;
}

export const PORTAL_CHAINS = [CONTAINER_PORTAL_CHAIN, HOST_PORTAL_CHAIN, CONTAINER_NODEPORT_CHAIN, HOST_NODEPORT_CHAIN, NON_LOCAL_NODEPORT_CHAIN];

export function readPortalRule(chain: string, rule: Rule): PortalRule {
  const v = viewWords(rule.words);
  let protocol = '';
  let ip: string | null = null;
  let port: number | null = null;
  let dstLocal = false;
  let physdevNotIn = false;
  for (const m of v.matches) {
    if (m.kind === 'protocol') protocol = m.protocol.toUpperCase();
    else if (m.kind === 'address' && m.dir === 'dst') ip = m.addresses[0]?.ip ?? null;
    else if (m.kind === 'module') {
      const d = m.ports?.dport?.ranges[0];
      if (d) port = d.from;
      if (m.addrtype?.dstType && !m.addrtype.dstType.negated && m.addrtype.dstType.value.includes('LOCAL')) dstLocal = true;
      if (m.physdev?.isIn?.negated) physdevNotIn = true;
    }
  }
  const t = v.target;
  let toAddress: string | null = null;
  let proxyPort: number | null = null;
  if (t?.name === 'REDIRECT' && t.toPorts) {
    proxyPort = Number(t.toPorts.split(/[-:]/)[0]);
    toAddress = null;
  } else if (t?.name === 'DNAT' && t.toDestination) {
    toAddress = t.toDestination;
    const m = /:(\d+)$/.exec(t.toDestination);
    proxyPort = m ? Number(m[1]) : null;
  } else if (chain === NON_LOCAL_NODEPORT_CHAIN) {
    proxyPort = port;
  }
  return { chain, servicePort: v.comment ?? '', protocol, ip, port, dstLocal, physdevNotIn, target: t?.name ?? '', toAddress, proxyPort };
}
