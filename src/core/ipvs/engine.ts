// The ipvs mode's faces for commands (see core/modes.ts): render a node's view, read live state back, describe
// and compare. Live state needs three readers beside iptables-save: `ipvsadm -Sn` (or -Ln), `ipset save`.
import type { KubeProxyConfiguration } from '../config/index.js';
import { InputError } from '../errors.js';
import type { IPFamily } from '../iptables/types.js';
import type { ProxyView } from '../proxy-view.js';
import { parseIpvsDump, stateFromText } from './parse.js';
import { renderIpvs } from './render.js';
import { serializeCompanionRestore, serializeIpvsOutput } from './serialize.js';
import { annotateIpvs, ipvsCanonicalLines, ipvsDrift, ipvsServicePorts, ipvsTable, narrowIpvs } from './summary.js';
import type { IpvsState } from './types.js';

/** What the ipvs engine reads from a node; `ipvsadmSave`/`ipsetSave` are optional on readers that predate it. */
export interface IpvsLiveReader {
  readonly description: string;
  iptablesSave(family: IPFamily): Promise<string>;
  /** `ipvsadm -Sn` */
  ipvsadmSave?(): Promise<string>;
  /** `ipvsadm -Ln` (optionally followed by `--stats` / `--rate` listings) */
  ipvsadmList?(): Promise<string>;
  /** `ipset save` */
  ipsetSave?(): Promise<string>;
}

export const ipvsEngine = {
  mode: 'ipvs' as const,
  textOutputs: ['ipvsadm', 'restore'] as const,

  render(view: ProxyView, config: KubeProxyConfiguration): IpvsState[] {
    return view.families.map((f) =>
      renderIpvs({ state: f.state, config, node: { name: view.nodeName, ips: f.nodeIPs, podCIDRs: f.podCIDRs, labels: view.node?.metadata?.labels } }),
    );
  },

  /** `-o ipvsadm`: ipvsadm-restore text then `ipset save` text; `-o restore`: the companion iptables rules. */
  text(format: string, states: IpvsState[]): string {
    return format === 'ipvsadm' ? serializeIpvsOutput(states) : serializeCompanionRestore(states);
  },

  /** A saved dump: `ipvsadm -Sn` (or -Ln) output, `ipset save` output and, optionally, iptables-save output, in any order. */
  parseDump(text: string, family: IPFamily, source: string): IpvsState {
    return parseIpvsDump(text, family, source);
  },

  async readLive(reader: IpvsLiveReader, family: IPFamily): Promise<IpvsState> {
    const ipvs = reader.ipvsadmSave ?? reader.ipvsadmList;
    if (!ipvs || !reader.ipsetSave) {
      throw new InputError(`reading live IPVS state from ${reader.description} is not supported yet (it needs ipvsadm and ipset readers); save \`ipvsadm -Sn; ipset save; iptables-save\` on the node and pass the file with --rules.`);
    }
    const [ipvsadm, ipset, iptables] = await Promise.all([ipvs.call(reader), reader.ipsetSave(), reader.iptablesSave(family)]);
    return stateFromText({ ipvsadm, ipset, iptables }, family, reader.description);
  },

  annotate: annotateIpvs,
  narrow: narrowIpvs,
  servicePorts: ipvsServicePorts,
  drift: ipvsDrift,
  canonicalLines: ipvsCanonicalLines,
  table: ipvsTable,
};

export type IpvsEngine = typeof ipvsEngine;
