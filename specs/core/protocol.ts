/**
 * The spec contract. A protocol is a set of roles; each role has a state schema, an `init`,
 * message handlers, guarded local actions and (optionally) client request handlers. Handlers
 * are pure: they return the next state (the same object for "no change") and put their effects
 * into `out`. The checker (checker/) and the executor (impl/) both run these same functions.
 */
import type { NodeId, Schema } from './schema.ts';
import type { HistoryEntry, WorldReader } from './world-reader.ts';
import type { SequentialModel } from './sequential-model.ts';
import { structFields } from './schema.ts';

/** Parameter values a spec accepts (`--param k=v` overrides the defaults by type). */
export type ParamValue = number | boolean | string;
export type Params = Record<string, ParamValue>;

/**
 * The values a param accepts, checked before anything is allocated (by `check()`, the executor,
 * `--param` and trace files alike): a number within `min`..`max` (an integer when `integer`,
 * the default for integer defaults), a value among `oneOf`.
 */
export interface ParamRule {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  readonly oneOf?: readonly ParamValue[];
  /**
   * For what a range cannot say (a list in a string, a bound on two params together): why the
   * value does not fit, given all the params after overrides (a phrase: "must be ..."), or null.
   * Runs after the ranges, on every override and on the defaults.
   */
  readonly validate?: (value: ParamValue, params: Readonly<Params>) => string | null;
}

/** A param as `protocol({ params })` takes it: a default, or a default with its range. */
export type ParamDecl = ParamValue | ({ readonly default: ParamValue } & ParamRule);
export type ParamDecls = Record<string, ParamDecl>;

/** The params (default values) declared by `D`: `{ keys: { default: 1, max: 64 } }` gives `{ keys: number }`. */
export type ParamsOf<D> = { [K in keyof D]: D[K] extends { readonly default: infer V } ? V : D[K] };

/** Splits declarations into default values and rules. */
export function splitParamDecls(decls: ParamDecls): { params: Params; rules: Record<string, ParamRule> } {
  const params: Params = {};
  const rules: Record<string, ParamRule> = {};
  for (const [k, d] of Object.entries(decls)) {
    if (d !== null && typeof d === 'object') {
      const { default: value, ...rule } = d;
      params[k] = value;
      rules[k] = { ...rule, integer: rule.integer ?? (typeof value === 'number' && Number.isInteger(value)) };
    } else {
      params[k] = d;
    }
  }
  return { params, rules };
}

/** Why `v` does not fit `rule` (a phrase), or null when it does; `params` (all of them) for its validator. */
export function paramRuleProblem(rule: ParamRule | undefined, v: ParamValue, params?: Readonly<Params>): string | null {
  if (!rule) return null;
  if (rule.oneOf && !rule.oneOf.includes(v)) return `must be one of ${rule.oneOf.map((x) => JSON.stringify(x)).join(', ')}`;
  if (typeof v === 'number') {
    if (rule.integer && !Number.isInteger(v)) return 'must be an integer';
    const lo = rule.min ?? Number.NEGATIVE_INFINITY;
    const hi = rule.max ?? Number.POSITIVE_INFINITY;
    if (v < lo || v > hi) return rule.max === undefined ? `must be ≥ ${lo}` : rule.min === undefined ? `must be ≤ ${hi}` : `must be from ${lo} to ${hi}`;
  }
  return params && rule.validate ? rule.validate(v, params) : null;
}

/** A reference to a client request, kept in state by specs that reply later (after commit). */
export interface RequestRef {
  readonly client: NodeId;
  readonly id: number;
}

/** A TrueTime reading: true time is guaranteed to lie in `[earliest, latest]`. */
export interface Interval {
  readonly earliest: number;
  readonly latest: number;
}

/** Effects of a handler. Nothing happens until the handler returns. */
export interface Out<M, R = unknown> {
  /** Sends `msg` to node `to`. */
  send(to: NodeId, msg: M): void;
  /** Sends `msg` to every node of `role` other than the sender. */
  broadcast(role: string, msg: M): void;
  /** Answers a client request: the current one when `to` is omitted (inside `onRequest`). */
  reply(result: R, to?: RequestRef): void;
  /** This node's clock reading (discrete time units; exact unless the world models clock error). */
  now(): number;
  /** This node's TrueTime reading: an interval that contains true time (Spanner's TT.now()). */
  trueTime(): Interval;
}

