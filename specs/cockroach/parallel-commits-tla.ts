/**
 * Parallel commits shaped like cockroach's docs/tla-plus/ParallelCommits/ParallelCommits.tla
 * (PlusCal, by Nathan VanBenschoten, 2019; read at cockroachdb/cockroach@808ed23, its cfg at
 * @20a5ad6), so that its state graph is TLC's: with the cfg (KEYS {k1, k2}, PREVENTERS {p1, p2},
 * MAX_ATTEMPTS 3) TLC finds 8,216,557 distinct states, and so does a bare
 * `pacta check parallel-commits-tla`. The cross-check of `cockroach`'s parallel commits.
 *
 * The model. One transaction commits in parallel against processes that try to recover it. The
 * committer picks which keys it writes before the final batch (pipelined) and which in it
 * (parallel). Each epoch it writes the pipelined keys (an async write may fail silently), then,
 * in any interleaving, queries each pipelined write (QueryIntent: an unresolved intent of its
 * epoch at or below its timestamp), writes each parallel key, and stages the record at its epoch
 * and timestamp. A missing pipelined write restarts it at the next epoch; a parallel write that
 * meets a timestamp cache at or above its timestamp (a preventer got there first) or a resolved
 * intent either refreshes (same epoch, timestamp + 1, stage again) or restarts. Once everything
 * is in place the transaction is implicitly committed: it acks the client, marks the record
 * committed and resolves its intents. It gives up after MAX_ATTEMPTS attempts, and may stop at
 * any point (no fairness: a coordinator may crash). A preventer pushes the record: a pending
 * record is aborted; a staging one is recovered: it queries every in-flight write at the staged
 * epoch and timestamp, and the first one missing it prevents (bumps the key's timestamp cache to
 * the staged timestamp, so that write can never land at or below it) and, unless the record has
 * moved on meanwhile (a higher timestamp: the committer refreshed and staged again, and the
 * preventer starts over), aborts the record; when every write is found it commits the record.
 * Then it resolves every key's intent. Preventers are weakly fair (`fair process`).
 *
 * Granularity. Each PlusCal label is one atomic step and the program counters are state, as TLC
 * has them (the committer's and each preventer's, named by the labels). The processes share
 * variables (the record, the intents, the timestamp cache), which pacta's actor roles cannot read
 * from one another, so the whole module state is the state of a single node, and each process is
 * one local action of it: `committer` (unfair), `p1`, `p2`, ... (each weakly fair: pacta's
 * fairness class is (node, action), TLA+'s `\A self \in PREVENTERS : WF_vars(preventer(self))`),
 * whose choices are the branches of the label it is at (which key, write or not, refresh or
 * restart).
 *
 * The state, packed for speed. Every value of the module is a small number (an epoch or a
 * timestamp is at most MAX_ATTEMPTS + 1 <= 9; a set of keys is a bit set, bit i for key i+1), so the
 * whole state is five 32-bit words (`record`, `intents`, `tscache`, `committer`, and one per
 * preventer), which the checker packs and hashes in a few operations. The layout is below
 * ({@link unpack}); {@link describe} gives the module's variables by name, for reading a trace.
 * A step unpacks into a scratch view, runs the label's code on it as the PlusCal reads, and packs
 * the result. `parallel_keys` is not stored (it is KEYS \ pipelined_keys, so it tells no states
 * apart).
 *
 * The one place the graph differs. The module has 2^|KEYS| initial states (`pipelined_keys \in
 * SUBSET KEYS`); a pacta protocol has one. The initial state here is TLC's with every key pipelined,
 * and in it (and only there) the committer may instead pick fewer pipelined keys, moving to one of
 * TLC's other initial states. The states are TLC's, the same set; what differs is one extra edge
 * to each other initial state (so the generated count differs, and the states reached from those
 * initial states may be one deeper: the search depth is still TLC's, 63, with the cfg, and with
 * most small configurations).
 *
 * PlusCal `assert` statements are checked by TLC as it computes a step; here a step whose
 * assertion fails records which one (`failed`: constant none otherwise, so it tells no states
 * apart), and an invariant named after the assertion reports it. Properties: the cfg's
 * invariants TypeInvariants (the schema holds the type; the bounds on epochs and timestamps are
 * checked) and AckImpliesCommit; its temporal properties: the action parts (epochs, timestamps
 * and the timestamp cache never go down; a committed, aborted or committed-at-all transaction
 * stays so), checked on every step as the assertions are (a step that breaks one records it in
 * `failed`; the invariant 'temporal properties: ...' reports it), and the liveness parts with pacta's liveness API: <>[]RecordFinalized, <>[] every intent resolved,
 * ImplicitCommitLeadsToExplicitCommit and AckLeadsToExplicitCommit.
 *
 * Not modeled (as in the module): the values written, other transactions' writes, the
 * transaction's heartbeat (preventers do not wait for it to expire), intents above the staged
 * timestamp (a write that is pushed is modeled as prevented).
 */
import { eventuallyAlways, invariant, leadsTo, protocol, reachable, Schema, SchemaError, t, type ActionDef, type Json, type WorldReader } from '../core/index.ts';

const STATUSES = ['pending', 'staging', 'committed', 'aborted'] as const;
type Status = (typeof STATUSES)[number];
const PENDING = 0;
const STAGING = 1;
const COMMITTED = 2;
const ABORTED = 3;

