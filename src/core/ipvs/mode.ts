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
import { annotateIpvs, ipvsCanonicalLines, ipvsDrift, ipvsSummaries, narrowIpvs } from './summary.js';
import type { IpvsState } from './types.js';
import { ipvsWhy } from './why.js';

const VIRTUAL_SERVER_LISTED = /^(TCP|UDP|SCTP)\s+\S+:\d+\s+\w+/;

export const IPVSADM_SAVE: DumpKind = { name: 'ipvsadm-save', command: 'ipvsadm -Sn', startsSection: (line) => /^-A -[tus] \S+/.test(line) || /^-a -[tus] \S+ -r /.test(line) };
export const IPVSADM_LIST: DumpKind = {
  name: 'ipvsadm-list',
  command: 'ipvsadm -Ln',
  startsSection: (line, next) => (/^IP Virtual Server version/.test(line) ? 'header' : /^Prot LocalAddress:Port/.test(line) || (VIRTUAL_SERVER_LISTED.test(line) && /^\s+->/.test(next ?? ''))),
};
export const IPSET_SAVE: DumpKind = { name: 'ipset-save', command: 'ipset save', startsSection: (line) => /^create \S+ (hash|bitmap|list):\S+/.test(line) };
export const IPSET_LIST: DumpKind = { name: 'ipset-list', command: 'ipset list', startsSection: (line) => /^Name: \S+/.test(line) };

function ipvsState(dump: Dump, family: IPFamily): IpvsState {
  const ipvsadm = sectionText(dump, IPVSADM_SAVE.name) || sectionText(dump, IPVSADM_LIST.name);
  const ipset = sectionText(dump, IPSET_SAVE.name) + ipsetListToSave(sectionText(dump, IPSET_LIST.name));
  return stateFromText({ ipvsadm, ipset, iptables: iptablesSaveText(dump, family) }, family, dump.source);
}

export const ipvsMode: ProxyModeDefinition<IpvsState> = {
  mode: 'ipvs',
  formats: {
    ipvsadm: { description: 'ipvsadm-restore input, then ipset restore input', write: (states) => serializeIpvsOutput([...states]) },
    restore: { description: 'the companion iptables-restore input', write: (states) => restoreText(states.map((s) => s.iptables)) },
  },
  dumps: { primary: [IPVSADM_SAVE, IPVSADM_LIST], also: [IPSET_SAVE, IPSET_LIST, IPTABLES_SAVE] },
  render: (view, config) =>
    view.families.map((f) => renderIpvs({ state: f.state, config, node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, labels: view.node?.metadata?.labels } })),
  parse: ipvsState,
  liveCommands: (family) => [
    { kind: IPVSADM_SAVE.name, argv: ['ipvsadm', '-Sn'] },
    { kind: IPSET_SAVE.name, argv: ['ipset', 'save'] },
    { kind: IPTABLES_SAVE.name, argv: [family === 'IPv4' ? 'iptables-save' : 'ip6tables-save'], family },
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
