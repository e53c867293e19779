/**
 * A client of a running cluster: a node of role `client` that sends requests `{ id, op }` to a
 * node of the clients' target role and waits for the reply `{ id, result }`, as the model's
 * clients do (one operation at a time; a reply to another id is stale and ignored). Calls made
 * while one is pending wait their turn. Every operation is recorded in the cluster's
 * {@link HistoryLog}; one that times out keeps an unknown outcome.
 *
 * Where the spec says so (`clients.redirect`, `clients.session`):
 * - **Following redirects.** An answer that means "ask another node" (raft-kv's `notLeader`) is
 *   not the call's result: the client asks the node the answer names, or the next one, after a
 *   backoff (doubling from `backoffMsMin` to `backoffMsMax`), under the same request id, until the
 *   call's timeout. On by default for calls that do not name a node (`invoke(op)`); a call that
 *   names one (`invoke(op, { to })`) asks only it, unless `follow: true`.
 * - **Sessions.** A client incarnation registers before its first call (`register(nonce)`, sent
 *   under the reserved id {@link SESSION_REGISTER_ID}), and numbers its requests from its
 *   incarnation `k`: `k · 2^16 + 1, + 2, ...`. A client restarted with the same node id thus
 *   never reuses an id an earlier incarnation used: its requests are neither mistaken for
 *   duplicates nor applied twice. With sessions a following call also re-sends a request that
 *   got no answer for `attemptTimeoutMs` (to the next node): the id makes the retry harmless.
 *   Registrations are not operations of the history.
 * Without them (the model's clients; executor replay) request ids are 0, 1, 2, ...
 */
import { randomBytes } from 'node:crypto';
import { DecodeError, type NodeId, Reader, SESSION_IDS, SESSION_REGISTER_ID, Writer } from '../specs/core/index.ts';
import type { Cancel, Clock } from './clock/index.ts';
import type { HistoryLog } from './history.ts';
import { CHANNEL, type ClusterLayout } from './layout.ts';
import type { Frame, Transport, TransportStats } from './net/index.ts';
import { UsageError } from './net/usageError.ts';

/** An operation got no reply in time: its outcome is unknown (it may still take effect). */
export class InvokeTimeout extends Error {
  override readonly name: string = 'InvokeTimeout';
  readonly code: string = 'ClusterClient.invoke/timeout';
  constructor(
    readonly client: NodeId,
    readonly to: NodeId,
    readonly requestId: number,
    readonly timeoutMs: number,
    message?: string,
  ) {
    super(message ?? `client ${client}: no reply from node ${to} to request ${requestId} within ${timeoutMs} ms (outcome unknown)`);
  }
}

/**
 * The client could not register its session in time, so the operation was never sent (it had
 * no effect, and it is not in the history). An {@link InvokeTimeout}, so that callers that
 * retry on timeouts retry on this too.
 */
export class SessionTimeout extends InvokeTimeout {
  override readonly name = 'SessionTimeout';
  override readonly code = 'ClusterClient.invoke/no-session';
  constructor(client: NodeId, to: NodeId, timeoutMs: number) {
    super(client, to, SESSION_REGISTER_ID, timeoutMs, `client ${client}: could not register a session within ${timeoutMs} ms; the operation was not sent`);
  }
}

/** Options of one call. */
export interface InvokeOptions {
  /** The node to ask (default: the client's `to`, or the node a redirect last named). */
  readonly to?: NodeId;
  /** Give up after this long (ms of the cluster clock); the outcome is then unknown. */
  readonly timeoutMs?: number;
  /** Follow redirect answers elsewhere (see the module comment). Default: true unless `to` is given. */
  readonly follow?: boolean;
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
  /** Register a session before the first call when the spec declares `clients.session` (default true). */
  readonly sessions?: boolean;
  /** Backoff after a redirect: first delay and cap, ms. Defaults 10 and 320. */
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
  /** With sessions, a following call re-sends a request unanswered this long. Default: a quarter of the call's timeout, at most 500 ms. */
  readonly attemptTimeoutMs?: number;
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
  /** Redirect answers followed to another node. */
  redirects: number;
  /** Requests re-sent after no answer (sessions only). */
  retries: number;
  /** Session registrations (client incarnations). */
  registrations: number;
}

