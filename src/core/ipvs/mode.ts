// The ipvs mode's faces (see core/modes/types.ts): virtual and real servers, ipsets and kube-ipvs0 addresses,
// plus the companion iptables rules, read from `ipvsadm -Sn` or `-Ln`, `ipset save` or `ipset list`, and
// iptables-save output, in any order.
import { IPTABLES_SAVE, iptablesSaveText, restoreText } from '../iptables/mode.js';
import { localTrafficCIDR } from '../iptables/summary.js';
import { sectionText } from '../modes/dumps.js';
import type { Dump, DumpKind, IPFamily, ProxyModeDefinition } from '../modes/types.js';
import { planIpvs } from './plan.js';
import { ipvsEvaluator } from '../trace/ipvs.js';
import { ipsetListToSave, stateFromText } from './parse.js';
import { renderIpvs } from './render.js';
import { serializeIpvsOutput } from './serialize.js';
import { annotateIpvs, ipvsCanonicalLines, ipvsSummaries, narrowIpvs } from './summary.js';
import type { IpvsState } from './types.js';
import { addressesOfListing, IP_ADDR } from './addresses.js';
import { ipvsDrift } from './drift.js';
import { ipvsVersion, stateForVersion } from './versions.js';
import { capabilitiesOf, capabilitiesOfDump, describeCapabilities, IPTABLES_VERSION, resolveHost, type HostCapabilities } from '../iptables/versions.js';
import type { KubeProxyConfiguration } from '../config/index.js';
import type { ProxyView } from '../proxy-view.js';
import type { RenderOptions } from '../modes/types.js';
import { ipvsWhy } from './why.js';

const VIRTUAL_SERVER_LISTED = /^(TCP|UDP|SCTP)\s+\S+:\d+\s+\w+/;

export const IPVSADM_SAVE: DumpKind = { name: 'ipvsadm-save', command: 'ipvsadm -Sn', startsSection: (line) => /^-[Aa] (-[tus]|--sctp-service) \S+/.test(line) };
export const IPVSADM_LIST: DumpKind = {
  name: 'ipvsadm-list',
  command: 'ipvsadm -Ln',
  startsSection: (line, next) => (/^IP Virtual Server version/.test(line) ? 'header' : /^Prot LocalAddress:Port/.test(line) || (VIRTUAL_SERVER_LISTED.test(line) && /^\s+->/.test(next ?? ''))),
};
export const IPSET_SAVE: DumpKind = { name: 'ipset-save', command: 'ipset save', startsSection: (line) => /^create \S+ (hash|bitmap|list):\S+/.test(line) };
export const IPSET_LIST: DumpKind = { name: 'ipset-list', command: 'ipset list', startsSection: (line) => /^Name: \S+/.test(line) };

// What a parsed state's iptables-save text showed of its host (its header), for rendering to match it.
const HOST_OF = new WeakMap<IpvsState, HostCapabilities>();

function ipvsState(dump: Dump, family: IPFamily): IpvsState {
  const ipvsadm = sectionText(dump, IPVSADM_SAVE.name) || sectionText(dump, IPVSADM_LIST.name);
  const ipset = sectionText(dump, IPSET_SAVE.name) + ipsetListToSave(sectionText(dump, IPSET_LIST.name));
  const iptables = iptablesSaveText(dump, family);
  const listed = addressesOfListing(sectionText(dump, IP_ADDR.name), family);
  const st = stateFromText({ ipvsadm, ipset, iptables, ...(listed ? { addresses: listed } : {}) }, family, dump.source);
  if (listed) st.addressesListed = true;
  const caps = capabilitiesOfDump(dump, iptables, IPTABLES_SAVE.name);
  if (caps) HOST_OF.set(st, caps);
  return st;
}

/** The states kube-proxy of the given version writes on this host (its iptables: the flag, else the live header). */
function render(view: ProxyView, config: KubeProxyConfiguration, opts: RenderOptions = {}): IpvsState[] {
  const version = ipvsVersion(opts.kubeProxyVersion);
  const host = resolveHost(opts.iptablesVersion, (opts.live ?? []).map((s) => HOST_OF.get(s as IpvsState)).find((c) => c !== undefined), opts.nodeIptablesVersion);
  opts.note?.('version', `kube-proxy ${version.version}${version.assumed ? ' (newest known, assumed)' : ''}`, version.assumed);
  if (host) opts.note?.('host', describeCapabilities(host), false);
  const randomFully = (host ?? capabilitiesOf(undefined)).randomFully;
  return view.families.map((f) =>
    stateForVersion(renderIpvs({ state: f.state, config, randomFully, node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, labels: view.node?.metadata?.labels } }), version.features),
  );
}

export const ipvsMode: ProxyModeDefinition<IpvsState> = {
  mode: 'ipvs',
  formats: {
    ipvsadm: { description: 'ipvsadm-restore input, then ipset restore input', write: (states) => serializeIpvsOutput([...states]) },
    restore: { description: 'the companion iptables-restore input', write: (states) => restoreText(states.map((s) => s.iptables)) },
  },
  dumps: { primary: [IPVSADM_SAVE, IPVSADM_LIST], also: [IPSET_SAVE, IPSET_LIST, IPTABLES_SAVE, IP_ADDR, IPTABLES_VERSION] },
  render,
  parse: ipvsState,
  liveCommands: (family) => [
    { kind: IPVSADM_SAVE.name, argv: ['ipvsadm', '-Sn'] },
    { kind: IPSET_SAVE.name, argv: ['ipset', 'save'] },
    { kind: IPTABLES_SAVE.name, argv: [family === 'IPv4' ? 'iptables-save' : 'ip6tables-save'], family },
    { kind: IP_ADDR.name, argv: ['ip', 'addr', 'show', 'dev', 'kube-ipvs0'], optional: true },
  ],
  narrow: narrowIpvs,
  summarize: ipvsSummaries,
  drift: ipvsDrift,
  canonicalLines: ipvsCanonicalLines,
  annotate: annotateIpvs,
  tracer: (states, opts) => ipvsEvaluator([...states], { rendered: opts.rendered }),
  localTrafficCIDR: (st) => localTrafficCIDR(st.iptables),
  plan: planIpvs,
  why: ipvsWhy,
};
