/**
 * `startCluster(spec, options)`: a whole cluster of a verified spec in this process — every
 * protocol node a {@link NodeRuntime} with its own durable log, every client a
 * {@link ClusterClient} — over the memory, udp or tcp transport. Faults are injected from the
 * outside: `crash(n)`, `restart(n)` (recovering the durable fields from the node's log),
 * `partition(a, b)`, `heal()`, and the memory network's seeded loss, duplication and delay.
 * Every client call is recorded in a history for the history checkers.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeId, type Params, type ParamValue, type Protocol, isProtocol } from '../specs/core/index.ts';
import { ClusterClient } from './client.ts';
import { simulatedClock, systemClock, type Clock, type SimulatedClock } from './clock/index.ts';
import { fileStore } from './durableStore.ts';
import { HistoryLog, type ClientHistory } from './history.ts';
import { ClusterLayout, paramsForNodes, resolveClusterParams } from './layout.ts';
import {
  MemoryNetwork, tcpTransport, udpTransport, type Frame, type FrameHandler, type MemoryFaults, type NetTransport, type PeerAddress,
  type TcpTlsOptions, type Transport, type TransportStats,
} from './net/index.ts';
import { UsageError } from './net/usageError.ts';
import { NodeRuntime, type NodeEvent } from './nodeRuntime.ts';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** `memory` (in-process, seeded faults), `udp` or `tcp` (loopback sockets by default). */
  readonly transport: 'memory' | 'udp' | 'tcp';
  /**
   * How many protocol nodes: sets the one param that sizes the spec's roles (two-phase: 4 →
   * rms 3; raft: 3 → servers 3). Default: as the params give.
   */
  readonly nodes?: number;
  /** Overrides of the spec's params. */
  readonly params?: Readonly<Record<string, ParamValue>>;
  /** How many clients (default: the spec's `clients.count`, at least 1 when it has clients). */
  readonly clients?: number;
  /** Where the nodes' durable logs go (`node-<id>.log`). Default: a fresh temporary directory, removed by `close()`. */
  readonly dataDir?: string;
  /** Flush mode of the logs: `datasync` (default), `fsync`, or `none` (tests and benchmarks only). */
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
  /**
   * The clock every node reads and sets timers on: `system` (default), `simulated` (a fresh
   * simulated clock, see `cluster.clock`), or a clock of your own (e.g. a `simulatedClock()`).
   */
  readonly clock?: 'system' | 'simulated' | Clock<number>;
  /** Milliseconds per unit of spec time. Default 1. Readings count from the cluster's start. */
  readonly tickMs?: number;
  /** TrueTime's ε in spec time units (`out.trueTime()`). Default 0. */
  readonly trueTimeEpsilon?: number;
  /** Seed of timer draws and memory faults. Default 0. */
  readonly seed?: number;
  /** The cluster key (at least 16 bytes). Default: 32 random bytes. */
  readonly key?: Uint8Array;
  /** Default 1. */
  readonly clusterId?: number;
  /** Faults of the memory network (loss, duplication, corruption, delay). */
  readonly faults?: MemoryFaults;
  /** Local action timers on (default) or off (actions only through `fire`). */
  readonly timers?: boolean;
  /** Timer range (ms) for actions that declare no `timerMs`. Default: none, they run only through `fire`. */
  readonly defaultTimerMs?: readonly [number, number] | null;
  /**
   * Timer ranges (ms) that replace the spec's `timerMs` of the named actions, e.g. etcd's timing
   * for raft-kv (`{ timeout: [1000, 2000], appendEntries: [100, 100] }`). Any range is one the
   * model allows: the checker fires an enabled action at any time.
   */
  readonly actionTimerMs?: Readonly<Record<string, readonly [number, number]>>;
  /** Default timeout of client calls, ms. Default 2000. */
  readonly invokeTimeoutMs?: number;
  /** Bind address for udp and tcp. Default 127.0.0.1. */
  readonly host?: string;
  /**
   * Mutual TLS (tcp only): the key, certificate and CA (PEM) of every member — one for all, or
   * one per node id (protocol nodes and clients). A member accepts only peers whose certificate
   * chains to the CA; frames are still authenticated with the cluster key inside the tunnel.
   */
  readonly tls?: TcpTlsOptions | ((id: NodeId) => TcpTlsOptions);
  /** Every node's events (steps, drops, errors, crashes). */
  readonly onEvent?: (event: NodeEvent) => void;
}

