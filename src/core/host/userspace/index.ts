// core/host/userspace: the userspace proxier's sockets (the only part of that mode that touches a host).
// Start with startUserspaceProxier(opts, servicePorts); call sync(servicePorts) on every change; stop().
export { startUserspaceProxier, UserspaceProxier, type ServicePortToProxy, type UserspaceProxierOptions } from './proxier.js';
export { ENDPOINT_DIAL_TIMEOUTS_MS, tryConnect } from './dial.js';
export type { ProxySocket } from './tcp.js';
export { syncUserspaceFamily } from './sync.js';
export { PortClaims } from './claims.js';
