// `sync --cleanup`, the ipvs part: kube-proxy's IPVS virtual servers and its kube-ipvs0 device (with the
// service addresses bound to it). Upstream's cleanupLeftovers (pkg/proxy/ipvs/cleanup.go, read at
// kubernetes/kubernetes 96a03f453527c60de35414d2214e4e7adf2eb549) flushes the whole IPVS table (ipvsadm -C)
// and deletes kube-ipvs0, before the iptables rules and the ipsets. We delete only the virtual servers we can
// tell are kube-proxy's, so IPVS services something else made (keepalived, a hand-made LVS) survive:
//   - an address bound to kube-ipvs0 (cluster, external and load-balancer IPs are bound there);
//   - an "IP,proto:port" member of KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP(-LOCAL), KUBE-LOAD-BALANCER(-LOCAL)
//     (the same, when the device is already gone);
//   - a port in KUBE-NODE-PORT-{TCP,UDP,SCTP} or their -LOCAL sets (node ports, on the node's addresses).
// So this runs before the ipsets are destroyed (upstream's order too).
import type { IpvsProtocol, VirtualServer } from '../ipvs/types.js';
import { DUMMY_DEVICE } from '../ipvs/names.js';
import { parseIpsetSave, parseIpvsadmSave } from '../ipvs/parse.js';
import type { CommandRunner } from './backend.js';
import { commandFailure } from './errors.js';

/** What the node holds that tells kube-proxy's virtual servers from others. */
export interface IpvsOwnership {
  /** Addresses on kube-ipvs0 (none when the device is gone). */
  bound: readonly string[];
  /** kube-proxy's ipsets by name with their members, as `ipset save` gives them. */
  sets: ReadonlyArray<{ name: string; members: readonly string[] }>;
}

const SERVICE_SETS = /^KUBE-(6-)?(CLUSTER-IP|EXTERNAL-IP|EXTERNAL-IP-LOCAL|LOAD-BALANCER|LOAD-BALANCER-LOCAL)$/;
const NODE_PORT_SETS = /^KUBE-(6-)?NODE-PORT-(LOCAL-)?(TCP|UDP|SCTP)/;

/** The virtual servers kube-proxy made, by the marks it leaves (see the file comment); pure. */
export function kubeProxyVirtualServers(servers: readonly VirtualServer[], own: IpvsOwnership): VirtualServer[] {
  const bound = new Set(own.bound);
  const servicePorts = new Set<string>();
  const nodePorts = new Set<string>();
  for (const s of own.sets) {
    if (SERVICE_SETS.test(s.name)) for (const m of s.members) servicePorts.add(m.toLowerCase());
    const np = NODE_PORT_SETS.exec(s.name);
    if (np) {
      const proto = np[3]!.toLowerCase();
      // bitmap:port members are the port ("30080"); the SCTP sets are hash:ip,port ("192.168.0.1,sctp:30080")
      for (const m of s.members) nodePorts.add(`${proto}:${/(\d+)$/.exec(m)?.[1] ?? m}`);
    }
  }
  return servers.filter((v) => {
    const proto = v.protocol.toLowerCase();
    return bound.has(v.address) || servicePorts.has(`${v.address},${proto}:${v.port}`.toLowerCase()) || nodePorts.has(`${proto}:${v.port}`);
  });
}

const PROTO_FLAG: Record<IpvsProtocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };
const hostPort = (v: VirtualServer) => (v.address.includes(':') ? `[${v.address}]:${v.port}` : `${v.address}:${v.port}`);

/** ipvsadm-restore input deleting these virtual servers (their real servers go with them). */
export function deleteVirtualServersText(servers: readonly VirtualServer[]): string {
  return servers.map((v) => `-D ${PROTO_FLAG[v.protocol]} ${hostPort(v)}\n`).join('');
}

/**
 * Removes kube-proxy's virtual servers (one `ipvsadm -R`) and kube-ipvs0 (`ip link del`). Resolves what it
 * removed, one phrase each; what it skipped or left goes to `note`. No ipvsadm (said) or a kernel without
 * IPVS (nothing to say): no virtual server is touched, the device is still removed. Throws one sentence when a deletion is refused.
 */
export async function cleanupIpvs(run: CommandRunner, note: (line: string) => void = () => {}): Promise<string[]> {
  const said: string[] = [];
  // upstream deletes kube-ipvs0 only when it is a dummy link (netlink_linux.go DeleteDummyDevice: "expect dummy
  // device" otherwise): a link of another kind by that name is not kube-proxy's, nor are its addresses
  const link = await run(['ip', '-d', '-o', 'link', 'show', 'dev', DUMMY_DEVICE]);
  const kind = link.code === 0 ? linkKind(link.stdout) : undefined;
  if (kind !== undefined && kind !== 'dummy') note(`${DUMMY_DEVICE} is a ${kind} link, not the dummy kube-proxy makes: left in place.`);
  const hasDevice = kind === 'dummy';
  const addr = hasDevice ? await run(['ip', '-o', 'addr', 'show', 'dev', DUMMY_DEVICE]) : undefined;
  const bound = addr?.code === 0 ? [...addr.stdout.matchAll(/\binet6?\s+([^/\s]+)\//g)].map((m) => m[1]!) : [];
  const save = await run(['ipvsadm', '-Sn']);
  if (save.code === 127) note('IPVS virtual servers not checked: ipvsadm is not installed.');
  else if (save.code !== 0) {
    // a kernel without IP_VS ("Can't initialize ipvs: Protocol not available") holds no virtual server
    const why = save.stderr.split('\n').map((l) => l.trim()).find(Boolean) ?? `exit ${save.code}`;
    if (!/^Can't initialize ipvs/.test(why)) note(`IPVS virtual servers not checked: ipvsadm -Sn says "${why}".`);
  } else {
    const servers = parseIpvsadmSave(save.stdout);
    const sets = await run(['ipset', 'save']);
    const ours = kubeProxyVirtualServers(servers, { bound, sets: sets.code === 0 ? parseIpsetSave(sets.stdout) : [] });
    if (ours.length > 0) {
      const argv = ['ipvsadm', '-R'];
      const r = await run(argv, deleteVirtualServersText(ours));
      if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, `kube-proxy's ${ours.length} IPVS virtual servers could not be deleted`);
      said.push(`${ours.length} IPVS virtual ${ours.length === 1 ? 'server' : 'servers'} of kube-proxy`);
    }
    const others = servers.length - ours.length;
    if (others > 0) note(`${others} IPVS virtual ${others === 1 ? 'server' : 'servers'} not made by kube-proxy left in place.`);
  }
  if (hasDevice) {
    const argv = ['ip', 'link', 'del', DUMMY_DEVICE];
    const r = await run(argv);
    if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, `${DUMMY_DEVICE} could not be deleted`);
    said.push(`${DUMMY_DEVICE} with ${bound.length} service ${bound.length === 1 ? 'address' : 'addresses'}`);
  }
  return said;
}

/** The link's kind from `ip -d -o link show` ("dummy", "bridge", "ifb"; "plain" for a device without one, as lo). */
export function linkKind(text: string): string {
  // -o joins the lines with a backslash: the flags, then "link/ether …", then the kind's line when it has one
  const word = text.split('\\')[2]?.trim().split(/\s+/)[0];
  return word && word !== 'addrgenmode' ? word : 'plain';
}
