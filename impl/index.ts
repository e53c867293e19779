/**
 * `pacta/impl`: run a verified spec as a cluster. The node runtime runs the spec's own handlers
 * over the packed-buffer network, with clocks and durable logs; `startCluster` runs a whole
 * cluster in-process; `replayOnExecutor` drives the runtime through a checker trace.
 */
export { startCluster, type Cluster, type ClusterOptions } from './cluster.ts';
export { ClusterClient, InvokeTimeout, SessionTimeout, type ClusterClientOptions, type ClientStats, type InvokeOptions } from './client.ts';
export { HistoryLog, type ClientHistory, type HistoryOperation, type HistoryEvent } from './history.ts';
export {
  NodeRuntime, NodeFailure, type NodeRuntimeOptions, type NodeEvent, type NodeStatus, type NodeFailureCode, type RuntimeStats,
  type RuntimeDropReason,
} from './nodeRuntime.ts';
export { ClusterLayout, CHANNEL, resolveClusterParams, paramsForNodes, type RoleLayout, type ClientsLayout } from './layout.ts';
export { fileStore, type DurableStore, type FileStoreOptions } from './durableStore.ts';
export { replayOnExecutor, type ExecutorReplayResult, type ExecutorDivergence, type ExecutorReplayOptions } from './replay.ts';
export { startNode, connectClient, type NodeProcess, type ClientProcess, type StartNodeOptions, type MemberOptions } from './node.ts';
export * from './net/index.ts';
export * from './clock/index.ts';
export * from './storage/index.ts';
