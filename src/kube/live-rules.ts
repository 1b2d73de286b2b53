// A node's shell, for reading its live rules (the one NodeShell of core/modes): on a cluster node, the
// node's kube-proxy pod over pods/exec (it runs in the host's network namespace and its image carries the
// tools kube-proxy uses); or this host, run as root on a node or in a debug pod.
import { ClusterError, InputError } from '../core/errors.js';
import type { NodeShell } from '../core/modes/types.js';
import { KUBE_PROXY_SELECTORS } from '../core/report/objects.js';
import type { KubeClient } from './client.js';
import { execInPod } from './exec.js';
import { detectIptablesKind, IptablesCommandBackend, localRunner } from '../core/host/index.js';

interface PodItem {
  metadata?: { name?: string; namespace?: string };
  spec?: { containers?: Array<{ name: string; image?: string }> };
  status?: { phase?: string };
}


export async function findKubeProxyPod(client: KubeClient, node: string): Promise<{ namespace: string; pod: string; container: string; image?: string }> {
  for (const labelSelector of KUBE_PROXY_SELECTORS) {
    const pods = await client.list<PodItem>('/api/v1/namespaces/kube-system/pods', { verb: 'list', resource: 'pods', namespace: 'kube-system' }, {
      labelSelector,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const running = pods.find((p) => p.status?.phase === 'Running') ?? pods[0];
    if (running?.metadata?.name) {
      const containers = running.spec?.containers ?? [];
      const container = containers.find((c) => c.name === 'kube-proxy') ?? containers[0];
      return { namespace: 'kube-system', pod: running.metadata.name, container: container?.name ?? 'kube-proxy', ...(container?.image ? { image: container.image } : {}) };
    }
  }
  throw new InputError(
    `no kube-proxy pod runs on node "${node}" (looked in kube-system for ${KUBE_PROXY_SELECTORS.join(' or ')}); k3s runs kube-proxy inside its own process and Cilium or Calico eBPF may replace it, so read that node's rules with iptables-save on the node.`,
  );
}

export class PodShell implements NodeShell {
  private constructor(
    private readonly client: KubeClient,
    private readonly target: { namespace: string; pod: string; container: string; image?: string },
    readonly description: string,
  ) {}

  /** The kube-proxy container's image ("registry.k8s.io/kube-proxy:v1.31.4"), whose tag is its version. */
  get image(): string | undefined {
    return this.target.image;
  }

  static async forNode(client: KubeClient, node: string): Promise<PodShell> {
    const target = await findKubeProxyPod(client, node);
    return new PodShell(client, target, `node ${node} (pod ${target.namespace}/${target.pod})`);
  }

  async run(command: readonly string[]): Promise<string> {
    const r = await execInPod(this.client, this.target, [...command]);
    if (r.exitCode !== 0) {
      throw new ClusterError(`${command[0]} in pod ${this.target.namespace}/${this.target.pod} exited ${r.exitCode}: ${r.stderr.trim().split('\n')[0] || 'no message'}; check that the kube-proxy image carries ${command[0]}.`);
    }
    return r.stdout;
  }
}

/** This host's shell; `iptables-save` and `ip6tables-save` go to the backend kube-proxy would pick (nft or legacy). */
export async function hostShell(): Promise<NodeShell> {
  const run = localRunner();
  const detection = await detectIptablesKind(run);
  const backend = new IptablesCommandBackend(detection.kind, run);
  return {
    description: `this host (iptables-${detection.kind}: ${detection.reason})`,
    async run(argv) {
      if (argv.length === 1 && (argv[0] === 'iptables-save' || argv[0] === 'ip6tables-save')) return backend.save(argv[0] === 'iptables-save' ? 'IPv4' : 'IPv6');
      const r = await run(argv);
      if (r.code !== 0) throw new ClusterError(`${argv.join(' ')} on this host exited ${r.code}: ${r.stderr.trim().split('\n')[0] || 'no message'}.`);
      return r.stdout;
    },
  };
}