/** What a handler knows about its place in the world; constant for a node. */
export interface Ctx<P extends Params = Params> {
  readonly self: NodeId;
  readonly role: string;
  /** The node's index within its role (0-based). */
  readonly index: number;
  readonly params: P;
  /** How many nodes a role has. */
  count(role: string): number;
  /** The node ids of a role, in order. */
  nodes(role: string): readonly NodeId[];
  /** The role a node id belongs to. */
  roleOf(id: NodeId): string;
}

/** A client request as a server role sees it. */
export interface Request<Op> {
  readonly client: NodeId;
  readonly id: number;
  readonly op: Op;
}

/**
 * A guarded local step: a timeout firing, a spontaneous decision, or a parameterized choice.
 * With `choices`, the action has one instance per value (e.g. `propose(v)` for each v).
 */
export interface ActionDef<S, M, P extends Params, A = undefined> {
  /** The values this action can be taken with in state `s` (one successor each). */
  choices?(s: S, ctx: Ctx<P>): readonly A[];
  /** Enabled when true (default: always). */
  when?(s: S, ctx: Ctx<P>, arg: A): boolean;
  do(s: S, out: Out<M>, ctx: Ctx<P>, arg: A): S;
  /** Executor trigger: a timer drawn from this range (ms) each time the action becomes enabled. */
  timerMs?: readonly [number, number];
  /**
   * Executor only: also restart this action's timer (a new draw from `timerMs`) whenever the node
   * handles a protocol message (`'message'`; client requests do not count), or whenever a step of
   * the node changes its state (`'state'`: the handler returned a new object). An election timeout
   * that a leader's heartbeats push back is the use. The checker ignores it: in the model a
   * timeout may fire in any state where it is enabled, which covers every restart.
   */
  restartOn?: 'message' | 'state';
  /**
   * Fairness, for liveness properties only (`eventually`, `leadsTo`, `alwaysEventually`, `eventuallyAlways`):
   * `'weak'` — an instance of this action (at this node) that stays enabled is eventually taken;
   * `'strong'` — one enabled infinitely often is eventually taken. Unfair by default: a node may
   * simply never take it. The class is (node, action): any of its `choices` counts, unless
   * `fairPerChoice`.
   */
  fair?: 'weak' | 'strong';
  /**
   * With `fair`: each choice is a fairness class of its own, (node, action, choice) — TLA+'s
   * `∀ j : WF(A(j))` rather than `WF(∃ j : A(j))`. A candidate that must keep asking *each*
   * peer for its vote needs it: with one class per action, asking the same peer again and again
   * would satisfy fairness while the one peer whose vote it needs is never asked.
   */
  fairPerChoice?: boolean;
}

/**
 * How a node's durable state was found damaged when it restarted. The checker (under
 * `--disk-faults N`) and the executor's durable log report the same kinds to the same hook:
 * - `torn-tail`: the last durable write was cut by the crash. The state handed over is the one
 *   before that write; since effects wait for their flush, nothing that depended on the lost
 *   write went out: the node promised nothing the state does not hold.
 * - `lost-write`: a write that was flushed, and whose effects may have gone out, is missing (a
 *   flush that lied): the state handed over is an older durable state.
 * - `corrupt-record`: a record failed its checksum: the state handed over is the latest one that
 *   could be read, which may be older than what the node promised — or `init` if none could.
 * - `empty-log`: the durable state is gone (the log was emptied or lost): the state is `init`.
 * In every kind but `torn-tail` the node may have promised more than its state holds (a vote, an
 * acknowledged entry).
 */
export type DamageKind = 'torn-tail' | 'lost-write' | 'corrupt-record' | 'empty-log';

/** What {@link RoleDef.onRecover} is told. Plain data: the checker builds it too. */
export interface RecoveryDamage {
  readonly kind: DamageKind;
}

/** Every {@link DamageKind}, in a stable order. */
export const DAMAGE_KINDS: readonly DamageKind[] = ['torn-tail', 'lost-write', 'corrupt-record', 'empty-log'];

const REFUSAL = Symbol.for('pacta.refusal');

/** A recovery hook's answer "do not run on this state" (see {@link refuse}). */
export interface Refusal {
  readonly [REFUSAL]: true;
  readonly reason: string;
}

/** The recovery hook's refusal: the node stays down (the executor reports it; the checker keeps it crashed). */
export function refuse(reason: string): Refusal {
  return { [REFUSAL]: true, reason };
}

