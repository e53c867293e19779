/**
 * The node runtime: one node of a protocol, running the spec's own handlers. Inputs — frames
 * from the network (protocol messages and client requests), timer firings of local actions, and
 * explicit `fire` calls — go through one queue, one at a time, into `onMessage`, `onRequest` or
 * an action's `do`, exactly as the checker's world calls them (checker/world.ts). A handler's
 * effects become frames (`out.send`, `out.broadcast`, `out.reply`), timers and durable writes.
 *
 * Order of a step: run the handler; check that the new state and every outgoing payload fit
 * their schemas (a step that does not is the spec's error: nothing of it takes effect); if a
 * durable field changed, write the packed durable projection to the log and flush it; only then
 * send the step's frames. Steps queued behind a flush are run meanwhile and their effects held,
 * so one flush covers them all (group commit) and effects still leave in step order.
 *
 * A handler that throws stops the node: status `failed`, an `error` event with a
 * {@link NodeFailure} that names the node, role and handler, timers cancelled, transport closed.
 * The failing step wrote nothing, so the durable log holds the state before it.
 *
 * Local actions are triggered by timers: an action instance (action, choice) with `timerMs:
 * [min, max]` gets a timer drawn uniformly from the range when it becomes enabled (at start, or
 * after a step in which it was disabled before — firing consumes the timer, so an action that
 * stays enabled is re-armed, e.g. a heartbeat) and the timer is cancelled when the instance is
 * disabled. When it fires, the action runs if it is still enabled. An action with `restartOn`
 * gets a new draw after every protocol message the node handles (`'message'`) or every step that
 * changes its state (`'state'`), as an election timeout is pushed back by heartbeats.
 * Actions without `timerMs`
 * run only through {@link NodeRuntime.fire} (the test, the CLI or executor replay decides),
 * unless `defaultTimerMs` gives them a range. `timers: false` turns every timer off (replay).
 */
import {
  type ActionDef, type Ctx, type DamageKind, type NodeId, DecodeError, Reader, Writer, equalBytes, equalValues, isRefusal,
} from '../specs/core/index.ts';
import { HandlerError, StepRunner } from '../specs/core/step.ts';
import { encodeChangedFields } from '../specs/core/schema.ts';
import type { Clock, Cancel } from './clock/index.ts';
import type { DurableStore, StoreRecovery } from './durableStore.ts';
import { DurableDelta } from './durableDelta.ts';
import { CHANNEL, type ClusterLayout, type RoleLayout } from './layout.ts';
import type { Frame, Transport } from './net/index.ts';
import { xoshiro128ss, type Prng } from './net/prng.ts';
import { UsageError } from './net/usageError.ts';

/** Why a node stopped on its own. */
export type NodeFailureCode =
  /** `onMessage`, `onRequest`, an action's `when`/`choices`/`do`, or `init` threw. */
  | 'handler-threw'
  /** A handler returned a state that does not fit the role's schema. */
  | 'bad-state'
  /** A handler sent a message or reply that does not fit its schema, or to a node that cannot take it (one too large is dropped, not a failure). */
  | 'bad-effect'
  /** The durable log could not be read or written. */
  | 'storage'
  /** The durable log holds bytes that do not decode as the role's state (another spec or version). */
  | 'bad-recovery'
  /** The durable state was found damaged and the role's `onRecover` refused to run on it (or the role has none). */
  | 'refused-recovery';