/** The request in flight: its id and what to do with its answers. */
interface Waiter {
  readonly id: number;
  readonly onReply: (result: unknown) => void;
}

/** A typed client: `await client.invoke(op)` resolves to the protocol's result. */
export class ClusterClient<Op = unknown, R = unknown> {
  readonly id: NodeId;
  /** This client's index among the cluster's clients (the history's `process`). */
  readonly process: number;
  /** The node asked by default (a followed redirect moves it). */
  to: NodeId;
  readonly #opts: ClusterClientOptions;
  readonly #writer = new Writer(64);
  readonly #reader = new Reader(new Uint8Array(0));
  /** Next request id without sessions. */
  #next = 0;
  /** With sessions: the incarnation (0 until registered) and the last sequence number used in it. */
  #incarnation = 0;
  #seq = 0;
  readonly #sessions: boolean;
  #waiter: Waiter | undefined;
  /** The request of the call in progress, as the model has it (replay). */
  #pending: { id: number; op: unknown } | undefined;
  #busy = false;
  #turn: Promise<unknown> = Promise.resolve();
  /** Calls queued behind the one in progress. */
  #waiting = 0;
  #closed = false;
  #abort: (() => void) | undefined;
  readonly #stats: ClientStats = { invoked: 0, completed: 0, timedOut: 0, staleReplies: 0, dropped: 0, redirects: 0, retries: 0, registrations: 0 };
  readonly #unsubscribe: () => void;

  constructor(options: ClusterClientOptions) {
    const clients = options.layout.clients;
    if (!clients) throw new UsageError('ClusterClient', 'no-clients', `protocol '${options.layout.protocol.name}' declares no clients`);
    if (!options.layout.isClient(options.id)) throw new UsageError('ClusterClient', 'bad-id', `${options.id} is not a client node`);
    this.#opts = options;
    this.id = options.id;
    this.process = options.id - clients.role.base;
    this.to = options.to ?? clients.target.base;
    this.#sessions = options.sessions !== false && options.layout.protocol.clients?.session !== undefined;
    this.#unsubscribe = options.transport.onFrame((f) => this.#onFrame(f));
  }