/** Options of {@link Cluster.idle}. */
export interface IdleOptions {
  /** Wait also for action timers due within this many ms of the clock's now. Default 0 (only overdue ones). */
  readonly timersWithinMs?: number;
  /** Give up (reject) after this many ms of real time. Default 5000. */
  readonly timeoutMs?: number;
  /** Socket transports: counters unchanged this long mean the frames still unaccounted for were lost. Default 50. */
  readonly settleMs?: number;
}

/** A running cluster. */
export interface Cluster<Op = unknown, R = unknown> {
  readonly protocol: Protocol;
  readonly params: Params;
  readonly layout: ClusterLayout;
  /** The protocol nodes' ids (clients excluded). */
  readonly nodes: readonly NodeId[];
  readonly clock: Clock<number>;
  readonly dataDir: string;
  /** The memory network (transport `memory`), for its faults and stats. */
  readonly network: MemoryNetwork | undefined;
  /** Client `index` (0-based), a node of role `client`. */
  client(index?: number): ClusterClient<Op, R>;
  /**
   * Restarts client `index` with the same node id and no memory, as a client process that died
   * and came back: the old client is closed (a call in progress keeps an unknown outcome in the
   * history) and a new one takes its place on a new transport. Where the spec declares sessions
   * (`clients.session`) it registers a new incarnation before its first call, so its requests are
   * applied exactly once. Returns the new client, which `client(index)` returns from now on.
   */
  restartClient(index?: number): Promise<ClusterClient<Op, R>>;
  /** Node `id`'s runtime (state, status, failure, stats). */
  node<S = unknown>(id: NodeId): NodeRuntime<S>;
  /** Node `id`'s current state (undefined while down). */
  state<S = unknown>(id: NodeId): S | undefined;
  /** Runs local action `name` on node `id`; true once its effects went out, false if it was not enabled. */
  fire(id: NodeId, name: string, arg?: unknown): Promise<boolean>;
  /** Crashes node `id`: its volatile state and in-flight work are gone; its log stays. */
  crash(id: NodeId): Promise<void>;
  /** Restarts node `id` (crashed or failed) from its durable log. */
  restart(id: NodeId): Promise<void>;
  /** Blocks the links between the nodes of `a` and of `b`, both ways (clients included). */
  partition(a: NodeId | readonly NodeId[], b: NodeId | readonly NodeId[]): void;
  /** Removes every partition. */
  heal(): void;
  /** Every client operation so far, in the history checkers' shape. */
  history(): ClientHistory<Op, R>;
  /** Node or client `id`'s socket address (udp, tcp). */
  address(id: NodeId): PeerAddress | undefined;
  /** Transport counters of node or client `id` (frames, bytes, drops by reason). */
  transportStats(id: NodeId): TransportStats | undefined;
  /**
   * Resolves once the cluster is quiet: no node has an input queued or a durable flush in
   * progress, no frame is in flight, and no action timer is due within `timersWithinMs` (default
   * 0: only timers already due). Rejects with `Cluster.idle/timeout` after `timeoutMs` (default
   * 5000), naming what was still busy. A frame is in flight on the memory network until it lands
   * or is dropped; on udp and tcp until the counters of every member say it was received or
   * dropped, or, for a frame the wire lost, until no counter has moved for `settleMs` (default 50).
   * Under a simulated clock nothing scheduled on the clock (delayed deliveries, timers) happens
   * until you advance it, so there this waits only for the nodes' inputs, flushes and socket frames:
   * advance the clock, then await this, until quiet.
   */
  idle(options?: IdleOptions): Promise<void>;
  /** Resolves once `predicate()` holds (polled every `pollMs`, default 5), rejects after `timeoutMs` (default 5000). */
  waitUntil(predicate: () => boolean, options?: { timeoutMs?: number; pollMs?: number }): Promise<void>;
  /** Stops every node and client, closes sockets and logs (and removes a temporary data directory). */
  close(): Promise<void>;
}