/** The committer's PlusCal labels, by number. */
const COMMITTER_LABELS = [
  'BeginTxnEpoch',
  'PipelineWrites',
  'StageWritesAndRecord',
  'StageWritesAndRecordLoop',
  'QueryPipelinedWrite',
  'ParallelWrite',
  'StageRecord',
  'AckClient',
  'AsyncExplicitlyCommitted',
  'AsyncResolveIntents',
  'EndCommitter',
  'Done',
] as const;
const [BeginTxnEpoch, PipelineWrites, StageWritesAndRecord, StageWritesAndRecordLoop, QueryPipelinedWrite, ParallelWrite, StageRecord, AckClient, AsyncExplicitlyCommitted, AsyncResolveIntents, EndCommitter, CDone] =
  COMMITTER_LABELS.map((_, i) => i) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number];

/** A preventer's PlusCal labels, by number. */
const PREVENTER_LABELS = ['PreventLoop', 'PushRecord', 'PreventWrites', 'RecoverRecord', 'ResolveIntents', 'Done'] as const;
const [PreventLoop, PushRecord, PreventWrites, RecoverRecord, ResolveIntents, PDone] = PREVENTER_LABELS.map((_, i) => i) as [number, number, number, number, number, number];

/** The module's `assert` statements and the cfg's action properties, by number (0: none failed). */
const ASSERTIONS = [
  'none',
  'PipelineWrites: a pipelined write is never prevented',
  'StageRecord: a restaged record moves forward',
  'StageRecord: the record is not committed yet',
  'AckClient: the transaction is committed',
  'AsyncExplicitlyCommitted: the record is staging or committed',
  'AsyncExplicitlyCommitted: a staging record is implicitly committed',
  'RecoverRecord: a prevented record is not pending',
  'RecoverRecord: a recovered record is staging or committed',
  'RecoverRecord: the recovered record is the one pushed',
  'RecoverRecord: a staging record found whole is implicitly committed',
  'temporal properties: no step moves the record, an intent or the timestamp cache backward, or un-finalizes or un-commits the transaction',
] as const;

/**
 * The packed state. Bits, low first:
 * - record: status 0-1 (pending, staging, committed, aborted), epoch 2-5, ts 6-9, commit_ack 10,
 *   resolved 11-14 (intent_writes[k].resolved, bit k), failed 15-19 (the assertion, 0: none),
 *   |KEYS| 20-22 (a constant, so that the JSON form can name the keys);
 * - intents: intent_writes[k].epoch at 8k, .ts at 8k + 4 (4 bits each);
 * - tscache: tscache[k] at 4k;
 * - committer: pc 0-3, attempt 4-7, txn_epoch 8-11, txn_ts 12-15, have_staging_record 16,
 *   pipelined_keys 17-20, to_write 21-24, to_check 25-28;
 * - preventers[i]: pc 0-2, prevent_epoch 3-6, prevent_ts 7-10, found_writes 11-14, to_resolve 15-18.
 */
const Words = t.struct({
  record: t.u32,
  intents: t.u32,
  tscache: t.u32,
  committer: t.u32,
  preventers: t.array(t.u32),
});
export type State = typeof Words.__type;

/**
 * The state's schema: the words' codec (what the checker packs and hashes), with the module's
 * variables by name as its JSON form (traces, `pacta show`, replay), see {@link describe}.
 */
class StateSchema extends Schema<State> {
  readonly name = 'parallel-commits-tla state';
  readonly hasNodes = false;
  encode(w: Parameters<Schema<State>['encode']>[0], v: State, path?: string): void {
    Words.encode(w, v, path);
  }
  decode(r: Parameters<Schema<State>['decode']>[0]): State {
    return Words.decode(r);
  }
  compare(a: State, b: State): number {
    return Words.compare(a, b);
  }
  mapNodes(v: State): State {
    return v;
  }
  toJSON(v: State): Json {
    return describe(v) as unknown as Json;
  }
  fromJSON(j: unknown, path: string): State {
    return fromDescription(j, path || 'state');
  }
  forEachNode(): void {}
  occurrences(): void {}
}
const State = new StateSchema();

/** The module's variables by name, unpacked (a scratch object while a step runs). */
export interface View {
  /** |KEYS| (a constant of the model). */
  keys: number;
  status: number;
  recEpoch: number;
  recTs: number;
  commitAck: boolean;
  resolved: number;
  failed: number;
  intentEpoch: number[];
  intentTs: number[];
  tscache: number[];
  pc: number;
  attempt: number;
  txnEpoch: number;
  txnTs: number;
  haveStagingRecord: boolean;
  pipelined: number;
  toWrite: number;
  toCheck: number;
  ppc: number[];
  preventEpoch: number[];
  preventTs: number[];
  foundWrites: number[];
  toResolve: number[];
}

/** The most keys and preventers (4 bits per key and field; each preventer is an action of its own). */
const MAX_KEYS = 4;
const MAX_PREVENTERS = 4;

const spec = protocol({
  name: 'parallel-commits-tla',
  doc: "Parallel commits shaped like cockroach's ParallelCommits.tla (one node holds the module state): 8,216,557 states with its cfg, as TLC.",
  params: {
    /** |KEYS|. */
    keys: { default: 2, min: 1, max: MAX_KEYS },
    /** |PREVENTERS|. */
    preventers: { default: 2, min: 1, max: MAX_PREVENTERS },
    /** MAX_ATTEMPTS (epochs and timestamps stay at most MAX_ATTEMPTS + 1, within 4 bits). */
    maxAttempts: { default: 3, min: 1, max: 8 },
  },
  // No messages: the processes share variables (see the doc comment).
  messages: t.union('kind', { none: {} }),
});
type P = { keys: number; preventers: number; maxAttempts: number };

