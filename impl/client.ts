/**
 * A client of a running cluster: a node of role `client` that sends requests `{ id, op }` to a
 * node of the clients' target role and waits for the reply `{ id, result }`, as the model's
 * clients do (one operation at a time, request ids 0, 1, 2, ...; a reply to another id is
 * stale and ignored). Calls made while one is pending wait their turn. Every operation is
 * recorded in the cluster's {@link HistoryLog}; one that times out keeps an unknown outcome.
 */
import { DecodeError, type NodeId, Reader, Writer } from '../specs/core/index.ts';
import type { Cancel, Clock } from './clock/index.ts';
import type { HistoryLog } from './history.ts';
import { CHANNEL, type ClusterLayout } from './layout.ts';
import type { Frame, Transport, TransportStats } from './net/index.ts';
import { UsageError } from './net/usageError.ts';

/** An operation got no reply in time: its outcome is unknown (it may still take effect). */
export class InvokeTimeout extends Error {
  override readonly name = 'InvokeTimeout';
  readonly code = 'ClusterClient.invoke/timeout';
  constructor(
    readonly client: NodeId,
    readonly to: NodeId,
    readonly requestId: number,
    readonly timeoutMs: number,
  ) {
    super(`client ${client}: no reply from node ${to} to request ${requestId} within ${timeoutMs} ms (outcome unknown)`);
  }
}

/** Options of one call. */
export interface InvokeOptions {
  /** The node to ask (default: the client's `to`). */
  readonly to?: NodeId;
  /** Give up after this long (ms of the cluster clock); the outcome is then unknown. */
  readonly timeoutMs?: number;
}

/** Options of {@link ClusterClient}. */
export interface ClusterClientOptions {
  readonly layout: ClusterLayout;
  /** This client's node id (a node of role `client`). */
  readonly id: NodeId;
  readonly transport: Transport;
  readonly clock: Clock<number>;
  readonly history: HistoryLog;
  /** Default node to ask (default: the target role's first node). */
  readonly to?: NodeId;
  /** Default timeout (ms). Default 2000. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly id: number;
  readonly op: unknown;
  readonly index: number;
  readonly to: NodeId;
  readonly resolve: (result: unknown) => void;
  readonly reject: (e: Error) => void;
  cancel: Cancel | undefined;
}

/** Counters of a client. */
export interface ClientStats {
  invoked: number;
  completed: number;
  timedOut: number;
  /** Replies to a request that is no longer pending (late after a timeout, or duplicated). */
  staleReplies: number;
  /** Frames that were not decodable replies. */
  dropped: number;
}

/** A typed client: `await client.invoke(op)` resolves to the protocol's result. */
export class ClusterClient<Op = unknown, R = unknown> {
  readonly id: NodeId;
  /** This client's index among the cluster's clients (the history's `process`). */
  readonly process: number;
  /** The node asked by default. */
  to: NodeId;
  readonly #opts: ClusterClientOptions;
  readonly #writer = new Writer(64);
  readonly #reader = new Reader(new Uint8Array(0));
  #next = 0;
  #pending: Pending | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  /** Calls queued behind the pending one. */
  #waiting = 0;
  #closed = false;
  readonly #stats: ClientStats = { invoked: 0, completed: 0, timedOut: 0, staleReplies: 0, dropped: 0 };
  readonly #unsubscribe: () => void;

  constructor(options: ClusterClientOptions) {
    const clients = options.layout.clients;
    if (!clients) throw new UsageError('ClusterClient', 'no-clients', `protocol '${options.layout.protocol.name}' declares no clients`);
    if (!options.layout.isClient(options.id)) throw new UsageError('ClusterClient', 'bad-id', `${options.id} is not a client node`);
    this.#opts = options;
    this.id = options.id;
    this.process = options.id - clients.role.base;
    this.to = options.to ?? clients.target.base;
    this.#unsubscribe = options.transport.onFrame((f) => this.#onFrame(f));
  }