/** Whether a recovery hook's answer is a {@link refuse refusal}. */
export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[REFUSAL] === true;
}

/** One role: its state, how it starts, and how it reacts. */
export interface RoleDef<S, M, P extends Params, Op = never, R = unknown> {
  /** How many nodes play this role (a number or a function of the params). */
  count: number | ClientsCount<P>;
  /** Nodes of this role are interchangeable: `--symmetry` may permute them. */
  symmetric?: boolean;
  state: Schema<S>;
  init(ctx: Ctx<P>): S;
  /**
   * What survives a crash: a list of state fields (the rest restart from `init`), or `true`
   * for the whole state. Nothing, by default.
   */
  durable?: readonly (keyof S & string)[] | true;
  /**
   * What of the durable fields a step must have on disk before its effects leave, when that is
   * less than their current values: `durableView(s)` returns `s` with durable fields cut back
   * (e.g. a Raft leader's log without the entries it has not yet chosen to write: it may send them
   * to its followers while its own write is in flight, Raft thesis §10.2.1). Default: `s`.
   * Both sides use it: the executor writes the view (a step that leaves it unchanged needs no
   * flush, and its effects leave at once), and the checker's crash keeps the view, so a crash
   * loses what was sent but never written. Pure; return `s` itself when nothing is cut back.
   */
  durableView?(s: S): S;
  onMessage?(s: S, from: NodeId, msg: M, out: Out<M, R>, ctx: Ctx<P>): S;
  actions?: Record<string, ActionDef<S, M, P, any>>;
  /** Handles a client operation; reply now with `out.reply(result)` or later with the request ref. */
  onRequest?(s: S, req: Request<Op>, out: Out<M, R>, ctx: Ctx<P>): S;
  /**
   * Called when the node restarts and its durable state was found damaged (never on a clean
   * restart): `s` is `init` with the durable fields that could be recovered, `damage` says what
   * happened. Returns the state to start from — e.g. the same state marked for a repair mode that
   * does not vote until it has caught up — or {@link refuse}`(reason)` to stay down. Pure, like
   * every handler: no effects (the node is not running yet), no clock. Without it a node accepts
   * a `torn-tail` as is and refuses every other damage.
   */
  onRecover?(s: S, damage: RecoveryDamage, ctx: Ctx<P>): S | Refusal;
  /**
   * Whether this role's storage sees a lost write (a write the disk acknowledged and then lost: an
   * fsync that lied). `'detected'`: a witness written apart from the durable state says more was
   * written (e.g. each write's sequence number flushed again as a high-water mark in a second
   * place), and `onRecover` is told `lost-write`. `'undetected'` (the default: every record that
   * is there checks out): the node restarts from the older durable state as if it were its newest,
   * and no hook is called. The checker's `--disk-faults` draws lost writes either way. On the
   * executor, `'detected'` turns on the durable log's high-water mark (`<log>.mark`, a second flush
   * per save: docs/durability.md, "Lost writes").
   */
  lostWrites?: 'detected' | 'undetected';
}

export type AnyRole = RoleDef<any, any, any, any, any>;

/** Clients of the protocol: K processes, each issuing one operation at a time. */
export interface ClientsDef<Op, R, P extends Params> {
  count: number | ClientsCount<P>;
  /** The role that receives requests. */
  target: string;
  op: Schema<Op>;
  result: Schema<R>;
  /** The operations a client may invoke (the model tries each). */
  ops(params: P): readonly Op[];
  /** How many operations each client issues in a run (bounds the state space). */
  opsPerClient: number | ClientsCount<P>;
  /**
   * Executor clients: the answers that mean "not served here, ask another node" (the operation
   * had no effect), with the node to ask when the answer names one; null for any other answer.
   * The client library then asks elsewhere, with backoff, under the same request id.
   */
  redirect?(result: R): { readonly to?: NodeId } | null;
  /**
   * Executor clients: sessions that make a restarted client's requests exactly-once. A client
   * incarnation first sends `register(nonce)` (under request id {@link SESSION_REGISTER_ID}) and
   * reads its incarnation number k ≥ 1 from the answer with `incarnation(result, nonce)` (null
   * when the answer is not the registration of that nonce); its requests then carry ids
   * `k · 2^16 + 1, + 2, ...` (a new incarnation after 65,535 of them), above every id of an
   * earlier incarnation, so the servers tell its requests from an earlier incarnation's and from
   * duplicates. The model's clients number their requests 0, 1, 2, ... and register only after a
   * restart (`clientRestarts`, checker/clients.ts), which needs this declaration.
   */
  session?: {
    register(nonce: number): Op;
    incarnation(result: R, nonce: number): number | null;
  };
}