  get stats(): ClientStats {
    return { ...this.#stats };
  }

  /** The client's transport counters. */
  get transportStats(): TransportStats {
    return this.#opts.transport.stats;
  }

  /** The incarnation this client registered (0: none yet, or no sessions). */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** The client's state as the model has it: the next request id and the pending request. */
  get modelState(): { next: number; pending: { id: number; op: unknown } | null } {
    return { next: this.#next, pending: this.#pending ? { id: this.#pending.id, op: this.#pending.op } : null };
  }

  /**
   * Sends `op` and resolves to the result. Rejects with {@link InvokeTimeout} when no answer
   * comes in time (the history keeps the operation with an unknown outcome).
   */
  invoke(op: Op, options: InvokeOptions = {}): Promise<R> {
    // An idle client sends at once (so the request is in flight when this returns, once it has a
    // session); a busy one queues.
    const run = this.#waiting === 0 && !this.#busy
      ? this.#invokeNow(op, options)
      : (this.#waiting++, this.#turn.then(() => (this.#waiting--, this.#invokeNow(op, options))));
    this.#turn = run.catch(() => {});
    return run as Promise<R>;
  }

  /** The id of the next request `send` sends: in the incarnation, once registered, else the plain count. */
  get nextRequestId(): number {
    return this.#incarnation > 0 ? this.#incarnation * SESSION_IDS + this.#seq + 1 : this.#next;
  }

  /**
   * Sends `op` at once without waiting for a turn, following, or setting a timeout (executor
   * replay's `invoke` event), with the model's request ids (in its incarnation once
   * {@link sendRegistration} registered one). Throws when a request is pending.
   */
  send(op: Op, to: NodeId): Promise<R> {
    if (this.#busy) throw new UsageError('ClusterClient.send', 'busy', `client ${this.id} has request ${this.#pending?.id} pending`);
    const check = this.#target('ClusterClient.send', to);
    if (check) return Promise.reject(check);
    return this.#operation(op, to, Number.POSITIVE_INFINITY, false, this.#takeId()) as Promise<R>;
  }

  /**
   * Executor replay of a restarted model client: sends `register(nonce)` once to `to` (no
   * following, no timeout; not in the history) and, when the answer registers that nonce, numbers
   * the following `send`s in the new incarnation. Resolves to whether it registered.
   */
  sendRegistration(to: NodeId, nonce: number): Promise<boolean> {
    const session = this.#opts.layout.protocol.clients?.session;
    if (!session) return Promise.reject(new UsageError('ClusterClient.sendRegistration', 'no-sessions', `protocol '${this.#opts.layout.protocol.name}' declares no client sessions`));
    if (this.#busy) throw new UsageError('ClusterClient.sendRegistration', 'busy', `client ${this.id} has request ${this.#pending?.id} pending`);
    const check = this.#target('ClusterClient.sendRegistration', to);
    if (check) return Promise.reject(check);
    const op = session.register(nonce);
    this.#pending = { id: SESSION_REGISTER_ID, op };
    this.#busy = true;
    return this.#call(SESSION_REGISTER_ID, this.#encode(op, SESSION_REGISTER_ID), to, Number.POSITIVE_INFINITY, false).then((answer) => {
      this.#pending = undefined;
      this.#busy = false;
      const incarnation = answer === 'timeout' ? null : session.incarnation(answer.result, nonce);
      if (incarnation === null) return false;
      this.#registered(incarnation);
      return true;
    });
  }

  /** Takes the id of the next request: {@link nextRequestId}, then moves past it. */
  #takeId(): number {
    const id = this.nextRequestId;
    if (this.#incarnation > 0) this.#seq++;
    else this.#next++;
    return id;
  }

  /** A registration answered: the requests that follow are numbered in `incarnation`. */
  #registered(incarnation: number): void {
    this.#incarnation = incarnation;
    this.#seq = 0;
    this.#stats.registrations++;
  }

  /** Stops listening; a pending call is rejected and keeps an unknown outcome. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#abort?.();
    await this.#opts.transport.close();
  }

  #target(fn: string, to: NodeId): UsageError | undefined {
    const { layout } = this.#opts;
    if (layout.roleOf(to) !== layout.clients!.target) {
      return new UsageError(fn, 'bad-target', `node ${to} is not a ${layout.clients!.target.name} (the role that serves clients)`);
    }
    return undefined;
  }

  #invokeNow(op: Op, options: InvokeOptions): Promise<unknown> {
    if (this.#closed) return Promise.reject(new UsageError('ClusterClient.invoke', 'closed', `client ${this.id} is closed`));
    const to = options.to ?? this.to;
    const bad = this.#target('ClusterClient.invoke', to);
    if (bad) return Promise.reject(bad);
    const timeoutMs = options.timeoutMs ?? this.#opts.timeoutMs ?? 2000;
    const follow = options.follow ?? options.to === undefined;
    if (!this.#sessions) return this.#operation(op, to, timeoutMs, follow, this.#takeId());
    const start = this.#opts.clock.monotonicMs();
    const sessioned = async (): Promise<unknown> => {
      this.#busy = true;
      try {
        if (this.#incarnation === 0 || this.#seq >= SESSION_IDS - 1) await this.#register(to, timeoutMs);
      } finally {
        this.#busy = false;
      }
      const left = Math.max(1, timeoutMs - (this.#opts.clock.monotonicMs() - start));
      return this.#operation(op, options.to ?? this.to, left, follow, this.#takeId());
    };
    return sessioned();
  }

  /** Opens a new incarnation: register(nonce) until it is answered, or the time is up. */
  async #register(to: NodeId, timeoutMs: number): Promise<void> {
    const session = this.#opts.layout.protocol.clients!.session!;
    const nonce = randomBytes(4).readUInt32BE(0);
    const payload = this.#encode(session.register(nonce), SESSION_REGISTER_ID);
    const answer = await this.#call(SESSION_REGISTER_ID, payload, to, timeoutMs, true, (r) => session.incarnation(r, nonce) !== null);
    if (answer === 'timeout') throw new SessionTimeout(this.id, to, timeoutMs);
    this.#registered(session.incarnation(answer.result, nonce)!);
  }

  #encode(op: unknown, id: number): Uint8Array {
    this.#writer.reset();
    this.#opts.layout.clients!.request.encode(this.#writer, { id, op }, 'request');
    return this.#writer.toBytes();
  }

