// What the proxier sees of a host: a mode's rules there (read, apply atomically, release) and the target it
// runs its commands on. The adapters (apply-*.ts) implement it; apply.ts picks one per mode.
import type { CommandRunner } from '../host/backend.js';
import type { FamilyState, IPFamily, Plan, ProxyModeDefinition } from '../modes/types.js';
import type { CanaryHost } from './canary.js';
import type { ConntrackCleaner } from './conntrack.js';

/** A mode's rules on one host, as the proxier needs them. */
export interface ModeHost {
  /** "this host", "network namespace node-1". */
  readonly description: string;
  /** What the host holds of this mode for `family`, parsed as the mode's state; undefined when nothing. */
  read(family: IPFamily): Promise<FamilyState | undefined>;
  /** Applies the plan as one change: all of it, or (throwing one sentence) none of it. */
  apply(plan: Plan): Promise<void>;
  /** When sync stops: release what only lives while it runs (the userspace proxy's sockets and the rules to them). */
  close?(): Promise<void>;
  /** The mode this host programs when it is not the one asked (ipvs falling back to iptables). */
  readonly def?: ProxyModeDefinition<FamilyState>;
  /** Deletes stale UDP conntrack entries after a successful apply. */
  readonly conntrack?: ConntrackCleaner;
  /** kube-proxy's canary chains (the iptables mode). */
  readonly canary?: CanaryHost;
}

export interface HostTarget {
  run: CommandRunner;
  description: string;
  /** The network namespace `run` enters, if any (a process that must live there is started in it). */
  netns?: string;
  /** The kube-proxy version whose behaviour to follow where it changed (the ipvs fallback). */
  kubeProxyVersion?: string;
  /** One line per event a host side says on its own (the ipvs fallback, a port it could not claim). */
  log?: (line: string) => void;
}