/** The request id a client sends its session registration under (above every operation's id). */
export const SESSION_REGISTER_ID = 0xffff_ffff;
/** Operations per client incarnation: ids are `incarnation · SESSION_IDS + seq`, seq ≥ 1. */
export const SESSION_IDS = 0x1_0000;

type ClientsCount<P> = { bivarianceHack(params: P): number }['bivarianceHack'];

/** A state predicate over the whole world. */
export interface Property<W = WorldReader> {
  readonly kind: 'invariant' | 'reachable';
  readonly name: string;
  readonly check: (w: W) => boolean;
}

/**
 * The client history must be linearizable with respect to a sequential model. Declared by the
 * spec, searched by the checker (Wing–Gong–Lowe, memoized, P-compositional when the model
 * partitions), re-checked only when the history gains a return.
 */
export interface LinearizableProperty {
  readonly kind: 'linearizable';
  readonly name: string;
  readonly model: SequentialModel<any, any, any>;
  /** Maps the spec's op values to the model's inputs (default: as is). */
  readonly mapOp?: (op: unknown) => unknown;
  /**
   * Maps the spec's result values to the model's outputs (default: as is). `undefined` makes the
   * operation indeterminate, as Jepsen's `:info`: it may take effect at any time after its call,
   * also after the answer (a request refused by one node and delivered again to another).
   */
  readonly mapResult?: (result: unknown) => unknown;
  /**
   * Which operations the history check includes (default: all): false leaves an operation out,
   * e.g. a request refused without effect (`notLeader`), or a read not meant to be
   * linearizable. `result` is undefined while the operation is pending.
   */
  readonly keep?: (op: unknown, result: unknown) => boolean;
}

/**
 * The isolation levels a {@link TransactionalProperty} may ask for: Elle's consistency models
 * (weakest first in the lattice's order) and pacta's external consistency; the transaction
 * checker (`checker/transactions/models.ts`) says what each forbids.
 */
export type IsolationLevel =
  | 'read-uncommitted'
  | 'read-committed'
  | 'monotonic-atomic-view'
  | 'repeatable-read'
  | 'snapshot-isolation'
  | 'serializable'
  | 'strong-session-snapshot-isolation'
  | 'strong-session-serializable'
  | 'strong-snapshot-isolation'
  | 'strict-serializable'
  | 'external-consistency';

/**
 * One micro-operation of a transaction, as the transaction checker reads it: rw-register
 * reads and writes, or list-append appends and reads of whole lists (`null`: empty).
 */
export type TransactionMicroOp =
  | { readonly f: 'r'; readonly key: string | number; readonly value: string | number | readonly (string | number)[] | null }
  | { readonly f: 'w'; readonly key: string | number; readonly value: string | number }
  | { readonly f: 'append'; readonly key: string | number; readonly value: string | number };

/**
 * One transaction of a client history, in the shape of pacta's transaction-history format (the
 * one `pacta txcheck` reads): `call` and `return` are positions in the history; a transaction
 * that never returned has no `return` and status `unknown`. Written values must be unique per
 * key, so that a read names the write it saw.
 */
export interface TransactionRecord {
  readonly process: number;
  readonly call: number;
  readonly return?: number;
  readonly status: 'committed' | 'aborted' | 'unknown';
  readonly commitTs?: number;
  readonly ops: readonly TransactionMicroOp[];
}

/**
 * The client history, read as transactions, satisfies an isolation level. Declared by the spec
 * (`transactions` turns the history into {@link TransactionRecord}s), checked by the checker with
 * the same transaction checker `pacta txcheck` runs on recorded histories; re-checked only when
 * the history gains a return.
 */
export interface TransactionalProperty {
  readonly kind: 'transactional';
  readonly name: string;
  readonly model: IsolationLevel;
  readonly transactions: (history: readonly HistoryEntry[]) => readonly TransactionRecord[];
}

