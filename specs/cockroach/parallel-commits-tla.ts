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
 * has them (`pc` for the committer, `ppc` per preventer, named by the labels). The processes share
 * variables (the record, the intents, the timestamp cache), which pacta's actor roles cannot read
 * from one another, so the whole module state is the state of a single node, and each process is
 * one local action of it: `committer` (unfair), `p1`, `p2`, ... (each weakly fair: pacta's
 * fairness class is (node, action), TLA+'s `\A self \in PREVENTERS : WF_vars(preventer(self))`),
 * whose choices are the branches of the label it is at (which key, write or not, refresh or
 * restart). The module's function-valued variables are columns indexed by key or preventer, and
 * its sets of keys are bit sets (bit i: key i+1): small flat fields pack fast. `parallel_keys`
 * is not stored (it is KEYS \ pipelined_keys, so it tells no states apart).
 *
 * The one place the graph differs. The module has 2^|KEYS| initial states (`pipelined_keys \in
 * SUBSET KEYS`); a pacta protocol has one. The initial state here is TLC's with no key pipelined,
 * and in it (and only there) the committer may instead pick the pipelined keys, moving to one of
 * TLC's other initial states. The states are TLC's, the same set; what differs is one extra edge
 * to each other initial state (so the generated count, and the depth of states from those
 * initial states, are one more than TLC's).
 *
 * PlusCal `assert` statements are checked by TLC as it computes a step; here a step whose
 * assertion fails records which one in `failed` (constant `none` otherwise, so it tells no
 * states apart) and the invariant 'PlusCal assertions hold' reports it. Properties: the cfg's
 * invariants TypeInvariants (the schema holds the type; the bounds on epochs and timestamps are
 * checked) and AckImpliesCommit; its temporal properties: the action parts (epochs, timestamps
 * and the timestamp cache never go down; a committed, aborted or committed-at-all transaction
 * stays so), checked on every step as the assertions are (a step that breaks one records it in
 * `failed`), and the liveness parts with pacta's liveness API: <>[]RecordFinalized, <>[] every intent resolved,
 * ImplicitCommitLeadsToExplicitCommit and AckLeadsToExplicitCommit.
 *
 * Not modeled (as in the module): the values written, other transactions' writes, the
 * transaction's heartbeat (preventers do not wait for it to expire), intents above the staged
 * timestamp (a write that is pushed is modeled as prevented).
 */
import { eventuallyAlways, invariant, leadsTo, protocol, reachable, t, type ActionDef, type WorldReader } from '../core/index.ts';

const Status = t.enum('pending', 'staging', 'committed', 'aborted');
type Status = typeof Status.__type;

/** The committer's PlusCal labels. */
const CommitterPc = t.enum(
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
);
type CommitterPc = typeof CommitterPc.__type;

/** A preventer's PlusCal labels. */
const PreventerPc = t.enum('PreventLoop', 'PushRecord', 'PreventWrites', 'RecoverRecord', 'ResolveIntents', 'Done');
type PreventerPc = typeof PreventerPc.__type;

/** The module's `assert` statements, by where they are (`none`: none failed). */
const Assertion = t.enum(
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
  'temporal: a step moved the record, an intent or the timestamp cache backward',
);
type Assertion = typeof Assertion.__type;

const State = t.struct({
  // --- shared variables -------------------------------------------------------------------------
  /** record.status, record.epoch, record.ts. */
  status: Status,
  recEpoch: t.u32,
  recTs: t.u32,
  /** intent_writes[k].epoch / .ts / .resolved, key k+1 at index k (resolved: a bit set). */
  intentEpoch: t.array(t.u32),
  intentTs: t.array(t.u32),
  resolved: t.u32,
  /** tscache[k]. */
  tscache: t.array(t.u32),
  commitAck: t.bool,
  // --- the committer ----------------------------------------------------------------------------
  pc: CommitterPc,
  /** pipelined_keys (a bit set; parallel_keys is the rest of KEYS). */
  pipelined: t.u32,
  attempt: t.u32,
  txnEpoch: t.u32,
  txnTs: t.u32,
  /** to_write, to_check (bit sets). */
  toWrite: t.u32,
  toCheck: t.u32,
  haveStagingRecord: t.bool,
  // --- the preventers, preventer i+1 at index i -------------------------------------------------
  ppc: t.array(PreventerPc),
  preventEpoch: t.array(t.u32),
  preventTs: t.array(t.u32),
  /** found_writes, to_resolve (bit sets). */
  foundWrites: t.array(t.u32),
  toResolve: t.array(t.u32),
  /** The first PlusCal assertion that failed (see the doc comment). */
  failed: Assertion,
});
export type State = typeof State.__type;

/** The most preventers a model may have: each is an action of its own (its fairness class). */
const MAX_PREVENTERS = 4;

const spec = protocol({
  name: 'parallel-commits-tla',
  doc: "Parallel commits shaped like cockroach's ParallelCommits.tla (one node holds the module state): 8,216,557 states with its cfg, as TLC.",
  params: {
    /** |KEYS|. */
    keys: { default: 2, min: 1, max: 6 },
    /** |PREVENTERS|. */
    preventers: { default: 2, min: 1, max: MAX_PREVENTERS },
    /** MAX_ATTEMPTS. */
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
  /** Recovery retries when the record moved to a higher timestamp since the push (legal_change). */
  retryOnRestage: boolean;
}
const correctRules: Rules = { prevent: true, retryOnRestage: true };

// ---------------------------------------------------------------- predicates of the module

const allKeys = (p: P): number => (1 << p.keys) - 1;
const has = (set: number, k: number): boolean => ((set >>> k) & 1) === 1;

/** QueryIntent(key, epoch, ts): an unresolved intent of that epoch at or below ts. */
function queryIntent(s: State, k: number, epoch: number, ts: number): boolean {
  return s.intentEpoch[k] === epoch && s.intentTs[k]! <= ts && !has(s.resolved, k);
}

/** ImplicitlyCommitted: staging, and every key's intent at the record's epoch at or below its ts. */
export function implicitlyCommitted(s: State): boolean {
  if (s.status !== 'staging') return false;
  for (let k = 0; k < s.intentEpoch.length; k++) if (s.intentEpoch[k] !== s.recEpoch || s.intentTs[k]! > s.recTs) return false;
  return true;
}
/** Committed == ImplicitlyCommitted \/ ExplicitlyCommitted. */
export const committed = (s: State): boolean => s.status === 'committed' || implicitlyCommitted(s);

const fail = (s: State, a: Assertion): State => (s.failed === 'none' ? { ...s, failed: a } : s);

function setAt(arr: readonly number[], i: number, v: number): readonly number[] {
  const out = arr.slice();
  out[i] = v;
  return out;
}
/** intent_writes[k] := [epoch |-> txn_epoch, ts |-> txn_ts, resolved |-> FALSE]. */
function writeIntent(s: State, k: number): Pick<State, 'intentEpoch' | 'intentTs' | 'resolved'> {
  return { intentEpoch: setAt(s.intentEpoch, k, s.txnEpoch), intentTs: setAt(s.intentTs, k, s.txnTs), resolved: s.resolved & ~(1 << k) };
}

// ---------------------------------------------------------------- the committer

/** One branch of the committer's current label: a step, for a key where the label picks one. */
export interface CommitterMove {
  readonly move:
    | 'step'
    | 'pipeline' // the initial state only: pick the pipelined keys instead (see the doc comment)
    | 'write' // PipelineWrites / ParallelWrite: write key
    | 'skip' // PipelineWrites: the async write of key fails / the key is resolved
    | 'refresh' // ParallelWrite: prevented; refresh and stage again
    | 'restart' // ParallelWrite: prevented; restart at a new epoch
    | 'query' // StageWritesAndRecordLoop: go query a pipelined write / QueryPipelinedWrite: key
    | 'parallel-write' // StageWritesAndRecordLoop: go write a parallel key
    | 'stage' // StageWritesAndRecordLoop: go stage the record
    | 'resolve' // AsyncResolveIntents: key
    | 'exit'; // a loop's condition is false
  /** Key index (0-based; key k+1), where the move names one. */
  readonly key: number;
  /** For `pipeline`: the bit set of keys. */
  readonly keys?: number;
}

const MOVE_NAMES = ['step', 'pipeline', 'write', 'skip', 'refresh', 'restart', 'query', 'parallel-write', 'stage', 'resolve', 'exit'] as const;
/** Every move, built once (keys up to 6, bit sets up to 63), so choices allocate no moves. */
const MOVES: CommitterMove[][] = MOVE_NAMES.map((move) =>
  move === 'pipeline' ? Array.from({ length: 64 }, (_, keys) => ({ move, key: -1, keys })) : Array.from({ length: 7 }, (_, k) => ({ move, key: k - 1 })),
);
/** The move `move` for key `key` (-1: none), or `pipeline` of the bit set `keys`. */
function mv(move: CommitterMove['move'], key = -1, keys?: number): CommitterMove {
  const i = MOVE_NAMES.indexOf(move);
  return keys === undefined ? MOVES[i]![key + 1]! : MOVES[i]![keys]!;
}
const STEP = mv('step');
const EXIT = mv('exit');

/** True in the initial state only: nothing has happened yet and every key is pipelined. */
function isInitial(s: State): boolean {
  return s.pc === 'BeginTxnEpoch' && s.txnEpoch === 0 && s.pipelined === (1 << s.tscache.length) - 1 && s.status === 'pending' && s.ppc.every((pc, i) => pc === 'PreventLoop' && s.toResolve[i] === (1 << s.tscache.length) - 1);
}

function committerMoves(s: State, p: P): CommitterMove[] {
  const out: CommitterMove[] = [];
  switch (s.pc) {
    case 'BeginTxnEpoch':
      out.push(STEP);
      if (isInitial(s)) for (let m = 0; m < allKeys(p); m++) out.push(mv('pipeline', -1, m));
      return out;
    case 'PipelineWrites':
      if (s.toWrite === 0) return [EXIT];
      for (let k = 0; k < p.keys; k++) {
        if (!has(s.toWrite, k)) continue;
        if (!has(s.resolved, k) && s.tscache[k]! < s.txnTs) out.push(mv('write', k));
        out.push(mv('skip', k));
      }
      return out;
    case 'StageWritesAndRecordLoop':
      if (s.toCheck === 0 && s.toWrite === 0 && s.haveStagingRecord) return [EXIT];
      if (s.toCheck !== 0) out.push(mv('query'));
      if (s.toWrite !== 0) out.push(mv('parallel-write'));
      if (!s.haveStagingRecord) out.push(mv('stage'));
      return out;
    case 'QueryPipelinedWrite':
      for (let k = 0; k < p.keys; k++) if (has(s.toCheck, k)) out.push(mv('query', k));
      return out;
    case 'ParallelWrite':
      for (let k = 0; k < p.keys; k++) {
        if (!has(s.toWrite, k)) continue;
        if (s.intentEpoch[k] !== s.txnEpoch && (s.tscache[k]! >= s.txnTs || has(s.resolved, k))) out.push(mv('refresh', k), mv('restart', k));
        else out.push(mv('write', k));
      }
      return out;
    case 'AsyncResolveIntents':
      if (s.toWrite === 0) return [EXIT];
      for (let k = 0; k < p.keys; k++) if (has(s.toWrite, k)) out.push(mv('resolve', k));
      return out;
    case 'Done':
      return out;
    default:
      return [STEP];
  }
}

function committerStep(s: State, p: P, m: CommitterMove): State {
  const k = m.key;
  switch (s.pc) {
    case 'BeginTxnEpoch': {
      if (m.move === 'pipeline') return { ...s, pipelined: m.keys! };
      const attemptsLeft = s.attempt <= p.maxAttempts;
      return { ...s, txnEpoch: s.txnEpoch + 1, txnTs: s.txnTs + 1, toWrite: s.pipelined, pc: attemptsLeft ? 'PipelineWrites' : 'EndCommitter' };
    }
    case 'PipelineWrites': {
      if (m.move === 'exit') return { ...s, pc: 'StageWritesAndRecord' };
      const next = { ...s, toWrite: s.toWrite & ~(1 << k) };
      if (has(s.resolved, k)) return next;
      if (s.tscache[k]! >= s.txnTs) return fail(next, 'PipelineWrites: a pipelined write is never prevented');
      return m.move === 'write' ? { ...next, ...writeIntent(s, k) } : next;
    }
    case 'StageWritesAndRecord':
      return {
        ...s,
        toWrite: allKeys(p) & ~s.pipelined,
        toCheck: s.pipelined,
        haveStagingRecord: false,
        pc: s.attempt > p.maxAttempts ? 'EndCommitter' : 'StageWritesAndRecordLoop',
      };
    case 'StageWritesAndRecordLoop':
      switch (m.move) {
        case 'query':
          return { ...s, pc: 'QueryPipelinedWrite' };
        case 'parallel-write':
          return { ...s, pc: 'ParallelWrite' };
        case 'stage':
          return { ...s, pc: 'StageRecord' };
        default:
          return { ...s, pc: 'AckClient' };
      }
    case 'QueryPipelinedWrite':
      if (queryIntent(s, k, s.txnEpoch, s.txnTs)) return { ...s, toCheck: s.toCheck & ~(1 << k), pc: 'StageWritesAndRecordLoop' };
      // Missing: the record says whether it is due to resolution after finalization.
      switch (s.status) {
        case 'pending':
        case 'staging':
          return { ...s, attempt: s.attempt + 1, pc: 'BeginTxnEpoch' };
        case 'aborted':
          return { ...s, pc: 'EndCommitter' };
        case 'committed':
          return { ...s, pc: 'AckClient' };
      }
    // falls through (unreachable: the switch is exhaustive)
    case 'ParallelWrite': {
      const next = { ...s, toWrite: s.toWrite & ~(1 << k) };
      if (s.intentEpoch[k] === s.txnEpoch) return { ...next, pc: 'StageWritesAndRecordLoop' };
      if (s.tscache[k]! >= s.txnTs || has(s.resolved, k)) {
        if (m.move === 'refresh') return { ...next, txnTs: s.txnTs + 1, attempt: s.attempt + 1, pc: 'StageWritesAndRecord' };
        return { ...next, attempt: s.attempt + 1, pc: 'BeginTxnEpoch' };
      }
      return { ...next, ...writeIntent(s, k), pc: 'StageWritesAndRecordLoop' };
    }
    case 'StageRecord': {
      const next = { ...s, haveStagingRecord: true };
      switch (s.status) {
        case 'pending':
          return { ...next, status: 'staging', recEpoch: s.txnEpoch, recTs: s.txnTs, pc: 'StageWritesAndRecordLoop' };
        case 'staging': {
          const restaged: State = { ...next, status: 'staging', recEpoch: s.txnEpoch, recTs: s.txnTs, pc: 'StageWritesAndRecordLoop' };
          return s.recEpoch <= s.txnEpoch && s.recTs < s.txnTs ? restaged : fail(restaged, 'StageRecord: a restaged record moves forward');
        }
        case 'aborted':
          return { ...next, pc: 'EndCommitter' };
        case 'committed':
          return fail({ ...next, pc: 'StageWritesAndRecordLoop' }, 'StageRecord: the record is not committed yet');
      }
    }
    // falls through (unreachable)
    case 'AckClient': {
      const next: State = { ...s, commitAck: true, pc: 'AsyncExplicitlyCommitted' };
      return committed(s) ? next : fail(next, 'AckClient: the transaction is committed');
    }
    case 'AsyncExplicitlyCommitted': {
      const next: State = { ...s, toWrite: allKeys(p), pc: 'AsyncResolveIntents' };
      if (s.status === 'staging') {
        const done: State = { ...next, status: 'committed' };
        return implicitlyCommitted(s) ? done : fail(done, 'AsyncExplicitlyCommitted: a staging record is implicitly committed');
      }
      return s.status === 'committed' ? next : fail(next, 'AsyncExplicitlyCommitted: the record is staging or committed');
    }
    case 'AsyncResolveIntents':
      if (m.move === 'exit') return { ...s, pc: 'EndCommitter' };
      return { ...s, resolved: s.resolved | (1 << k), toWrite: s.toWrite & ~(1 << k) };
    case 'EndCommitter':
      return { ...s, pc: 'Done' };
    case 'Done':
      return s;
  }
}

// ---------------------------------------------------------------- the preventers

/** The key a preventer's step picks (0-based), or -1 for a step that picks none. */
type PreventerMove = number;
const NO_KEY: readonly PreventerMove[] = [-1];
const KEY_LISTS: (readonly PreventerMove[])[] = [];
/** The keys of a bit set, as a list built once per set. */
function keysOf(set: number): readonly PreventerMove[] {
  let l = KEY_LISTS[set];
  if (!l) {
    const out: number[] = [];
    for (let k = 0; (set >>> k) !== 0; k++) if (has(set, k)) out.push(k);
    KEY_LISTS[set] = l = out;
  }
  return l;
}

function preventerMoves(s: State, p: P, i: number): readonly PreventerMove[] {
  switch (s.ppc[i]!) {
    case 'PreventWrites': {
      const left = allKeys(p) & ~s.foundWrites[i]!;
      return left === 0 ? NO_KEY : keysOf(left);
    }
    case 'ResolveIntents':
      return s.toResolve[i] === 0 ? NO_KEY : keysOf(s.toResolve[i]!);
    case 'Done':
      return [];
    default:
      return NO_KEY;
  }
}

const setPpc = (s: State, i: number, pc: PreventerPc): readonly PreventerPc[] => {
  const out = s.ppc.slice();
  out[i] = pc;
  return out;
};

function preventerStep(s: State, p: P, r: Rules, i: number, k: PreventerMove): State {
  switch (s.ppc[i]!) {
    case 'PreventLoop':
      return { ...s, foundWrites: setAt(s.foundWrites, i, 0), ppc: setPpc(s, i, 'PushRecord') };
    case 'PushRecord':
      switch (s.status) {
        case 'pending':
          return { ...s, status: 'aborted', ppc: setPpc(s, i, 'ResolveIntents') };
        case 'staging':
          return { ...s, preventEpoch: setAt(s.preventEpoch, i, s.recEpoch), preventTs: setAt(s.preventTs, i, s.recTs), ppc: setPpc(s, i, 'PreventWrites') };
        default:
          return { ...s, ppc: setPpc(s, i, 'ResolveIntents') };
      }
    case 'PreventWrites': {
      if (k < 0) return { ...s, ppc: setPpc(s, i, 'RecoverRecord') };
      if (queryIntent(s, k, s.preventEpoch[i]!, s.preventTs[i]!)) return { ...s, foundWrites: setAt(s.foundWrites, i, s.foundWrites[i]! | (1 << k)) };
      const ts = s.preventTs[i]!;
      const bump = r.prevent && s.tscache[k]! < ts;
      return { ...s, ...(bump ? { tscache: setAt(s.tscache, k, ts) } : {}), ppc: setPpc(s, i, 'RecoverRecord') };
    }
    case 'RecoverRecord': {
      const toResolve: State = { ...s, ppc: setPpc(s, i, 'ResolveIntents') };
      if (s.foundWrites[i] !== allKeys(p)) {
        // Prevented.
        switch (s.status) {
          case 'aborted':
          case 'committed':
            return toResolve;
          case 'pending':
            return fail(toResolve, 'RecoverRecord: a prevented record is not pending');
          case 'staging': {
            const legalChange = s.recEpoch >= s.preventEpoch[i]! && s.recTs > s.preventTs[i]!;
            if (legalChange && r.retryOnRestage) return { ...s, ppc: setPpc(s, i, 'PreventLoop') };
            return { ...toResolve, status: 'aborted' };
          }
        }
      }
      // Every write found: the transaction was implicitly committed.
      if (s.status === 'pending' || s.status === 'aborted') return fail(toResolve, 'RecoverRecord: a recovered record is staging or committed');
      const same = s.recEpoch === s.preventEpoch[i] && s.recTs === s.preventTs[i];
      const checked = same ? toResolve : fail(toResolve, 'RecoverRecord: the recovered record is the one pushed');
      if (s.status !== 'staging') return checked;
      const done: State = { ...checked, status: 'committed' };
      return implicitlyCommitted(s) ? done : fail(done, 'RecoverRecord: a staging record found whole is implicitly committed');
    }
    case 'ResolveIntents':
      if (k < 0) return { ...s, ppc: setPpc(s, i, 'Done') };
      return { ...s, resolved: s.resolved | (1 << k), toResolve: setAt(s.toResolve, i, s.toResolve[i]! & ~(1 << k)) };
    case 'Done':
      return s;
  }
}

// ---------------------------------------------------------------- the module as one node

function initial(p: P): State {
  if (p.preventers > MAX_PREVENTERS) throw new Error(`parallel-commits-tla models at most ${MAX_PREVENTERS} preventers`);
  const zeros = (n: number) => Array.from({ length: n }, () => 0);
  return {
    status: 'pending',
    recEpoch: 0,
    recTs: 0,
    intentEpoch: zeros(p.keys),
    intentTs: zeros(p.keys),
    resolved: 0,
    tscache: zeros(p.keys),
    commitAck: false,
    pc: 'BeginTxnEpoch',
    pipelined: allKeys(p),
    attempt: 1,
    txnEpoch: 0,
    txnTs: 0,
    toWrite: 0,
    toCheck: 0,
    haveStagingRecord: false,
    ppc: Array.from({ length: p.preventers }, () => 'PreventLoop' as const),
    preventEpoch: zeros(p.preventers),
    preventTs: zeros(p.preventers),
    foundWrites: zeros(p.preventers),
    toResolve: Array.from({ length: p.preventers }, () => allKeys(p)),
    failed: 'none',
  };
}

/** A step, with the cfg's action properties checked on it (see {@link monotonic}). */
function checked(prev: State, s: State): State {
  return monotonic(prev, s) ? s : fail(s, 'temporal: a step moved the record, an intent or the timestamp cache backward');
}

function model(r: Rules) {
  const preventerActions: Record<string, ActionDef<State, unknown, P & Record<string, never>, PreventerMove>> = {};
  for (let i = 0; i < MAX_PREVENTERS; i++) {
    preventerActions[`p${i + 1}`] = {
      fair: 'weak',
      choices: (s, ctx) => (i < s.ppc.length ? preventerMoves(s, ctx.params, i) : []),
      do: (s, _out, ctx, k) => checked(s, preventerStep(s, ctx.params, r, i, k)),
    };
  }
  return spec.role(State)({
    count: 1,
    init: (ctx) => initial(ctx.params),
    actions: {
      // Unfair: the coordinator may stop at any point (its crash).
      committer: {
        choices: (s, ctx) => committerMoves(s, ctx.params),
        do: (s, _out, ctx, m: CommitterMove) => checked(s, committerStep(s, ctx.params, m)),
      },
      ...preventerActions,
    },
  });
}

/** Each step's action properties (the [][...]_v parts of the cfg's temporal properties). */
function monotonic(prev: State, s: State): boolean {
  if (s.recEpoch < prev.recEpoch || s.recTs < prev.recTs) return false;
  if (prev.status === 'committed' && s.status !== 'committed') return false;
  if (prev.status === 'aborted' && s.status !== 'aborted') return false;
  if (committed(prev) && !committed(s)) return false;
  for (let k = 0; k < s.intentEpoch.length; k++) {
    if (s.intentEpoch[k]! < prev.intentEpoch[k]! || s.intentTs[k]! < prev.intentTs[k]! || s.tscache[k]! < prev.tscache[k]!) return false;
  }
  return true;
}

// ---------------------------------------------------------------- properties

const only = (w: WorldReader): State => w.states<State>('model')[0]!;

export default spec.define({
  roles: { model: model(correctRules) },
  properties: (p) => [
    invariant('AckImpliesCommit: an acked transaction is committed', (w) => {
      const s = only(w);
      return !s.commitAck || committed(s);
    }),
    invariant('PlusCal assertions and the action properties hold', (w) => only(w).failed === 'none'),
    invariant('TypeInvariants: epochs, timestamps and the timestamp cache within 0..MAX_ATTEMPTS', (w) => {
      const s = only(w);
      const m = p.maxAttempts;
      if (s.recEpoch > m || s.recTs > m) return false;
      for (let k = 0; k < s.intentEpoch.length; k++) if (s.intentEpoch[k]! > m || s.intentTs[k]! > m || s.tscache[k]! > m) return false;
      return true;
    }),
    eventuallyAlways('RecordFinalized: the record ends committed or aborted', (w) => {
      const st = only(w).status;
      return st === 'committed' || st === 'aborted';
    }),
    eventuallyAlways('every intent is eventually resolved', (w) => only(w).resolved === allKeys(p)),
    leadsTo('ImplicitCommitLeadsToExplicitCommit', (w) => implicitlyCommitted(only(w)), (w) => only(w).status === 'committed'),
    leadsTo('AckLeadsToExplicitCommit', (w) => only(w).commitAck, (w) => only(w).status === 'committed'),
    reachable('the client is acked', (w) => only(w).commitAck),
    reachable('a preventer aborts a staging record', (w) => {
      const s = only(w);
      return s.status === 'aborted' && s.recEpoch > 0;
    }),
    reachable('a preventer commits the record (the committer stopped before)', (w) => {
      const s = only(w);
      return s.status === 'committed' && !s.commitAck;
    }),
    ...(p.maxAttempts >= 2 ? [reachable('the committer refreshes and stages again', (w) => only(w).recTs > only(w).recEpoch)] : []),
  ],
  variants: {
    'recovery-no-prevent': {
      doc: "A preventer that finds an in-flight write missing does not bump the key's timestamp cache: it aborts the STAGING record, and the write then lands at the staged timestamp; the committer finds every write in place and acks a transaction whose record is ABORTED (AckImpliesCommit, and the module's assertion before the ack). Parallel commits' recovery is only safe because a missing write is prevented (the family of cockroach#110185).",
      roles: { model: model({ ...correctRules, prevent: false }) },
    },
    'recovery-ignores-restage': {
      doc: 'Recovery aborts a record it found a write missing for even when the record has moved to a higher timestamp since the push (the committer refreshed past the prevention and staged again, its writes in place at the new timestamp): the record is ABORTED while the transaction is implicitly committed at the new timestamp, or already acked (AckImpliesCommit). The module retries the recovery instead (its legal_change).',
      roles: { model: model({ ...correctRules, retryOnRestage: false }) },
    },
  },
});