/** What the broken variants change. */
interface Rules {
  /** A preventer that finds a write missing bumps the key's timestamp cache (prevents it). */
  prevent: boolean;
  /** Recovery starts over when the record moved to a higher timestamp since the push (legal_change). */
  retryOnRestage: boolean;
}
const correctRules: Rules = { prevent: true, retryOnRestage: true };

// ---------------------------------------------------------------- packing

function emptyView(keys: number, preventers: number): View {
  const z = (n: number) => new Array<number>(n).fill(0);
  return {
    keys, status: 0, recEpoch: 0, recTs: 0, commitAck: false, resolved: 0, failed: 0,
    intentEpoch: z(keys), intentTs: z(keys), tscache: z(keys),
    pc: 0, attempt: 0, txnEpoch: 0, txnTs: 0, haveStagingRecord: false, pipelined: 0, toWrite: 0, toCheck: 0,
    ppc: z(preventers), preventEpoch: z(preventers), preventTs: z(preventers), foundWrites: z(preventers), toResolve: z(preventers),
  };
}

/** Unpacks `s` into `v` (whose columns have the model's lengths). */
export function unpack(s: State, v: View): View {
  const r = s.record;
  v.status = r & 3;
  v.recEpoch = (r >>> 2) & 15;
  v.recTs = (r >>> 6) & 15;
  v.commitAck = ((r >>> 10) & 1) === 1;
  v.resolved = (r >>> 11) & 15;
  v.failed = (r >>> 15) & 31;
  v.keys = (r >>> 20) & 7;
  for (let k = 0; k < v.intentEpoch.length; k++) {
    v.intentEpoch[k] = (s.intents >>> (8 * k)) & 15;
    v.intentTs[k] = (s.intents >>> (8 * k + 4)) & 15;
    v.tscache[k] = (s.tscache >>> (4 * k)) & 15;
  }
  const c = s.committer;
  v.pc = c & 15;
  v.attempt = (c >>> 4) & 15;
  v.txnEpoch = (c >>> 8) & 15;
  v.txnTs = (c >>> 12) & 15;
  v.haveStagingRecord = ((c >>> 16) & 1) === 1;
  v.pipelined = (c >>> 17) & 15;
  v.toWrite = (c >>> 21) & 15;
  v.toCheck = (c >>> 25) & 15;
  for (let i = 0; i < v.ppc.length; i++) {
    const p = s.preventers[i]!;
    v.ppc[i] = p & 7;
    v.preventEpoch[i] = (p >>> 3) & 15;
    v.preventTs[i] = (p >>> 7) & 15;
    v.foundWrites[i] = (p >>> 11) & 15;
    v.toResolve[i] = (p >>> 15) & 15;
  }
  return v;
}

/** A counter that must fit its 4 bits (it does in the module: at most MAX_ATTEMPTS + 1). */
function nibble(x: number): number {
  if (x > 15) throw new Error(`parallel-commits-tla: ${x} does not fit the packed state (at most 15)`);
  return x;
}

function pack(v: View): State {
  let intents = 0;
  let tscache = 0;
  for (let k = 0; k < v.intentEpoch.length; k++) {
    intents |= (nibble(v.intentEpoch[k]!) << (8 * k)) | (nibble(v.intentTs[k]!) << (8 * k + 4));
    tscache |= nibble(v.tscache[k]!) << (4 * k);
  }
  const preventers = new Array<number>(v.ppc.length);
  for (let i = 0; i < v.ppc.length; i++) {
    preventers[i] = v.ppc[i]! | (nibble(v.preventEpoch[i]!) << 3) | (nibble(v.preventTs[i]!) << 7) | (v.foundWrites[i]! << 11) | (v.toResolve[i]! << 15);
  }
  return {
    record: v.status | (nibble(v.recEpoch) << 2) | (nibble(v.recTs) << 6) | (v.commitAck ? 1 << 10 : 0) | (v.resolved << 11) | (v.failed << 15) | (v.keys << 20),
    intents: intents >>> 0,
    tscache,
    committer:
      v.pc | (nibble(v.attempt) << 4) | (nibble(v.txnEpoch) << 8) | (nibble(v.txnTs) << 12) | (v.haveStagingRecord ? 1 << 16 : 0) | (v.pipelined << 17) | (v.toWrite << 21) | (v.toCheck << 25),
    preventers,
  };
}

function copyView(from: View, to: View): View {
  to.keys = from.keys;
  to.status = from.status;
  to.recEpoch = from.recEpoch;
  to.recTs = from.recTs;
  to.commitAck = from.commitAck;
  to.resolved = from.resolved;
  to.failed = from.failed;
  for (let k = 0; k < from.intentEpoch.length; k++) {
    to.intentEpoch[k] = from.intentEpoch[k]!;
    to.intentTs[k] = from.intentTs[k]!;
    to.tscache[k] = from.tscache[k]!;
  }
  to.pc = from.pc;
  to.attempt = from.attempt;
  to.txnEpoch = from.txnEpoch;
  to.txnTs = from.txnTs;
  to.haveStagingRecord = from.haveStagingRecord;
  to.pipelined = from.pipelined;
  to.toWrite = from.toWrite;
  to.toCheck = from.toCheck;
  for (let i = 0; i < from.ppc.length; i++) {
    to.ppc[i] = from.ppc[i]!;
    to.preventEpoch[i] = from.preventEpoch[i]!;
    to.preventTs[i] = from.preventTs[i]!;
    to.foundWrites[i] = from.foundWrites[i]!;
    to.toResolve[i] = from.toResolve[i]!;
  }
  return to;
}

