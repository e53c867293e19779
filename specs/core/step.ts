/**
 * The one place where a spec's handlers run. The checker's world and the executor's node
 * runtime both call handlers through a {@link StepRunner}, so what a handler may do (`out.send`
 * to a node, never to a client; `out.broadcast` to a protocol role; `out.reply` to a request)
 * is checked the same way on both sides, and a handler that throws is reported the same way: a
 * {@link HandlerError} that names the node, its role and the handler.
 *
 * Effects are collected in reused parallel arrays (no allocation per step): the caller reads
 * `sendCount` / `sendTo` / `sendMsg` and `replyCount` / `replyClient` / `replyId` /
 * `replyResult` after the call, before the next one.
 */
import type { ActionDef, DamageKind, Interval, Out, RequestRef } from './protocol.ts';
import { SpecError, refuse } from './protocol.ts';
import type { Layout } from './layout.ts';
import type { NodeId, Schema } from './schema.ts';
import { Writer, equalBytes } from './bytes.ts';

/**
 * Spec code broke the contract while it ran: a handler threw, or its effects or state do not fit
 * their schemas. `handler` names what ran: `onMessage`, `onRequest`, `init`, an action's name,
 * or `name.choices` / `name.when`.
 */
export class HandlerError extends Error {
  override readonly name = 'HandlerError';
  constructor(
    message: string,
    override readonly cause: unknown,
    readonly node: NodeId = -1,
    readonly handler = '',
  ) {
    super(message);
  }
}

/** A node's clock as handlers read it (`out.now()`), and TrueTime's ε for `out.trueTime()`. */
export interface ClockSource {
  now(node: NodeId): number;
  readonly epsilon: number;
}

const NO_ARG: readonly unknown[] = [undefined];

/** JSON of a value with Maps and Sets spelled out (for comparing effects). */
function jsonOf(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof Map ? [...x.entries()] : x instanceof Set ? [...x] : x)) ?? 'undefined';
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || jsonOf(a) === jsonOf(b);
}

/** Runs handlers of a protocol laid out by `layout`, collecting their effects. */
export class StepRunner {
  readonly sendTo: NodeId[] = [];
  readonly sendMsg: unknown[] = [];
  sendCount = 0;
  readonly replyClient: NodeId[] = [];
  readonly replyId: number[] = [];
  readonly replyResult: unknown[] = [];
  replyCount = 0;
  /** The last handler read the clock (its outcome depends on more than its inputs). */
  clockRead = false;
  /** The `out` every handler receives. */
  readonly out: Out<unknown>;
  /** The node running, and the request its `onRequest` answers (the default target of `reply`). */
  private node: NodeId = 0;
  private pendingRequest: RequestRef | null = null;
  /**
   * How many more handler calls to check for breaking the contract (0: none): each checked call
   * must leave its input state as it was (no mutation), and run twice on the same input, it must
   * return the same state and the same effects (no `Math.random()`, no module variables). See
   * {@link checkHandlers}.
   */
  private checksLeft = 0;
  private readonly before = new Writer(256);
  private readonly after = new Writer(256);

  constructor(
    readonly layout: Layout,
    private readonly clock: ClockSource,
  ) {
    const runner = this;
    this.out = {
      send(to, msg) {
        if (!Number.isInteger(to) || to < 0 || to >= layout.nodeCount) {
          throw new SpecError('out.send', `${layout.nodeName(runner.node)} sent to ${String(to)}, which is not a node id`);
        }
        if (layout.isClient(to)) {
          throw new SpecError('out.send', `${layout.nodeName(runner.node)} sent a protocol message to client ${layout.nodeName(to)}; answer clients with out.reply`);
        }
        runner.sendTo[runner.sendCount] = to;
        runner.sendMsg[runner.sendCount++] = msg;
      },
      broadcast(roleName, msg) {
        const r = layout.role(roleName);
        if (!r || r === layout.clients?.role) throw new SpecError('out.broadcast', `no protocol role '${roleName}'`);
        for (let i = 0; i < r.count; i++) {
          if (r.base + i === runner.node) continue;
          runner.sendTo[runner.sendCount] = r.base + i;
          runner.sendMsg[runner.sendCount++] = msg;
        }
      },
      reply(result, to) {
        if (!layout.clients) throw new SpecError('out.reply', 'this protocol declares no clients, so there is no request to reply to');
        const ref = to ?? runner.pendingRequest;
        if (!ref) {
          throw new SpecError('out.reply', `${layout.nodeName(runner.node)} replied outside onRequest without saying to which request (pass the request's { client, id })`);
        }
        if (!layout.isClient(ref.client)) throw new SpecError('out.reply', `${String(ref.client)} is not a client`);
        runner.replyClient[runner.replyCount] = ref.client;
        runner.replyId[runner.replyCount] = ref.id;
        runner.replyResult[runner.replyCount++] = result;
      },
      now() {
        runner.clockRead = true;
        return runner.clock.now(runner.node);
      },
      trueTime(): Interval {
        runner.clockRead = true;
        const now = runner.clock.now(runner.node);
        return { earliest: now - runner.clock.epsilon, latest: now + runner.clock.epsilon };
      },
    };
  }

