/**
 * Vitess atomic distributed transactions: VTGate over sharded VTTablets (MySQL), in the three
 * transaction modes Single, Multi and TwoPC, with the metadata manager's watchdog, scatter reads,
 * and a global secondary index (a lookup vindex) kept by the same transactions.
 *
 * Sources: Vitess's "Atomic Distributed Transactions" RFC (vitessio/vitess#16245) and its design
 * doc on disruptions (AtomicTransactionsWithDisruptions.md, PR #16553); the code paths
 * go/vt/vtgate/tx_conn.go (commit2PC, commitNormal, rollbackTx, resolveTx),
 * go/vt/vttablet/tabletserver/dt_executor.go (CreateTransaction, Prepare, StartCommit,
 * SetRollback, CommitPrepared, RollbackPrepared, ConcludeTransaction), twopc.go (the dt_state,
 * dt_participant, redo_state and redo_statement tables; Transition only moves out of PREPARE)
 * and tx_engine.go (the watchdog, the prepared pool, redo of prepared transactions on promotion).
 *
 * The algorithm. A client sends a transaction (a list of row writes) to VTGate, which routes each
 * row by its keyspace id (here `k1 mod shards`) to a shard. A transaction on one shard commits
 * there in one local transaction, in every mode. A transaction on several shards:
 * - `mode=single`: rejected (Vitess's Single mode refuses to span shards);
 * - `mode=multi`: best effort: VTGate commits the shards one after the other, in order, and stops
 *   at the first failure; the shards committed before it stay committed;
 * - `mode=twopc` (the protocol): the first shard is the metadata manager (MM). VTGate calls
 *   CreateTransaction on the MM, which records dt_state = PREPARE and the participants
 *   (dt_participant) in a local transaction of its own; then Prepare on every other shard (the
 *   resource managers, RMs), each of which keeps its transaction's connection open in the
 *   prepared pool and writes redo_state/redo_statement, so that the prepared transaction can be
 *   redone after a MySQL restart or a reparent; then StartCommit on the MM, which moves dt_state
 *   to COMMIT inside the MM's own user transaction and commits it: the MM's rows and the decision
 *   become durable in one local commit; then CommitPrepared on every RM (delete the redo log,
 *   commit); then ConcludeTransaction deletes the metadata. A Prepare that fails, or a
 *   StartCommit that certainly failed, makes VTGate roll back: SetRollback on the MM (PREPARE →
 *   ROLLBACK, and the MM's own transaction is rolled back), RollbackPrepared on the RMs, Conclude.
 * - The watchdog: the MM reports each unresolved transaction (its dt_state row) to VTGate, whose
 *   resolver acts on the state it was given: PREPARE → SetRollback (which fails unless the state
 *   is still PREPARE) then RollbackPrepared everywhere; ROLLBACK → RollbackPrepared everywhere;
 *   COMMIT → CommitPrepared everywhere; then Conclude.
 * - A restarted or newly promoted shard primary redoes its prepared transactions from the redo
 *   log before it serves (`redoPrepared`); until then it refuses requests (NOT_SERVING), and a
 *   CommitPrepared must fail rather than report success (PR #16576).
 * - Scatter reads: a `read` goes to every shard and returns, per shard, the transactions whose
 *   writes it has committed. Vitess promises atomicity, not isolation: a read may see a
 *   transaction on one shard and not on another (a goal shows it).
 * - Global secondary index (`workload=gsi`): a base table sharded by its primary key and a lookup
 *   table (Vitess's lookup vindex) sharded by the secondary key; `insert(pk, sk)` writes the row
 *   and the index entry, `delete(pk, sk)` removes both, in one cross-shard transaction.
 *
 * Granularity. Nodes: one VTGate, `shards` shards (each the primary tablet with its MySQL; a
 * crash and restart of a shard stands for a MySQL restart or a reparent to a replica that holds
 * the same durable tables), clients. The execution phase of a transaction is folded into the
 * first message each shard receives (the MM's writes ride on CreateTransaction, an RM's on
 * Prepare, a local commit's on its commit): what matters for atomicity is preserved — the MM's
 * writes stay in an open, volatile transaction until StartCommit, an RM's are durable in its
 * redo log once prepared. Row locks: a write to a row held by another open or prepared
 * transaction on the shard fails at once (MySQL would wait and time out); an insert of an
 * existing row fails; a delete removes the row only if it holds the expected value. Durable per
 * shard: committed rows, the committed and rolled-back transaction ids, dt_state/dt_participant,
 * the redo log; volatile: open transactions and whether the prepared pool is rebuilt. VTGate is
 * stateless (nothing durable). The watchdog may fire at any time (no abandon age: the most
 * adversarial timing). VTGate may give up on a session once its Prepares went out (an RPC
 * deadline, the application gone: `abandon`), leaving it to the watchdog, and its resolver may
 * give up on a resolution whose replies do not come (`dropResolution`). Transaction ids
 * (dtids) are the client and request ids; a shard remembers the ids it rolled back, so a Prepare
 * that arrives after the rollback fails (Vitess relies on the abandon age and the transaction
 * killer here).
 *
 * Not modeled: replication inside a shard (semi-sync is assumed, as Vitess requires for TwoPC),
 * reads inside transactions, lock waits and their timeouts (a conflict fails at once), pre and
 * post sessions, the transaction killer, VTGate retries of a whole transaction, multiple VTGates,
 * resharding. The liveness side ("a prepared participant eventually decides") waits for the
 * liveness issue; blocking is shown as a reachable state.
 */