/** Scratch views per model shape (keys, preventers): steps run one at a time in a thread. */
const scratch = new Map<number, { cur: View; next: View; read: View }>();
function views(keys: number, preventers: number): { cur: View; next: View; read: View } {
  const id = keys * 16 + preventers;
  let v = scratch.get(id);
  if (!v) scratch.set(id, (v = { cur: emptyView(keys, preventers), next: emptyView(keys, preventers), read: emptyView(keys, preventers) }));
  return v;
}
/** `s` unpacked into the read-only scratch view (valid until the next call). */
const read = (s: State, keys: number): View => unpack(s, views(keys, s.preventers.length).read);

const KEY_NAMES = ['k1', 'k2', 'k3', 'k4'];

/** The module's variables of `s` by name (a fresh object: for reading traces and tests). */
export function describe(s: State) {
  const keys = (s.record >>> 20) & 7;
  const v = unpack(s, emptyView(keys, s.preventers.length));
  const set = (m: number) => KEY_NAMES.slice(0, keys).filter((_, k) => has(m, k));
  return {
    record: { status: STATUSES[v.status as 0], epoch: v.recEpoch, ts: v.recTs },
    intent_writes: Object.fromEntries(v.intentEpoch.map((e, k) => [KEY_NAMES[k], { epoch: e, ts: v.intentTs[k], resolved: has(v.resolved, k) }])),
    tscache: Object.fromEntries(v.tscache.map((x, k) => [KEY_NAMES[k], x])),
    commit_ack: v.commitAck,
    committer: {
      pc: COMMITTER_LABELS[v.pc as 0],
      pipelined_keys: set(v.pipelined),
      attempt: v.attempt,
      txn_epoch: v.txnEpoch,
      txn_ts: v.txnTs,
      to_write: set(v.toWrite),
      to_check: set(v.toCheck),
      have_staging_record: v.haveStagingRecord,
    },
    preventers: Object.fromEntries(
      v.ppc.map((pc, i) => [
        `p${i + 1}`,
        { pc: PREVENTER_LABELS[pc as 0], prevent_epoch: v.preventEpoch[i], prevent_ts: v.preventTs[i], found_writes: set(v.foundWrites[i]!), to_resolve: set(v.toResolve[i]!) },
      ]),
    ),
    failed: v.failed === 0 ? null : ASSERTIONS[v.failed as 0],
  };
}

/** Parses the JSON form {@link describe} gives back into the packed state (a trace's states). */
function fromDescription(j: unknown, path: string): State {
  const obj = (x: unknown, at: string): Record<string, unknown> => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new SchemaError(`${at}: expected an object, got ${JSON.stringify(x)}`);
    return x as Record<string, unknown>;
  };
  const small = (x: unknown, at: string): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 15) throw new SchemaError(`${at}: expected an integer in 0..15, got ${JSON.stringify(x)}`);
    return x;
  };
  const bool = (x: unknown, at: string): boolean => {
    if (typeof x !== 'boolean') throw new SchemaError(`${at}: expected a boolean, got ${JSON.stringify(x)}`);
    return x;
  };
  const oneOf = (list: readonly string[], x: unknown, at: string): number => {
    const i = typeof x === 'string' ? list.indexOf(x) : -1;
    if (i < 0) throw new SchemaError(`${at}: expected one of ${list.join(', ')}, got ${JSON.stringify(x)}`);
    return i;
  };
  const root = obj(j, path);
  const intents = obj(root.intent_writes, `${path}.intent_writes`);
  const keys = Object.keys(intents).length;
  if (keys < 1 || keys > MAX_KEYS) throw new SchemaError(`${path}.intent_writes: expected 1 to ${MAX_KEYS} keys, got ${keys}`);
  const names = KEY_NAMES.slice(0, keys);
  const keySet = (x: unknown, at: string): number => {
    if (!Array.isArray(x)) throw new SchemaError(`${at}: expected a list of keys, got ${JSON.stringify(x)}`);
    return x.reduce((m: number, k, i) => m | (1 << oneOf(names, k, `${at}[${i}]`)), 0);
  };
  const byName = obj(root.preventers, `${path}.preventers`);
  const list = Object.keys(byName).map((name, i) => {
    if (name !== `p${i + 1}`) throw new SchemaError(`${path}.preventers: expected p1, p2, ... in order, got ${name}`);
    return byName[name];
  });
  if (list.length < 1 || list.length > MAX_PREVENTERS) throw new SchemaError(`${path}.preventers: expected 1 to ${MAX_PREVENTERS} preventers`);
  const v = emptyView(keys, list.length);
  const record = obj(root.record, `${path}.record`);
  v.status = oneOf(STATUSES, record.status, `${path}.record.status`);
  v.recEpoch = small(record.epoch, `${path}.record.epoch`);
  v.recTs = small(record.ts, `${path}.record.ts`);
  const tscache = obj(root.tscache, `${path}.tscache`);
  names.forEach((k, i) => {
    const at = `${path}.intent_writes.${k}`;
    const w = obj(intents[k], at);
    v.intentEpoch[i] = small(w.epoch, `${at}.epoch`);
    v.intentTs[i] = small(w.ts, `${at}.ts`);
    if (bool(w.resolved, `${at}.resolved`)) v.resolved |= 1 << i;
    v.tscache[i] = small(tscache[k], `${path}.tscache.${k}`);
  });
  v.commitAck = bool(root.commit_ack, `${path}.commit_ack`);
  const c = obj(root.committer, `${path}.committer`);
  v.pc = oneOf(COMMITTER_LABELS, c.pc, `${path}.committer.pc`);
  v.pipelined = keySet(c.pipelined_keys, `${path}.committer.pipelined_keys`);
  v.attempt = small(c.attempt, `${path}.committer.attempt`);
  v.txnEpoch = small(c.txn_epoch, `${path}.committer.txn_epoch`);
  v.txnTs = small(c.txn_ts, `${path}.committer.txn_ts`);
  v.toWrite = keySet(c.to_write, `${path}.committer.to_write`);
  v.toCheck = keySet(c.to_check, `${path}.committer.to_check`);
  v.haveStagingRecord = bool(c.have_staging_record, `${path}.committer.have_staging_record`);
  list.forEach((x, i) => {
    const at = `${path}.preventers.p${i + 1}`;
    const pr = obj(x, at);
    v.ppc[i] = oneOf(PREVENTER_LABELS, pr.pc, `${at}.pc`);
    v.preventEpoch[i] = small(pr.prevent_epoch, `${at}.prevent_epoch`);
    v.preventTs[i] = small(pr.prevent_ts, `${at}.prevent_ts`);
    v.foundWrites[i] = keySet(pr.found_writes, `${at}.found_writes`);
    v.toResolve[i] = keySet(pr.to_resolve, `${at}.to_resolve`);
  });
  v.failed = root.failed === null ? 0 : oneOf(ASSERTIONS, root.failed, `${path}.failed`);
  return pack(v);
}