  get stats(): ClientStats {
    return { ...this.#stats };
  }

  /** The client's transport counters. */
  get transportStats(): TransportStats {
    return this.#opts.transport.stats;
  }

  /** The client's state as the model has it: the next request id and the pending request. */
  get modelState(): { next: number; pending: { id: number; op: unknown } | null } {
    return { next: this.#next, pending: this.#pending ? { id: this.#pending.id, op: this.#pending.op } : null };
  }

  /**
   * Sends `op` and resolves to the result. Rejects with {@link InvokeTimeout} when no reply
   * comes in time (the history keeps the operation with an unknown outcome).
   */
  invoke(op: Op, options: InvokeOptions = {}): Promise<R> {
    // An idle client sends at once (so the request is in flight when this returns); a busy one queues.
    const run = this.#waiting === 0 && !this.#pending
      ? this.#invokeNow(op, options)
      : (this.#waiting++, this.#turn.then(() => (this.#waiting--, this.#invokeNow(op, options))));
    this.#turn = run.catch(() => {});
    return run as Promise<R>;
  }

  /**
   * Sends `op` at once without waiting for a turn or setting a timeout (executor replay's
   * `invoke` event). Throws when a request is pending.
   */
  send(op: Op, to: NodeId): Promise<R> {
    if (this.#pending) throw new UsageError('ClusterClient.send', 'busy', `client ${this.id} has request ${this.#pending.id} pending`);
    return this.#invokeNow(op, { to, timeoutMs: Number.POSITIVE_INFINITY }) as Promise<R>;
  }

  /** Stops listening; a pending call is rejected and keeps an unknown outcome. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    const p = this.#pending;
    this.#pending = undefined;
    if (p) {
      p.cancel?.();
      p.reject(new UsageError('ClusterClient', 'closed', `client ${this.id} closed with request ${p.id} pending`));
    }
    await this.#opts.transport.close();
  }

  #invokeNow(op: Op, options: InvokeOptions): Promise<unknown> {
    if (this.#closed) return Promise.reject(new UsageError('ClusterClient.invoke', 'closed', `client ${this.id} is closed`));
    const { layout, clock, transport, history } = this.#opts;
    const to = options.to ?? this.to;
    if (layout.roleOf(to) !== layout.clients!.target) {
      return Promise.reject(new UsageError('ClusterClient.invoke', 'bad-target', `node ${to} is not a ${layout.clients!.target.name} (the role that serves clients)`));
    }
    const id = this.#next;
    this.#writer.reset();
    try {
      layout.clients!.request.encode(this.#writer, { id, op }, 'request');
    } catch (e) {
      return Promise.reject(new UsageError('ClusterClient.invoke', 'bad-op', `the op does not fit the spec's op schema: ${(e as Error).message}`));
    }
    const payload = this.#writer.toBytes();
    this.#next++;
    const index = history.invoke(this.process, this.id, id, op, clock.monotonicMs());
    this.#stats.invoked++;
    const timeoutMs = options.timeoutMs ?? this.#opts.timeoutMs ?? 2000;
    return new Promise((resolve, reject) => {
      const pending: Pending = { id, op, index, to, resolve, reject, cancel: undefined };
      this.#pending = pending;
      if (Number.isFinite(timeoutMs)) {
        pending.cancel = clock.setTimer(timeoutMs, () => {
          if (this.#pending !== pending) return;
          this.#pending = undefined;
          this.#stats.timedOut++;
          reject(new InvokeTimeout(this.id, to, id, timeoutMs));
        });
      }
      try {
        transport.send(to, CHANNEL.request, payload);
      } catch (e) {
        // The request never left: like a lost request, the outcome stays unknown until the timeout.
        void e;
      }
    });
  }

  #onFrame(f: Frame): void {
    const clients = this.#opts.layout.clients!;
    if (f.kind !== CHANNEL.reply) {
      this.#stats.dropped++;
      return;
    }
    let reply: { id: number; result: unknown };
    try {
      this.#reader.reset(f.payload);
      reply = clients.reply.decode(this.#reader);
      if (this.#reader.pos !== f.payload.length) throw new DecodeError('trailing bytes', this.#reader.pos);
    } catch {
      this.#stats.dropped++;
      return;
    }
    const p = this.#pending;
    if (!p || p.id !== reply.id) {
      this.#stats.staleReplies++;
      return;
    }
    this.#pending = undefined;
    p.cancel?.();
    this.#stats.completed++;
    this.#opts.history.complete(p.index, this.id, p.id, reply.result, this.#opts.clock.monotonicMs());
    p.resolve(reply.result);
  }
}
