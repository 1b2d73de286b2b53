// Which address and port a Service target means, read from the model (cluster, -f) or, with nothing
// but a dump, from what the mode's own summary says each service port's cluster IP is.
import type { ProxyState } from '../model/index.js';
import type { ServicePortSummary } from '../modes/types.js';
import { canonicalIP } from './addr.js';

export interface ServicePortTarget {
  /** "ns/name". */
  service: string;
  /** The port's name ("" when it has none). */
  portName: string;
  ip: string;
  port: number;
  protocol: string;
}

export function targetsFromState(states: ProxyState[]): ServicePortTarget[] {
  const out: ServicePortTarget[] = [];
  for (const s of states) {
    for (const sp of s.serviceMap.values()) {
      if (!sp.clusterIP || sp.clusterIP === 'None') continue;
      out.push({ service: `${sp.name.namespace}/${sp.name.name}`, portName: sp.name.port, ip: sp.clusterIP, port: sp.port, protocol: sp.protocol });
    }
  }
  return out;
}

const SERVICE_PORT = /^(\S+?\/\S+?)(?::(\S+))?$/;

/** Cluster IPs of the service ports a mode's summary names (a dump's comments, or the rendered view). */
export function targetsFromSummaries(summaries: readonly ServicePortSummary[]): ServicePortTarget[] {
  const out = new Map<string, ServicePortTarget>();
  for (const s of summaries) {
    const m = SERVICE_PORT.exec(s.servicePort);
    if (!m) continue;
    for (const e of s.entries) {
      if (e.kind !== 'cluster IP' || e.port === null) continue;
      const ip = canonicalIP(e.address);
      if (!ip) continue;
      const target = { service: m[1]!, portName: m[2] ?? '', ip, port: e.port, protocol: e.protocol === 'ALL' ? 'TCP' : e.protocol };
      out.set(`${target.service}|${target.portName}|${ip}|${target.protocol}`, target);
    }
  }
  return [...out.values()];
}
