// Every benchmark case, by id; later issues add theirs here.
import { iptablesPartial, iptablesRender } from './iptables.js';
import { ipvsRender } from './ipvs.js';
import { nftablesPartial, nftablesRender, nftablesRender131 } from './nftables.js';
import { modeGet } from './mode.js';
import { modelBuild } from './model.js';
import { traceFirstPacket, traceNextPacket } from './trace.js';
import { startupHelp } from './startup.js';
import { userspaceProxy } from './userspace.js';
import { yamlInput } from './yaml.js';
import { equivalenceIpvs, equivalenceNftables } from './equivalence.js';
import { syncIptables, syncNftables, syncRss } from './sync.js';
import { syncPartial } from './sync-partial.js';
import type { BenchCase } from '../types.js';

export const CASES: Record<string, BenchCase> = {
  startup: startupHelp,
  model: modelBuild,
  iptables: iptablesRender,
  'iptables-partial': iptablesPartial,
  'trace-first': traceFirstPacket,
  'trace-next': traceNextPacket,
  ipvs: ipvsRender,
  nftables: nftablesRender,
  'nftables-1.31': nftablesRender131,
  'nftables-partial': nftablesPartial,
  mode: modeGet,
  userspace: userspaceProxy,
  yaml: yamlInput,
  'equivalence-ipvs': equivalenceIpvs,
  'equivalence-nftables': equivalenceNftables,
  'sync-iptables': syncIptables,
  'sync-rss': syncRss,
  'sync-nftables': syncNftables,
  'sync-partial': syncPartial,
};
