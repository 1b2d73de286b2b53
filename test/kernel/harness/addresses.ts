// The addressing plan. Every topology lives in its own namespaces, so all runs can use the same
// addresses without colliding; they only need to look like a cluster:
//   node network 192.168.77.0/24 (fd00:77::/64): node .10, node2 .11, client .100
//   pod CIDR of node k: 10.244.k.0/24 (fd00:10:244:k::/64), gateway .1 on cni0, pod j at .(10+j)
//   service CIDR 10.96.0.0/12 (fd00:10:96::/112), routed into an ifb sink on the node

export const SERVICE_CIDR = '10.96.0.0/12';
export const SERVICE_CIDR6 = 'fd00:10:96::/112';
export const NODE_NET_PREFIX = 24;
export const NODE_NET_PREFIX6 = 64;

export const MAX_PODS_PER_NODE = 200;

/** Host part on the node network: node k (1-based) -> 10 + k - 1; the client -> 100. */
export function nodeNetAddress(host: number): { v4: string; v6: string } {
  return { v4: `192.168.77.${host}`, v6: `fd00:77::${host}` };
}

export function nodeAddress(k: number): { v4: string; v6: string } {
  return nodeNetAddress(9 + k);
}

export const CLIENT_HOST = 100;

export function podCIDR(k: number): { v4: string; v6: string } {
  return { v4: `10.244.${k}.0/24`, v6: `fd00:10:244:${k}::/64` };
}

export function podGateway(k: number): { v4: string; v6: string } {
  return { v4: `10.244.${k}.1`, v6: `fd00:10:244:${k}::1` };
}

export function podAddress(k: number, j: number): { v4: string; v6: string } {
  return { v4: `10.244.${k}.${10 + j}`, v6: `fd00:10:244:${k}::${10 + j}` };
}
