// Where cluster state comes from: the API server, or files given with -f.
// Commands ask a ClusterSource for what they need and never care which one they have.
import type { ConfigMap, EndpointSlice, KubeObject, Node, Service } from '../core/objects/types.js';
import { classifyObjects, type LocatedObject } from '../core/objects/decode.js';
import { checkObjects } from '../core/objects/check.js';
import type { InputKind } from '../core/objects/inputs.js';
import { InputError } from '../core/errors.js';
import { closeNames } from '../core/suggest.js';
import { KubeClient } from './client.js';
import { readLocated } from './files.js';
import { CONFIG_MAP_NAMES } from '../core/config/index.js';
import type { NodeShell } from '../core/modes/types.js';
import { PodShell } from './live-rules.js';
import { contextNamespace, loadKubeConfig, type KubeConfigOptions } from './kubeconfig.js';
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


export class FileSource implements ClusterSource {
  private readonly objects;
  private readonly where = new WeakMap<object, LocatedObject>();
  readonly description: string;

  /** Reads every file now; what kube-proxy would skip is left out and said through `warn`, once per object. */
  constructor(paths: string[], warn: (message: string) => void = stderrWarning) {
    this.description = `files ${paths.join(', ')}`;
    const { objects, empty } = readLocated(paths);
    if (objects.length === 0) throw new InputError(`${empty.join('; ')}; give files holding the objects \`kubectl get -o yaml\` prints.`);
    for (const e of empty) warn(`${e}.`);
    const checked = checkObjects(objects);
    for (const o of objects) this.where.set(o.object, o);
    for (const w of checked.warnings) warn(w);
    this.objects = classifyObjects(checked.objects);
  }

  async nodes() { return this.objects.nodes; }
  async services(namespace?: string) { return inNamespace(this.objects.services, namespace); }
  async endpointSlices(namespace?: string) { return inNamespace(this.objects.endpointSlices, namespace); }
  async proxyConfigMaps() { return this.objects.configMaps; }
  async others() { return this.objects.others; }

  /** Where an object was read (its file and line), for messages. */
  locate(obj: object): LocatedObject | undefined {
    return this.where.get(obj);
  }

  /** Which of the kinds kube-proxy reads the files hold (ConfigMap: kube-proxy's own). */
  async kinds(): Promise<Set<InputKind>> {
    const out = new Set<InputKind>();
    if (this.objects.nodes.length) out.add('Node');
    if (this.objects.services.length) out.add('Service');
    if (this.objects.endpointSlices.length) out.add('EndpointSlice');
    if (this.objects.configMaps.some((c) => CONFIG_MAP_NAMES.includes(c.metadata?.name ?? ''))) out.add('ConfigMap');
    return out;
  }
}

function stderrWarning(message: string): void {
  process.stderr.write(`Warning: ${message}\n`);
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
    for (const name of CONFIG_MAP_NAMES) {
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

/**
 * The namespace a bare name is looked up in, as kubectl: -n, else the current context's namespace (not with -f,
 * which reads no kubeconfig), else "default".
 */
export function defaultNamespace(flags: { namespace?: string; filename?: string[]; kubeconfig?: string; context?: string }): string {
  if (flags.namespace) return flags.namespace;
  if (flags.filename?.length) return 'default';
  return contextNamespace({ kubeconfig: flags.kubeconfig, context: flags.context }) ?? 'default';
}

/** -n naming a namespace no Service is in: one sentence (an unknown or empty namespace), with the close names. */
export function checkNamespace(services: Service[], namespace: string | undefined, where: string): void {
  if (!namespace || services.length === 0) return;
  const known = new Set(services.map((s) => s.metadata?.namespace ?? 'default'));
  if (known.has(namespace)) return;
  const close = closeNames(namespace, known);
  throw new InputError(`namespace "${namespace}" has no Services in ${where} (it is empty or does not exist)${close.length ? `; did you mean ${close.join(', ')}?` : `; the namespaces with Services are ${[...known].sort().slice(0, 8).join(', ')}.`}`);
}

function inNamespace<T extends KubeObject>(objs: T[], namespace?: string): T[] {
  return namespace ? objs.filter((o) => (o.metadata?.namespace ?? 'default') === namespace) : objs;
}

const enc = encodeURIComponent;
