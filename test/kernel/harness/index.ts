// The kernel test harness: network-namespace topologies, tiny servers and clients, rule loading, cleanup.
export { createTopology, type Host, type NodeHost, type Topology, type TopologyOptions } from './topology.js';
export { withTopology } from './with-topology.js';
export { startServer, type Server, type ServePorts, type StartServerOptions } from './servers.js';
export { connect, connectBatch, countReplies, parseReply, MAX_BATCH, type BatchOptions, type BatchResult, type ConnectError, type ConnectOptions, type ConnectResult, type Proto } from './client.js';
export { exec, execOk, run, type ExecResult, type RunOptions } from './proc.js';
export { iptablesRestore, iptablesSave, iptablesTool, resetNetfilter, type IpFamily, type IptablesBackend, type IptablesRestoreOptions, type IptablesSaveOptions } from './iptables.js';
export { listNamespaces, netnsPids, pidAlive, sweepStale, waitFor } from './cleanup.js';
export { HARNESS_PREFIX } from './names.js';
export { announceSkip, hasTool, kernelSkip, kernelSkipReason, skipUnlessKernel } from './skip.js';
export { SERVICE_CIDR, SERVICE_CIDR6 } from './addresses.js';
export { TEST_NAMESPACE, service, slice } from './objects.js';
export { httpGet } from './http.js';
export { BIN, ROOT, cli, ensureBuiltCli } from './cli.js';
