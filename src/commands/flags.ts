// Flags shared by the commands, with kubectl's names and meanings.
import { Flags } from '@oclif/core';
import { InputError } from '../core/errors.js';

/** Where cluster state comes from: the cluster (kubectl's flags) or files (-f). */
export const sourceFlags = {
  filename: Flags.string({
    char: 'f',
    multiple: true,
    // kubectl's -f: repeatable, comma-separated, and never the positional argument after it.
    multipleNonGreedy: true,
    delimiter: ',',
    helpGroup: 'SOURCE',
    description: 'Read objects from a file, a folder, an http(s) URL or - (stdin) instead of the cluster (repeat -f or separate with commas): Services, EndpointSlices, Nodes, the kube-proxy ConfigMap, as YAML or JSON.',
  }),
  kubeconfig: Flags.string({ helpGroup: 'SOURCE', description: 'Path to the kubeconfig file to use (default: KUBECONFIG, then ~/.kube/config).' }),
  context: Flags.string({ helpGroup: 'SOURCE', description: 'The kubeconfig context to use.' }),
  namespace: Flags.string({ char: 'n', helpGroup: 'SOURCE', description: 'Only Services of this namespace; a bare Service NAME is looked up here (default: the context\'s namespace, else "default").' }),
  'all-namespaces': Flags.boolean({ char: 'A', helpGroup: 'SOURCE', exclusive: ['namespace'], description: 'Services of every namespace (the default where a command lists Services), as kubectl\'s -A.' }),
  'request-timeout': Flags.string({
    helpGroup: 'SOURCE',
    default: '0',
    description: 'How long to wait for each API request, e.g. 5s or 1m; 0 waits as long as the connection lives (as kubectl).',
  }),
};

/** kube-proxy configuration: --config, and flags that override single fields as kube-proxy's own flags do. */
export const proxyConfigFlags = {
  config: Flags.string({ helpGroup: 'KUBE-PROXY', description: 'A KubeProxyConfiguration file, or a ConfigMap wrapping one (default: the cluster\'s kube-proxy ConfigMap).' }),
  mode: Flags.string({ helpGroup: 'KUBE-PROXY', description: 'Override the proxy mode: iptables, ipvs, nftables or userspace.' }),
  'cluster-cidr': Flags.string({ helpGroup: 'KUBE-PROXY', description: 'Override clusterCIDR (comma-separated for dual stack).' }),
  'masquerade-all': Flags.boolean({ helpGroup: 'KUBE-PROXY', description: 'Override masqueradeAll: SNAT all traffic sent to Service IPs.', allowNo: false }),
  node: Flags.string({ helpGroup: 'KUBE-PROXY', description: 'The node whose view to take (kube-proxy\'s hostnameOverride).' }),
  'node-ip': Flags.string({ helpGroup: 'KUBE-PROXY', description: 'The node\'s IP, instead of the Node object\'s InternalIP.' }),
};

export const globalFlags = {
  'no-color': Flags.boolean({ helpGroup: 'GLOBAL', description: 'Never colour output (also NO_COLOR).' }),
  debug: Flags.boolean({ helpGroup: 'GLOBAL', description: 'Show stack traces and API details on errors (also DEBUG).' }),
};

/** -o for commands that print objects (get): kubectl's name, jsonpath=… and custom-columns=… too. */
export function objectOutputFlag() {
  return Flags.string({
    char: 'o',
    default: 'human',
    description: 'Output format: human, wide, json, yaml, name, jsonpath=TEMPLATE (over -o json\'s object) or custom-columns=NAME:.path,… (one row per node).',
  });
}

export const noHeadersFlag = Flags.boolean({ description: 'Print table rows without the headers (human, wide and custom-columns), as kubectl.' });

export function outputFlag(extra: string[] = []) {
  const options = ['human', 'wide', 'json', 'yaml', ...extra];
  return Flags.string({ char: 'o', options, default: 'human', description: `Output format: ${options.join(', ')}.` });
}

/** kube-proxy's word for one family's proxier: the rules of one family only. */
export const ipFamilyFlag = Flags.string({
  parse: async (v) => ({ ipv4: 'IPv4', ipv6: 'IPv6' })[v.toLowerCase()] ?? v,
  helpGroup: 'KUBE-PROXY',
  description: 'Only this IP family (IPv4 or IPv6): one proxier\'s rules, e.g. to pipe -o restore into iptables-restore or ip6tables-restore.',
});

