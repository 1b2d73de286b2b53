// Change tracking as kube-proxy's ServiceChangeTracker and EndpointsChangeTracker keep it: the objects the
// proxier knows, in Maps keyed by namespace/name, and the services whose rules a change touches, so a
// partial sync rewrites only those. Every event costs one Map operation; nothing is scanned per event.
// The node's own labels are kube-proxy's topology input: a change there asks for a full sync.
import { LabelServiceName } from '../model/labels.js';
import type { EndpointSlice, Node, Service } from '../objects/types.js';

/** kube-proxy's annotation with the time the endpoints last changed (network programming latency). */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface ClusterObjects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

/** What a sync takes from the tracker. */
export interface PendingChanges {
  /** Services ("ns/name") whose service or endpoints changed. */
  services: Set<string>;
  /** The node's labels changed (or it appeared): kube-proxy syncs everything. */
  nodeChanged: boolean;
  /** Trigger times (ms) of the endpoint changes in this batch, for network programming latency. */
  triggerTimes: number[];
}

/** namespace/name, the trackers' key. */
export const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Same object for the proxier: same resourceVersion when both have one, else the same content. */
function same(a: unknown, b: unknown): boolean {
  const ra = (a as Service).metadata?.resourceVersion;
  const rb = (b as Service).metadata?.resourceVersion;
  if (ra !== undefined && rb !== undefined) return ra === rb;
  return JSON.stringify(a) === JSON.stringify(b);
}

export class ChangeTracker {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly nodes = new Map<string, Node>();
  /** Slice keys by the service ("ns/name") their label names: a partial sync reads one service's slices. */
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly pendingServices = new Set<string>();
  private readonly pendingEndpoints = new Set<string>();
  private triggerTimes: number[] = [];
  private nodeChanged = false;
  /** Changes ever recorded (kubeproxy_sync_proxy_rules_*_changes_total). */
  serviceChangesTotal = 0;
  endpointChangesTotal = 0;

  /**
   * `nodeName`: this proxier's node (hostnameOverride); only its labels matter to the rules. `startTime`:
   * trigger times before it are not counted (as upstream, objects older than the tracker are not latency).
   */
  constructor(
    public nodeName: string,
    private readonly startTime = 0,
  ) {}

  // ---- events ----

  /** Returns whether the event changed anything. */
  upsertService(svc: Service): boolean {
    const k = keyOf(svc);
    const old = this.services.get(k);
    if (old && same(old, svc)) return false;
    this.services.set(k, svc);
    this.markService(k);
    return true;
  }

  deleteService(key: string): boolean {
    if (!this.services.delete(key)) return false;
    this.markService(key);
    return true;
  }

