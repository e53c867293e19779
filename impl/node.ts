/**
 * One node per process (or per machine): `startNode` runs protocol node `id` of a cluster whose
 * members are listed in `peers` (one address per node id: the protocol's nodes in role order,
 * then the clients), over udp or tcp, with its durable log in `dataDir`. `connectClient` joins
 * the same cluster as one of its clients. `pacta run` is the command-line face of both.
 *
 * All members must agree on the spec, its params, the cluster id and key, and — for specs that
 * compare clock readings across nodes (leases) — `epochMs`, the instant their readings count from.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type NodeId, type ParamValue, type Protocol, isProtocol } from '../specs/core/index.ts';
import { ClusterClient } from './client.ts';
import { systemClock, type Clock } from './clock/index.ts';
import { fileStore } from './durableStore.ts';
import { HistoryLog, type ClientHistory } from './history.ts';
import { ClusterLayout, resolveClusterParams } from './layout.ts';
import { tcpTransport, udpTransport, type NetTransport, type PeerAddress, type TcpTlsOptions } from './net/index.ts';
import { UsageError } from './net/usageError.ts';
import { NodeRuntime, type NodeEvent } from './nodeRuntime.ts';

/** What {@link startNode} and {@link connectClient} share. */
export interface MemberOptions {
  /** This member's node id (its index in `peers`). */
  readonly id: NodeId;
  /** Every member's address, indexed by node id (protocol nodes in role order, then clients). */
  readonly peers: readonly PeerAddress[];
  readonly transport: 'udp' | 'tcp';
  /** The cluster key (at least 16 bytes), the same on every member. */
  readonly key: Uint8Array;
  /** Default 1. */
  readonly clusterId?: number;
  readonly params?: Readonly<Record<string, ParamValue>>;
  /** How many clients the cluster has (default: the spec's `clients.count`). */
  readonly clients?: number;
  /** Local address to bind (default: this member's address in `peers`). */
  readonly bind?: PeerAddress;
  readonly clock?: Clock<number>;
  /**
   * Mutual TLS (tcp only): this member's key and certificate and the cluster's CA, PEM. Every
   * member then presents a certificate and accepts only peers whose certificates chain to `ca`;
   * frames are still authenticated with the cluster key inside the tunnel.
   */
  readonly tls?: TcpTlsOptions;
}

/** Options of {@link startNode}. */
export interface StartNodeOptions extends MemberOptions {
  /** The directory of this node's durable log (created if needed). */
  readonly dataDir: string;
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
  /** Readings count from this Unix time in ms (agree on it across members). Default: when the node starts. */
  readonly epochMs?: number;
  readonly tickMs?: number;
  readonly trueTimeEpsilon?: number;
  readonly defaultTimerMs?: readonly [number, number] | null;
  readonly seed?: number;
  readonly onEvent?: (event: NodeEvent) => void;
}

/** A node running in this process. */
export interface NodeProcess {
  readonly runtime: NodeRuntime;
  readonly layout: ClusterLayout;
  readonly address: PeerAddress;
  readonly epochMs: number;
  /** Stops the node (as a crash: its log keeps the durable fields) and closes its socket. */
  close(): Promise<void>;
}

/** A client of a cluster running elsewhere. */
export interface ClientProcess<Op = unknown, R = unknown> {
  readonly client: ClusterClient<Op, R>;
  readonly layout: ClusterLayout;
  readonly address: PeerAddress;
  history(): ClientHistory<Op, R>;
  close(): Promise<void>;
}

function member(fn: string, spec: Protocol, options: MemberOptions): { layout: ClusterLayout; open: () => Promise<NetTransport> } {
  if (!isProtocol(spec)) throw new UsageError(fn, 'bad-spec', 'the first argument must be a protocol');
  if (options.transport !== 'udp' && options.transport !== 'tcp') throw new UsageError(fn, 'bad-transport', `transport must be udp or tcp, got ${String(options.transport)}`);
  const params = resolveClusterParams(spec, options.params ?? {});
  const probe = new ClusterLayout(spec, params);
  const layout = new ClusterLayout(spec, params, spec.clients ? { clients: options.clients ?? Math.max(1, probe.clients!.role.count) } : {});
  if (options.peers.length !== layout.nodeCount) {
    const clients = layout.clients ? ` and ${layout.clients.role.count} client(s)` : '';
    throw new UsageError(fn, 'bad-peers', `${spec.name} under ${JSON.stringify(params)} has ${layout.protocolNodes} node(s)${clients}: give ${layout.nodeCount} peer addresses, got ${options.peers.length}`);
  }
  if (!Number.isInteger(options.id) || options.id < 0 || options.id >= layout.nodeCount) {
    throw new UsageError(fn, 'bad-id', `id must be from 0 to ${layout.nodeCount - 1}, got ${String(options.id)}`);
  }
  if (options.tls && options.transport !== 'tcp') throw new UsageError(fn, 'tls-needs-tcp', 'TLS runs over the tcp transport only (use transport: tcp)');
  const self = options.bind ?? options.peers[options.id]!;
  const peers = new Map(options.peers.map((a, i) => [i, a] as const));
  const clusterId = options.clusterId ?? 1;
  const open = (): Promise<NetTransport> =>
    options.transport === 'udp'
      ? udpTransport({ self: options.id, clusterId, key: options.key, bind: self, peers })
      : tcpTransport({ self: options.id, clusterId, key: options.key, listen: self, peers, ...(options.tls ? { tls: options.tls } : {}) });
  return { layout, open };
}

/** Starts protocol node `options.id`, recovering its durable fields from `dataDir`. */
export async function startNode(spec: Protocol, options: StartNodeOptions): Promise<NodeProcess> {
  const { layout, open } = member('startNode', spec, options);
  if (layout.isClient(options.id)) throw new UsageError('startNode', 'client-id', `${options.id} is a client id; use connectClient`);
  await mkdir(options.dataDir, { recursive: true });
  const clock = options.clock ?? systemClock();
  const epochMs = options.epochMs ?? clock.now();
  const runtime = new NodeRuntime({
    layout, id: options.id, clock, epochMs,
    store: fileStore(join(options.dataDir, `node-${options.id}.log`), { syncMode: options.syncMode ?? 'datasync' }),
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    ...(options.trueTimeEpsilon !== undefined ? { trueTimeEpsilon: options.trueTimeEpsilon } : {}),
    ...(options.defaultTimerMs !== undefined ? { defaultTimerMs: options.defaultTimerMs } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  await runtime.open();
  let transport: NetTransport;
  try {
    transport = await open();
  } catch (e) {
    await runtime.crash();
    throw e;
  }
  runtime.start(transport);
  return { runtime, layout, address: transport.address, epochMs, close: () => runtime.crash() };
}

/** Joins the cluster as client `options.id` (a node id after the protocol's nodes). */
export async function connectClient<Op = unknown, R = unknown>(spec: Protocol, options: MemberOptions & { readonly timeoutMs?: number }): Promise<ClientProcess<Op, R>> {
  const { layout, open } = member('connectClient', spec, options);
  if (!layout.isClient(options.id)) throw new UsageError('connectClient', 'not-a-client', `${options.id} is a protocol node, not a client (clients are ${layout.protocolNodes}..${layout.nodeCount - 1})`);
  const transport = await open();
  const history = new HistoryLog();
  const client = new ClusterClient<Op, R>({
    layout, id: options.id, transport, clock: options.clock ?? systemClock(), history,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { client, layout, address: transport.address, history: () => history.history<Op, R>(), close: () => client.close() };
}