/** A node stopped: which node, what it was doing, and the cause. */
export class NodeFailure extends Error {
  override readonly name = 'NodeFailure';
  constructor(
    readonly code: NodeFailureCode,
    readonly node: NodeId,
    readonly nodeName: string,
    /** What ran: `onMessage`, `onRequest`, `action commit`, `init`, `durable log`... */
    readonly during: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${nodeName} (${during}): ${message}`);
  }
}

/**
 * Reasons the runtime drops a frame: an authentic incoming one it cannot use (the transport counts
 * the unauthentic ones), or an outgoing one the transport refused (`send-failed`) or that is
 * larger than the transport takes (`oversized`: the node survives it, as a message lost).
 */
export type RuntimeDropReason = 'undecodable' | 'bad-channel' | 'bad-sender' | 'send-failed' | 'oversized';

/** Counters of one runtime incarnation. */
export interface RuntimeStats {
  /** Inputs that ran a handler (messages, requests, actions), whether or not the state changed. */
  steps: number;
  messages: number;
  requests: number;
  actions: number;
  /** Frames handed to the transport (messages and replies). */
  framesSent: number;
  /** Durable projections flushed. */
  durableSaves: number;
  /** Armed timers cancelled and drawn again because of an action's `restartOn`. */
  timerRestarts: number;
  /** Frames the runtime dropped, by reason. */
  dropped: Record<RuntimeDropReason, number>;
}

/** What a runtime reports as it runs (set `onEvent` to receive them). */
export type NodeEvent =
  | { readonly kind: 'recovered'; readonly node: NodeId; readonly fromLog: boolean; readonly damage?: DamageKind }
  | {
      /** The durable state was found damaged: reported before `recovered` (or before the refusal's `error`). */
      readonly kind: 'damaged';
      readonly node: NodeId;
      readonly damage: DamageKind;
      /** What the log held, in words. */
      readonly detail: string;
      /** Where the damaged file was kept. */
      readonly keptAs?: string;
      /** What `onRecover` decided: start from the state it returned, or stay down. */
      readonly outcome: 'recovered' | 'refused';
      readonly reason?: string;
    }
  | { readonly kind: 'started'; readonly node: NodeId }
  | {
      readonly kind: 'step';
      readonly node: NodeId;
      readonly input: 'message' | 'request' | 'action';
      readonly from?: NodeId;
      readonly action?: string;
      /** The message, or the request's op. */
      readonly payload?: unknown;
      readonly changed: boolean;
      readonly sent: number;
      readonly replied: number;
      readonly durable: boolean;
    }
  | { readonly kind: 'dropped'; readonly node: NodeId; readonly reason: RuntimeDropReason; readonly from: NodeId; readonly detail: string }
  | { readonly kind: 'error'; readonly node: NodeId; readonly error: NodeFailure }
  | { readonly kind: 'crashed'; readonly node: NodeId };

/** Options of {@link NodeRuntime}. */
export interface NodeRuntimeOptions {
  readonly layout: ClusterLayout;
  readonly id: NodeId;
  /** Timers and readings. Readings are `floor((clock.now() - epochMs) / tickMs)`, plus the clock offset. */
  readonly clock: Clock<number>;
  /** Subtracted from readings so they fit the specs' integer schemas. Default 0. */
  readonly epochMs?: number;
  /** Milliseconds per unit of spec time (`out.now()`). Default 1. */
  readonly tickMs?: number;
  /** TrueTime's ε in spec time units: `out.trueTime()` is `[now - ε, now + ε]`. Default 0. */
  readonly trueTimeEpsilon?: number;
  readonly store: DurableStore;
  /** Local action timers on (default) or off (every action only through `fire`). */
  readonly timers?: boolean;
  /** Timer range for actions that declare no `timerMs`; default none (they run only through `fire`). */
  readonly defaultTimerMs?: readonly [number, number] | null;
  /** Timer ranges that replace the `timerMs` of the named actions (of this node's role; others are ignored). */
  readonly actionTimerMs?: Readonly<Record<string, readonly [number, number]>>;
  /** Seed of the timer draws. */
  readonly seed?: number;
  /** Most inputs run while one flush is in progress (their effects wait for the next). Default 256. */
  readonly batchMax?: number;
  readonly onEvent?: (event: NodeEvent) => void;
}

type Input =
  | { readonly kind: 'message'; readonly from: NodeId; readonly msg: unknown }
  | { readonly kind: 'request'; readonly from: NodeId; readonly id: number; readonly op: unknown }
  | {
      readonly kind: 'action';
      readonly name: string;
      readonly arg: unknown;
      /** A timer's firing: the action's restart count when it fired (stale if a step restarted the action since). */
      readonly restarts?: number;
      readonly done?: { resolve: (ran: boolean) => void; reject: (e: Error) => void };
    };

interface Effects {
  readonly frames: { to: NodeId; channel: number; payload: Uint8Array }[];
  readonly done?: { resolve: (ran: boolean) => void; reject: (e: Error) => void };
}

export type NodeStatus = 'new' | 'recovered' | 'running' | 'down' | 'failed';

/**
 * One node. Lifecycle: `open()` recovers its state from the durable store (init plus the
 * durable fields last saved), `start(transport)` attaches it to the network and arms its timers,
 * `crash()` drops everything volatile; `open()` and `start()` again restart it.
 */
export class NodeRuntime<S = unknown> {
  readonly id: NodeId;
  readonly name: string;
  readonly role: RoleLayout;
  readonly layout: ClusterLayout;
  /** Added to this node's readings (spec time units): clock error, e.g. a replayed `drift`. */
  clockOffset = 0;
  readonly #ctx: Ctx;
  readonly #opts: NodeRuntimeOptions;
  readonly #epochMs: number;
  readonly #tickMs: number;
  readonly #epsilon: number;
  readonly #prng: Prng;
  readonly #actions: [string, ActionDef<any, any, any, any>][];
  readonly #timed: [string, ActionDef<any, any, any, any>, readonly [number, number]][];
  /** Some timed action declares `restartOn`. */
  #restarting = false;
  /** Runs this node's handlers, as the checker's world runs them (specs/core/step.ts). */
  readonly #runner: StepRunner;
  readonly #writer = new Writer(256);
  readonly #reader = new Reader(new Uint8Array(0));
  #status: NodeStatus = 'new';
  #state: S | undefined;
  #init: S | undefined;
  /** The durable projection last saved (or recovered), to tell whether a step changed it; null when nothing is durable. */
  #savedBytes: Uint8Array | null = null;
  /** Whether the current state was checked against the role's schema (steps then check only the fields they replace). */
  #stateChecked = false;
  /** The durable view (the role's `durableView`) whose projection that is (durable field identities are compared first). */
  #savedState: S | undefined;
  /** Effects waiting for the flush in progress. */
  #held: Effects[] = [];
  /** Saves changes of the durable fields instead of whole projections, when the store takes them (null: whole ones). */
  readonly #delta: DurableDelta | null;
  readonly #deltaWriter = new Writer(256);
  /** Size of the last whole projection packed: a change is saved as such only when much smaller. */
  #wholeBytes = 0;
  #transport: Transport | undefined;
  #unsubscribe: (() => void) | undefined;
  #incarnation = 0;
  #queue: Input[] = [];
  #busy = false;
  #idle: (() => void)[] = [];
  #armed = new Map<string, Cancel>();
  /** Due time (clock ms) of each armed timer, keyed as `#armed`: what `cluster.idle()` bounds. */
  #armedDueMs = new Map<string, number>();
  /** Per action with `restartOn`: how many times a step restarted its timers (to tell a stale firing in the queue). */
  #restarts = new Map<string, number>();
  #failure: NodeFailure | undefined;
  /** Closing the transport and store after a crash or failure. */
  #closing: Promise<void> = Promise.resolve();
  #stats: RuntimeStats = emptyRuntimeStats();
  #recovery: { damage: DamageKind; detail: string; keptAs?: string; outcome: 'recovered' | 'refused'; reason?: string } | null = null;

  constructor(options: NodeRuntimeOptions) {
    this.#opts = options;
    this.layout = options.layout;
    this.id = options.id;
    const role = options.layout.roleOf(options.id);
    if (!role || options.layout.isClient(options.id)) {
      throw new UsageError('NodeRuntime', 'bad-id', `${String(options.id)} is not a protocol node of ${options.layout.protocol.name} (it has ${options.layout.protocolNodes})`);
    }
    this.role = role;
    this.name = options.layout.nodeName(options.id);
    this.#ctx = options.layout.ctx(options.id);
    this.#epochMs = options.epochMs ?? 0;
    this.#tickMs = options.tickMs ?? 1;
    if (!(this.#tickMs > 0)) throw new UsageError('NodeRuntime', 'bad-tick-ms', `tickMs must be positive, got ${String(this.#tickMs)}`);
    this.#epsilon = options.trueTimeEpsilon ?? 0;
    this.#prng = xoshiro128ss(((options.seed ?? 0) + Math.imul(options.id + 1, 0x9e3779b1)) | 0);
    this.#actions = Object.entries(role.def.actions ?? {});
    const fallback = options.defaultTimerMs ?? null;
    this.#timed = [];
    if (options.timers !== false) {
      for (const [name, a] of this.#actions) {
        const range = options.actionTimerMs?.[name] ?? a.timerMs ?? fallback;
        if (!range) continue;
        if (!(range[0] >= 0 && range[1] >= range[0])) throw new UsageError('NodeRuntime', 'bad-timer-ms', `action '${role.name}.${name}' has timer range [${range.join(', ')}]`);
        this.#timed.push([name, a, range]);
        if (a.restartOn !== undefined) this.#restarting = true;
      }
    }
    this.#runner = new StepRunner(options.layout, { now: () => this.now(), epsilon: this.#epsilon });
    this.#delta = role.durable !== true && role.durable.length > 0 && options.store.saveChange ? DurableDelta.of(role.def.state, role.durable) : null;
  }

  /** The node's clock reading in spec time units, as `out.now()` returns it. */
  now(): number {
    return Math.floor((this.#opts.clock.now() - this.#epochMs) / this.#tickMs) + this.clockOffset;
  }

  get status(): NodeStatus {
    return this.#status;
  }

  /** The current state (undefined before `open()`). May be ahead of what is durable by the steps of a flush in progress. */
  get state(): S | undefined {
    return this.#state;
  }

  /** Why the node failed, when it did. */
  get failure(): NodeFailure | undefined {
    return this.#failure;
  }

  get stats(): RuntimeStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /** The transport, while started. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** The current state packed with the role's schema (what executor replay compares). */
  stateBytes(): Uint8Array {
    const w = new Writer(64);
    this.role.def.state.encode(w, this.#state, this.name);
    return w.toBytes();
  }

  /**
   * Recovers the state: `init`, then the durable fields last saved (the whole state for
   * `durable: true`). Rejects with a {@link NodeFailure} when the log is unreadable.
   */
  async open(): Promise<S> {
    if (this.#status === 'running' || this.#status === 'recovered') throw new UsageError('NodeRuntime.open', 'open', `${this.name} is already open`);
    await this.#closing;
    this.#failure = undefined;
    this.#stats = emptyRuntimeStats();
    let init: S;
    try {
      init = this.role.def.init(this.#ctx) as S;
    } catch (e) {
      throw this.#failed('handler-threw', 'init', `threw: ${message(e)}`, e);
    }
    this.#init = init;
    let opened: StoreRecovery;
    try {
      const got = await this.#opts.store.open({ detectLostWrites: this.role.def.lostWrites === 'detected' });
      opened = got === undefined || got instanceof Uint8Array ? { projection: got, damage: null } : got;
    } catch (e) {
      throw this.#failed('storage', 'durable log', `cannot recover: ${message(e)}`, e);
    }
    let saved = opened.projection;
    const damage = opened.damage;
    let state = init;
    if (saved !== undefined && this.role.durable !== true && this.role.durable.length === 0) saved = undefined;
    if (saved !== undefined) {
      let kept: S;
      try {
        this.#reader.reset(saved);
        kept = this.role.def.state.decode(this.#reader) as S;
        if (this.#reader.pos !== saved.length) throw new DecodeError('trailing bytes after the state', this.#reader.pos);
      } catch (e) {
        await this.#opts.store.close();
        throw this.#failed('bad-recovery', 'durable log', `the saved state does not decode as ${this.role.name}'s state: ${message(e)}`, e);
      }
      state = this.role.durable === true ? kept : this.#merge(init, kept);
    }
    const changes = opened.changes ?? [];
    if (changes.length > 0) {
      try {
        if (!this.#delta) throw new Error(`role '${this.role.name}' keeps no durable fields that a change could be of`);
        for (const c of changes) {
          this.#reader.reset(c);
          state = this.#delta.apply(state, this.#reader);
          if (this.#reader.pos !== c.length) throw new DecodeError('trailing bytes after a change', this.#reader.pos);
        }
      } catch (e) {
        await this.#opts.store.close();
        throw this.#failed('bad-recovery', 'durable log', `a saved change does not fit ${this.role.name}'s state: ${message(e)}`, e);
      }
    }
    this.#recovery = damage === null ? null : { damage: damage.kind, detail: damage.detail, ...(damage.keptAs ? { keptAs: damage.keptAs } : {}), outcome: 'recovered' };
    if (damage !== null) state = await this.#recover(state, damage);
    this.#state = state;
    this.#stateChecked = false;
    this.#savedState = this.#view(state);
    this.#savedBytes = this.#isDurable() ? this.#projection(this.#savedState) : null;
    this.#wholeBytes = this.#savedBytes?.length ?? 0;
    if (damage !== null && this.#savedBytes !== null && !(saved !== undefined && equalBytes(this.#savedBytes, saved))) {
      // The state onRecover chose (a repair mark, say) is durable before the node runs.
      try {
        await this.#opts.store.save(this.#savedBytes);
      } catch (e) {
        await this.#opts.store.close();
        throw this.#failed('storage', 'durable log', `cannot save the recovered state: ${message(e)}`, e);
      }
    }
    this.#status = 'recovered';
    this.#emitEvent({ kind: 'recovered', node: this.id, fromLog: saved !== undefined, ...(damage ? { damage: damage.kind } : {}) });
    return state;
  }

  /** What the last `open()` found wrong with the durable log and what `onRecover` made of it (null: nothing wrong). */
  get recovery(): { readonly damage: DamageKind; readonly detail: string; readonly keptAs?: string; readonly outcome: 'recovered' | 'refused'; readonly reason?: string } | null {
    return this.#recovery;
  }

  /**
   * Hands damage to the role's `onRecover` (without one: a torn tail is accepted as is, anything
   * else refused). Reports it; a refusal closes the store and rejects with `refused-recovery`.
   */
  async #recover(state: S, damage: NonNullable<StoreRecovery['damage']>): Promise<S> {
    const hook = this.role.def.onRecover;
    const report = (outcome: 'recovered' | 'refused', reason?: string): void => {
      this.#recovery = { damage: damage.kind, detail: damage.detail, ...(damage.keptAs ? { keptAs: damage.keptAs } : {}), outcome, ...(reason ? { reason } : {}) };
      this.#emitEvent({ kind: 'damaged', node: this.id, damage: damage.kind, detail: damage.detail, ...(damage.keptAs ? { keptAs: damage.keptAs } : {}), outcome, ...(reason ? { reason } : {}) });
    };
    const stop = async (error: NodeFailure): Promise<never> => {
      await this.#opts.store.close();
      throw error;
    };
    let answer: unknown;
    if (!hook) {
      answer = damage.kind === 'torn-tail' ? state : { refusal: `role '${this.role.name}' declares no onRecover, so a ${damage.kind} is not survivable` };
      if (answer !== state) {
        const reason = (answer as { refusal: string }).refusal;
        report('refused', reason);
        return stop(this.#failed('refused-recovery', 'durable log', `${damage.detail}; ${reason}`));
      }
    } else {
      try {
        answer = hook(state, { kind: damage.kind }, this.#ctx);
      } catch (e) {
        return stop(this.#failed('handler-threw', 'onRecover', `threw: ${message(e)}`, e));
      }
      if (isRefusal(answer)) {
        report('refused', answer.reason);
        return stop(this.#failed('refused-recovery', 'onRecover', `${damage.detail}; onRecover refused: ${answer.reason}`));
      }
      try {
        this.#writer.reset();
        this.role.def.state.encode(this.#writer, answer, `${this.name}.state`);
      } catch (e) {
        return stop(this.#failed('bad-state', 'onRecover', `returned a state that does not fit its schema: ${message(e)}`, e));
      }
    }
    report('recovered');
    return answer as S;
  }

  /** Attaches the recovered node to `transport` (which it then owns and closes) and arms its timers. */
  start(transport: Transport): void {
    if (this.#status !== 'recovered') throw new UsageError('NodeRuntime.start', 'not-recovered', `${this.name} must be open()ed (recovered) before start, it is ${this.#status}`);
    if (transport.self !== this.id) throw new UsageError('NodeRuntime.start', 'wrong-transport', `transport is node ${transport.self}'s, not ${this.id}'s`);
    this.#transport = transport;
    this.#incarnation++;
    this.#status = 'running';
    this.#unsubscribe = transport.onFrame((f) => this.#onFrame(f));
    this.#emitEvent({ kind: 'started', node: this.id });
    try {
      this.#rearm();
    } catch (e) {
      this.#fail(this.#failed('handler-threw', 'action guards', `threw: ${message(e)}`, e));
    }
  }

  /**
   * Runs local action `name` (with `arg` for actions with choices) once it is this input's
   * turn. Resolves true once its effects went out, false if it was not enabled then.
   */
  fire(name: string, arg?: unknown): Promise<boolean> {
    if (this.#status !== 'running') return Promise.reject(new UsageError('NodeRuntime.fire', 'not-running', `${this.name} is ${this.#status}`));
    if (!this.role.def.actions?.[name]) {
      const known = this.#actions.map(([n]) => n).join(', ');
      return Promise.reject(new UsageError('NodeRuntime.fire', 'unknown-action', `role '${this.role.name}' has no action '${name}' (actions: ${known || 'none'})`));
    }
    return new Promise((resolve, reject) => this.#push({ kind: 'action', name, arg, done: { resolve, reject } }));
  }

  /** The clock time (ms) at which this node's earliest armed action timer fires; undefined when none is armed. */
  get nextTimerDueMs(): number | undefined {
    let due: number | undefined;
    for (const at of this.#armedDueMs.values()) if (due === undefined || at < due) due = at;
    return due;
  }

  /** Whether no input is queued and no flush is in progress. */
  get isIdle(): boolean {
    return !this.#busy && this.#queue.length === 0;
  }

  /** Resolves once no input is queued and no flush is in progress. */
  idle(): Promise<void> {
    if (!this.#busy && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops the node as a crash would: volatile state, queued inputs, timers and held effects are
   * gone, the transport is closed, the durable store closed. `open()` recovers it.
   */
  async crash(): Promise<void> {
    if (this.#status === 'down' || this.#status === 'new') return;
    if (this.#status === 'failed') {
      this.#status = 'down';
      await this.#closing;
      return;
    }
    this.#stop('down', new UsageError('NodeRuntime', 'crashed', `${this.name} crashed`));
    this.#emitEvent({ kind: 'crashed', node: this.id });
    await (this.#closing = this.#closeResources());
  }

  // ---------------------------------------------------------------- inputs

  #onFrame(f: Frame): void {
    if (this.#status !== 'running') return;
    const layout = this.layout;
    const drop = (reason: RuntimeDropReason, detail: string): void => {
      this.#stats.dropped[reason]++;
      this.#emitEvent({ kind: 'dropped', node: this.id, reason, from: f.from, detail });
    };
    switch (f.kind) {
      case CHANNEL.message: {
        if (f.from >= layout.protocolNodes) return drop('bad-sender', `a protocol message from ${f.from}, which is not a protocol node`);
        const msg = this.#decode(layout.protocol.messages, f.payload);
        if (msg instanceof DecodeError) return drop('undecodable', `message: ${msg.message}`);
        this.#push({ kind: 'message', from: f.from, msg });
        return;
      }
      case CHANNEL.request: {
        const clients = layout.clients;
        if (!clients || !layout.isClient(f.from)) return drop('bad-sender', `a request from ${f.from}, which is not a client`);
        if (clients.target !== this.role) return drop('bad-channel', `a request to ${this.name}, which does not serve clients`);
        const req = this.#decode(clients.request, f.payload);
        if (req instanceof DecodeError) return drop('undecodable', `request: ${req.message}`);
        this.#push({ kind: 'request', from: f.from, id: req.id, op: req.op });
        return;
      }
      default:
        return drop('bad-channel', `channel ${f.kind} is not for a protocol node`);
    }
  }

  #decode<T>(schema: { decode(r: Reader): T }, payload: Uint8Array): T | DecodeError {
    try {
      this.#reader.reset(payload);
      const v = schema.decode(this.#reader);
      if (this.#reader.pos !== payload.length) return new DecodeError('trailing bytes after the payload', this.#reader.pos);
      return v;
    } catch (e) {
      return e instanceof DecodeError ? e : new DecodeError(message(e), this.#reader.pos);
    }
  }

  #push(input: Input): void {
    this.#queue.push(input);
    if (!this.#busy) this.#drain();
  }

  /**
   * Runs queued inputs. Effects of steps that need no flush go out at once; from the first step
   * that moves a durable field, effects are held, the rest of the queue (up to batchMax) runs,
   * what the batch changed in the durable view is saved once (only the change when the store
   * takes changes, impl/durableDelta.ts: a log that grew costs its new entries; else the whole
   * projection, packed once per batch), one flush saves it, and the held effects go out in order.
   * Held effects never leave before that flush resolves (a batch whose durable view turns out
   * unchanged needs none, and they leave at once).
   */
  #drain(): void {
    this.#busy = true;
    const batchMax = this.#opts.batchMax ?? 256;
    let held: Effects[] | null = null;
    let save: () => Promise<void>;
    for (;;) {
      held = null;
      while (this.#status === 'running' && this.#queue.length > 0 && (held === null || held.length < batchMax)) {
        const input = this.#queue.shift()!;
        const step = this.#run(input);
        if (step === null) {
          // A disabled action already resolved false; a failure rejects the caller of fire().
          if (input.kind === 'action' && this.#failure) input.done?.reject(this.#failure);
          continue;
        }
        if (held !== null || step.durable) (held ??= []).push(step.effects);
        else this.#send(step.effects);
      }
      if (held === null || this.#status !== 'running') {
        this.#busy = false;
        this.#settle();
        return;
      }
      const view = this.#view(this.#state as S);
      const store = this.#opts.store;
      if (this.#delta) {
        const w = this.#deltaWriter.reset();
        const changed = this.#delta.encode(w, this.#savedState, view);
        this.#savedState = view;
        if (changed > 0) {
          // A change under a quarter of the whole projection is worth a record that recovery must
          // read against the ones before it; a larger one (a small state: votes, terms) is not.
          if (w.pos * 4 < this.#wholeBytes) {
            const change = w.toBytes();
            save = () => store.saveChange!(change, () => this.#whole(view));
          } else {
            const projection = this.#whole(view);
            save = () => store.save(projection);
          }
          break;
        }
      } else {
        const projection = this.#projection(view);
        this.#savedState = view;
        if (!equalBytes(projection, this.#savedBytes!)) {
          this.#savedBytes = projection;
          save = () => store.save(projection);
          break;
        }
      }
      // The durable fields moved back to what is saved: nothing to flush.
      for (const e of held) this.#send(e);
    }
    const incarnation = this.#incarnation;
    const effects = held;
    this.#held = held;
    save().then(
      () => {
        if (this.#incarnation !== incarnation || this.#status !== 'running') return;
        this.#stats.durableSaves++;
        this.#held = [];
        for (const e of effects) this.#send(e);
        this.#drain();
      },
      (e) => {
        if (this.#incarnation !== incarnation || this.#status !== 'running') return;
        this.#fail(this.#failed('storage', 'durable log', `flush failed: ${message(e)}`, e));
      },
    );
  }

  #settle(): void {
    if (this.#busy || this.#queue.length > 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const w of waiting) w();
  }

  /** Runs one input's handler; null when nothing ran (a disabled action) or the node failed. */
  #run(input: Input): { effects: Effects; durable: boolean } | null {
    const def = this.role.def;
    const s = this.#state as S;
    const runner = this.#runner;
    let after: S;
    let during = '';
    try {
      switch (input.kind) {
        case 'message':
          during = 'onMessage';
          this.#stats.messages++;
          after = runner.message(this.id, s, input.from, input.msg) as S;
          break;
        case 'request':
          during = 'onRequest';
          this.#stats.requests++;
          after = runner.request(this.id, s, input.from, input.id, input.op) as S;
          break;
        case 'action': {
          during = `action ${input.name}`;
          const action = def.actions![input.name]!;
          // A timer that fired while a step queued before it (say, a heartbeat behind a long
          // flush) restarted the action is stale: as if that step had come first and cancelled it.
          const stale = input.restarts !== undefined && input.restarts !== (this.#restarts.get(input.name) ?? 0);
          if (stale || !this.#enabled(input.name, action, input.arg)) {
            input.done?.resolve(false);
            this.#rearm();
            return null;
          }
          this.#stats.actions++;
          after = runner.action(this.id, s, input.name, action, input.arg) as S;
          break;
        }
      }
    } catch (e) {
      this.#fail(this.#failed('handler-threw', during, `threw: ${message(e instanceof HandlerError ? e.cause : e)}`, e));
      return null;
    }
    this.#stats.steps++;
    // Check everything before anything takes effect.
    const changed = after !== s;
    if (changed) {
      try {
        this.#writer.reset();
        // Once a step checked the whole state, only what a step replaces needs checking: a
        // heartbeat that moves one field of a server holding a long log costs that field, and a
        // log that grew costs its new entries (the durable projection is packed once per flush).
        if (this.role.durable === true || !this.#stateChecked || !encodeChangedFields(def.state, this.#writer, s, after, `${this.name}.state`)) {
          def.state.encode(this.#writer, after, `${this.name}.state`);
        }
      } catch (e) {
        this.#fail(this.#failed('bad-state', during, `returned a state that does not fit its schema: ${message(e)}`, e));
        return null;
      }
    }
    let frames: Effects['frames'];
    try {
      frames = this.#frames();
    } catch (e) {
      this.#fail(this.#failed('bad-effect', during, message(e), e));
      return null;
    }
    // A durable field is not the very value last saved: the step's effects wait for the batch's flush.
    const durable = changed && this.#savedBytes !== null && this.#durableFieldsMoved(after);
    this.#state = after;
    if (changed) this.#stateChecked = true;
    const done = input.kind === 'action' ? input.done : undefined;
    if (this.#opts.onEvent) {
      this.#emitEvent({
        kind: 'step', node: this.id, input: input.kind,
        ...(input.kind === 'action' ? { action: input.name } : { from: input.from, payload: input.kind === 'message' ? input.msg : input.op }),
        changed, sent: runner.sendCount, replied: runner.replyCount, durable,
      });
    }
    if (this.#timed.length > 0) {
      try {
        this.#restart(input.kind === 'message', changed);
        this.#rearm();
      } catch (e) {
        this.#fail(this.#failed('handler-threw', 'action guards', `threw: ${message(e)}`, e));
        return null;
      }
    }
    return { effects: { frames, ...(done ? { done } : {}) }, durable };
  }

  #enabled(name: string, action: ActionDef<any, any, any, any>, arg: unknown): boolean {
    const s = this.#state;
    if (action.choices && !this.#runner.choices(this.id, s, name, action).some((c) => c === arg || equalValues(c, arg))) return false;
    return this.#runner.enabled(this.id, s, name, action, arg);
  }

  /** Encodes the handler's sends and replies into frames, checking each. */
  #frames(): Effects['frames'] {
    const layout = this.layout;
    const max = this.#transport?.payloadBytesMax ?? Number.POSITIVE_INFINITY;
    const frames: Effects['frames'] = [];
    // Destinations were checked when the handler called out.send / out.reply (the runner).
    const r = this.#runner;
    for (let k = 0; k < r.sendCount; k++) {
      const to = r.sendTo[k]!;
      const payload = this.#pack(layout.protocol.messages, r.sendMsg[k], 'message', max, to);
      if (payload) frames.push({ to, channel: CHANNEL.message, payload });
    }
    for (let k = 0; k < r.replyCount; k++) {
      const to = r.replyClient[k]!;
      const payload = this.#pack(layout.clients!.reply, { id: r.replyId[k]!, result: r.replyResult[k] }, 'reply', max, to);
      if (payload) frames.push({ to, channel: CHANNEL.reply, payload });
    }
    return frames;
  }

  /**
   * Packs one outgoing payload. One larger than the transport takes is not sent: it is dropped,
   * counted (`oversized`) and reported, like a message the network lost, and the node goes on
   * (null). A value that does not fit its schema is the spec's error (it throws).
   */
  #pack(schema: { encode(w: Writer, v: any, path?: string): void }, value: unknown, what: string, max: number, to: NodeId): Uint8Array | null {
    this.#writer.reset();
    try {
      schema.encode(this.#writer, value, what);
    } catch (e) {
      throw new Error(`sent a ${what} that does not fit its schema: ${message(e)}`);
    }
    if (this.#writer.pos > max) {
      this.#stats.dropped.oversized++;
      this.#emitEvent({ kind: 'dropped', node: this.id, reason: 'oversized', from: this.id, detail: `a ${what} of ${this.#writer.pos} bytes to ${this.layout.nodeName(to)}: the transport takes at most ${max}` });
      return null;
    }
    return this.#writer.toBytes();
  }

  #isDurable(): boolean {
    return this.role.durable === true || this.role.durable.length > 0;
  }

  /**
   * Whether some durable field of `after`'s durable view is not the very value last saved (then
   * the bytes decide). An array with the very same items counts as the same: a view that cuts a
   * log back makes a new array of the same entries.
   */
  #durableFieldsMoved(after: S): boolean {
    const durable = this.role.durable;
    if (durable === true) return true;
    const saved = this.#savedState as Record<string, unknown>;
    const next = this.#view(after) as Record<string, unknown>;
    for (const f of durable) if (saved[f] !== next[f] && !sameItems(saved[f], next[f])) return true;
    return false;
  }

  /** What of `s` must be on disk before a step's effects leave: the role's `durableView` (default `s`). */
  #view(s: S): S {
    const view = this.role.def.durableView;
    return view ? (view(s) as S) : s;
  }

  /** The durable projection of durable view `s`, noting its size (see `#wholeBytes`). */
  #whole(s: S): Uint8Array {
    const p = this.#projection(s);
    this.#wholeBytes = p.length;
    return p;
  }

  /** The durable projection of durable view `s`: the durable fields over `init` (the whole state for `durable: true`), packed. */
  #projection(s: S): Uint8Array {
    const durable = this.role.durable;
    const value = durable === true ? s : this.#merge(this.#init as S, s);
    const w = new Writer(64);
    this.role.def.state.encode(w, value, this.name);
    return w.toBytes();
  }

  #merge(base: S, from: S): S {
    const out = { ...(base as Record<string, unknown>) };
    for (const f of this.role.durable as readonly string[]) out[f] = (from as Record<string, unknown>)[f];
    return out as S;
  }

  #send(effects: Effects): void {
    const t = this.#transport!;
    for (const f of effects.frames) {
      try {
        t.send(f.to, f.channel, f.payload);
        this.#stats.framesSent++;
      } catch (e) {
        this.#stats.dropped['send-failed']++;
        this.#emitEvent({ kind: 'dropped', node: this.id, reason: 'send-failed', from: this.id, detail: `to ${f.to}: ${message(e)}` });
      }
    }
    effects.done?.resolve(true);
  }

  // ---------------------------------------------------------------- timers

  /** Cancels the timers of the actions that restart on this step (`#rearm` then draws new ones). */
  #restart(message: boolean, changed: boolean): void {
    if (!this.#restarting) return;
    for (const [name, action] of this.#timed) {
      if (!((action.restartOn === 'message' && message) || (action.restartOn === 'state' && changed))) continue;
      this.#restarts.set(name, (this.#restarts.get(name) ?? 0) + 1);
      const prefix = `${name}\u0000`;
      for (const [key, cancel] of this.#armed) {
        if (key !== name && !key.startsWith(prefix)) continue;
        cancel();
        this.#armed.delete(key);
        this.#armedDueMs.delete(key);
        this.#stats.timerRestarts++;
      }
    }
  }

  /** Arms a timer for each timed action instance that became enabled; cancels those disabled. */
  #rearm(): void {
    if (this.#timed.length === 0 || this.#status !== 'running') return;
    const s = this.#state;
    const live = new Set<string>();
    for (const [name, action, [min, max]] of this.#timed) {
      const args = action.choices ? this.#runner.choices(this.id, s, name, action) : NO_ARG;
      for (const arg of args) {
        if (action.when && !this.#runner.enabled(this.id, s, name, action, arg)) continue;
        const key = args === NO_ARG ? name : `${name}\u0000${argKey(arg)}`;
        live.add(key);
        if (this.#armed.has(key)) continue;
        const delay = min === max ? min : min + this.#prng.nextFloat() * (max - min);
        const incarnation = this.#incarnation;
        this.#armedDueMs.set(key, this.#opts.clock.now() + delay);
        this.#armed.set(
          key,
          this.#opts.clock.setTimer(delay, () => {
            if (this.#incarnation !== incarnation || this.#status !== 'running') return;
            this.#armed.delete(key);
            this.#armedDueMs.delete(key);
            this.#push({ kind: 'action', name, arg, restarts: this.#restarts.get(name) ?? 0 });
          }),
        );
      }
    }
    for (const [key, cancel] of this.#armed) {
      if (!live.has(key)) {
        cancel();
        this.#armed.delete(key);
        this.#armedDueMs.delete(key);
      }
    }
  }

  // ---------------------------------------------------------------- stopping

  #failed(code: NodeFailureCode, during: string, text: string, cause?: unknown): NodeFailure {
    return new NodeFailure(code, this.id, this.name, during, text, cause);
  }

  #fail(error: NodeFailure): void {
    if (this.#status !== 'running') return;
    this.#failure = error;
    this.#stop('failed', error);
    this.#emitEvent({ kind: 'error', node: this.id, error });
    this.#closing = this.#closeResources();
  }

  #stop(status: NodeStatus, reason: Error): void {
    this.#status = status;
    this.#incarnation++;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const cancel of this.#armed.values()) cancel();
    this.#armed.clear();
    this.#armedDueMs.clear();
    const queued = this.#queue;
    this.#queue = [];
    for (const input of queued) if (input.kind === 'action') input.done?.reject(reason);
    const held = this.#held;
    this.#held = [];
    for (const e of held) e.done?.reject(reason);
    this.#busy = false;
    this.#settle();
  }

  async #closeResources(): Promise<void> {
    const t = this.#transport;
    this.#transport = undefined;
    await Promise.all([t?.close(), this.#opts.store.close().catch(() => {})]);
  }

  #emitEvent(e: NodeEvent): void {
    this.#opts.onEvent?.(e);
  }
}

const NO_ARG: readonly unknown[] = [undefined];

/** Two arrays of the very same items (compared by identity), in order. */
function sameItems(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

function argKey(arg: unknown): string {
  // Most choices are node ids: no JSON on the hot path (every step re-arms).
  if (typeof arg === 'number') return String(arg);
  try {
    return JSON.stringify(arg, (_k, v) => (v instanceof Map ? [...v.entries()] : v)) ?? String(arg);
  } catch {
    return String(arg);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function emptyRuntimeStats(): RuntimeStats {
  return { steps: 0, messages: 0, requests: 0, actions: 0, framesSent: 0, durableSaves: 0, timerRestarts: 0, dropped: { undecodable: 0, 'bad-channel': 0, 'bad-sender': 0, 'send-failed': 0, oversized: 0 } };
}
