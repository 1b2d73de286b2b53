// Reads a node's live rules. On a cluster node: `iptables-save` in that node's kube-proxy pod (the pod
// runs in the host's network namespace and its image carries the iptables tools kube-proxy uses).
import type { IPFamily } from '../core/objects/types.js';
import { ClusterError, InputError } from '../core/errors.js';
import type { KubeClient } from './client.js';
import { execInPod } from './exec.js';
import { detectIptablesKind, IptablesCommandBackend, localRunner } from '../core/host/index.js';

export interface LiveRulesReader {
  /** For headers: "node worker-1 (pod kube-system/kube-proxy-x7k2p)". */
  readonly description: string;
  iptablesSave(family: IPFamily): Promise<string>;
  /** `ipvsadm -Sn`: the IPVS virtual and real servers (ipvs mode). */
  ipvsadmSave(): Promise<string>;
  /** `ipset save`: the sets ipvs mode's iptables rules match. */
  ipsetSave(): Promise<string>;
}

interface PodItem {
  metadata?: { name?: string; namespace?: string };
  spec?: { containers?: Array<{ name: string }> };
  status?: { phase?: string };
}

/** Labels kube-proxy pods carry: k8s-app=kube-proxy (kubeadm, kind, EKS, AKS), component=kube-proxy (GKE static pods). */
const KUBE_PROXY_SELECTORS = ['k8s-app=kube-proxy', 'component=kube-proxy'];

export async function findKubeProxyPod(client: KubeClient, node: string): Promise<{ namespace: string; pod: string; container: string }> {
  for (const labelSelector of KUBE_PROXY_SELECTORS) {
    const pods = await client.list<PodItem>('/api/v1/namespaces/kube-system/pods', { verb: 'list', resource: 'pods', namespace: 'kube-system' }, {
      labelSelector,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const running = pods.find((p) => p.status?.phase === 'Running') ?? pods[0];
    if (running?.metadata?.name) {
      const containers = running.spec?.containers ?? [];
      const container = containers.find((c) => c.name === 'kube-proxy') ?? containers[0];
      return { namespace: 'kube-system', pod: running.metadata.name, container: container?.name ?? 'kube-proxy' };
    }
  }
  throw new InputError(
    `no kube-proxy pod runs on node "${node}" (looked in kube-system for ${KUBE_PROXY_SELECTORS.join(' or ')}); k3s runs kube-proxy inside its own process and Cilium or Calico eBPF may replace it, so read that node's rules with iptables-save on the node.`,
  );
}

export class PodRulesReader implements LiveRulesReader {
  private constructor(
    private readonly client: KubeClient,
    private readonly target: { namespace: string; pod: string; container: string },
    readonly description: string,
  ) {}

  static async forNode(client: KubeClient, node: string): Promise<PodRulesReader> {
    const target = await findKubeProxyPod(client, node);
    return new PodRulesReader(client, target, `node ${node} (pod ${target.namespace}/${target.pod})`);
  }

  iptablesSave(family: IPFamily): Promise<string> {
    return this.run([family === 'IPv4' ? 'iptables-save' : 'ip6tables-save']);
  }

  ipvsadmSave(): Promise<string> {
    return this.run(['ipvsadm', '-Sn']);
  }

  ipsetSave(): Promise<string> {
    return this.run(['ipset', 'save']);
  }

  private async run(command: string[]): Promise<string> {
    const r = await execInPod(this.client, this.target, command);
    if (r.exitCode !== 0) {
      throw new ClusterError(`${command[0]} in pod ${this.target.namespace}/${this.target.pod} exited ${r.exitCode}: ${r.stderr.trim().split('\n')[0] || 'no message'}; check that the kube-proxy image carries ${command[0]}.`);
    }
    return r.stdout;
  }
}

/** This host's rules (run as root on a node, or in a debug pod), through the iptables backend kube-proxy would pick. */
export async function hostRulesReader(): Promise<LiveRulesReader> {
  const run = localRunner();
  const detection = await detectIptablesKind(run);
  const backend = new IptablesCommandBackend(detection.kind, run);
  const tool = async (argv: string[]) => {
    const r = await run(argv);
    if (r.code !== 0) throw new ClusterError(`${argv.join(' ')} on this host exited ${r.code}: ${r.stderr.trim().split('\n')[0] || 'no message'}.`);
    return r.stdout;
  };
  return {
    description: `this host (iptables-${detection.kind}: ${detection.reason})`,
    iptablesSave: (family) => backend.save(family),
    ipvsadmSave: () => tool(['ipvsadm', '-Sn']),
    ipsetSave: () => tool(['ipset', 'save']),
  };
}
