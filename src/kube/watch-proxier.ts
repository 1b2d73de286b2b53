// The proxier fed by the API server: a ListWatch per collection kube-proxy watches (Services,
// EndpointSlices, Nodes), each event one tracker operation, then a request for a sync.
import type { KubeConfig } from '@kubernetes/client-node';
import type { EndpointSlice, Node, Service } from '../core/objects/types.js';
import { keyOf, type Proxier } from '../core/proxier/index.js';
import { ListWatch } from './watch.js';

export interface ProxierWatch {
  stop(): Promise<void>;
  watches: ListWatch<{ metadata?: { resourceVersion?: string } }>[];
}

export async function watchIntoProxier(kc: KubeConfig, proxier: Proxier, opts: { namespace?: string; log: (m: string) => void; maxBackoffMs?: number }): Promise<ProxierWatch> {
  const ns = opts.namespace ? `/namespaces/${encodeURIComponent(opts.namespace)}` : '';
  const t = proxier.tracker;
  const after = (changed: boolean | number) => {
    if (changed) proxier.queued();
  };
  const common = { log: opts.log, ...(opts.maxBackoffMs ? { maxBackoffMs: opts.maxBackoffMs } : {}) };
  const watches = [
    new ListWatch<Service>(kc, `/api/v1${ns}/services`, {
      replace: (items) => after(t.replaceKind('services', items)),
      upsert: (o) => after(t.upsertService(o)),
      delete: (o) => after(t.deleteService(keyOf(o))),
    }, { resource: 'services', ...common }),
    new ListWatch<EndpointSlice>(kc, `/apis/discovery.k8s.io/v1${ns}/endpointslices`, {
      replace: (items) => after(t.replaceKind('endpointSlices', items)),
      upsert: (o) => after(t.upsertSlice(o)),
      delete: (o) => after(t.deleteSlice(keyOf(o))),
    }, { resource: 'endpointslices', ...common }),
    new ListWatch<Node>(kc, '/api/v1/nodes', {
      replace: (items) => after(t.replaceKind('nodes', items)),
      upsert: (o) => after(t.upsertNode(o)),
      delete: (o) => after(t.deleteNode(o.metadata?.name ?? '')),
    }, { resource: 'nodes', ...common }),
  ];
  for (const w of watches) await w.start();
  return {
    watches: watches as ProxierWatch['watches'],
    async stop() {
      for (const w of watches) await w.stop();
    },
  };
}
