// nftablesMode: kube-proxy's nftables mode behind the one interface every mode shows the commands.
import { NODE_PORT_ADDRESSES_PRIMARY, type KubeProxyConfiguration } from '../config/index.js';
import type { Dump, IPFamily, LiveCommand, ProxyModeDefinition, RenderOptions, TraceOptions } from '../modes/types.js';
import type { ProxyView } from '../proxy-view.js';
import { canonicalLines } from './canonical.js';
import { tableDrift } from './drift.js';
import { NFT_JSON, NFT_TEXT, kubeProxyTable } from './dumps.js';
import { layoutForVersion } from './layout.js';
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

/** What renderNftables takes besides the state, for one family of the view. */
function familyInput(view: ProxyView, f: ProxyView['families'][number], config: KubeProxyConfiguration, opts: RenderOptions): Omit<NftRenderInput, 'state'> {
  const live = (opts.live ?? []) as readonly NftTable[];
  return {
    config,
    node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, ...(view.node?.metadata?.labels ? { labels: view.node.metadata.labels } : {}) },
    layout: layoutForVersion(opts.kubeProxyVersion),
    serviceCIDRs: serviceCIDRsFor(opts.kubeProxyVersion, opts.serviceCIDRs, live.find((t) => t.family === f.family && t.chains !== undefined)),
  };
}

/** kube-proxy in nftables mode defaults nodePortAddresses to the node's primary IPs (server_linux.go), also when the configuration was written for another mode. */
function nftablesConfig(config: KubeProxyConfiguration): KubeProxyConfiguration {
  return config.nodePortAddresses.length === 0 ? { ...config, nodePortAddresses: [NODE_PORT_ADDRESSES_PRIMARY] } : config;
}

function render(view: ProxyView, config: KubeProxyConfiguration, opts: RenderOptions = {}): NftTable[] {
  const layout = layoutForVersion(opts.kubeProxyVersion);
  const assumed = !opts.kubeProxyVersion;
  opts.note?.('version', `kube-proxy ${assumed ? layout.versions : opts.kubeProxyVersion!.replace(/^v/, '')}${assumed ? ' (newest known, assumed)' : ''}`, assumed);
  config = nftablesConfig(config);
  return view.families.map((f) => renderNftables({ state: f.state, ...familyInput(view, f, config, opts) }));
}

/** A partial sync: each family's previous table with only the changed service ports rendered again. */
function renderChanged(previous: { states: readonly NftTable[]; view: ProxyView }, view: ProxyView, changed: readonly string[], config: KubeProxyConfiguration, opts: RenderOptions = {}): NftTable[] | undefined {
  config = nftablesConfig(config);
  const out: NftTable[] = [];
  for (const f of view.families) {
    const table = previous.states.find((t) => t.family === f.family);
    const before = previous.view.families.find((p) => p.family === f.family);
    const input = familyInput(view, f, config, opts);
    if (!table || !before || table.layout !== input.layout!.id) return undefined;
    out.push(renderNftablesChanged({ ...input, previous: table, previousState: before.state, state: f.state, changed }));
  }
  return out;
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