/**
 * A liveness property, checked over the whole explored graph (fair cycles) after the search:
 * - `eventually`: every fair behaviour reaches a state where `p` holds;
 * - `leadsTo`: every state where `p` holds is followed (now or later) by one where `q` holds;
 * - `alwaysEventually`: `p` holds infinitely often on every fair behaviour;
 * - `eventuallyAlways`: on every fair behaviour `p` holds from some point on, for ever.
 * Fairness comes from the actions' `fair` field and, for message deliveries, from the check
 * option `fairDelivery` or the property's own `fairDelivery: true` (the property assumes it).
 */
export interface LivenessProperty<W = WorldReader> {
  readonly kind: 'eventually' | 'leadsTo' | 'alwaysEventually' | 'eventuallyAlways';
  readonly name: string;
  readonly p: (w: W) => boolean;
  /** `leadsTo` only: what must follow. */
  readonly q?: (w: W) => boolean;
  /** Check this property under fair delivery whatever the check's `fairDelivery` option. */
  readonly fairDelivery?: boolean;
}

/** Options of a liveness property. */
export interface LivenessOptions {
  /** The property assumes fair delivery (every message that stays deliverable is delivered). */
  fairDelivery?: boolean;
}

/** Every fair behaviour reaches a state where `p` holds (TLA+ `<>P`). */
export function eventually<W = WorldReader>(name: string, p: (w: W) => boolean, options: LivenessOptions = {}): LivenessProperty<W> {
  return { kind: 'eventually', name, p, ...(options.fairDelivery ? { fairDelivery: true } : {}) };
}

/** Every state where `p` holds is followed, now or later, by one where `q` holds (TLA+ `P ~> Q`). */
export function leadsTo<W = WorldReader>(name: string, p: (w: W) => boolean, q: (w: W) => boolean, options: LivenessOptions = {}): LivenessProperty<W> {
  return { kind: 'leadsTo', name, p, q, ...(options.fairDelivery ? { fairDelivery: true } : {}) };
}

/** `p` holds infinitely often on every fair behaviour (TLA+ `[]<>P`). */
export function alwaysEventually<W = WorldReader>(name: string, p: (w: W) => boolean, options: LivenessOptions = {}): LivenessProperty<W> {
  return { kind: 'alwaysEventually', name, p, ...(options.fairDelivery ? { fairDelivery: true } : {}) };
}

/**
 * On every fair behaviour `p` holds from some point on, for ever (TLA+ `<>[]P`): a leader that
 * eventually stays, a value that settles. Unlike `alwaysEventually`, a behaviour where `p` comes
 * and goes for ever violates it.
 */
export function eventuallyAlways<W = WorldReader>(name: string, p: (w: W) => boolean, options: LivenessOptions = {}): LivenessProperty<W> {
  return { kind: 'eventuallyAlways', name, p, ...(options.fairDelivery ? { fairDelivery: true } : {}) };
}

/** Any property a spec may declare. */
export type SpecProperty = Property | LinearizableProperty | TransactionalProperty | LivenessProperty;

/** The client history, read as transactions by `transactions`, satisfies `model` (see {@link TransactionalProperty}). */
export function transactional(
  model: IsolationLevel,
  transactions: (history: readonly HistoryEntry[]) => readonly TransactionRecord[],
  options: { name?: string } = {},
): TransactionalProperty {
  return { kind: 'transactional', name: options.name ?? model, model, transactions };
}

/** The client history is linearizable with respect to `model` (see {@link LinearizableProperty}). */
export function linearizable<S, I, O>(
  model: SequentialModel<S, I, O>,
  options: { name?: string; mapOp?: (op: any) => I; mapResult?: (result: any) => O; keep?: (op: any, result: any) => boolean } = {},
): LinearizableProperty {
  return { kind: 'linearizable', name: options.name ?? `linearizable (${model.name})`, model, mapOp: options.mapOp, mapResult: options.mapResult, keep: options.keep };
}

/** Must hold in every reachable state. */
export function invariant<W = WorldReader>(name: string, check: (w: W) => boolean): Property<W> {
  return { kind: 'invariant', name, check };
}

/** Must hold in at least one reachable state: guards against a vacuous spec. */
export function reachable<W = WorldReader>(name: string, check: (w: W) => boolean): Property<W> {
  return { kind: 'reachable', name, check };
}

/**
 * Overrides for one role in a broken variant, typed by the role they override: handlers see the
 * role's own state, message and param types. Fields replace the role's; actions merge field by
 * field (a variant may change only an action's `when`). A whole role (`server(brokenRules)`)
 * is an override too; one with a different `state` schema replaces the role outright.
 */