// ---------------------------------------------------------------- predicates of the module

const allKeys = (keys: number): number => (1 << keys) - 1;
const has = (set: number, k: number): boolean => ((set >>> k) & 1) === 1;

/** QueryIntent(key, epoch, ts): an unresolved intent of that epoch at or below ts. */
function queryIntent(v: View, k: number, epoch: number, ts: number): boolean {
  return v.intentEpoch[k] === epoch && v.intentTs[k]! <= ts && !has(v.resolved, k);
}

/** ImplicitlyCommitted: staging, and every key's intent at the record's epoch at or below its ts. */
export function implicitlyCommitted(v: View): boolean {
  if (v.status !== STAGING) return false;
  for (let k = 0; k < v.intentEpoch.length; k++) if (v.intentEpoch[k] !== v.recEpoch || v.intentTs[k]! > v.recTs) return false;
  return true;
}
/** Committed == ImplicitlyCommitted \/ ExplicitlyCommitted. */
export const committed = (v: View): boolean => v.status === COMMITTED || implicitlyCommitted(v);

/** Records the first failed assertion (an index into {@link ASSERTIONS}). */
function fail(v: View, assertion: number): void {
  if (v.failed === 0) v.failed = assertion;
}

/** intent_writes[k] := [epoch |-> txn_epoch, ts |-> txn_ts, resolved |-> FALSE]. */
function writeIntent(v: View, k: number): void {
  v.intentEpoch[k] = v.txnEpoch;
  v.intentTs[k] = v.txnTs;
  v.resolved &= ~(1 << k);
}

// ---------------------------------------------------------------- the committer

/** One branch of the committer's current label, for a key where the label picks one. */
export interface CommitterMove {
  readonly move:
    | 'step'
    | 'pipeline' // the initial state only: pipeline `keys` instead of every key (see the doc comment)
    | 'write' // PipelineWrites / ParallelWrite: write key
    | 'skip' // PipelineWrites: the async write of key fails, or the key is resolved
    | 'refresh' // ParallelWrite: prevented; refresh and stage again
    | 'restart' // ParallelWrite: prevented; restart at a new epoch
    | 'query' // StageWritesAndRecordLoop: go query a pipelined write; QueryPipelinedWrite: key
    | 'parallel-write' // StageWritesAndRecordLoop: go write a parallel key
    | 'stage' // StageWritesAndRecordLoop: go stage the record
    | 'resolve' // AsyncResolveIntents: key
    | 'exit'; // a loop's condition is false
  /** The key (k1, k2, ...) where the move names one. */
  readonly key?: string;
  /** For `pipeline`: the keys pipelined. */
  readonly keys?: readonly string[];
}

const MOVE_NAMES = ['step', 'pipeline', 'write', 'skip', 'refresh', 'restart', 'query', 'parallel-write', 'stage', 'resolve', 'exit'] as const;
type MoveName = (typeof MOVE_NAMES)[number];
/** Every move, built once (so choices allocate none): by name, then key index + 1 (0: no key), or bit set for `pipeline`. */
const MOVES: CommitterMove[][] = MOVE_NAMES.map((move) =>
  move === 'pipeline'
    ? Array.from({ length: 1 << MAX_KEYS }, (_, m) => ({ move, keys: KEY_NAMES.filter((_, k) => has(m, k)) }))
    : Array.from({ length: MAX_KEYS + 1 }, (_, k) => (k === 0 ? { move } : { move, key: KEY_NAMES[k - 1]! })),
);
const mv = (move: MoveName, k = -1): CommitterMove => MOVES[MOVE_NAMES.indexOf(move)]![k + 1]!;
const keyIndex = (m: CommitterMove): number => (m.key === undefined ? -1 : KEY_NAMES.indexOf(m.key));
const keysMask = (m: CommitterMove): number => m.keys!.reduce((acc, k) => acc | (1 << KEY_NAMES.indexOf(k)), 0);
const STEP = [mv('step')];
const EXIT = [mv('exit')];
const NONE: readonly never[] = [];
/** Move lists per (move, bit set of keys), built once. */
const keyed = new Map<number, CommitterMove[]>();
function perKey(move: MoveName, set: number): CommitterMove[] {
  const id = MOVE_NAMES.indexOf(move) * 64 + set;
  let l = keyed.get(id);
  if (!l) {
    l = [];
    for (let k = 0; k < MAX_KEYS; k++) if (has(set, k)) l.push(mv(move, k));
    keyed.set(id, l);
  }
  return l;
}

