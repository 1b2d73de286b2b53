// IpvsState -> text: ipvsadm-restore input as `ipvsadm -Sn` prints it, `ipset save` / `ipset restore` text,
// the companion iptables-restore input (serializeRestore of the iptables engine), the kube-ipvs0 address list.
import { joinHostPort } from '../net/ip.js';
import { serializeRestore } from '../iptables/serialize.js';
import { DUMMY_DEVICE } from './names.js';
import type { IPSet, IpvsProtocol, IpvsState, RealServer, VirtualServer } from './types.js';

const PROTO_FLAG: Record<IpvsProtocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };


const FORWARD_FLAG: Record<RealServer['forward'], string> = { Masq: '-m', Route: '-g', Tunnel: '-i' };

/** A virtual server's `-A` line and its real servers' `-a` lines (ipvsadm -Sn). */
export function virtualServerLines(vs: VirtualServer): string[] {
  const id = `${PROTO_FLAG[vs.protocol]} ${joinHostPort(vs.address, vs.port)}`;
  let head = `-A ${id} -s ${vs.scheduler}`;
  if (vs.schedFlags.length > 0) head += ` -b ${vs.schedFlags.join(',')}`;
  if (vs.persistentTimeout !== null) head += ` -p ${vs.persistentTimeout}`;
  const lines = [head];
  for (const rs of vs.realServers) lines.push(`-a ${id} -r ${joinHostPort(rs.address, rs.port)} ${FORWARD_FLAG[rs.forward]} -w ${rs.weight}`);
  return lines;
}

/** Virtual servers in a stable order: address bytes, then port, then protocol (the kernel prints hash order). */
export function sortVirtualServers(list: readonly VirtualServer[]): VirtualServer[] {
  return [...list].sort((a, b) => cmp(a.address, b.address) || a.port - b.port || cmp(a.protocol, b.protocol));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What `ipvsadm-restore` takes, as `ipvsadm -Sn` prints it, for one or more families. */
export function serializeIpvsadm(states: readonly IpvsState[]): string {
  let out = '';
  for (const st of states) for (const vs of sortVirtualServers(st.virtualServers)) out += virtualServerLines(vs).join('\n') + '\n';
  return out;
}

/** The `create` line of a set, as `ipset save` prints it (without the kernel's bucketsize/initval extras). */
export function ipsetCreateLine(set: IPSet): string {
  let line = `create ${set.name} ${set.type}`;
  if (set.type.startsWith('bitmap:')) line += ` range ${set.range ?? '0-65535'}`;
  else line += ` family ${set.family ?? 'inet'} hashsize ${set.hashsize ?? 1024} maxelem ${set.maxelem ?? 65536}`;
  return line;
}

/** `ipset save` text of the sets (what `ipset restore` takes): every set, then its members. */
export function serializeIpsetSave(states: readonly IpvsState[] | readonly IPSet[][]): string {
  let out = '';
  for (const st of states) {
    const sets = Array.isArray(st) ? (st as IPSet[]) : (st as IpvsState).ipsets;
    for (const set of sets) {
      out += ipsetCreateLine(set) + '\n';
      for (const m of set.members) out += `add ${set.name} ${m}\n`;
    }
  }
  return out;
}

/** `-o ipvsadm`: the ipvsadm-restore text, then the `ipset save` text it needs. */
export function serializeIpvsOutput(states: readonly IpvsState[]): string {
  return serializeIpvsadm(states) + serializeIpsetSave(states);
}

/** The companion iptables-restore input; dual stack prints the IPv6 part after a comment line. */
export function serializeCompanionRestore(states: readonly IpvsState[]): string {
  return states
    .map((st, i) => (i > 0 || states.length > 1 ? `# ${st.family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} input\n` : '') + serializeRestore(st.iptables))
    .join('');
}

/** The addresses kube-proxy binds to kube-ipvs0, one `ADDRESS/32` (or /128) a line. */
export function serializeAddresses(states: readonly IpvsState[]): string {
  return states.flatMap((st) => st.addresses.map((a) => `${a}/${a.includes(':') ? 128 : 32}`)).map((l) => l + '\n').join('');
}

/** `ip -batch` input binding the addresses to kube-ipvs0 (what netlink's EnsureAddressBind does). */
export function addressBatch(addresses: readonly string[], verb: 'add' | 'del' = 'add'): string {
  return addresses.map((a) => `addr ${verb} ${a}/${a.includes(':') ? 128 : 32} dev ${DUMMY_DEVICE}\n`).join('');
}

