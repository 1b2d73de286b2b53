// nftablesMode: kube-proxy's nftables mode behind the one interface every mode shows the commands.
import type { KubeProxyConfiguration } from '../config/index.js';
import type { Dump, IPFamily, LiveCommand, ProxyModeDefinition, RenderOptions, TraceOptions } from '../modes/types.js';
import type { ProxyView } from '../proxy-view.js';
import { beLiberalOfTable } from './be-liberal.js';
import { canonicalLines } from './canonical.js';
import { tableDrift } from './drift.js';
import { NFT_JSON, NFT_TEXT, kubeProxyTable } from './dumps.js';
import { effectiveNodePortAddresses, layoutForVersion, type NftLayout } from './layout.js';
import { narrowTable } from './narrow.js';
import { plan } from './plan.js';
import { transactionText } from './serialize.js';
import { type NftRenderInput, renderNftables } from './render.js';
import { renderNftablesChanged } from './render-changed.js';
import { serviceCIDRsFor } from './service-cidrs.js';
import { localTrafficCIDR, summarizeTable } from './summary.js';
import { nftablesEvaluator } from './tracer.js';
import type { NftTable } from './types.js';
import { nftablesWhy } from './why.js';

const liveOf = (opts: RenderOptions, family: string) => ((opts.live ?? []) as readonly NftTable[]).find((t) => t.family === family && t.chains !== undefined);

/** What renderNftables takes besides the state, for one family of the view. */
function familyInput(view: ProxyView, f: ProxyView['families'][number], config: KubeProxyConfiguration, opts: RenderOptions, liberal: boolean): Omit<NftRenderInput, 'state'> {
  return {
    config,
    node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, ...(view.node?.metadata?.labels ? { labels: view.node.metadata.labels } : {}) },
    layout: layoutForVersion(opts.kubeProxyVersion),
    serviceCIDRs: serviceCIDRsFor(opts.kubeProxyVersion, opts.serviceCIDRs, liveOf(opts, f.family)),
    ...(liberal ? { conntrackTCPBeLiberal: true } : {}),
  };
}

/**
 * kube-proxy in nftables mode defaults nodePortAddresses to the node's primary IPs (server_linux.go), also
 * when the configuration was written for another mode; 1.29 had no such default (#122724 came in 1.30):
 * there an unset field means every local IP.
 */
function nftablesConfig(config: KubeProxyConfiguration, layout: NftLayout): KubeProxyConfiguration {
  return { ...config, nodePortAddresses: effectiveNodePortAddresses(config.nodePortAddresses, layout) };
}

function render(view: ProxyView, config: KubeProxyConfiguration, opts: RenderOptions = {}): NftTable[] {
  const layout = layoutForVersion(opts.kubeProxyVersion);
  const assumed = !opts.kubeProxyVersion;
  opts.note?.('version', `kube-proxy ${assumed ? layout.versions : opts.kubeProxyVersion!.replace(/^v/, '')}${assumed ? ' (newest known, assumed)' : ''}`, assumed);
  config = nftablesConfig(config, layout);
  const liberal = layout.firstMerged ? beLiberal(view.families.map((f) => liveOf(opts, f.family)), opts) : false;
  return view.families.map((f) => renderNftables({ state: f.state, ...familyInput(view, f, config, opts, liberal) }));
}

/** A partial sync: each family's previous table with only the changed service ports rendered again. */
function renderChanged(previous: { states: readonly NftTable[]; view: ProxyView }, view: ProxyView, changed: readonly string[], config: KubeProxyConfiguration, opts: RenderOptions = {}): NftTable[] | undefined {
  config = nftablesConfig(config, layoutForVersion(opts.kubeProxyVersion));
  const out: NftTable[] = [];
  for (const f of view.families) {
    const table = previous.states.find((t) => t.family === f.family);
    const before = previous.view.families.find((p) => p.family === f.family);
    // be_liberal shapes only 1.29's forward chain, which a partial sync does not rewrite
    const input = familyInput(view, f, config, opts, false);
    if (!table || !before || table.layout !== input.layout!.id) return undefined;
    out.push(renderNftablesChanged({ ...input, previous: table, previousState: before.state, state: f.state, changed }));
  }
  return out;
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
  renderChanged,
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