  /**
   * Checks the next `calls` handler calls for mutation of their input and for nondeterminism
   * (the checker turns this on for the first calls of a run; the executor does not).
   */
  checkHandlers(calls: number): void {
    this.checksLeft = calls;
  }

  /** Node `id`'s initial state. */
  init(id: NodeId): unknown {
    const role = this.layout.roleOfNode[id]!;
    this.begin(id);
    try {
      return role.def.init(this.layout.ctxs[id]!);
    } catch (e) {
      throw this.thrown(id, 'init', e);
    }
  }

  /**
   * Node `id` restarts with its durable state found damaged (`kind`), `found` being what could be
   * recovered: the role's `onRecover` answer, a state or a refusal. Without the hook, the
   * runtime's default: a torn tail is accepted as is, any other damage refused.
   */
  recover(id: NodeId, found: unknown, kind: DamageKind): unknown {
    const role = this.layout.roleOfNode[id]!;
    this.begin(id);
    if (!role.def.onRecover) return kind === 'torn-tail' ? found : refuse(`role '${role.name}' declares no onRecover, so a ${kind} is not survivable`);
    try {
      return role.def.onRecover(found, { kind }, this.layout.ctxs[id]!);
    } catch (e) {
      throw this.thrown(id, 'onRecover', e);
    }
  }

  /** Node `id` (in `state`) receives protocol message `msg` from `from`; returns its next state. */
  message(id: NodeId, state: unknown, from: NodeId, msg: unknown): unknown {
    const def = this.layout.roleOfNode[id]!.def;
    this.begin(id);
    if (!def.onMessage) return state;
    const call = () => def.onMessage!(state, from, msg, this.out, this.layout.ctxs[id]!);
    try {
      return this.checksLeft > 0 ? this.checked(id, 'onMessage', state, call, true) : call();
    } catch (e) {
      throw this.thrown(id, 'onMessage', e);
    }
  }

  /** Node `id` (in `state`) handles client `client`'s request `reqId` for `op`. */
  request(id: NodeId, state: unknown, client: NodeId, reqId: number, op: unknown): unknown {
    const def = this.layout.roleOfNode[id]!.def;
    this.begin(id);
    if (!def.onRequest) throw new HandlerError(`${this.layout.nodeName(id)} received a client request but role '${def === undefined ? '?' : this.layout.roleOfNode[id]!.name}' has no onRequest`, null, id, 'onRequest');
    this.pendingRequest = { client, id: reqId };
    const call = () => def.onRequest!(state, { client, id: reqId, op }, this.out, this.layout.ctxs[id]!);
    try {
      return this.checksLeft > 0 ? this.checked(id, 'onRequest', state, call, true) : call();
    } catch (e) {
      throw this.thrown(id, 'onRequest', e);
    } finally {
      this.pendingRequest = null;
    }
  }

  /** The values action `name` can be taken with at node `id` in `state` (`[undefined]` without `choices`). */
  choices(id: NodeId, state: unknown, name: string, action: ActionDef<any, any, any, any>): readonly unknown[] {
    if (!action.choices) return NO_ARG;
    this.node = id;
    const call = () => action.choices!(state, this.layout.ctxs[id]!);
    try {
      return this.checksLeft > 0 ? this.checked(id, `${name}.choices`, state, call, false) : call();
    } catch (e) {
      throw this.thrown(id, `${name}.choices`, e);
    }
  }

  /** Whether action `name` with `arg` is enabled at node `id` in `state`. */
  enabled(id: NodeId, state: unknown, name: string, action: ActionDef<any, any, any, any>, arg: unknown): boolean {
    if (!action.when) return true;
    this.node = id;
    const call = () => action.when!(state, this.layout.ctxs[id]!, arg);
    try {
      return this.checksLeft > 0 ? this.checked(id, `${name}.when`, state, call, false) : call();
    } catch (e) {
      throw this.thrown(id, `${name}.when`, e);
    }
  }