/** The view's families, or the one asked for (one sentence when the node has none of it). */
export function pickFamilies<F extends { family: string }>(families: F[], wanted: string | undefined, node: string): F[] {
  if (!wanted) return families;
  if (wanted !== 'IPv4' && wanted !== 'IPv6') throw new InputError(`--ip-family ${JSON.stringify(wanted)} is not an IP family; use IPv4 or IPv6.`);
  const kept = families.filter((f) => f.family === wanted);
  if (kept.length === 0) throw new InputError(`node ${node || '<none>'} has no ${wanted} address, so kube-proxy runs no ${wanted} proxier there; its families are ${families.map((f) => f.family).join(', ')}.`);
  return kept;
}

/** Which kube-proxy release's rules to render (they changed between releases, nftables most of all). */
export const kubeProxyVersionFlag = Flags.string({
  helpGroup: 'KUBE-PROXY',
  description: "Render the rules of this kube-proxy version (e.g. 1.32.4); default: the node's running kube-proxy when its live rules are read, else the newest this tool knows.",
});

/** The host's iptables, which decides what kube-proxy can write (MASQUERADE --random-fully, nfacct). */
export const iptablesVersionFlag = Flags.string({
  helpGroup: 'KUBE-PROXY',
  description: "Render for a host with this iptables (what `iptables --version` prints, or 1.8.7, 1.8.7-nft, 1.8.7-legacy; add ,no-nfacct without nfacct); default: what the live rules show, else a current one.",
});

/** The cluster's Service CIDRs, as its ServiceCIDR objects list them (nftables mode drops unallocated ClusterIPs). */
export const serviceCIDRFlag = Flags.string({
  helpGroup: 'KUBE-PROXY',
  multiple: true,
  delimiter: ',',
  description: "The cluster's Service CIDRs (its ServiceCIDR objects), e.g. 10.96.0.0/12: nftables mode (kube-proxy 1.33+) drops traffic to unallocated ClusterIPs in them.",
});

/** set-mode: how far it goes and what it may do. */
export const setModeFlags = {
  scheduler: Flags.string({ description: 'IPVS scheduler when switching to ipvs: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq or mh (written to ipvs.scheduler).' }),
  'dry-run': Flags.boolean({ description: 'Show the pre-flight, the equivalence report and the exact change; write nothing.' }),
  yes: Flags.boolean({ char: 'y', description: 'Switch even when the equivalence report finds differences (or cannot be made); without it, a terminal asks and anything else stops.' }),
  force: Flags.boolean({ description: 'Switch even when the pre-flight refuses a node (its kube-proxy would crash-loop there).' }),
  timeout: Flags.string({ default: '5m', description: 'How long the rollout and the check of every node may take, e.g. 90s or 10m.' }),
  'no-rollback': Flags.boolean({ description: 'When a node does not come up in the new mode in time, leave the change in place instead of restoring the backup.' }),
  rollback: Flags.boolean({ description: 'Restore the last backup set-mode took of this cluster, restart kube-proxy and follow the rollout.' }),
  'backup-dir': Flags.string({ description: 'Where backups are written and --rollback finds them (default ~/.kube/proxymode/backups).' }),
};

/** What if: edits to the objects read, in memory before rendering (trace, rules, rules --diff); never written. */
export const whatIfFlags = {
  set: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'WHAT IF',
    description: 'Edit an object before rendering, repeatable: KIND/NAME:PATH=VALUE on svc, node, endpointslice or cm/kube-proxy (its config.conf fields), e.g. svc/web:spec.externalTrafficPolicy=Local, cm/kube-proxy:mode=nftables, node/worker-1:metadata.labels.topology\\.kubernetes\\.io/zone=b; values as YAML scalars, [a,b] for lists, null removes.',
  }),
  'scale-endpoints': Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'WHAT IF',
    description: 'svc/NAME=N: keep N ready endpoints per address family (down: the last ones go; up: ready ones are cloned on their node with free addresses of its pod CIDR; 0: none ready).',
  }),
  drain: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'WHAT IF',
    description: 'node/NAME: its endpoints become terminating (ready=false, serving kept, terminating=true) as after kubectl drain. Applied after --set and --scale-endpoints.',
  }),
};

/** trace --compare: the trace before and after the what-if edits. */
export const compareFlag = Flags.boolean({ helpGroup: 'WHAT IF', description: 'Trace before and after the what-if edits (one block each, -o json: {edits, before, after, changes}), then what changed: verdict, endpoints and their odds, masquerade.' });
