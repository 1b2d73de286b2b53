// core/userspace: kube-proxy's userspace mode (Kubernetes 1.0-1.25): its portal rules as data and text,
// its round-robin balancer as pure logic, and its mode definition. The proxy process is in core/host/userspace.
export type { Portal, PortalKind, ProxiedServicePort, UserspaceState } from './types.js';
export { portalJumpRules, jumpRuleArgv, USERSPACE_CHAINS, type PortalJumpRule } from './names.js';
export { DEFAULT_AFFINITY_SECONDS, MissingEndpointsError, MissingServiceEntryError, RoundRobin, shuffle, type RoundRobinOptions } from './roundrobin.js';
export { PortRangeAllocator, renderedProxyPorts, type PortRange } from './ports.js';
export { PROXIED_PROTOCOLS, portalRules, proxyAddressFor, renderUserspace, renderUserspaceFamily, servedProxies } from './render.js';
export { planUserspace, portalChains, portalRemovalText, portalRestoreText, proxyTableText, type UserspacePlan } from './text.js';
export type { ProxyAddress } from './portals.js';
export { userspaceMode } from './mode.js';
