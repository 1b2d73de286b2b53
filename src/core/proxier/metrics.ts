// The proxier's metrics as data (what kube-proxy's pkg/proxy/metrics exports): counters, last timestamps,
// and each sync's record. The metrics server turns these into Prometheus text; tests read them directly.

export interface SyncRecord {
  /** When the sync began (ms since the epoch). */
  at: number;
  full: boolean;
  ok: boolean;
  seconds: number;
  /** Why it failed, one sentence. */
  error?: string;
  /** Seconds from each endpoint change's trigger time to its rules being written. */
  networkProgrammingSeconds: number[];
  /** Rules written per table (iptables modes), for kubeproxy_sync_proxy_rules_iptables_total. */
  rulesByTable?: Record<string, number>;
}

export interface ProxierMetrics {
  syncs: number;
  fullSyncs: number;
  partialSyncs: number;
  /** Applies the host refused (kubeproxy_sync_proxy_rules_iptables_restore_failures_total and its kin). */
  failures: number;
  /** Stale UDP conntrack deletions run (one per `conntrack -D` filter). */
  conntrackDeletions: number;
  /** Last successful sync (ms since the epoch; 0: never). */
  lastSyncTimestamp: number;
  /** Oldest change queued and not yet written (0: none). */
  lastQueuedTimestamp: number;
  serviceChangesPending: number;
  serviceChangesTotal: number;
  endpointChangesPending: number;
  endpointChangesTotal: number;
  /** Service ports with a Local policy and no local endpoint, by traffic kind (internal, external). */
  noLocalEndpoints: { internal: number; external: number };
  rulesByTable: Record<string, number>;
  /** The last syncs, newest last (at most 100). */
  history: SyncRecord[];
}

export function newMetrics(): ProxierMetrics {
  return {
    syncs: 0,
    fullSyncs: 0,
    partialSyncs: 0,
    failures: 0,
    conntrackDeletions: 0,
    lastSyncTimestamp: 0,
    lastQueuedTimestamp: 0,
    serviceChangesPending: 0,
    serviceChangesTotal: 0,
    endpointChangesPending: 0,
    endpointChangesTotal: 0,
    noLocalEndpoints: { internal: 0, external: 0 },
    rulesByTable: {},
    history: [],
  };
}

export const HISTORY_LENGTH = 100;
