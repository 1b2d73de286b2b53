// The ipvs mode's state as data: what kube-proxy's ipvs proxier programs on a node for one IP family —
// IPVS virtual servers with their real servers, the addresses bound to kube-ipvs0, the ipsets with their
// members, and the small, constant set of iptables rules (a Ruleset) that match those ipsets.
// Render produces it; serialize turns it into ipvsadm-restore, ipset restore and iptables-restore text;
// parse reads `ipvsadm -Sn` / `ipvsadm -Ln`, `ipset save` and iptables-save back into it.

import type { JumpRule } from '../iptables/render/jumps.js';
import type { IPFamily, Ruleset } from '../iptables/types.js';

export type { IPFamily } from '../iptables/types.js';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';

/** How the virtual server was made: which address of the service port it answers on. */
export type VirtualServerKind = 'cluster IP' | 'external IP' | 'loadbalancer IP' | 'nodePort';

export interface RealServer {
  address: string;
  port: number;
  /** kube-proxy adds every real server with weight 1; 0 while a removed one drains (graceful termination). */
  weight: number;
  /** Packet forwarding method: kube-proxy always uses masquerading (NAT), ipvsadm's "Masq" / `-m`. */
  forward: 'Masq' | 'Route' | 'Tunnel';
  /** Live counters from `ipvsadm -Ln` (ActiveConn, InActConn) when read from a node. */
  activeConns?: number;
  inactiveConns?: number;
  /** Live `--stats` / `--rate` columns when read with those options. */
  stats?: IpvsStats;
  rate?: IpvsStats;
  /** Set by render on a real server kept at weight 0 because it is being gracefully deleted. */
  terminating?: boolean;
}

/** `--stats`: Conns InPkts OutPkts InBytes OutBytes; `--rate`: CPS InPPS OutPPS InBPS OutBPS. */
export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

export interface VirtualServer {
  protocol: IpvsProtocol;
  address: string;
  port: number;
  /** rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh … */
  scheduler: string;
  /** Scheduler flags by ipvsadm name (`-b`): kube-proxy sets "mh-port" (IP_VS_SVC_F_SCHED2) for mh. */
  schedFlags: string[];
  /** Persistence timeout in seconds for ClientIP session affinity (IP_VS_SVC_F_PERSISTENT), or null. */
  persistentTimeout: number | null;
  realServers: RealServer[];
  /** "ns/name:port" of the service port it belongs to (render only; a parsed dump does not know it). */
  servicePort?: string;
  kind?: VirtualServerKind;
  /** Live `--stats` / `--rate` of the virtual server. */
  stats?: IpvsStats;
  rate?: IpvsStats;
}

export type IPSetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port' | string;

export interface IPSet {
  name: string;
  type: IPSetType;
  /** "inet" or "inet6" for hash types; absent for bitmap:port. */
  family?: 'inet' | 'inet6';
  hashsize?: number;
  maxelem?: number;
  /** bitmap:port range, "0-65535". */
  range?: string;
  /** kube-proxy's comment for the set (used in the iptables rules that match it; ipsets are made without one). */
  comment?: string;
  /** Entries as ipset prints them ("10.96.0.1,tcp:443", "30080"), sorted. */
  members: string[];
}

export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface IpvsState {
  family: IPFamily;
  virtualServers: VirtualServer[];
  /** Addresses kube-proxy binds to the kube-ipvs0 dummy interface (also the members of KUBE-IPVS-IPS). */
  addresses: string[];
  /** A parsed dump's addresses came from `ip addr show kube-ipvs0` (else from KUBE-IPVS-IPS): only then
   * can a missing or extra address on the interface be told. */
  addressesListed?: true;
  ipsets: IPSet[];
  /** The companion iptables-restore input (nat, then filter, as kube-proxy writes it). */
  iptables: Ruleset;
  /** Jump rules kube-proxy ensures in built-in chains outside its restore input. */
  jumps: JumpRule[];
  /** `ipvsadm --set` timeouts when any is configured (0 keeps the system value), else null. */
  timeouts: IpvsTimeouts | null;
}
