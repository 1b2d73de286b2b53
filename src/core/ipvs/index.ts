// core/ipvs: kube-proxy's ipvs mode — render a ProxyState into IPVS virtual/real servers, kube-ipvs0 addresses,
// ipsets and the companion iptables rules; serialize (ipvsadm-restore, ipset, iptables-restore); parse
// (ipvsadm -Sn/-Ln, ipset save); scheduler semantics for trace; the ipvs-or-iptables fallback decision.
export type { IPSet, IPSetType, IpvsProtocol, IpvsState, IpvsStats, IpvsTimeouts, RealServer, VirtualServer, VirtualServerKind } from './types.js';
export { renderIpvs, ipvsJumpRules, type IpvsNode, type IpvsRenderInput } from './render.js';
export {
  addressBatch,
  ipsetCreateLine,
  serializeAddresses,
  serializeCompanionRestore,
  serializeIpsetSave,
  serializeIpvsadm,
  serializeIpvsOutput,
  sortVirtualServers,
  virtualServerLines,
} from './serialize.js';
export { isKubeIpset, mergeIpvsLists, parseIpsetSave, parseIpvsDump, parseIpvsadmList, parseIpvsadmSave, splitDump, stateFromText } from './parse.js';
export { dhHashKey, dhPick, dhTable, foldAddress, hash32, scheduleOne, shHashKey, shPick, shTable, type Packet, type ScheduleResult, type ScheduledEndpoint } from './schedule.js';
export { MIN_IPSET_VERSION, decideIpvs, ipvsUnusableReason, missingModules, requiredModules, type IpvsDecision, type IpvsProbe } from './fallback.js';
export { ipvsDrift } from './drift.js';
export { annotateIpvs, ipvsCanonicalLines, ipvsSummaries, narrowIpvs, summarizeIpvs, type VirtualServerRow } from './summary.js';
export { ipvsMode, IPVSADM_SAVE, IPVSADM_LIST, IPSET_SAVE, IPSET_LIST } from './mode.js';
export { CHAIN, DUMMY_DEVICE, IPSET_INFO, SET, ipsetName } from './names.js';
