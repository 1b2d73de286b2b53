// nftablesMode: kube-proxy's nftables mode behind the one interface every mode shows the commands.
import type { KubeProxyConfiguration } from '../config/index.js';
import type { Dump, IPFamily, LiveCommand, ProxyModeDefinition, RenderOptions, TraceOptions } from '../modes/types.js';
import type { ProxyView } from '../proxy-view.js';
import { beLiberalOfTable } from './be-liberal.js';
import { canonicalLines } from './canonical.js';
import { tableDrift } from './drift.js';
import { NFT_JSON, NFT_TEXT, kubeProxyTable } from './dumps.js';
import { effectiveNodePortAddresses, layoutForVersion } from './layout.js';
import { narrowTable } from './narrow.js';
import { plan } from './plan.js';
import { transactionText } from './serialize.js';
import { renderNftables } from './render.js';
import { serviceCIDRsFor } from './service-cidrs.js';
import { localTrafficCIDR, summarizeTable } from './summary.js';
import { nftablesEvaluator } from './tracer.js';
import type { NftTable } from './types.js';
import { nftablesWhy } from './why.js';

function render(view: ProxyView, config: KubeProxyConfiguration, opts: RenderOptions = {}): NftTable[] {
  const layout = layoutForVersion(opts.kubeProxyVersion);
  const assumed = !opts.kubeProxyVersion;
  opts.note?.('version', `kube-proxy ${assumed ? layout.versions : opts.kubeProxyVersion!.replace(/^v/, '')}${assumed ? ' (newest known, assumed)' : ''}`, assumed);
  // kube-proxy in nftables mode defaults nodePortAddresses to the node's primary IPs (server_linux.go),
  // also when the configuration was written for another mode; 1.29 had no such default (#122724 came in
  // 1.30): there an unset field means every local IP
  config = { ...config, nodePortAddresses: effectiveNodePortAddresses(config.nodePortAddresses, layout) };
  const live = (opts.live ?? []) as readonly NftTable[];
  const liveOf = (family: string) => live.find((t) => t.family === family && t.chains !== undefined);
  const liberal = layout.firstMerged ? beLiberal(view.families.map((f) => liveOf(f.family)), opts) : undefined;
  return view.families.map((f) =>
    renderNftables({
      state: f.state,
      config,
      node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, ...(view.node?.metadata?.labels ? { labels: view.node.metadata.labels } : {}) },
      layout,
      serviceCIDRs: serviceCIDRsFor(opts.kubeProxyVersion, opts.serviceCIDRs, liveOf(f.family)),
      ...(liberal ? { conntrackTCPBeLiberal: true } : {}),
    }),
  );
}

/** 1.29's forward rule follows the node's nf_conntrack_tcp_be_liberal: read from a live table, else assumed 0. */
function beLiberal(lives: ReadonlyArray<NftTable | undefined>, opts: RenderOptions): boolean {
  const read = lives.map(beLiberalOfTable).find((v) => v !== undefined);
  if (read !== undefined) {
    opts.note?.('host', `nf_conntrack_tcp_be_liberal ${read ? 1 : 0} (as the node's forward chain shows)`, false);
    return read;
  }
  opts.note?.('host', 'nf_conntrack_tcp_be_liberal 0 (not read; the kernel default, assumed): forwarded ct state invalid packets are dropped', true);
  return false;
}

export const nftablesMode: ProxyModeDefinition<NftTable> = {
  mode: 'nftables',
  formats: {
    nft: {
      description: 'the nft -f transaction kube-proxy runs on a full sync (one table per IP family)',
      write: (states) => states.map(transactionText).join(''),
    },
  },
  dumps: { primary: [NFT_TEXT, NFT_JSON] },
  render,
  parse: (dump: Dump, family: IPFamily) => kubeProxyTable(dump, family),
  liveCommands: (_family: IPFamily): LiveCommand[] => [{ kind: NFT_TEXT.name, argv: ['nft', 'list', 'ruleset'] }],
  narrow: narrowTable,
  summarize: summarizeTable,
  drift: tableDrift,
  canonicalLines,
  tracer: (states: readonly NftTable[], _opts: TraceOptions) => nftablesEvaluator(states),
  localTrafficCIDR,
  plan,
  why: nftablesWhy,
};
