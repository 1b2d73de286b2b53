// Drift of the ipvs mode: the virtual servers (scheduler, persistence, real servers and weights) per
// service port, then what is node-wide (base-drift.ts: ipsets, kube-ipvs0 addresses, companion rules and
// built-in jumps). Each drift names the traffic it affects.
import type { Drift } from '../modes/types.js';
import { joinHostPort } from '../net/ip.js';
import { ipvsBaseDrift } from './base-drift.js';
import type { IpvsState, VirtualServer } from './types.js';

function vsName(v: VirtualServer): string {
  return `${joinHostPort(v.address, v.port)}/${v.protocol}`;
}

const KIND_WORD: Record<string, string> = { 'cluster IP': 'ClusterIP', 'external IP': 'external IP', 'loadbalancer IP': 'LoadBalancer', nodePort: 'NodePort' };

function virtualServerDrift(expected: IpvsState, actual: IpvsState): Drift[] {
  const drift: Drift[] = [];
  const family = expected.family;
  const idx = (st: IpvsState) => new Map(st.virtualServers.map((v) => [vsName(v), v]));
  const exp = idx(expected);
  const act = idx(actual);
  for (const [name, e] of exp) {
    const sp = e.servicePort ?? name;
    const a = act.get(name);
    if (!a) {
      drift.push({ servicePort: sp, kind: 'missing entry', object: `virtual server ${name}`, detail: `no virtual server ${name} on the node (${family}): ${e.kind ? KIND_WORD[e.kind] : 'its address'} ${name} is unreachable` });
      continue;
    }
    if (a.scheduler !== e.scheduler) drift.push({ servicePort: sp, kind: 'scheduler', detail: `${name}: scheduler ${a.scheduler}, expected ${e.scheduler}` });
    if (a.persistentTimeout !== e.persistentTimeout) drift.push({ servicePort: sp, kind: 'affinity', detail: `${name}: persistence ${a.persistentTimeout ?? 'none'}, expected ${e.persistentTimeout ?? 'none'}` });
    const ar = new Map(a.realServers.map((r) => [joinHostPort(r.address, r.port), r]));
    const er = new Map(e.realServers.map((r) => [joinHostPort(r.address, r.port), r]));
    for (const [hp, r] of er) {
      const x = ar.get(hp);
      if (!x) drift.push({ servicePort: sp, kind: 'missing endpoint', detail: `${name} -> ${hp}` });
      else if (x.weight !== r.weight) drift.push({ servicePort: sp, kind: 'weight', detail: `${name} -> ${hp}: weight ${x.weight}, expected ${r.weight}` });
    }
    for (const hp of ar.keys()) if (!er.has(hp)) drift.push({ servicePort: sp, kind: 'extra endpoint', detail: `${name} -> ${hp}` });
  }
  for (const name of act.keys()) if (!exp.has(name)) drift.push({ servicePort: name, kind: 'stale object', object: `virtual server ${name}`, detail: `the node still has virtual server ${name} (${family}): traffic to it still reaches its real servers` });
  return drift;
}

/** Everything kube-proxy's ipvs proxier owns that differs between the rendered and the live state. */
export function ipvsDrift(expected: IpvsState, actual: IpvsState): Drift[] {
  return [...virtualServerDrift(expected, actual), ...ipvsBaseDrift(expected, actual, { addressesListed: actual.addressesListed === true, jumps: expected.jumps })];
}
