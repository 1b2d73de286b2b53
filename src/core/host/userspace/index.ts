// core/host/userspace: the userspace proxier's sockets (the only part of that mode that touches a host).
// For `sync --mode userspace` (core/proxier/apply-userspace.ts drives it through a ProxierHandle: in this
// process, or in a child inside --netns; see child.ts):
//   const proxier = await startUserspaceProxier({ listenIP, portRange, udpIdleTimeoutMs }, []);
//   const state = await syncUserspaceFamily(proxier, familyView, config);   // on every change
//   iptables-restore --noflush < portalRestoreText([state]); once: iptables <jumpRuleArgv(j)> for portalJumpRules()
//   await proxier.stop();                                                    // closes sockets, ends connections
// The process must stay alive while it proxies: the sockets are in it.
export { startUserspaceProxier, stoppingServicePorts, UserspaceProxier, type ServicePortToProxy, type UserspaceProxierOptions } from './proxier.js';
export { ENDPOINT_DIAL_TIMEOUTS_MS, tryConnect } from './dial.js';
export type { ProxySocket } from './tcp.js';
export { syncUserspaceFamily } from './sync.js';
export { PortClaims } from './claims.js';
export { childProxier, localProxier, serveProxierChild, type ProxierChildOptions, type ProxierHandle, type SyncedPorts } from './child.js';
export { clearUDPEntriesArgv, clearUDPEntriesForIP } from './conntrack.js';
export { UDP_BUFFER_BYTES } from './udp.js';