export type RoleOverride<Role extends AnyRole = AnyRole> =
  Role extends RoleDef<infer S, infer M, infer P, infer Op, infer R>
    ? Partial<Omit<RoleDef<S, M, P, Op, R>, 'actions' | 'state'>> & {
        actions?: Record<string, Partial<ActionDef<S, M, P, any>>>;
      }
    : never;

/**
 * The options of a check that a variant may need to show its bug: faults, clocks and search
 * bounds. The same names as `check()`'s options (checker/options.ts), declared here because
 * specs do not import the checker.
 */
export interface ExposeOptions {
  mode?: 'bfs' | 'dfs' | 'random';
  network?: 'set' | 'bag' | 'fifo';
  drop?: boolean;
  dup?: boolean;
  crashes?: number;
  maxTime?: number;
  /** TrueTime uncertainty ε (`--epsilon`). */
  epsilon?: number;
  /** @deprecated since 0.2, removed in the next release: use `epsilon`. */
  trueTimeEpsilon?: number;
  clockError?: number;
  maxInFlight?: number;
  symmetry?: boolean;
  deadlock?: boolean;
  fairDelivery?: boolean;
  maxDepth?: number;
  seed?: number;
  walks?: number;
  /** Up to this many restarts find the node's durable state damaged (its role's `onRecover` decides). */
  diskFaults?: number;
  /** Up to this many client restarts (checker/clients.ts). */
  clientRestarts?: number;
  /** The largest message payload the transport carries, in bytes (the `message size` invariant). */
  maxMessageBytes?: number;
}

/**
 * What a check needs to expose a variant's bug: param values and check options. `pacta check
 * spec:variant` and `check(spec.variant(name))` use them as defaults; the user's own params and
 * options override them.
 */
export interface Exposure<P extends Params = Params> {
  params?: Partial<P>;
  options?: ExposeOptions;
}

/** A deliberately broken (or alternative) version of the protocol. */
export interface VariantDef<P extends Params = Params, Roles extends Record<string, AnyRole> = Record<string, AnyRole>> {
  /** What is broken, which property catches it, and the real bug it stands for. */
  doc?: string;
  /** The params and options under which a bare check of the variant finds its bug. */
  expose?: Exposure<P>;
  roles?: { [K in keyof Roles]?: RoleOverride<Roles[K]> };
  /** How the variant's clients differ, e.g. `{ session: undefined }`: clients with no sessions. */
  clients?: Partial<ClientsDef<any, any, any>>;
  properties?: (params: P) => readonly SpecProperty[];
}

/** Everything a protocol definition holds. */
export interface ProtocolDef<P extends Params, M> {
  name: string;
  /** The algorithm, its source, what is not modeled. */
  doc?: string;
  params: P;
  /** The ranges params declared (`{ default, min, max }` in `protocol({ params })`). */
  paramRules?: Readonly<Record<string, ParamRule>>;
  messages: Schema<M>;
  roles: Record<string, AnyRole>;
  clients?: ClientsDef<any, any, P>;
  properties?(params: P): readonly SpecProperty[];
  variants?: Record<string, VariantDef<any, any>>;
  /**
   * The check options a bare `pacta check` of the protocol (and `check(protocol)`) uses unless
   * the user gives its own: the faults it is built to survive, e.g. `{ crashes: 1 }` for a
   * recovery protocol whose goals need a crash. Its variants start from them (their `expose`
   * adds to and overrides them).
   */
  checkDefaults?: ExposeOptions;
}

/** A defined protocol, as the checker, the executor and the CLI receive it. */
export interface Protocol<P extends Params = Params, M = any> extends ProtocolDef<P, M> {
  readonly __pacta: 'protocol';
  /** The broken variant `name`, as a protocol of its own. */
  variant(name: string): Protocol<P, M>;
  /** The variant this protocol is (undefined for the original). */
  readonly variantName?: string;
  /**
   * The defaults `check()` uses: a variant's exposure (on top of the protocol's `checkDefaults`),
   * or the original's `checkDefaults` (undefined when it declares none).
   */
  readonly exposure?: Exposure<P>;
}

/** Misuse of the spec API: a stable code naming the function, and what to do. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * Starts a protocol definition, fixing its params and message types so that the role
 * definitions made with the returned `role` are typed without annotations.
 */
