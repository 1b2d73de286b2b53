// Where cluster state comes from: the API server, or files given with -f.
// Commands ask a ClusterSource for what they need and never care which one they have.
import type { ConfigMap, EndpointSlice, KubeObject, Node, Service } from '../core/objects/types.js';
import { classifyObjects } from '../core/objects/decode.js';
import { KubeClient } from './client.js';
import { readManifests } from './files.js';
import type { NodeShell } from '../core/modes/types.js';
import { PodShell } from './live-rules.js';
import { loadKubeConfig, type KubeConfigOptions } from './kubeconfig.js';
import { parseRequestTimeout } from './duration.js';

export interface ClusterSource {
  /** For output headers: "files examples/" or "cluster kind-kind (https://127.0.0.1:6443)". */
  readonly description: string;
  nodes(): Promise<Node[]>;
  services(namespace?: string): Promise<Service[]>;
  endpointSlices(namespace?: string): Promise<EndpointSlice[]>;
  /** ConfigMaps that may hold kube-proxy's configuration (kube-system kube-proxy, kube-proxy-config). */
  proxyConfigMaps(): Promise<ConfigMap[]>;
  /** Every object of other kinds (files only; the API source fetches such objects on demand later). */
  others(): Promise<KubeObject[]>;
}

/** ConfigMap names distributions keep kube-proxy's configuration under, in kube-system. */
export const PROXY_CONFIGMAP_NAMES = ['kube-proxy', 'kube-proxy-config'];

export class FileSource implements ClusterSource {
  private readonly objects;
  readonly description: string;

  constructor(paths: string[]) {
    this.objects = classifyObjects(readManifests(paths));
    this.description = `files ${paths.join(', ')}`;
  }

  async nodes() { return this.objects.nodes; }
  async services(namespace?: string) { return inNamespace(this.objects.services, namespace); }
  async endpointSlices(namespace?: string) { return inNamespace(this.objects.endpointSlices, namespace); }
  async proxyConfigMaps() { return this.objects.configMaps; }
  async others() { return this.objects.others; }
}

export interface ApiSourceOptions extends KubeConfigOptions {
  requestTimeout: string;
  /** Items per list page (tests use small pages to exercise continue tokens). */
  pageSize?: number;
}

export class ApiSource implements ClusterSource {
  private readonly client: KubeClient;
  readonly description: string;

  constructor(opts: ApiSourceOptions) {
    this.client = new KubeClient(loadKubeConfig(opts), parseRequestTimeout(opts.requestTimeout), opts.pageSize);
    this.description = `cluster ${this.client.at.context} (${this.client.at.server})`;
  }

  nodes() {
    return this.client.list<Node>('/api/v1/nodes', { verb: 'list', resource: 'nodes' });
  }

  services(namespace?: string) {
    const path = namespace ? `/api/v1/namespaces/${enc(namespace)}/services` : '/api/v1/services';
    return this.client.list<Service>(path, { verb: 'list', resource: 'services', namespace });
  }

  endpointSlices(namespace?: string) {
    const base = '/apis/discovery.k8s.io/v1';
    const path = namespace ? `${base}/namespaces/${enc(namespace)}/endpointslices` : `${base}/endpointslices`;
    return this.client.list<EndpointSlice>(path, { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace });
  }

  async proxyConfigMaps() {
    const found: ConfigMap[] = [];
    for (const name of PROXY_CONFIGMAP_NAMES) {
      const cm = await this.client.get<ConfigMap>(`/api/v1/namespaces/kube-system/configmaps/${name}`, {
        verb: 'get', resource: 'configmaps', namespace: 'kube-system', name,
      }, { optional: true });
      if (cm) found.push({ apiVersion: 'v1', kind: 'ConfigMap', ...cm });
    }
    return found;
  }

  async others() { return []; }

  /** For readers that need more than lists (pod logs, exec). */
  get kubeClient(): KubeClient {
    return this.client;
  }

  /** The live rules of a cluster node, read in its kube-proxy pod. */
  liveRules(node: string): Promise<NodeShell> {
    return PodShell.forNode(this.client, node);
  }
}

/** Opens the source the command-line flags name: -f files, else the cluster. */
export function openSource(flags: { filename?: string[]; kubeconfig?: string; context?: string; 'request-timeout': string }): ClusterSource {
  if (flags.filename?.length) return new FileSource(flags.filename);
  return new ApiSource({ kubeconfig: flags.kubeconfig, context: flags.context, requestTimeout: flags['request-timeout'] });
}

function inNamespace<T extends KubeObject>(objs: T[], namespace?: string): T[] {
  return namespace ? objs.filter((o) => (o.metadata?.namespace ?? 'default') === namespace) : objs;
}

const enc = encodeURIComponent;