/** True in the initial state only: nothing has happened yet (every key is pipelined). */
function isInitial(v: View, keys: number): boolean {
  if (v.pc !== BeginTxnEpoch || v.txnEpoch !== 0 || v.status !== PENDING || v.pipelined !== allKeys(keys)) return false;
  for (let i = 0; i < v.ppc.length; i++) if (v.ppc[i] !== PreventLoop || v.toResolve[i] !== allKeys(keys)) return false;
  return true;
}

function committerMoves(v: View, keys: number): readonly CommitterMove[] {
  switch (v.pc) {
    case BeginTxnEpoch: {
      if (!isInitial(v, keys)) return STEP;
      const out = [mv('step')];
      for (let m = 0; m < allKeys(keys); m++) out.push(MOVES[MOVE_NAMES.indexOf('pipeline')]![m]!);
      return out;
    }
    case PipelineWrites: {
      if (v.toWrite === 0) return EXIT;
      const out: CommitterMove[] = [];
      for (let k = 0; k < keys; k++) {
        if (!has(v.toWrite, k)) continue;
        if (!has(v.resolved, k) && v.tscache[k]! < v.txnTs) out.push(mv('write', k));
        out.push(mv('skip', k));
      }
      return out;
    }
    case StageWritesAndRecordLoop: {
      if (v.toCheck === 0 && v.toWrite === 0 && v.haveStagingRecord) return EXIT;
      const out: CommitterMove[] = [];
      if (v.toCheck !== 0) out.push(mv('query'));
      if (v.toWrite !== 0) out.push(mv('parallel-write'));
      if (!v.haveStagingRecord) out.push(mv('stage'));
      return out;
    }
    case QueryPipelinedWrite:
      return perKey('query', v.toCheck);
    case ParallelWrite: {
      const out: CommitterMove[] = [];
      for (let k = 0; k < keys; k++) {
        if (!has(v.toWrite, k)) continue;
        if (v.intentEpoch[k] !== v.txnEpoch && (v.tscache[k]! >= v.txnTs || has(v.resolved, k))) out.push(mv('refresh', k), mv('restart', k));
        else out.push(mv('write', k));
      }
      return out;
    }
    case AsyncResolveIntents:
      return v.toWrite === 0 ? EXIT : perKey('resolve', v.toWrite);
    case CDone:
      return NONE;
    default:
      return STEP;
  }
}

/** The committer's step from its label by move `m`, on `v` in place. */
function committerStep(v: View, p: P, m: CommitterMove): void {
  const k = keyIndex(m);
  switch (v.pc) {
    case BeginTxnEpoch:
      if (m.move === 'pipeline') {
        v.pipelined = keysMask(m);
        return;
      }
      v.txnEpoch++;
      v.txnTs++;
      v.toWrite = v.pipelined;
      v.pc = v.attempt > p.maxAttempts ? EndCommitter : PipelineWrites;
      return;
    case PipelineWrites:
      if (m.move === 'exit') {
        v.pc = StageWritesAndRecord;
        return;
      }
      v.toWrite &= ~(1 << k);
      if (has(v.resolved, k)) return;
      if (v.tscache[k]! >= v.txnTs) return fail(v, 1);
      if (m.move === 'write') writeIntent(v, k);
      return;
    case StageWritesAndRecord:
      v.toWrite = allKeys(p.keys) & ~v.pipelined;
      v.toCheck = v.pipelined;
      v.haveStagingRecord = false;
      v.pc = v.attempt > p.maxAttempts ? EndCommitter : StageWritesAndRecordLoop;
      return;
    case StageWritesAndRecordLoop:
      v.pc = m.move === 'query' ? QueryPipelinedWrite : m.move === 'parallel-write' ? ParallelWrite : m.move === 'stage' ? StageRecord : AckClient;
      return;
    case QueryPipelinedWrite:
      if (queryIntent(v, k, v.txnEpoch, v.txnTs)) {
        v.toCheck &= ~(1 << k);
        v.pc = StageWritesAndRecordLoop;
      } else if (v.status === PENDING || v.status === STAGING) {
        // Missing, and the record is not finalized: restart at a new epoch.
        v.attempt++;
        v.pc = BeginTxnEpoch;
      } else v.pc = v.status === ABORTED ? EndCommitter : AckClient;
      return;
    case ParallelWrite:
      v.toWrite &= ~(1 << k);
      if (v.intentEpoch[k] === v.txnEpoch) v.pc = StageWritesAndRecordLoop;
      else if (v.tscache[k]! >= v.txnTs || has(v.resolved, k)) {
        // Prevented: refresh (same epoch, stage again) or restart.
        if (m.move === 'refresh') {
          v.txnTs++;
          v.pc = StageWritesAndRecord;
        } else v.pc = BeginTxnEpoch;
        v.attempt++;
      } else {
        writeIntent(v, k);
        v.pc = StageWritesAndRecordLoop;
      }
      return;
    case StageRecord:
      v.haveStagingRecord = true;
      v.pc = StageWritesAndRecordLoop;
      if (v.status === ABORTED) v.pc = EndCommitter;
      else if (v.status === COMMITTED) fail(v, 3);
      else {
        if (v.status === STAGING && !(v.recEpoch <= v.txnEpoch && v.recTs < v.txnTs)) fail(v, 2);
        v.status = STAGING;
        v.recEpoch = v.txnEpoch;
        v.recTs = v.txnTs;
      }
      return;
    case AckClient:
      if (!committed(v)) fail(v, 4);
      v.commitAck = true;
      v.pc = AsyncExplicitlyCommitted;
      return;
    case AsyncExplicitlyCommitted:
      if (v.status === STAGING) {
        if (!implicitlyCommitted(v)) fail(v, 6);
        v.status = COMMITTED;
      } else if (v.status !== COMMITTED) fail(v, 5);
      v.toWrite = allKeys(p.keys);
      v.pc = AsyncResolveIntents;
      return;
    case AsyncResolveIntents:
      if (m.move === 'exit') v.pc = EndCommitter;
      else {
        v.resolved |= 1 << k;
        v.toWrite &= ~(1 << k);
      }
      return;
    case EndCommitter:
      v.pc = CDone;
      return;
  }
}