export function protocol<D extends ParamDecls, M, Op = never, R = never, P extends Params = ParamsOf<D> & Params>(head: {
  name: string;
  doc?: string;
  /** Each param's default, or `{ default, min, max }` / `{ default, oneOf }` with its range. */
  params: D;
  messages: Schema<M>;
  /** For protocols that serve clients: the schemas of operations and their results. */
  client?: { op: Schema<Op>; result: Schema<R> };
}) {
  const { client, ...rest0 } = head;
  return {
    /**
     * Defines one role: `spec.role(StateSchema)({ count, init, onMessage, actions })`. The
     * state type comes from the schema alone (hence two calls), so handlers returning literals
     * such as `{ phase: 'init' }` type-check without annotations.
     */
    role<S>(state: Schema<S>) {
      return (def: Omit<RoleDef<S, M, P, Op, R>, 'state'>): RoleDef<S, M, P, Op, R> => ({ ...def, state });
    },
    /**
     * Completes the protocol. With `client` in the head, `clients` needs no op/result schemas.
     * Variants are typed by the roles given here: their overrides see each role's own types.
     */
    define<Roles extends Record<string, RoleDef<any, M, P, Op, R>>>(
      rest: Omit<ProtocolDef<P, M>, 'name' | 'doc' | 'params' | 'messages' | 'clients' | 'roles' | 'variants'> & {
        roles: Roles;
        variants?: Record<string, VariantDef<P, Roles>>;
        clients?: Omit<ClientsDef<Op, R, P>, 'op' | 'result'> & Partial<Pick<ClientsDef<Op, R, P>, 'op' | 'result'>>;
      },
    ): Protocol<P, M> {
      const clients = rest.clients
        ? ({ ...rest.clients, op: rest.clients.op ?? client?.op, result: rest.clients.result ?? client?.result } as ClientsDef<Op, R, P>)
        : undefined;
      if (clients && (!clients.op || !clients.result)) {
        throw new SpecError('defineProtocol', `protocol '${head.name}': clients need op and result schemas (give them as 'client' in protocol(...))`);
      }
      const { params, rules } = splitParamDecls(head.params);
      return defineProtocol({ ...rest0, ...rest, params, ...(Object.keys(rules).length && { paramRules: rules }), clients } as unknown as ProtocolDef<P, M>);
    },
  };
}

/** Validates a protocol definition once and returns it with its variants attached. */
export function defineProtocol<P extends Params, M>(def: ProtocolDef<P, M>): Protocol<P, M> {
  validate(def);
  return attach(def, undefined, def.checkDefaults ? { options: def.checkDefaults } : undefined);
}

function attach<P extends Params, M>(def: ProtocolDef<P, M>, variantName: string | undefined, exposure?: Exposure<P>): Protocol<P, M> {
  const base = def;
  const proto: Protocol<P, M> = {
    ...def,
    __pacta: 'protocol',
    variantName,
    exposure,
    variant(name: string): Protocol<P, M> {
      const v = base.variants?.[name];
      if (!v) {
        const known = Object.keys(base.variants ?? {});
        throw new SpecError(
          'variant',
          `protocol '${base.name}' has no variant '${name}'` + (known.length ? ` (variants: ${known.join(', ')})` : ' (it has none)'),
        );
      }
      const expose = v.expose ?? {};
      const exposure = base.checkDefaults ? { ...expose, options: { ...base.checkDefaults, ...expose.options } } : expose;
      return attach(applyVariant(base, v), name, exposure);
    },
  };
  return proto;
}

