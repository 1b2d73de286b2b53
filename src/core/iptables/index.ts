// core/iptables: kube-proxy's iptables mode — render a ProxyState into the ruleset kube-proxy writes,
// serialize it as kube-proxy's iptables-restore input (full or partial) or as iptables-save prints it,
// and the chain names and jump rules kube-proxy keeps outside its restore input.

export type { Chain, IPFamily, Rule, Ruleset, Table, TableName } from './types.js';
export {
  canaryChains,
  computeProbability,
  countEndpoints,
  formatFixedGo,
  formatMasqueradeMark,
  isLargeCluster,
  jumpRules,
  localDetectorFor,
  localDetectorWords,
  TableWriter,
  writeForwardAccepts,
  writeMasqueradeChains,
  nodePortAddressesFor,
  renderIptables,
  resolveSettings,
  type IptablesNode,
  type JumpRule,
  type LocalDetectorWords,
  type NodePortAddresses,
  type ProxierSettings,
  type RenderInput,
} from './render/index.js';
export {
  chainLine,
  quoteRestoreWord,
  quoteSaveString,
  restoreRuleText,
  serializeRestore,
  serializeSave,
  sortRestoreLikeUpstream,
} from './serialize.js';
export { partialRestore, type PartialRestoreOptions } from './partial.js';
export { FILTER_TOP_CHAINS, KUBE_CHAINS, LARGE_CLUSTER_ENDPOINTS_THRESHOLD, NAT_TOP_CHAINS, NFACCT_COUNTERS, SERVICE_CHAIN_PREFIX, chainNames, endpointChainName, isServiceChainName, portProtoHash, serviceChainHash, type KubeChain } from './names.js';