import { add, del, has, invariant, protocol, put, reachable, t, unreachable, type Ctx, type NodeId, type ParamsOf, type Out, type WorldReader } from '../core/index.ts';

// ---------------------------------------------------------------- params

const params = {
  shards: { default: 2, min: 1, max: 255 },
  clients: { default: 1, min: 0, max: 255 },
  opsPerClient: { default: 1, min: 0, max: 2 ** 20 },
  /** Vitess's transaction mode: single, multi or twopc. */
  mode: { default: 'twopc' as string, oneOf: ['single', 'multi', 'twopc'] },
  /** What the clients run: `txn` (row writes and scatter reads) or `gsi` (rows with a global secondary index). */
  workload: { default: 'txn' as string, oneOf: ['txn', 'gsi'] },
  /** `txn` workload: also offer a single-shard transaction. */
  singleShard: true,
  /** `txn` workload: also offer a scatter read. */
  reads: false,
  /** The MM's watchdog runs (false: nothing resolves an abandoned transaction). */
  watchdog: true,
};
type P = ParamsOf<typeof params>;

// ---------------------------------------------------------------- rows, operations, messages

/**
 * One row write. `row` is the base table (keyspace id `k1`, the primary key); `lookup` is the
 * index table (keyspace id `k1` = the secondary key, `k2` = the primary key it points to).
 */
const Write = t.struct({
  table: t.enum('row', 'lookup'),
  k1: t.u32,
  k2: t.u32,
  op: t.enum('put', 'insert', 'delete'),
  value: t.u32,
});
type Write = typeof Write.__type;

const Op = t.union('kind', {
  txn: { writes: t.array(Write) },
  read: {},
});
type Op = typeof Op.__type;

/** What a scatter read saw: transaction `dtid` is committed on shard number `shard`. */
const Seen = t.struct({ shard: t.u32, dtid: t.string });
type Seen = typeof Seen.__type;

const Result = t.union('kind', {
  committed: {},
  aborted: {},
  /** Single mode: a transaction that spans shards. */
  rejected: {},
  /** The commit decision is durable but a CommitPrepared failed: the watchdog finishes it. */
  recovering: {},
  /** VTGate gave up waiting: the outcome is left to the watchdog. */
  unknown: {},
  read: { seen: t.set(Seen) },
});
type Result = typeof Result.__type;

/** The RPC an acknowledgement answers. */
const Step = t.enum('commitLocal', 'create', 'prepare', 'startCommit', 'setRollback', 'rollbackPrepared', 'commitPrepared');
type Step = typeof Step.__type;
/** Who asked: the session committing the transaction, or the resolver acting for the watchdog. */
const By = t.enum('session', 'resolver');
type By = typeof By.__type;
/** dt_state. */
const DtState = t.enum('prepare', 'commit', 'rollback');

const Msg = t.union('kind', {
  /** A single-shard transaction (and each step of Multi mode): execute and commit locally. */
  commitLocal: { dtid: t.string, writes: t.array(Write) },
  /** To the MM: its own writes (an open transaction) and the dt_state/dt_participant record. */
  createTransaction: { dtid: t.string, rms: t.set(t.node('shard')), writes: t.array(Write) },
  /** To an RM: execute and prepare (prepared pool + redo log). */
  prepare: { dtid: t.string, writes: t.array(Write) },
  startCommit: { dtid: t.string },
  setRollback: { dtid: t.string, by: By },
  rollbackPrepared: { dtid: t.string, by: By },
  commitPrepared: { dtid: t.string, by: By },
  conclude: { dtid: t.string },
  read: { rid: t.string },
  /** The async-index variant only: index writes applied after the base transaction committed. */
  asyncWrite: { writes: t.array(Write) },
  ack: { dtid: t.string, step: Step, by: By, ok: t.bool },
  readReply: { rid: t.string, committed: t.set(t.string) },
  /** The watchdog: an unresolved transaction and its recorded state. */
  resolve: { dtid: t.string, state: DtState, rms: t.set(t.node('shard')) },
});
type Msg = typeof Msg.__type;

// ---------------------------------------------------------------- state

/** dt_state + dt_participant of one distributed transaction, on its MM. */
const DtRecord = t.struct({ state: DtState, rms: t.set(t.node('shard')) });

const Shard = t.struct({
  /** Committed rows: cell key → value (durable). */
  data: t.map(t.string, t.u32),
  /** Transactions whose writes this shard committed (durable). */
  committed: t.set(t.string),
  /** Transactions this shard rolled back or refused (durable; a late Prepare of one fails). */
  aborted: t.set(t.string),
  /** dt_state and dt_participant: the distributed transactions this shard is the MM of (durable). */
  dt: t.map(t.string, DtRecord),
  /** redo_state/redo_statement: prepared transactions and their writes (durable). */
  redo: t.map(t.string, t.array(Write)),
  /** Open transactions (the MM's own writes before StartCommit): lost on a crash. */
  open: t.map(t.string, t.array(Write)),
  /** The prepared pool has been rebuilt from the redo log since the last restart (volatile). */
  ready: t.bool,
});
type Shard = typeof Shard.__type;

const Session = t.struct({
  phase: t.enum('local', 'multi', 'create', 'prepare', 'startCommit', 'commitPrepared', 'rollback'),
  client: t.node('client'),
  id: t.u32,
  /** The participants in order; the first is the MM. */
  shards: t.array(t.node('shard')),
  writes: t.array(Write),
  /** The async-index variant: index writes to apply once the base transaction committed. */
  later: t.array(Write),
  acks: t.set(t.node('shard')),
});
type Session = typeof Session.__type;