function applyVariant<P extends Params, M>(def: ProtocolDef<P, M>, v: VariantDef): ProtocolDef<P, M> {
  const roles: Record<string, AnyRole> = { ...def.roles };
  for (const [roleName, override] of Object.entries(v.roles ?? {})) {
    const role = roles[roleName];
    if (!role) throw new SpecError('variant', `variant overrides unknown role '${roleName}'`);
    // A whole role with a state schema of its own (another model of the role, e.g. raft's
    // election-only server) replaces the role: merging its actions with the base role's would
    // run those on a state they do not know.
    if ((override as Partial<AnyRole>).state !== undefined && (override as Partial<AnyRole>).state !== role.state) {
      roles[roleName] = override as AnyRole;
      continue;
    }
    const { actions: actionOverrides, ...rest } = override as RoleOverride;
    const actions = { ...(role.actions ?? {}) };
    for (const [a, ao] of Object.entries(actionOverrides ?? {})) {
      actions[a] = { ...(actions[a] ?? {}), ...ao } as ActionDef<any, any, any, any>;
      if (typeof actions[a]!.do !== 'function') throw new SpecError('variant', `variant action '${roleName}.${a}' has no 'do'`);
    }
    roles[roleName] = { ...role, ...rest, actions } as AnyRole;
  }
  if (v.clients && !def.clients) throw new SpecError('variant', `variant overrides the clients of protocol '${def.name}', which has none`);
  const merged: ProtocolDef<P, M> = {
    ...def,
    ...(v.clients && { clients: { ...def.clients!, ...v.clients } }),
    // The exposing params become the variant's defaults (the executor runs a variant with them too).
    params: { ...def.params, ...(v.expose?.params ?? {}) } as P,
    roles,
    properties: v.properties ?? def.properties,
  };
  validate(merged);
  return merged;
}

function validate(def: ProtocolDef<any, any>): void {
  const where = `protocol '${def.name}'`;
  if (!def.name || typeof def.name !== 'string') throw new SpecError('defineProtocol', 'a protocol needs a name');
  if (!def.messages || typeof (def.messages as Schema<unknown>).encode !== 'function') {
    throw new SpecError('defineProtocol', `${where}: 'messages' must be a schema (t.union(...))`);
  }
  for (const [k, rule] of Object.entries(def.paramRules ?? {})) {
    if (!Object.hasOwn(def.params, k)) throw new SpecError('defineProtocol', `${where}: a range is declared for param '${k}', which has no default`);
    const problem = paramRuleProblem(rule, def.params[k]!, def.params);
    if (problem) throw new SpecError('defineProtocol', `${where}: param '${k}' = ${JSON.stringify(def.params[k])} does not fit its own range: it ${problem}`);
  }
  const roleNames = Object.keys(def.roles ?? {});
  if (roleNames.length === 0) throw new SpecError('defineProtocol', `${where}: define at least one role`);
  for (const r of roleNames) {
    if (r === 'client') throw new SpecError('defineProtocol', `${where}: 'client' is reserved for the clients of the protocol`);
    const role = def.roles[r]!;
    if (!role.state || typeof role.state.encode !== 'function') throw new SpecError('defineProtocol', `${where}: role '${r}' needs a state schema`);
    if (typeof role.init !== 'function') throw new SpecError('defineProtocol', `${where}: role '${r}' needs an init`);
    if (Array.isArray(role.durable) && role.durable.length) {
      const fields = structFields(role.state);
      if (!fields) throw new SpecError('defineProtocol', `${where}: role '${r}' declares durable fields but its state is not a t.struct`);
      for (const f of role.durable) {
        if (!fields.includes(f)) throw new SpecError('defineProtocol', `${where}: role '${r}' declares unknown durable field '${f}'`);
      }
    }
    for (const [a, action] of Object.entries(role.actions ?? {})) {
      if (typeof action.do !== 'function') throw new SpecError('defineProtocol', `${where}: action '${r}.${a}' needs a 'do'`);
    }
    if (role.durableView !== undefined && typeof role.durableView !== 'function') {
      throw new SpecError('defineProtocol', `${where}: role '${r}': durableView must be a function`);
    }
    if (role.onRecover !== undefined && typeof role.onRecover !== 'function') {
      throw new SpecError('defineProtocol', `${where}: role '${r}': onRecover must be a function`);
    }
    if (role.lostWrites !== undefined && role.lostWrites !== 'detected' && role.lostWrites !== 'undetected') {
      throw new SpecError('defineProtocol', `${where}: role '${r}': lostWrites must be 'detected' or 'undetected', got ${JSON.stringify(role.lostWrites)}`);
    }
  }
  if (def.clients && !def.roles[def.clients.target]) {
    throw new SpecError('defineProtocol', `${where}: clients target unknown role '${def.clients.target}'`);
  }
  if (def.clients && !def.roles[def.clients.target]!.onRequest) {
    throw new SpecError('defineProtocol', `${where}: role '${def.clients.target}' receives client requests but has no onRequest`);
  }
}

/** True when `x` is a protocol made by `defineProtocol` (used when loading spec files). */
export function isProtocol(x: unknown): x is Protocol {
  return typeof x === 'object' && x !== null && (x as Protocol).__pacta === 'protocol';
}
