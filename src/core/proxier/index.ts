// The proxier: change tracking, the rate-limited sync loop, health and metrics as data, and the one
// adapter to a host's backends (apply.ts).
export { ChangeTracker, LAST_CHANGE_TRIGGER_TIME, keyOf, type ClusterObjects, type PendingChanges } from './changes.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { BoundedFrequencyRunner, type BoundedFrequencyOptions } from './runner.js';
export { ProxyHealth, TO_BE_DELETED_TAINT, goTimeString, serviceHealth, serviceHealthAnswer, type HealthAnswer, type ServiceHealth } from './health.js';
export { newMetrics, type ProxierMetrics, type SyncRecord } from './metrics.js';
export { Proxier, syncPeriods, type ProxierOptions, type SyncOutcome } from './proxier.js';
export { cleanupHost, isKubeProxyChain, isKubeProxySet, modeHost, planAgainstHost, type HostTarget, type ModeHost } from './apply.js';