/** Starts `spec` as a cluster. See {@link ClusterOptions}. */
export async function startCluster<Op = unknown, R = unknown>(spec: Protocol, options: ClusterOptions): Promise<Cluster<Op, R>> {
  const fn = 'startCluster';
  if (!isProtocol(spec)) throw new UsageError(fn, 'bad-spec', 'the first argument must be a protocol made with defineProtocol or protocol(...).define');
  if (!options || !['memory', 'udp', 'tcp'].includes(options.transport)) {
    throw new UsageError(fn, 'bad-transport', `transport must be memory, udp or tcp, got ${String(options?.transport)}`);
  }
  for (const [name, range] of Object.entries(options.actionTimerMs ?? {})) {
    if (!Object.values(spec.roles).some((r) => r.actions?.[name])) {
      throw new UsageError(fn, 'bad-action-timer', `actionTimerMs names '${name}', which is no action of ${spec.name}`);
    }
    if (!Array.isArray(range) || range.length !== 2 || !(range[0] >= 0 && range[1] >= range[0])) {
      throw new UsageError(fn, 'bad-action-timer', `actionTimerMs.${name} must be [min, max] with 0 <= min <= max, got ${JSON.stringify(range)}`);
    }
  }
  let params = resolveClusterParams(spec, options.params ?? {});
  if (options.nodes !== undefined) params = paramsForNodes(spec, params, options.nodes, new Set(Object.keys(options.params ?? {})));
  const clientCount = spec.clients ? (options.clients ?? Math.max(1, new ClusterLayout(spec, params).clients!.role.count)) : options.clients;
  const layout = new ClusterLayout(spec, params, clientCount === undefined ? {} : { clients: clientCount });
  const clock: Clock<number> = options.clock === undefined || options.clock === 'system' ? systemClock() : options.clock === 'simulated' ? simulatedClock() : options.clock;
  const key = options.key ?? randomBytes(32);
  const clusterId = options.clusterId ?? 1;
  const seed = options.seed ?? 0;
  const host = options.host ?? '127.0.0.1';
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pacta-cluster-')));
  await mkdir(dataDir, { recursive: true });
  const epochMs = clock.now();

  // The network: one endpoint per node and per client.
  const network =
    options.transport === 'memory' ? new MemoryNetwork({ clusterId, key, seed, clock, ...(options.faults ?? {}) }) : undefined;
  if (options.faults && !network) throw new UsageError(fn, 'faults-need-memory', 'faults are injected by the memory network; use partition() on sockets');
  if (options.tls && options.transport !== 'tcp') throw new UsageError(fn, 'tls-needs-tcp', 'TLS runs over the tcp transport only (use transport: tcp)');
  const tlsOf = (id: NodeId): TcpTlsOptions | undefined => (typeof options.tls === 'function' ? options.tls(id) : options.tls);
  const blocked = new Set<string>();
  const addresses = new Map<NodeId, PeerAddress>();
  const sockets = new Map<NodeId, NetTransport>();
  const open = async (id: NodeId): Promise<Transport> => {
    if (network) return network.transport(id);
    const port = addresses.get(id)?.port ?? 0;
    const make = (p: number): Promise<NetTransport> =>
      options.transport === 'udp'
        ? udpTransport({ self: id, clusterId, key, bind: { host, port: p }, peers: addresses })
        : tcpTransport({
            self: id, clusterId, key, listen: { host, port: p }, peers: addresses, reconnectDelayMsMin: 10, reconnectDelayMsMax: 200,
            ...(options.tls ? { tls: tlsOf(id)! } : {}),
          });
    let t: NetTransport;
    try {
      t = await make(port);
    } catch (e) {
      if (port === 0) throw e;
      t = await make(0); // the old port was taken meanwhile: tell everyone the new one
    }
    addresses.set(id, t.address);
    for (const other of sockets.values()) other.setPeer(id, t.address);
    sockets.set(id, t);
    return partitionable(t, id, blocked);
  };

  const runtimes: NodeRuntime[] = [];
  const history = new HistoryLog();
  const clients: ClusterClient<Op, R>[] = [];
  const newClient = (id: NodeId, transport: Transport) => new ClusterClient<Op, R>({
    layout, id, transport, clock, history,
    ...(options.invokeTimeoutMs !== undefined ? { timeoutMs: options.invokeTimeoutMs } : {}),
  });
  const cleanup = async (): Promise<void> => {
    await Promise.all(runtimes.map((r) => r.crash()));
    await Promise.all(clients.map((c) => c.close()));
    if (temporary) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // Bind every socket first, so each node starts knowing all addresses.
    const transports = new Map<NodeId, Transport>();
    for (let id = 0; id < layout.nodeCount; id++) transports.set(id, await open(id));
    for (const [id, t] of sockets) for (const [peer, address] of addresses) if (peer !== id) t.setPeer(peer, address);
    for (const id of layout.protocolNodeIds) {
      runtimes.push(
        new NodeRuntime({
          layout, id, clock, epochMs, store: fileStore(join(dataDir, `node-${id}.log`), { syncMode: options.syncMode ?? 'datasync' }),
          ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
          ...(options.trueTimeEpsilon !== undefined ? { trueTimeEpsilon: options.trueTimeEpsilon } : {}),
          ...(options.timers !== undefined ? { timers: options.timers } : {}),
          ...(options.defaultTimerMs !== undefined ? { defaultTimerMs: options.defaultTimerMs } : {}),
          ...(options.actionTimerMs !== undefined ? { actionTimerMs: options.actionTimerMs } : {}),
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
          seed,
        }),
      );
    }
    await Promise.all(runtimes.map((r) => r.open()));
    for (const r of runtimes) r.start(transports.get(r.id)!);
    if (layout.clients) {
      for (let k = 0; k < layout.clients.role.count; k++) {
        const id = layout.clients.role.base + k;
        clients.push(newClient(id, transports.get(id)!));
      }
    }
  } catch (e) {
    await cleanup().catch(() => {});
    for (const s of sockets.values()) await s.close().catch(() => {});
    throw e;
  }

  const runtime = (id: NodeId, what: string): NodeRuntime => {
    const r = runtimes[id];
    if (!r) throw new UsageError(`Cluster.${what}`, 'unknown-node', `${String(id)} is not a protocol node (ids 0..${runtimes.length - 1})`);
    return r;
  };
  let closed = false;
  const live = (what: string): void => {
    if (closed) throw new UsageError(`Cluster.${what}`, 'closed', 'the cluster is closed');
  };
  const socketCounters = () => countFrames([...runtimes.map((r) => r.transport?.stats), ...clients.map((c) => c.transportStats)]);
  const list = (x: NodeId | readonly NodeId[]): readonly NodeId[] => (typeof x === 'number' ? [x] : x);
  const clientAt = (index: number, what: string): ClusterClient<Op, R> => {
    const c = clients[index];
    if (!c) throw new UsageError(`Cluster.${what}`, 'unknown-client', layout.clients ? `no client ${index} (the cluster has ${clients.length})` : `protocol '${spec.name}' declares no clients`);
    return c;
  };

  return {
    protocol: spec,
    params,
    layout,
    nodes: layout.protocolNodeIds,
    clock,
    dataDir,
    network,
    client(index = 0) {
      return clientAt(index, 'client');
    },
    async restartClient(index = 0) {
      live('restartClient');
      const old = clientAt(index, 'restartClient');
      await old.close();
      sockets.delete(old.id);
      const c = newClient(old.id, await open(old.id));
      clients[index] = c;
      return c;
    },
    node<S>(id: NodeId) {
      return runtime(id, 'node') as NodeRuntime<S>;
    },
    state<S>(id: NodeId) {
      const r = runtime(id, 'state');
      return (r.status === 'running' || r.status === 'recovered' ? r.state : undefined) as S | undefined;
    },
    fire(id, name, arg) {
      live('fire');
      return runtime(id, 'fire').fire(name, arg);
    },
    async crash(id) {
      live('crash');
      const r = runtime(id, 'crash');
      await r.crash();
      sockets.delete(id);
    },
    async restart(id) {
      live('restart');
      const r = runtime(id, 'restart');
      if (r.status === 'running') throw new UsageError('Cluster.restart', 'running', `${r.name} is running; crash it first`);
      await r.crash(); // a failed node: finish closing it
      sockets.delete(id);
      await r.open();
      r.start(await open(id));
    },
    partition(a, b) {
      live('partition');
      if (network) return network.partition(a, b);
      for (const x of list(a)) for (const y of list(b)) if (x !== y) blocked.add(linkKey(x, y));
    },
    heal() {
      live('heal');
      if (network) return network.heal();
      blocked.clear();
    },
    history() {
      return history.history<Op, R>();
    },
    address(id) {
      return addresses.get(id);
    },
    transportStats(id) {
      if (id < runtimes.length) return runtimes[id]!.transport?.stats;
      const c = clients[id - runtimes.length];
      return c ? c.transportStats : undefined;
    },
    async idle({ timersWithinMs = 0, timeoutMs = 5000, settleMs = 50 } = {}) {
      for (const [name, v] of [['timersWithinMs', timersWithinMs], ['timeoutMs', timeoutMs], ['settleMs', settleMs]] as const) {
        if (!(typeof v === 'number' && v >= 0)) throw new UsageError('Cluster.idle', 'bad-option', `${name} must be a number >= 0, got ${String(v)}`);
      }
      // A clock that moves only when its driver advances it: waiting for it would never end.
      const driven = typeof (clock as Partial<SimulatedClock>).advance === 'function';
      const start = Date.now();
      let counters = '';
      let countersSince = start;
      for (;;) {
        for (let round = 0; round < 3; round++) await Promise.all(runtimes.map((r) => r.idle()));
        const busy: string[] = [];
        for (const r of runtimes) if (!r.isIdle) busy.push(`${r.name} is stepping or flushing`);
        if (network) {
          if (!driven && network.deliveriesPending > 0) busy.push(`${network.deliveriesPending} frame(s) in flight`);
        } else {
          const { sent, accounted } = socketCounters();
          const now = `${sent}/${accounted}`;
          if (now !== counters) [counters, countersSince] = [now, Date.now()];
          if (accounted < sent && Date.now() - countersSince < settleMs) busy.push(`${sent - accounted} frame(s) in flight`);
        }
        if (!driven) {
          const horizon = clock.now() + timersWithinMs;
          for (const r of runtimes) {
            const due = r.status === 'running' ? r.nextTimerDueMs : undefined;
            if (due !== undefined && due <= horizon) busy.push(`${r.name} has a timer due in ${Math.max(0, Math.round(due - clock.now()))} ms`);
          }
        }
        if (busy.length === 0) return;
        if (Date.now() - start > timeoutMs) {
          throw new UsageError('Cluster.idle', 'timeout', `the cluster was not quiet within ${timeoutMs} ms: ${busy.join('; ')}`);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    async waitUntil(predicate, { timeoutMs = 5000, pollMs = 5 } = {}) {
      const start = Date.now();
      while (!predicate()) {
        if (Date.now() - start > timeoutMs) throw new UsageError('Cluster.waitUntil', 'timeout', `the condition did not hold within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await cleanup();
    },
  };
}

/** Frames handed to the sockets by every member, and frames received or dropped (either end). */
function countFrames(stats: readonly (TransportStats | undefined)[]): { sent: number; accounted: number } {
  let sent = 0;
  let accounted = 0;
  for (const s of stats) {
    if (!s) continue;
    sent += s.framesSent;
    accounted += s.framesReceived;
    for (const n of Object.values(s.dropped)) accounted += n;
  }
  return { sent, accounted };
}

function linkKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * A socket transport whose links can be cut: frames to or from a node on the other side of a
 * partition are dropped (counted `partition`), like the memory network's partitions.
 */
function partitionable(inner: NetTransport, self: NodeId, blocked: ReadonlySet<string>): Transport {
  let cut = 0;
  return {
    self,
    get payloadBytesMax() {
      return inner.payloadBytesMax;
    },
    send(to, kind, payload) {
      if (blocked.size > 0 && blocked.has(linkKey(self, to))) {
        cut++;
        return;
      }
      inner.send(to, kind, payload);
    },
    onFrame(handler: FrameHandler) {
      return inner.onFrame((f: Frame) => {
        if (blocked.size > 0 && blocked.has(linkKey(self, f.from))) {
          cut++;
          return;
        }
        handler(f);
      });
    },
    get stats() {
      const s = inner.stats;
      return { ...s, dropped: { ...s.dropped, partition: s.dropped.partition + cut } };
    },
    close: () => inner.close(),
  };
}