  /** Node `id` (in `state`) takes action `name` with `arg`; returns its next state. */
  action(id: NodeId, state: unknown, name: string, action: ActionDef<any, any, any, any>, arg: unknown): unknown {
    this.begin(id);
    const call = () => action.do(state, this.out, this.layout.ctxs[id]!, arg);
    try {
      return this.checksLeft > 0 ? this.checked(id, name, state, call, true) : call();
    } catch (e) {
      throw this.thrown(id, name, e);
    }
  }

  /**
   * Runs `call` twice on the same input and checks the contract: the input state is unchanged
   * afterwards (a handler must return a new state, never edit its input), and both runs give
   * the same result and, for handlers with effects, the same sends and replies.
   */
  private checked<T>(id: NodeId, handler: string, state: unknown, call: () => T, effects: boolean): T {
    this.checksLeft--;
    const schema = this.layout.roleOfNode[id]!.def.state as Schema<unknown>;
    const input = this.encode(this.before, schema, state);
    const watched = watchingClockAndRandom(call);
    if (watched.read) throw this.broke(id, handler, `called ${watched.read}: a handler must be deterministic (the checker runs it again on the same state); take a random choice as an action's choices, and the time from out.now()`);
    const first = watched.value;
    if (!equalBytes(input, this.encode(this.after, schema, state))) throw this.broke(id, handler, 'mutated its state (a handler must return a new state and leave its input as it was)');
    const sends = effects ? this.effectsText() : '';
    const out1 = effects ? this.encode(this.after, schema, first) : undefined;
    if (effects) {
      this.sendCount = 0;
      this.replyCount = 0;
      this.clockRead = false;
    }
    const second = call();
    const same = effects ? equalBytes(out1!, this.encode(this.after, schema, second)) && sends === this.effectsText() : sameValue(first, second);
    if (!same) throw this.broke(id, handler, 'is not deterministic: run twice on the same state and input, it gave different results (it may read Math.random(), the time, or a variable outside the spec)');
    return second;
  }

  private encode(w: Writer, schema: Schema<unknown>, value: unknown): Uint8Array {
    w.reset();
    try {
      schema.encode(w, value, 'state');
    } catch {
      return new Uint8Array([0xff, w.pos & 0xff]); // a state that does not fit: the caller reports it elsewhere
    }
    return w.buf.slice(0, w.pos);
  }

  /** The sends and replies of the last call, as comparable text. */
  private effectsText(): string {
    const parts: string[] = [];
    for (let k = 0; k < this.sendCount; k++) parts.push(`${this.sendTo[k]}:${jsonOf(this.sendMsg[k])}`);
    for (let k = 0; k < this.replyCount; k++) parts.push(`r${this.replyClient[k]}.${this.replyId[k]}:${jsonOf(this.replyResult[k])}`);
    return parts.join('|');
  }

  private broke(id: NodeId, handler: string, what: string): HandlerError {
    const role = this.layout.roleOfNode[id]!.name;
    return new HandlerError(`${this.layout.nodeName(id)} (${role}.${handler}) ${what}`, null, id, handler);
  }

  private begin(id: NodeId): void {
    this.node = id;
    this.sendCount = 0;
    this.replyCount = 0;
    this.clockRead = false;
  }

  /** A throw from spec code as a HandlerError naming the node, role and handler. */
  private thrown(id: NodeId, handler: string, e: unknown): HandlerError {
    if (e instanceof HandlerError) return e;
    const message = e instanceof Error ? e.message : String(e);
    const role = this.layout.roleOfNode[id]!.name;
    return new HandlerError(`${this.layout.nodeName(id)} (${role}.${handler}) threw: ${message}`, e, id, handler);
  }
}

/**
 * Runs `call` with `Math.random` and `Date.now` replaced by recorders that pass through, and says
 * which one it read first (null when neither). Only the checked first calls of a run (see
 * `checkHandlers`) pay for it: a guard that flips a coin is found on the first call, where
 * running it twice catches it only when the two tosses differ.
 */
function watchingClockAndRandom<T>(call: () => T): { value: T; read: string | null } {
  const math = Math as { random: () => number };
  const random = math.random;
  const now = Date.now;
  let read: string | null = null;
  math.random = () => {
    read ??= 'Math.random()';
    return random();
  };
  Date.now = () => {
    read ??= 'Date.now()';
    return now();
  };
  try {
    const value = call();
    return { value, read };
  } finally {
    math.random = random;
    Date.now = now;
  }
}