  upsertSlice(slice: EndpointSlice): boolean {
    const k = keyOf(slice);
    const old = this.slices.get(k);
    if (old && same(old, slice)) return false;
    this.slices.set(k, slice);
    if (old) this.unindexSlice(k, old);
    this.indexSlice(k, slice);
    if (old) this.markEndpoints(serviceOfSlice(old));
    this.markEndpoints(serviceOfSlice(slice));
    const trigger = Date.parse(slice.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME] ?? '');
    if (Number.isFinite(trigger) && trigger >= this.startTime) this.triggerTimes.push(trigger);
    return true;
  }

  deleteSlice(key: string): boolean {
    const old = this.slices.get(key);
    if (!old) return false;
    this.slices.delete(key);
    this.unindexSlice(key, old);
    this.markEndpoints(serviceOfSlice(old));
    return true;
  }

  upsertNode(node: Node): boolean {
    const name = node.metadata?.name ?? '';
    const old = this.nodes.get(name);
    if (old && same(old, node)) return false;
    this.nodes.set(name, node);
    if (name === this.nodeName && (!old || JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(node.metadata?.labels ?? {}))) this.nodeChanged = true;
    if (name === this.nodeName && old && JSON.stringify(nodeAddressing(old)) !== JSON.stringify(nodeAddressing(node))) this.nodeChanged = true;
    return true;
  }

  deleteNode(name: string): boolean {
    if (!this.nodes.delete(name)) return false;
    if (name === this.nodeName) this.nodeChanged = true;
    return true;
  }

  /**
   * Makes the tracker hold exactly `objects` (a re-read file set, or a re-list after a watch expired):
   * one Map lookup per object, then one pass over what is left to find deletions.
   */
  replaceAll(objects: ClusterObjects): number {
    let changes = 0;
    const seen = { services: new Set<string>(), slices: new Set<string>(), nodes: new Set<string>() };
    for (const s of objects.services) {
      seen.services.add(keyOf(s));
      if (this.upsertService(s)) changes++;
    }
    for (const s of objects.endpointSlices) {
      seen.slices.add(keyOf(s));
      if (this.upsertSlice(s)) changes++;
    }
    for (const n of objects.nodes) {
      seen.nodes.add(n.metadata?.name ?? '');
      if (this.upsertNode(n)) changes++;
    }
    for (const k of [...this.services.keys()]) if (!seen.services.has(k) && this.deleteService(k)) changes++;
    for (const k of [...this.slices.keys()]) if (!seen.slices.has(k) && this.deleteSlice(k)) changes++;
    for (const k of [...this.nodes.keys()]) if (!seen.nodes.has(k) && this.deleteNode(k)) changes++;
    return changes;
  }

  /** One kind re-listed (a watch's list): the others stay as they are. */
  replaceKind(kind: 'services' | 'endpointSlices' | 'nodes', items: unknown[]): number {
    return this.replaceAll({ ...this.objects(), [kind]: items });
  }

  // ---- what a sync reads ----

  objects(): ClusterObjects {
    return { services: [...this.services.values()], endpointSlices: [...this.slices.values()], nodes: [...this.nodes.values()] };
  }

  /** The Services and EndpointSlices of `services` ("ns/name") and every node: what a partial sync rebuilds from. */
  objectsOf(services: Iterable<string>): ClusterObjects {
    const out: ClusterObjects = { services: [], endpointSlices: [], nodes: [...this.nodes.values()] };
    for (const key of services) {
      const svc = this.services.get(key);
      if (svc) out.services.push(svc);
      for (const k of this.slicesByService.get(key) ?? []) out.endpointSlices.push(this.slices.get(k)!);
    }
    return out;
  }

  node(): Node | undefined {
    return this.nodes.get(this.nodeName);
  }

  get serviceChangesPending(): number {
    return this.pendingServices.size;
  }

  get endpointChangesPending(): number {
    return this.pendingEndpoints.size;
  }

  hasPending(): boolean {
    return this.pendingServices.size > 0 || this.pendingEndpoints.size > 0 || this.nodeChanged;
  }

  /** Hands the pending changes to a sync and forgets them (a failed sync then syncs everything). */
  take(): PendingChanges {
    const services = new Set([...this.pendingServices, ...this.pendingEndpoints]);
    const out = { services, nodeChanged: this.nodeChanged, triggerTimes: this.triggerTimes };
    this.pendingServices.clear();
    this.pendingEndpoints.clear();
    this.nodeChanged = false;
    this.triggerTimes = [];
    return out;
  }

  private indexSlice(key: string, slice: EndpointSlice): void {
    const svc = serviceOfSlice(slice);
    if (!svc) return;
    let keys = this.slicesByService.get(svc);
    if (!keys) this.slicesByService.set(svc, (keys = new Set()));
    keys.add(key);
  }

  private unindexSlice(key: string, slice: EndpointSlice): void {
    const svc = serviceOfSlice(slice);
    const keys = svc ? this.slicesByService.get(svc) : undefined;
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.slicesByService.delete(svc!);
  }

  private markService(key: string): void {
    this.serviceChangesTotal++;
    this.pendingServices.add(key);
  }

  private markEndpoints(key: string | undefined): void {
    if (!key) return;
    this.endpointChangesTotal++;
    this.pendingEndpoints.add(key);
  }
}

function serviceOfSlice(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[LabelServiceName];
  return svc ? `${slice.metadata?.namespace ?? ''}/${svc}` : undefined;
}

function nodeAddressing(node: Node): unknown {
  const n = node as { spec?: { podCIDRs?: unknown; podCIDR?: unknown }; status?: { addresses?: unknown } };
  return [n.spec?.podCIDR, n.spec?.podCIDRs, n.status?.addresses];
}