// ---------------------------------------------------------------- the preventers

/** The key a preventer's step picks (k1, k2, ...), or `step` for a step that picks none. */
type PreventerMove = string;
const NO_KEY: readonly PreventerMove[] = ['step'];
const KEY_LISTS: (readonly PreventerMove[])[] = [];
/** The keys of a bit set, as a list built once per set. */
function keysOf(set: number): readonly PreventerMove[] {
  return (KEY_LISTS[set] ??= KEY_NAMES.filter((_, k) => has(set, k)));
}

/** Preventer i's choices, read from its own word alone. */
function preventerMoves(s: State, keys: number, i: number): readonly PreventerMove[] {
  if (i >= s.preventers.length) return NONE;
  const w = s.preventers[i]!;
  switch (w & 7) {
    case PreventWrites: {
      const left = allKeys(keys) & ~((w >>> 11) & 15);
      return left === 0 ? NO_KEY : keysOf(left);
    }
    case ResolveIntents: {
      const left = (w >>> 15) & 15;
      return left === 0 ? NO_KEY : keysOf(left);
    }
    case PDone:
      return NONE;
    default:
      return NO_KEY;
  }
}

/** Preventer i's step from its label, picking `key`, on `v` in place. */
function preventerStep(v: View, p: P, r: Rules, i: number, key: PreventerMove): void {
  const k = KEY_NAMES.indexOf(key);
  switch (v.ppc[i]) {
    case PreventLoop:
      v.foundWrites[i] = 0;
      v.ppc[i] = PushRecord;
      return;
    case PushRecord:
      if (v.status === PENDING) {
        v.status = ABORTED;
        v.ppc[i] = ResolveIntents;
      } else if (v.status === STAGING) {
        v.preventEpoch[i] = v.recEpoch;
        v.preventTs[i] = v.recTs;
        v.ppc[i] = PreventWrites;
      } else v.ppc[i] = ResolveIntents;
      return;
    case PreventWrites:
      if (k < 0) v.ppc[i] = RecoverRecord;
      else if (queryIntent(v, k, v.preventEpoch[i]!, v.preventTs[i]!)) v.foundWrites[i]! |= 1 << k;
      else {
        // Missing: prevent it from landing at or below the staged timestamp.
        if (r.prevent && v.tscache[k]! < v.preventTs[i]!) v.tscache[k] = v.preventTs[i]!;
        v.ppc[i] = RecoverRecord;
      }
      return;
    case RecoverRecord:
      v.ppc[i] = ResolveIntents;
      if (v.foundWrites[i] !== allKeys(p.keys)) {
        // Prevented.
        if (v.status === PENDING) fail(v, 7);
        else if (v.status === STAGING) {
          const legalChange = v.recEpoch >= v.preventEpoch[i]! && v.recTs > v.preventTs[i]!;
          if (legalChange && r.retryOnRestage) v.ppc[i] = PreventLoop;
          else v.status = ABORTED;
        }
        return;
      }
      // Every write found: the transaction was implicitly committed.
      if (v.status === PENDING || v.status === ABORTED) return fail(v, 8);
      if (v.recEpoch !== v.preventEpoch[i] || v.recTs !== v.preventTs[i]) fail(v, 9);
      if (v.status === STAGING) {
        if (!implicitlyCommitted(v)) fail(v, 10);
        v.status = COMMITTED;
      }
      return;
    case ResolveIntents:
      if (k < 0) v.ppc[i] = PDone;
      else {
        v.resolved |= 1 << k;
        v.toResolve[i]! &= ~(1 << k);
      }
      return;
  }
}

// ---------------------------------------------------------------- the module as one node

/** The cfg's action properties on one step (the [][...]_v parts of its temporal properties). */
function monotonic(prev: View, v: View): boolean {
  if (v.recEpoch < prev.recEpoch || v.recTs < prev.recTs) return false;
  if ((prev.status === COMMITTED || prev.status === ABORTED) && v.status !== prev.status) return false;
  if (committed(prev) && !committed(v)) return false;
  for (let k = 0; k < v.intentEpoch.length; k++) {
    if (v.intentEpoch[k]! < prev.intentEpoch[k]! || v.intentTs[k]! < prev.intentTs[k]! || v.tscache[k]! < prev.tscache[k]!) return false;
  }
  return true;
}