  /** One operation of the history: sent under `id`, answered, or timed out. */
  #operation(op: Op, to: NodeId, timeoutMs: number, follow: boolean, id: number): Promise<unknown> {
    const { clock, history } = this.#opts;
    let payload: Uint8Array;
    try {
      payload = this.#encode(op, id);
    } catch (e) {
      return Promise.reject(new UsageError('ClusterClient.invoke', 'bad-op', `the op does not fit the spec's op schema: ${(e as Error).message}`));
    }
    const index = history.invoke(this.process, this.id, id, op, clock.monotonicMs());
    this.#stats.invoked++;
    this.#pending = { id, op };
    this.#busy = true;
    const done = (): void => {
      this.#pending = undefined;
      this.#busy = false;
    };
    return this.#call(id, payload, to, timeoutMs, follow).then((answer) => {
      done();
      if (answer === 'timeout') {
        this.#stats.timedOut++;
        throw this.#closed
          ? new UsageError('ClusterClient', 'closed', `client ${this.id} closed with request ${id} pending`)
          : new InvokeTimeout(this.id, to, id, timeoutMs);
      }
      this.#stats.completed++;
      history.complete(index, this.id, id, answer.result, clock.monotonicMs());
      return answer.result;
    });
  }

  /**
   * Sends one request and waits for its answer: following redirects (after a backoff) and, with
   * sessions, re-sending after silence, when `follow`; `accept` filters answers (registration).
   */
  #call(id: number, payload: Uint8Array, first: NodeId, timeoutMs: number, follow: boolean, accept?: (r: unknown) => boolean): Promise<{ result: unknown } | 'timeout'> {
    const { clock, transport, layout } = this.#opts;
    const redirect = follow ? layout.protocol.clients?.redirect : undefined;
    const retrySilence = follow && this.#sessions;
    const target = layout.clients!.target;
    const nextNode = (n: NodeId): NodeId => target.base + ((n - target.base + 1) % target.count);
    const backoffMin = this.#opts.backoffMsMin ?? 10;
    const backoffMax = this.#opts.backoffMsMax ?? 320;
    const attemptMs = this.#opts.attemptTimeoutMs ?? Math.min(500, Math.max(1, Math.floor(timeoutMs / 4)));
    return new Promise((resolve) => {
      let to = first;
      let backoff = backoffMin;
      let timer: Cancel | undefined;
      let deadline: Cancel | undefined;
      let finished = false;
      const finish = (v: { result: unknown } | 'timeout'): void => {
        if (finished) return;
        finished = true;
        timer?.();
        deadline?.();
        if (this.#waiter?.id === id) this.#waiter = undefined;
        this.#abort = undefined;
        resolve(v);
      };
      const send = (): void => {
        timer = undefined;
        if (finished) return;
        try {
          transport.send(to, CHANNEL.request, payload);
        } catch {
          // The request never left: like a lost request (a retry or the timeout follows).
        }
        if (retrySilence) {
          timer = clock.setTimer(attemptMs, () => {
            if (finished) return;
            this.#stats.retries++;
            to = nextNode(to);
            send();
          });
        }
      };
      this.#waiter = {
        id,
        onReply: (result) => {
          if (finished) return;
          const elsewhere = redirect?.(result);
          if (elsewhere) {
            this.#stats.redirects++;
            timer?.();
            const hinted = elsewhere.to;
            to = hinted !== undefined && layout.roleOf(hinted) === target && hinted !== to ? hinted : nextNode(to);
            this.to = to;
            const wait = backoff;
            backoff = Math.min(backoff * 2, backoffMax);
            timer = clock.setTimer(wait, send);
            return;
          }
          if (accept && !accept(result)) {
            this.#stats.staleReplies++;
            return;
          }
          if (follow) this.to = to;
          finish({ result });
        },
      };
      this.#abort = () => finish('timeout');
      if (Number.isFinite(timeoutMs)) deadline = clock.setTimer(timeoutMs, () => finish('timeout'));
      send();
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
    const w = this.#waiter;
    if (!w || w.id !== reply.id) {
      this.#stats.staleReplies++;
      return;
    }
    w.onReply(reply.result);
  }
}
