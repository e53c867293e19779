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
   * Fairness, for liveness properties only (`eventually`, `leadsTo`, `alwaysEventually`):
   * `'weak'` — an instance of this action (at this node) that stays enabled is eventually taken;
   * `'strong'` — one enabled infinitely often is eventually taken. Unfair by default: a node may
   * simply never take it. The class is (node, action): any of its `choices` counts.
   */
  fair?: 'weak' | 'strong';
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
  onMessage?(s: S, from: NodeId, msg: M, out: Out<M, R>, ctx: Ctx<P>): S;
  actions?: Record<string, ActionDef<S, M, P, any>>;
  /** Handles a client operation; reply now with `out.reply(result)` or later with the request ref. */
  onRequest?(s: S, req: Request<Op>, out: Out<M, R>, ctx: Ctx<P>): S;
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
}

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
 * - `alwaysEventually`: `p` holds infinitely often on every fair behaviour.
 * Fairness comes from the actions' `fair` field and, for message deliveries, from the check
 * option `fairDelivery` or the property's own `fairDelivery: true` (the property assumes it).
 */
export interface LivenessProperty<W = WorldReader> {
  readonly kind: 'eventually' | 'leadsTo' | 'alwaysEventually';
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
 * is an override too.
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
  trueTimeEpsilon?: number;
  clockError?: number;
  maxInFlight?: number;
  symmetry?: boolean;
  deadlock?: boolean;
  fairDelivery?: boolean;
  maxDepth?: number;
  seed?: number;
  walks?: number;
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
  properties?: (params: P) => readonly SpecProperty[];
}

/** Everything a protocol definition holds. */
export interface ProtocolDef<P extends Params, M> {
  name: string;
  /** The algorithm, its source, what is not modeled. */
  doc?: string;
  params: P;
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
export function protocol<P extends Params, M, Op = never, R = never>(head: {
  name: string;
  doc?: string;
  params: P;
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
      return defineProtocol({ ...rest0, ...rest, clients } as ProtocolDef<P, M>);
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
    const { actions: actionOverrides, ...rest } = override as RoleOverride;
    const actions = { ...(role.actions ?? {}) };
    for (const [a, ao] of Object.entries(actionOverrides ?? {})) {
      actions[a] = { ...(actions[a] ?? {}), ...ao } as ActionDef<any, any, any, any>;
      if (typeof actions[a]!.do !== 'function') throw new SpecError('variant', `variant action '${roleName}.${a}' has no 'do'`);
    }
    roles[roleName] = { ...role, ...rest, actions } as AnyRole;
  }
  const merged: ProtocolDef<P, M> = {
    ...def,
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