/** Runs one step on `s`: unpack, the label's code, the action properties, pack. */
function step(s: State, keys: number, run: (v: View) => void): State {
  const { cur, next } = views(keys, s.preventers.length);
  unpack(s, cur);
  copyView(cur, next);
  run(next);
  if (!monotonic(cur, next)) fail(next, 11);
  return pack(next);
}

function initial(p: P): State {
  const v = emptyView(p.keys, p.preventers);
  v.attempt = 1;
  v.pipelined = allKeys(p.keys);
  v.toResolve.fill(allKeys(p.keys));
  return pack(v);
}

type Action<A> = ActionDef<State, unknown, P & Record<string, never>, A>;

function model(r: Rules) {
  const preventerActions: Record<string, Action<PreventerMove>> = {};
  for (let i = 0; i < MAX_PREVENTERS; i++) {
    preventerActions[`p${i + 1}`] = {
      fair: 'weak',
      choices: (s, ctx) => preventerMoves(s, ctx.params.keys, i),
      do: (s, _out, ctx, key) => step(s, ctx.params.keys, (v) => preventerStep(v, ctx.params, r, i, key)),
    };
  }
  const committer: Action<CommitterMove> = {
    // Unfair: the coordinator may stop at any point (its crash).
    choices: (s, ctx) => committerMoves(read(s, ctx.params.keys), ctx.params.keys),
    do: (s, _out, ctx, m) => step(s, ctx.params.keys, (v) => committerStep(v, ctx.params, m)),
  };
  return spec.role(State)({
    count: 1,
    init: (ctx) => initial(ctx.params),
    actions: { committer, ...preventerActions },
  });
}

// ---------------------------------------------------------------- properties

const only = (w: WorldReader): State => w.states<State>('model')[0]!;

export default spec.define({
  roles: { model: model(correctRules) },
  properties: (p) => [
    // Read from the packed words where that is enough: these run on every state.
    invariant('AckImpliesCommit: an acked transaction is committed', (w) => {
      const s = only(w);
      return ((s.record >>> 10) & 1) === 0 || committed(read(s, p.keys));
    }),
    // One per PlusCal assert (and one for the cfg's action properties), named after it.
    ...ASSERTIONS.slice(1).map((name, i) => invariant(name, (w) => ((only(w).record >>> 15) & 31) !== i + 1)),
    invariant('TypeInvariants: epochs, timestamps and the timestamp cache within 0..MAX_ATTEMPTS', (w) => {
      const s = only(w);
      const m = p.maxAttempts;
      if (((s.record >>> 2) & 15) > m || ((s.record >>> 6) & 15) > m) return false;
      for (let k = 0; k < p.keys; k++) {
        if (((s.intents >>> (8 * k)) & 15) > m || ((s.intents >>> (8 * k + 4)) & 15) > m || ((s.tscache >>> (4 * k)) & 15) > m) return false;
      }
      return true;
    }),
    eventuallyAlways('RecordFinalized: the record ends committed or aborted', (w) => (only(w).record & 3) >= COMMITTED),
    eventuallyAlways('every intent is eventually resolved', (w) => ((only(w).record >>> 11) & 15) === allKeys(p.keys)),
    leadsTo('ImplicitCommitLeadsToExplicitCommit', (w) => implicitlyCommitted(read(only(w), p.keys)), (w) => (only(w).record & 3) === COMMITTED),
    leadsTo('AckLeadsToExplicitCommit', (w) => ((only(w).record >>> 10) & 1) === 1, (w) => (only(w).record & 3) === COMMITTED),
    reachable('the client is acked', (w) => read(only(w), p.keys).commitAck),
    reachable('a preventer aborts a staging record', (w) => {
      const v = read(only(w), p.keys);
      return v.status === ABORTED && v.recEpoch > 0;
    }),
    reachable('a preventer commits the record (the committer stopped before)', (w) => {
      const v = read(only(w), p.keys);
      return v.status === COMMITTED && !v.commitAck;
    }),
    ...(p.maxAttempts >= 2
      ? [
          reachable('the committer refreshes and stages again', (w) => {
            const v = read(only(w), p.keys);
            return v.recTs > v.recEpoch;
          }),
        ]
      : []),
  ],
  variants: {
    'recovery-no-prevent': {
      doc: "A preventer that finds an in-flight write missing does not bump the key's timestamp cache (it does not prevent the write): it aborts the STAGING record, and the write lands afterwards at the staged timestamp. The transaction was implicitly committed (every write in place at or below the staged timestamp) a step before the record says ABORTED, which the cfg's temporal property [](Committed => []Committed) forbids; a step later the committer finds every write in place and acks the client (AckImpliesCommit, and the assertion before the ack). Parallel commits' recovery is safe only because a missing write is prevented (the family of cockroach#110185).",
      expose: { params: { preventers: 1, maxAttempts: 1 } },
      roles: { model: model({ ...correctRules, prevent: false }) },
    },
    'recovery-ignores-restage': {
      doc: "Recovery aborts the record whenever it prevented a write, even when the record has moved to a higher timestamp since the push (legal_change ignored): the committer's write was prevented, it refreshed, wrote the key at the new timestamp and staged the record there, implicitly committed; the preventer then aborts it ([](Committed => []Committed), then AckImpliesCommit once the client is acked). The module starts the recovery over instead, at the record's new timestamp.",
      expose: { params: { preventers: 1, maxAttempts: 2 } },
      roles: { model: model({ ...correctRules, retryOnRestage: false }) },
    },
  },
});

export { STATUSES, COMMITTER_LABELS, PREVENTER_LABELS, ASSERTIONS };
export type { Status };
