// core/proxy: what every proxy mode is built with, below the modes — the node a proxier runs on, the
// addresses NodePorts answer on, the local-traffic detector, the masquerade mark. Each mode turns these
// into its own syntax (iptables words, nft expressions, ipsets); none of them is any mode's.
export type { IPFamily } from '../objects/types.js';
export { nodeIPOfFamily, type ProxyNode } from './node.js';
export { nodePortAddressesFor, nodePortIPs, type NodePortAddresses } from './node-port-addresses.js';
export { localDetectorFor, type LocalDetector } from './local-detector.js';
export { formatMasqueradeMark } from './masquerade.js';
