/**
 * `pacta-check/impl`: run a verified spec as a cluster. `startCluster` runs a whole cluster in-process
 * (memory, udp or tcp transport); `startNode` / `connectClient` run one member per process; the
 * transports, clocks and durable store are here for those who assemble their own; executor
 * replay drives the runtime through a checker trace. Frames, codecs and the node runtime's
 * internals are not part of the API.
 */
export { startCluster, type Cluster, type ClusterOptions, type IdleOptions } from './cluster.ts';
export { ClusterClient, InvokeTimeout, SessionTimeout, type ClusterClientOptions, type ClientStats, type InvokeOptions } from './client.ts';
export { HistoryLog, type ClientHistory, type HistoryOperation, type HistoryEvent } from './history.ts';
export {
  NodeRuntime, NodeFailure, type NodeRuntimeOptions, type NodeEvent, type NodeStatus, type NodeFailureCode, type RuntimeStats,
  type RuntimeDropReason,
} from './nodeRuntime.ts';
export { ClusterLayout } from './layout.ts';
export { fileStore, type DurableStore, type FileStoreOptions, type StoreRecovery } from './durableStore.ts';
export { replayOnExecutor, type ExecutorReplayResult, type ExecutorDivergence, type ExecutorReplayOptions } from './replay.ts';
export { startNode, connectClient, type NodeProcess, type ClientProcess, type StartNodeOptions, type MemberOptions } from './node.ts';
export { MemoryNetwork, type MemoryFaults, type MemoryNetworkOptions, type InFlightFrame } from './net/memoryNetwork.ts';
export { udpTransport, type UdpTransportOptions } from './net/udpTransport.ts';
export { tcpTransport, type TcpTransportOptions, type TcpTlsOptions } from './net/tcpTransport.ts';
export type { Transport, TransportStats, FrameHandler, Frame, DropReason } from './net/index.ts';
export type { PeerAddress, PeerTable } from './net/peers.ts';
export { FrameError, type FrameErrorCode } from './net/frameError.ts';
export { UsageError } from './net/usageError.ts';
export * from './clock/index.ts';
