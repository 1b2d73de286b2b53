// A fake clock (timers run when the test advances time, no sleeping) and a fake host for the proxier's
// unit tests: the iptables mode over the in-memory iptables backend, whose restores are all or nothing.
import { applyPlatformDefaults, setDefaults, type KubeProxyConfiguration } from '../../../src/core/config/index.js';
import { FakeIptablesBackend } from '../../../src/core/host/fake.js';
import type { IptablesPlan } from '../../../src/core/iptables/plan.js';
import { modeFor } from '../../../src/core/modes/registry.js';
import type { FamilyState, Plan } from '../../../src/core/modes/types.js';
import type { EndpointSlice, Node, Service } from '../../../src/core/objects/types.js';
import type { Clock, ModeHost, TimerHandle } from '../../../src/core/proxier/index.js';

export class FakeClock implements Clock {
  private t = Date.UTC(2026, 0, 1);
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { id };
  }
  clearTimer(h: TimerHandle): void {
    this.timers.delete(h.id);
  }
  /** Moves time forward by `ms`, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

export const iptables = modeFor('iptables', 'test');

/** The iptables mode on an in-memory backend; `failNext` makes applies fail as a missing nfacct counter does. */
export class FakeHost implements ModeHost {
  readonly description = 'fake host';
  readonly backend = new FakeIptablesBackend();
  readonly plans: Plan[] = [];
  reads = 0;
  async read(family: 'IPv4' | 'IPv6'): Promise<FamilyState | undefined> {
    this.reads++;
    const text = await this.backend.save(family);
    return iptables.parse({ source: 'fake', sections: [{ kind: 'iptables-save', text, family, line: 1 }] }, family);
  }
  async apply(plan: Plan): Promise<void> {
    this.plans.push(plan);
    await this.backend.apply(plan as IptablesPlan);
  }
  /** Refuse every rule naming an nfacct counter (none exist), as the kernel does. */
  breakNfacct(broken: boolean): void {
    this.backend.nfacctCounters = broken ? new Set() : undefined;
  }
  save(): Promise<string> {
    return this.backend.save('IPv4');
  }
}

export function config(over: Record<string, unknown> = {}): KubeProxyConfiguration {
  return applyPlatformDefaults(setDefaults({ mode: 'iptables', clusterCIDR: '10.244.0.0/16', hostnameOverride: 'node-a', ...over } as never));
}

export function node(name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.10' }] }, ...extra } as Node;
}

export function service(name: string, ip: string, extra: Record<string, unknown> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }], ...extra } } as Service;
}

export function slice(svc: string, ips: string[], nodeName = 'node-a', annotations?: Record<string, string>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-1`, namespace: 'ns', labels: { 'kubernetes.io/service-name': svc }, ...(annotations ? { annotations } : {}) },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName })),
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  } as EndpointSlice;
}