const Resolution = t.struct({
  phase: t.enum('setRollback', 'rollback', 'commit'),
  mm: t.node('shard'),
  rms: t.set(t.node('shard')),
  acks: t.set(t.node('shard')),
});
type Resolution = typeof Resolution.__type;

const ReadState = t.struct({ client: t.node('client'), id: t.u32, waiting: t.set(t.node('shard')), seen: t.set(Seen) });

const Vtgate = t.struct({
  /**
   * Client requests already taken (a model device: a request reaches VTGate once, over its
   * connection; under the set network a message could otherwise be delivered again).
   */
  served: t.set(t.string),
  sessions: t.map(t.string, Session),
  resolving: t.map(t.string, Resolution),
  reads: t.map(t.string, ReadState),
});
type Vtgate = typeof Vtgate.__type;

const spec = protocol({
  name: 'vitess',
  doc: 'Vitess atomic distributed transactions: VTGate, an MM with dt_state, RMs with a redo log, the watchdog; Single/Multi/TwoPC; scatter reads; a global secondary index.',
  params,
  messages: Msg,
  client: { op: Op, result: Result },
});

// ---------------------------------------------------------------- rules (the broken variants flip one)

/** What a VTGate may get wrong. */
interface GateRules {
  /** Send CommitPrepared with StartCommit, before the MM's decision is durable. */
  commitBeforeDecision: boolean;
  /** Apply index (lookup) writes after the base transaction committed, outside it. */
  asyncIndex: boolean;
}

/** What a shard may get wrong. */
interface ShardRules {
  /** CommitPrepared while the prepared pool is not rebuilt: `true` reports success (PR #16576's bug). */
  commitPreparedOkWhenNotServing: boolean;
  /** SetRollback moves dt_state to ROLLBACK only from PREPARE (twopc.go's Transition). */
  rollbackOnlyFromPrepare: boolean;
}

const correctGate: GateRules = { commitBeforeDecision: false, asyncIndex: false };
const correctShard: ShardRules = { commitPreparedOkWhenNotServing: false, rollbackOnlyFromPrepare: true };

// ---------------------------------------------------------------- rows and routing

/** The key of a written cell in a shard's `data`. */
export function cellKey(w: Write): string {
  return w.table === 'row' ? `r${w.k1}` : `l${w.k1}.${w.k2}`;
}

/** The shard a write is routed to (by its keyspace id). */
function shardOf(w: Write, shards: readonly NodeId[]): NodeId {
  return shards[w.k1 % shards.length]!;
}

