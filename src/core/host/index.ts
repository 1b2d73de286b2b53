// core/host: the only code that touches a host. See backend.ts for the interface.
export {
  type BackendKind,
  type CommandResult,
  type CommandRunner,
  type IptablesBackend,
  type RestoreBlock,
  type RestoreOptions,
  type RulePosition,
  restoreBlocks,
} from './backend.js';
export {
  HostCommandError,
  RestoreError,
  cleanReason,
  commandFailure,
  locateRefusedLine,
  parseRestoreFailure,
  restoreError,
  type RestoreFailure,
  type RollbackOutcome,
} from './errors.js';
export { IptablesCommandBackend, iptablesCommand, type IptablesCommandBackendOptions, type IptablesKind } from './iptables.js';
export { countKubeChains, countRules, detectIptablesKind, hasKubeletChains, type BackendEvidence, type Detection } from './detect.js';
export { KUBE_PROXY_NFACCT_COUNTERS, ensureNfacct, listNfacct, nfacctNamesIn, parseNfacctList } from './nfacct.js';
export { FakeIptablesBackend, formatWords, jumpTarget, type FakeApplyCall, type FakeIptablesOptions } from './fake.js';
export { DEFAULT_COMMAND_TIMEOUT_MS, NOT_STARTED, TIMED_OUT, localRunner, netnsRunner, type RunnerOptions } from './runner.js';
export { IpsetCommandBackend } from './ipset.js';
export { IpvsApplyError, IpvsCommandBackend, PROBE_VIRTUAL_SERVER, applyIpvsPlan, applyIpvsState, probeIpvsSupport, readIpvsState, type IpvsApplyOptions, type IpvsApplyPart } from './ipvs.js';
