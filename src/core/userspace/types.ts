// The userspace mode's state for one IP family: the portal rules it keeps in iptables (data, an iptables
// Ruleset) and the proxy ports its process listens on, each serving one service port.
//
// Reference: kubernetes/kubernetes pkg/proxy/userspace at 0096f4a4d137aa03ee1f5d168dadb325833b3a57
// (proxier.go, roundrobin.go; the last form before the mode's removal in 1.26), proxysocket.go at
// 051f8e4e3ad819d0631878c309fcf2e6a8521ff1, port_allocator.go at 04791b4906602ffda5ccf9bc4c84d3329f1d7080.
import type { Ruleset } from '../iptables/index.js';
import type { IPFamily } from '../objects/types.js';
import type { ProxyAddress } from './portals.js';

export type PortalKind = 'cluster IP' | 'external IP' | 'loadbalancer IP' | 'nodePort';

/** One address (or every local address, for a node port) a service port is reached on. */
export interface Portal {
  kind: PortalKind;
  /** null for a node port: every local address. */
  ip: string | null;
  port: number;
}

/** A service port as the userspace proxier serves it: one listening socket and its balancer. */
export interface ProxiedServicePort {
  /** "ns/name:port". */
  servicePort: string;
  /** TCP or UDP; the userspace proxier never supported SCTP. */
  protocol: string;
  /** The port the proxy listens on; in a rendered view, assigned deterministically (see ports.ts). */
  proxyPort: number;
  portals: Portal[];
  /**
   * Ready endpoints ("ip:port") in the model's order; upstream shuffles them on every change, so the
   * round-robin order on a node is one permutation of these. null: unknown (a dump holds no endpoints,
   * they live in kube-proxy's memory).
   */
  endpoints: string[] | null;
  /** ClientIP affinity timeout in seconds; null without affinity (or unknown, from a dump). */
  affinitySeconds: number | null;
}

export interface UserspaceState {
  family: IPFamily;
  /** KUBE-PORTALS-*, KUBE-NODEPORT-* (nat) and KUBE-NODEPORT-NON-LOCAL (filter), with what jumps to them. */
  rules: Ruleset;
  proxies: ProxiedServicePort[];
  /**
   * Rendered by our engine: the proxy ports are stand-ins (ports.ts) unless given, and the jumps from the
   * built-in chains are implied (portalJumpRules). False: read from a node, jumps as found.
   */
  rendered: boolean;
  /** Where the proxy listens and the node IP host rules DNAT to (rendered states; a dump does not say). */
  address?: ProxyAddress;
}
