// Which UDP conntrack entries a sync makes stale, as data (kube-proxy's pkg/proxy/conntrack cleanup.go,
// CleanStaleEntries; before 1.28 the same code sat in each proxier as deleteEndpointConnections /
// deleteServiceConnections). UDP has no connection end, so a client that keeps sending keeps its old
// conntrack entry — and with it the DNAT to a gone endpoint, or the drop recorded while a service had
// none. kube-proxy deletes, after rules are written:
//   - an endpoint that was ready and is gone (or no longer ready): entries DNATed from each service IP
//     (cluster IP, external IPs, load-balancer IPs) to it (ClearEntriesForNAT), and from its node port
//     (ClearEntriesForPortNAT);
//   - a service port that had no ready endpoint and now has one: every entry to its service IPs
//     (ClearEntriesForIP; later releases narrow it to IP and port, ClearEntriesForIPPort:
//     `ipPort`) and to its node port
//     (ClearEntriesForPort), because those recorded the traffic that went nowhere.
// 1.31+ does the same through netlink filters in one call; the entries chosen are the same.
import type { Endpoint } from '../model/endpoints.js';
import type { ServicePort } from '../model/service.js';
import type { IPFamily } from '../modes/types.js';
import type { ProxyView } from '../proxy-view.js';

/** One `conntrack -D` worth of entries (always UDP). */
export type ConntrackDeletion =
  | { kind: 'ip'; family: IPFamily; ip: string; port?: number }
  | { kind: 'port'; family: IPFamily; port: number }
  | { kind: 'nat'; family: IPFamily; origin: string; dest: string }
  | { kind: 'port-nat'; family: IPFamily; port: number; dest: string };

/** Where deletions go: the host backend (host/conntrack.ts) or a fake. */
export interface ConntrackCleaner {
  clear(deletions: readonly ConntrackDeletion[]): Promise<void>;
}

function readyIPs(eps: readonly Endpoint[] | undefined): Set<string> {
  return new Set((eps ?? []).filter((e) => e.ready).map((e) => e.ip));
}

function serviceIPs(sp: ServicePort): string[] {
  return [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerVIPs].filter(Boolean);
}

/** The stale UDP entries between the view last applied (undefined: nothing yet) and the one just applied. */
export function staleConntrack(previous: ProxyView | undefined, next: ProxyView, opts: { ipPort?: boolean } = {}): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const seen = new Set<string>();
  const add = (d: ConntrackDeletion) => {
    const k = JSON.stringify(d);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(d);
    }
  };
  for (const f of next.families) {
    const family = f.family;
    const before = previous?.families.find((p) => p.family === family)?.state;
    const after = f.state;
    // a partial sync's view keeps every unchanged service port's entries as they were (proxy-view-update):
    // the same objects cannot have made anything stale
    const unchanged = (key: string) => before !== undefined && before.serviceMap.get(key) === after.serviceMap.get(key) && before.endpointsMap.get(key) === after.endpointsMap.get(key);
    // endpoints gone: the old service port's addresses, as they were
    for (const [key, sp] of before?.serviceMap ?? []) {
      if (sp.protocol !== 'UDP' || unchanged(key)) continue;
      const now = readyIPs(after.endpointsMap.get(key));
      for (const ip of readyIPs(before!.endpointsMap.get(key))) {
        if (now.has(ip)) continue;
        if (sp.nodePort) add({ kind: 'port-nat', family, port: sp.nodePort, dest: ip });
        for (const origin of serviceIPs(sp)) add({ kind: 'nat', family, origin, dest: ip });
      }
    }
    // service ports that went from no ready endpoint to some
    for (const [key, sp] of after.serviceMap) {
      if (sp.protocol !== 'UDP' || unchanged(key)) continue;
      if (readyIPs(after.endpointsMap.get(key)).size === 0) continue;
      if (before?.serviceMap.has(key) && readyIPs(before.endpointsMap.get(key)).size > 0) continue;
      for (const ip of serviceIPs(sp)) add(opts.ipPort ? { kind: 'ip', family, ip, port: sp.port } : { kind: 'ip', family, ip });
      if (sp.nodePort) add({ kind: 'port', family, port: sp.nodePort });
    }
  }
  return out;
}

/** `conntrack` arguments of a deletion (the tool's own filter flags). */
export function conntrackArgs(d: ConntrackDeletion): string[] {
  const fam = d.family === 'IPv6' ? ['-f', 'ipv6'] : [];
  switch (d.kind) {
    case 'ip':
      return ['-D', '--orig-dst', d.ip, '-p', 'udp', ...(d.port ? ['--dport', String(d.port)] : []), ...fam];
    case 'port':
      return ['-D', '-p', 'udp', '--dport', String(d.port), ...fam];
    case 'nat':
      return ['-D', '--orig-dst', d.origin, '--dst-nat', d.dest, '-p', 'udp', ...fam];
    case 'port-nat':
      return ['-D', '-p', 'udp', '--dport', String(d.port), '--dst-nat', d.dest, ...fam];
  }
}