/** The participants of `writes`, in order of first appearance (the first is the MM). */
export function participants(writes: readonly Write[], shards: readonly NodeId[]): NodeId[] {
  const out: NodeId[] = [];
  for (const w of writes) {
    const s = shardOf(w, shards);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function writesFor(writes: readonly Write[], shard: NodeId, shards: readonly NodeId[]): Write[] {
  return writes.filter((w) => shardOf(w, shards) === shard);
}

const sameCell = (a: Write, b: Write): boolean => a.table === b.table && a.k1 === b.k1 && a.k2 === b.k2;

/** Whether `writes` can execute on shard `s` now: no row locked by another transaction, no duplicate insert. */
function canExecute(s: Shard, dtid: string, writes: readonly Write[]): boolean {
  for (const w of writes) {
    if (w.op === 'insert' && s.data.has(cellKey(w))) return false;
    for (const [other, ws] of s.open) if (other !== dtid && ws.some((x) => sameCell(x, w))) return false;
    for (const [other, ws] of s.redo) if (other !== dtid && ws.some((x) => sameCell(x, w))) return false;
  }
  return true;
}

/** The committed rows after `writes`. */
export function applyWrites(data: ReadonlyMap<string, number>, writes: readonly Write[]): ReadonlyMap<string, number> {
  let out = data;
  for (const w of writes) {
    const k = cellKey(w);
    if (w.op === 'delete') {
      if (out.get(k) === w.value) out = del(out, k);
    } else {
      out = put(out, k, w.value);
    }
  }
  return out;
}

/** The shard serves: its prepared pool is rebuilt (or it has nothing to redo). */
const serving = (s: Shard): boolean => s.ready || s.redo.size === 0;

const finished = (s: Shard, dtid: string): boolean => has(s.committed, dtid) || has(s.aborted, dtid);

/** The dtid of a client request. */
export const dtidOf = (client: NodeId, id: number): string => `${client}:${id}`;

// ---------------------------------------------------------------- the shard (VTTablet + MySQL)

function shard(rules: ShardRules) {
  const ack = (dtid: string, step: Step, ok: boolean, by: By = 'session'): Msg => ({ kind: 'ack', dtid, step, by, ok });
  const refuse = (s: Shard, dtid: string): Shard => (has(s.aborted, dtid) ? s : { ...s, aborted: add(s.aborted, dtid) });
  const markAborted = (s: Shard, dtid: string): readonly string[] => (has(s.committed, dtid) ? s.aborted : add(s.aborted, dtid));

  return spec.role(Shard)({
    count: (p) => p.shards,
    durable: ['data', 'committed', 'aborted', 'dt', 'redo'],
    init: () => ({ data: new Map(), committed: [], aborted: [], dt: new Map(), redo: new Map(), open: new Map(), ready: false }),
    onMessage: (s, from, m, out) => {
      switch (m.kind) {
        case 'commitLocal': {
          if (has(s.aborted, m.dtid)) return out.send(from, ack(m.dtid, 'commitLocal', false)), s;
          if (has(s.committed, m.dtid)) return s;
          if (!serving(s) || !canExecute(s, m.dtid, m.writes)) return out.send(from, ack(m.dtid, 'commitLocal', false)), refuse(s, m.dtid);
          out.send(from, ack(m.dtid, 'commitLocal', true));
          return { ...s, data: applyWrites(s.data, m.writes), committed: add(s.committed, m.dtid) };
        }
        case 'createTransaction': {
          if (has(s.aborted, m.dtid)) return out.send(from, ack(m.dtid, 'create', false)), s;
          if (has(s.committed, m.dtid) || s.dt.has(m.dtid) || s.open.has(m.dtid)) return s; // a duplicate
          if (!serving(s) || !canExecute(s, m.dtid, m.writes)) return out.send(from, ack(m.dtid, 'create', false)), refuse(s, m.dtid);
          out.send(from, ack(m.dtid, 'create', true));
          return { ...s, open: put(s.open, m.dtid, m.writes), dt: put(s.dt, m.dtid, { state: 'prepare', rms: m.rms }) };
        }
        case 'prepare': {
          if (has(s.aborted, m.dtid)) return out.send(from, ack(m.dtid, 'prepare', false)), s;
          if (has(s.committed, m.dtid) || s.redo.has(m.dtid)) return s; // a duplicate
          if (!serving(s) || !canExecute(s, m.dtid, m.writes)) return out.send(from, ack(m.dtid, 'prepare', false)), refuse(s, m.dtid);
          out.send(from, ack(m.dtid, 'prepare', true));
          return { ...s, redo: put(s.redo, m.dtid, m.writes), ready: true };
        }
        case 'startCommit': {
          // Transition PREPARE → COMMIT inside the MM's own transaction, then commit it: the rows
          // and the decision are durable together.
          const rec = s.dt.get(m.dtid);
          const writes = s.open.get(m.dtid);
          if (rec?.state === 'commit') return s; // a duplicate
          if (!serving(s) || rec?.state !== 'prepare' || writes === undefined) return out.send(from, ack(m.dtid, 'startCommit', false)), s;
          out.send(from, ack(m.dtid, 'startCommit', true));
          return {
            ...s, data: applyWrites(s.data, writes), committed: add(s.committed, m.dtid), open: del(s.open, m.dtid),
            dt: put(s.dt, m.dtid, { ...rec, state: 'commit' }),
          };
        }
        case 'setRollback': {
          const rec = s.dt.get(m.dtid);
          if (!serving(s) || rec === undefined || (rules.rollbackOnlyFromPrepare && rec.state !== 'prepare')) {
            return out.send(from, ack(m.dtid, 'setRollback', false, m.by)), s;
          }
          out.send(from, ack(m.dtid, 'setRollback', true, m.by));
          // The MM's own transaction is rolled back with it (if it is still open: a crash lost it otherwise).
          return { ...s, dt: put(s.dt, m.dtid, { ...rec, state: 'rollback' }), open: del(s.open, m.dtid), aborted: markAborted(s, m.dtid) };
        }
        case 'rollbackPrepared': {
          if (!serving(s)) return out.send(from, ack(m.dtid, 'rollbackPrepared', false, m.by)), s;
          out.send(from, ack(m.dtid, 'rollbackPrepared', true, m.by));
          const aborted = markAborted(s, m.dtid);
          return !s.redo.has(m.dtid) && aborted === s.aborted ? s : { ...s, redo: del(s.redo, m.dtid), aborted };
        }
        case 'commitPrepared': {
          if (!serving(s)) return out.send(from, ack(m.dtid, 'commitPrepared', rules.commitPreparedOkWhenNotServing, m.by)), s;
          const writes = s.redo.get(m.dtid);
          out.send(from, ack(m.dtid, 'commitPrepared', true, m.by));
          // No prepared connection for the dtid: it was committed already (dt_executor.go).
          if (writes === undefined) return s;
          return { ...s, data: applyWrites(s.data, writes), committed: add(s.committed, m.dtid), redo: del(s.redo, m.dtid) };
        }
        case 'conclude':
          return serving(s) && s.dt.has(m.dtid) ? { ...s, dt: del(s.dt, m.dtid) } : s;
        case 'read':
          out.send(from, { kind: 'readReply', rid: m.rid, committed: s.committed });
          return s;
        case 'asyncWrite':
          return { ...s, data: applyWrites(s.data, m.writes) };
        case 'ack':
        case 'readReply':
        case 'resolve':
          return s;
        default:
          return unreachable(m);
      }
    },
    actions: {
      /**
       * The watchdog: report an unresolved distributed transaction (and its recorded state) to
       * VTGate's resolver. No abandon age in the model: it may fire at any time.
       */
      watchdog: {
        choices: (s) => [...s.dt.keys()],
        when: (s, ctx) => ctx.params.watchdog && serving(s),
        do: (s, out, ctx, dtid: string) => {
          const rec = s.dt.get(dtid)!;
          out.send(ctx.nodes('vtgate')[0]!, { kind: 'resolve', dtid, state: rec.state, rms: rec.rms });
          return s;
        },
        // Executor: the abandon age (Vitess's default is 15 minutes; short here, well above a commit's round trips).
        timerMs: [300, 500],
      },
      /** After a restart (or a reparent), redo the prepared transactions from the redo log before serving. */
      redoPrepared: {
        when: (s) => !s.ready && s.redo.size > 0,
        do: (s) => ({ ...s, ready: true }),
        // Executor: a promotion takes a while (the tablet is NOT_SERVING meanwhile).
        timerMs: [100, 150],
      },
    },
  });
}

// ---------------------------------------------------------------- VTGate

function vtgate(rules: GateRules) {
  const mode = (ctx: Ctx<P>): 'single' | 'multi' | 'twopc' => {
    const m = ctx.params.mode;
    if (m !== 'single' && m !== 'multi' && m !== 'twopc') throw new Error(`param mode must be single, multi or twopc, got '${m}'`);
    return m;
  };
  const ref = (x: { client: NodeId; id: number }) => ({ client: x.client, id: x.id });

  /** Rollback of a 2PC transaction by its session (tx_conn.go rollbackTx): SetRollback on the MM, RollbackPrepared on the RMs. */
  const rollbackTx = (s: Vtgate, dtid: string, x: Session, out: Out<Msg, Result>): Vtgate => {
    out.send(x.shards[0]!, { kind: 'setRollback', dtid, by: 'session' });
    for (const rm of x.shards.slice(1)) out.send(rm, { kind: 'rollbackPrepared', dtid, by: 'session' });
    return { ...s, sessions: put(s.sessions, dtid, { ...x, phase: 'rollback', acks: [] }) };
  };

  const finish = (s: Vtgate, dtid: string, x: Session, result: Result, out: Out<Msg, Result>): Vtgate => {
    out.reply(result, ref(x));
    return { ...s, sessions: del(s.sessions, dtid) };
  };

  /** A session's acknowledgement. */
  const onSession = (s: Vtgate, from: NodeId, m: Extract<Msg, { kind: 'ack' }>, out: Out<Msg, Result>, ctx: Ctx<P>): Vtgate => {
    const x = s.sessions.get(m.dtid);
    if (x === undefined) return s;
    const all = ctx.nodes('shard');
    const mm = x.shards[0]!;
    const rms = x.shards.slice(1);
    switch (x.phase) {
      case 'local': {
        if (m.step !== 'commitLocal') return s;
        if (m.ok && rules.asyncIndex) {
          // The index is brought up to date after the base commit, outside the transaction.
          for (const shardId of participants(x.later, all)) out.send(shardId, { kind: 'asyncWrite', writes: writesFor(x.later, shardId, all) });
        }
        return finish(s, m.dtid, x, m.ok ? { kind: 'committed' } : { kind: 'aborted' }, out);
      }
      case 'multi': {
        const next = x.shards[x.acks.length];
        if (m.step !== 'commitLocal' || from !== next) return s;
        // A failure stops the commits; the shards committed before stay committed (the non-atomic warning).
        if (!m.ok) return finish(s, m.dtid, x, { kind: 'aborted' }, out);
        const acks = add(x.acks, from);
        if (acks.length === x.shards.length) return finish(s, m.dtid, x, { kind: 'committed' }, out);
        const to = x.shards[acks.length]!;
        out.send(to, { kind: 'commitLocal', dtid: m.dtid, writes: writesFor(x.writes, to, all) });
        return { ...s, sessions: put(s.sessions, m.dtid, { ...x, acks }) };
      }
      case 'create': {
        if (m.step !== 'create') return s;
        if (!m.ok) return finish(s, m.dtid, x, { kind: 'aborted' }, out); // nothing prepared yet
        for (const rm of rms) out.send(rm, { kind: 'prepare', dtid: m.dtid, writes: writesFor(x.writes, rm, all) });
        return { ...s, sessions: put(s.sessions, m.dtid, { ...x, phase: 'prepare', acks: [] }) };
      }
      case 'prepare': {
        if (m.step !== 'prepare' || x.acks.includes(from)) return s;
        if (!m.ok) return rollbackTx(s, m.dtid, x, out);
        const acks = add(x.acks, from);
        if (acks.length < rms.length) return { ...s, sessions: put(s.sessions, m.dtid, { ...x, acks }) };
        out.send(mm, { kind: 'startCommit', dtid: m.dtid });
        if (rules.commitBeforeDecision) {
          for (const rm of rms) out.send(rm, { kind: 'commitPrepared', dtid: m.dtid, by: 'session' });
          return { ...s, sessions: put(s.sessions, m.dtid, { ...x, phase: 'commitPrepared', acks: [] }) };
        }
        return { ...s, sessions: put(s.sessions, m.dtid, { ...x, phase: 'startCommit', acks: [] }) };
      }
      case 'startCommit': {
        if (m.step !== 'startCommit') return s;
        // A certain failure: the decision can only be ROLLBACK (tx_conn.go: StartCommitState_Fail).
        if (!m.ok) return rollbackTx(s, m.dtid, x, out);
        for (const rm of rms) out.send(rm, { kind: 'commitPrepared', dtid: m.dtid, by: 'session' });
        return { ...s, sessions: put(s.sessions, m.dtid, { ...x, phase: 'commitPrepared', acks: [] }) };
      }
      case 'commitPrepared': {
        if (m.step !== 'commitPrepared' || x.acks.includes(from)) return s;
        // The decision is COMMIT: a failed CommitPrepared is left to the watchdog.
        if (!m.ok) return finish(s, m.dtid, x, { kind: 'recovering' }, out);
        const acks = add(x.acks, from);
        if (acks.length < rms.length) return { ...s, sessions: put(s.sessions, m.dtid, { ...x, acks }) };
        out.send(mm, { kind: 'conclude', dtid: m.dtid });
        return finish(s, m.dtid, x, { kind: 'committed' }, out);
      }
      case 'rollback': {
        if ((m.step !== 'setRollback' && m.step !== 'rollbackPrepared') || x.acks.includes(from)) return s;
        const acks = add(x.acks, from);
        if (acks.length < x.shards.length) return { ...s, sessions: put(s.sessions, m.dtid, { ...x, acks }) };
        out.send(mm, { kind: 'conclude', dtid: m.dtid });
        return finish(s, m.dtid, x, { kind: 'aborted' }, out);
      }
      default:
        return unreachable(x.phase);
    }
  };

  /** The resolver's acknowledgement (tx_conn.go resolveTx / resumeRollback / resumeCommit). */
  const onResolver = (s: Vtgate, from: NodeId, m: Extract<Msg, { kind: 'ack' }>, out: Out<Msg, Result>): Vtgate => {
    const r = s.resolving.get(m.dtid);
    if (r === undefined) return s;
    const drop = { ...s, resolving: del(s.resolving, m.dtid) };
    if (r.phase === 'setRollback') {
      if (m.step !== 'setRollback') return s;
      if (!m.ok) return drop; // no longer PREPARE: the watchdog reports it again with its new state
      for (const rm of r.rms) out.send(rm, { kind: 'rollbackPrepared', dtid: m.dtid, by: 'resolver' });
      return { ...s, resolving: put(s.resolving, m.dtid, { ...r, phase: 'rollback' }) };
    }
    if (m.step !== (r.phase === 'rollback' ? 'rollbackPrepared' : 'commitPrepared') || r.acks.includes(from)) return s;
    if (!m.ok) return drop;
    const acks = add(r.acks, from);
    if (acks.length < r.rms.length) return { ...s, resolving: put(s.resolving, m.dtid, { ...r, acks }) };
    out.send(r.mm, { kind: 'conclude', dtid: m.dtid });
    return drop;
  };

  return spec.role(Vtgate)({
    count: 1,
    durable: ['served'],
    init: () => ({ served: [], sessions: new Map(), resolving: new Map(), reads: new Map() }),
    onRequest: (s, req, out, ctx) => {
      const dtid = dtidOf(req.client, req.id);
      if (has(s.served, dtid)) return s; // a duplicate delivery
      s = { ...s, served: add(s.served, dtid) };
      const all = ctx.nodes('shard');
      const op = req.op;
      if (op.kind === 'read') {
        for (const shardId of all) out.send(shardId, { kind: 'read', rid: dtid });
        return { ...s, reads: put(s.reads, dtid, { client: req.client, id: req.id, waiting: all, seen: [] }) };
      }
      const writes = rules.asyncIndex ? op.writes.filter((w) => w.table === 'row') : op.writes;
      const later = rules.asyncIndex ? op.writes.filter((w) => w.table === 'lookup') : [];
      const shards = participants(writes, all);
      if (shards.length === 0) {
        out.reply({ kind: 'committed' });
        return s;
      }
      const session = (phase: Session['phase']): Vtgate => ({
        ...s, sessions: put(s.sessions, dtid, { phase, client: req.client, id: req.id, shards, writes, later, acks: [] }),
      });
      const mm = shards[0]!;
      if (shards.length === 1) {
        out.send(mm, { kind: 'commitLocal', dtid, writes });
        return session('local');
      }
      switch (mode(ctx)) {
        case 'single':
          out.reply({ kind: 'rejected' });
          return s;
        case 'multi':
          out.send(mm, { kind: 'commitLocal', dtid, writes: writesFor(writes, mm, all) });
          return session('multi');
        case 'twopc':
          out.send(mm, { kind: 'createTransaction', dtid, rms: shards.slice(1), writes: writesFor(writes, mm, all) });
          return session('create');
      }
    },
    onMessage: (s, from, m, out, ctx) => {
      switch (m.kind) {
        case 'ack':
          return m.by === 'session' ? onSession(s, from, m, out, ctx) : onResolver(s, from, m, out);
        case 'readReply': {
          const r = s.reads.get(m.rid);
          if (r === undefined || !r.waiting.includes(from)) return s;
          const index = ctx.nodes('shard').indexOf(from);
          let seen = r.seen;
          for (const dtid of m.committed) seen = add(seen, { shard: index, dtid });
          const waiting = r.waiting.filter((x) => x !== from);
          if (waiting.length > 0) return { ...s, reads: put(s.reads, m.rid, { ...r, waiting, seen }) };
          out.reply({ kind: 'read', seen }, ref(r));
          return { ...s, reads: del(s.reads, m.rid) };
        }
        case 'resolve': {
          if (s.resolving.has(m.dtid)) return s;
          const start = (phase: Resolution['phase']): Vtgate => ({ ...s, resolving: put(s.resolving, m.dtid, { phase, mm: from, rms: m.rms, acks: [] }) });
          switch (m.state) {
            case 'prepare':
              out.send(from, { kind: 'setRollback', dtid: m.dtid, by: 'resolver' });
              return start('setRollback');
            case 'rollback':
              for (const rm of m.rms) out.send(rm, { kind: 'rollbackPrepared', dtid: m.dtid, by: 'resolver' });
              return start('rollback');
            case 'commit':
              for (const rm of m.rms) out.send(rm, { kind: 'commitPrepared', dtid: m.dtid, by: 'resolver' });
              return start('commit');
            default:
              return unreachable(m.state);
          }
        }
        case 'commitLocal': case 'createTransaction': case 'prepare': case 'startCommit': case 'setRollback':
        case 'rollbackPrepared': case 'commitPrepared': case 'conclude': case 'read': case 'asyncWrite':
          return s;
        default:
          return unreachable(m);
      }
    },
    actions: {
      /**
       * VTGate gives up on a 2PC session once its Prepares went out (an RPC deadline, the
       * application gone): the client hears `unknown` and the watchdog decides.
       */
      abandon: {
        choices: (s) => [...s.sessions.keys()].filter((d) => s.sessions.get(d)!.phase !== 'local' && s.sessions.get(d)!.phase !== 'multi' && s.sessions.get(d)!.phase !== 'create'),
        do: (s, out, _ctx, dtid: string) => finish(s, dtid, s.sessions.get(dtid)!, { kind: 'unknown' }, out),
        timerMs: [2000, 2000],
      },
      /**
       * The resolver gives up on a resolution whose replies do not come (a shard crashed, the RPC
       * timed out); the watchdog reports the transaction again.
       */
      dropResolution: {
        choices: (s) => [...s.resolving.keys()],
        do: (s, _out, _ctx, dtid: string) => ({ ...s, resolving: del(s.resolving, dtid) }),
        timerMs: [1000, 1000],
      },
    },
  });
}

// ---------------------------------------------------------------- workloads

const row = (k: number, op: Write['op'], value: number): Write => ({ table: 'row', k1: k, k2: 0, op, value });
const lookup = (sk: number, pk: number, op: Write['op']): Write => ({ table: 'lookup', k1: sk, k2: pk, op, value: 1 });

/** `gsi` workload: insert(pk, sk) writes the row (value sk + 1) and its index entry; delete removes both. */
export const gsiInsert = (pk: number, sk: number): Op => ({ kind: 'txn', writes: [row(pk, 'insert', sk + 1), lookup(sk, pk, 'insert')] });
export const gsiDelete = (pk: number, sk: number): Op => ({ kind: 'txn', writes: [row(pk, 'delete', sk + 1), lookup(sk, pk, 'delete')] });
/** `txn` workload: a transaction that writes rows `keys` (value 1). */
export const txnOp = (...keys: number[]): Op => ({ kind: 'txn', writes: keys.map((k) => row(k, 'put', 1)) });

function ops(p: P): Op[] {
  if (p.workload === 'gsi') return [gsiInsert(0, 1), gsiDelete(0, 1)];
  if (p.workload !== 'txn') throw new Error(`param workload must be txn or gsi, got '${p.workload}'`);
  const list: Op[] = [txnOp(0, 1)];
  if (p.singleShard) list.push(txnOp(0));
  if (p.reads) list.push({ kind: 'read' });
  return list;
}

// ---------------------------------------------------------------- properties

interface TxnInfo {
  /** The shards the transaction commits atomically (the first is its MM). */
  shards: NodeId[];
}

/** The transactions the clients invoked, by dtid, with the shards VTGate runs them on. */
function transactions(w: WorldReader, rules: GateRules): Map<string, TxnInfo> {
  const all = w.nodes('shard');
  const out = new Map<string, TxnInfo>();
  for (const e of w.history()) {
    if (e.kind !== 'invoke') continue;
    const op = e.op as Op;
    if (op.kind !== 'txn') continue;
    const writes = rules.asyncIndex ? op.writes.filter((x) => x.table === 'row') : op.writes;
    out.set(dtidOf(e.client, e.id), { shards: participants(writes, all) });
  }
  return out;
}

/** No transaction is committed on one shard and rolled back on another. */
const atomicAgreement = invariant('atomic commit: no transaction is committed on one shard and rolled back on another', (w: WorldReader) => {
  const shards = w.states<Shard>('shard');
  for (const a of shards) for (const dtid of a.committed) for (const b of shards) if (has(b.aborted, dtid)) return false;
  return true;
});

/**
 * None half-committed once resolved: a transaction committed on some shard is committed on every
 * shard it spans, or its COMMIT decision is recorded on its MM and each shard that lacks it still
 * holds it prepared (so the watchdog can finish it).
 */
function noHalfCommit(rules: GateRules) {
  return invariant('no half-committed transaction: committed somewhere ⇒ committed everywhere, or COMMIT recorded on the MM and still prepared where missing', (w: WorldReader) => {
    const byId = new Map<NodeId, Shard>();
    for (const id of w.nodes('shard')) byId.set(id, w.node<Shard>(id));
    const committedSomewhere = new Set<string>();
    for (const s of byId.values()) for (const d of s.committed) committedSomewhere.add(d);
    if (committedSomewhere.size === 0) return true;
    const txns = transactions(w, rules);
    for (const dtid of committedSomewhere) {
      const info = txns.get(dtid);
      if (info === undefined) continue;
      const decided = byId.get(info.shards[0]!)!.dt.get(dtid)?.state === 'commit';
      for (const p of info.shards) {
        const s = byId.get(p)!;
        if (has(s.committed, dtid)) continue;
        if (!decided || !s.redo.has(dtid)) return false;
      }
    }
    return true;
  });
}

/**
 * The global secondary index agrees with the base table at every committed snapshot: whenever no
 * distributed transaction is in flight (no dt_state row, no prepared transaction on any shard),
 * every row has its index entry and every index entry points to a row with that key.
 */
const gsiConsistent = invariant('global index: at every committed snapshot each row has its index entry and no entry dangles', (w: WorldReader) => {
  const shards = w.states<Shard>('shard');
  for (const s of shards) if (s.dt.size > 0 || s.redo.size > 0) return true; // a 2PC in flight: not a committed snapshot
  const rows = new Set<string>();
  const entries = new Set<string>();
  for (const s of shards) {
    for (const [k, v] of s.data) {
      if (k.startsWith('r')) rows.add(`${v - 1}.${k.slice(1)}`);
      else entries.add(k.slice(1));
    }
  }
  if (rows.size !== entries.size) return false;
  for (const r of rows) if (!entries.has(r)) return false;
  return true;
});

function vitessProperties(p: P, rules: GateRules) {
  const multiShard = (w: WorldReader, test: (dtid: string, info: TxnInfo) => boolean): boolean => {
    for (const [dtid, info] of transactions(w, rules)) if (info.shards.length > 1 && test(dtid, info)) return true;
    return false;
  };
  const node = (w: WorldReader, id: NodeId) => w.node<Shard>(id);
  const props = [
    atomicAgreement,
    noHalfCommit(rules),
    ...(p.workload === 'gsi' ? [gsiConsistent] : []),
    reachable('a multi-shard transaction commits on every shard', (w: WorldReader) =>
      multiShard(w, (dtid, info) => info.shards.every((id) => has(node(w, id).committed, dtid)))),
    reachable('a multi-shard transaction is rolled back on its MM', (w: WorldReader) =>
      multiShard(w, (dtid, info) => has(node(w, info.shards[0]!).aborted, dtid))),
    reachable('blocking: a shard holds a prepared transaction that no VTGate session drives (only the watchdog can end it)', (w: WorldReader) => {
      const gate = w.nodes('vtgate')[0]!;
      const g = w.node<Vtgate>(gate);
      return multiShard(w, (dtid, info) =>
        node(w, info.shards[0]!).dt.get(dtid)?.state === 'prepare' && info.shards.slice(1).some((id) => node(w, id).redo.has(dtid)) &&
        !g.sessions.has(dtid) && !g.resolving.has(dtid));
    }),
  ];
  if (p.workload === 'txn' && p.reads) {
    props.push(reachable('a scatter read sees a partially committed transaction (atomicity, not isolation)', (w: WorldReader) => {
      const txns = transactions(w, rules);
      for (const e of w.history()) {
        if (e.kind !== 'return') continue;
        const r = e.result as Result;
        if (r.kind !== 'read') continue;
        for (const s of r.seen) {
          const info = txns.get(s.dtid);
          const all = w.nodes('shard');
          if (info && info.shards.some((id) => !r.seen.some((x) => x.dtid === s.dtid && x.shard === all.indexOf(id)))) return true;
        }
      }
      return false;
    }));
  }
  if (p.workload === 'txn' && p.singleShard) {
    props.push(reachable('a single-shard transaction commits locally', (w: WorldReader) => {
      for (const [dtid, info] of transactions(w, rules)) if (info.shards.length === 1 && has(node(w, info.shards[0]!).committed, dtid)) return true;
      return false;
    }));
  }
  if (p.workload === 'gsi') {
    props.push(reachable('a row and its index entry are committed', (w: WorldReader) =>
      w.any<Shard>('shard', (s) => [...s.data.keys()].some((k) => k.startsWith('l')))));
  }
  return props;
}

// ---------------------------------------------------------------- the protocol

export default spec.define({
  roles: { vtgate: vtgate(correctGate), shard: shard(correctShard) },
  clients: {
    count: (p) => p.clients,
    target: 'vtgate',
    ops,
    opsPerClient: (p) => p.opsPerClient,
  },
  properties: (p) => vitessProperties(p, correctGate),
  variants: {
    'commit-prepared-after-reparent': {
      doc: 'CommitPrepared on a shard whose prepared pool is empty because of a restart or reparent (the redo has not run yet) reports success, as if the transaction had been committed already: VTGate concludes, and the shard later redoes a prepared transaction that nobody will commit (Vitess PR #16576: an empty pool after DemotePrimary returned success → a non-atomic commit).',
      expose: { params: { singleShard: false }, options: { crashes: 1 } },
      roles: { shard: shard({ ...correctShard, commitPreparedOkWhenNotServing: true }) },
    },
    'watchdog-rolls-back-commit': {
      doc: 'SetRollback moves dt_state to ROLLBACK whatever its state (the update lacks twopc.go\'s "state = PREPARE" guard): the watchdog reads PREPARE, StartCommit commits the MM meanwhile, and the resolver then rolls back the RMs of a transaction whose decision is COMMIT.',
      expose: { params: { singleShard: false } },
      roles: { shard: shard({ ...correctShard, rollbackOnlyFromPrepare: false }) },
    },
    'decision-not-durable': {
      doc: 'VTGate sends CommitPrepared together with StartCommit, before the MM\'s COMMIT decision is durable: an RM commits while the MM rolls back (the watchdog\'s SetRollback or a lost MM transaction wins). The same hazard as a decision acknowledged but not replicated (why Vitess refuses TwoPC without semi-sync).',
      expose: { params: { singleShard: false } },
      roles: { vtgate: vtgate({ ...correctGate, commitBeforeDecision: true }) },
    },
    'async-index': {
      doc: 'The index (lookup) writes are applied after the base transaction commits, outside it: at committed snapshots a row lacks its index entry, or after a delete an entry dangles (reads through the index see rows that are gone).',
      expose: { params: { workload: 'gsi', opsPerClient: 2 } },
      roles: { vtgate: vtgate({ ...correctGate, asyncIndex: true }) },
      properties: (p: P) => vitessProperties(p, { ...correctGate, asyncIndex: true }),
    },
  },
});

export type { Op as VitessOp, Result as VitessResult, Shard as VitessShard, Vtgate as VitessGate, Write as VitessWrite };
