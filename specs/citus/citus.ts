/**
 * Citus distributed transactions: a coordinator (PostgreSQL with the Citus extension) and
 * PostgreSQL workers; two-phase commit through pg_dist_transaction and PREPARE TRANSACTION,
 * the maintenance daemon's transaction recovery (presumed abort), reference tables replicated
 * to every worker by the same commit, and distributed deadlock detection.
 *
 * Sources: citusdata/citus, src/backend/distributed/transaction/remote_transaction.c
 * (StartRemoteTransactionPrepare: LogTransactionRecord, then PREPARE TRANSACTION),
 * transaction_management.c (the pre-commit, commit and abort callbacks),
 * transaction_recovery.c (RecoverWorkerTransactions and its P, A, T, Q order),
 * distributed_deadlock_detection.c (CheckForDistributedDeadlocks: the global wait graph, a DFS
 * from each local transaction, cancel the youngest participant), lock_graph.c; issues #1029 and
 * #1030 (recovery concurrent with PREPARE), PR #1696 (the non-blocking rewrite of recovery).
 *
 * The algorithm. A client runs a transaction on the coordinator: a list of statements, each a
 * write of one row of a distributed table (routed to the worker that holds its shard) or of a
 * reference table (replicated: the statement runs on every worker). Statements run one after
 * the other; each takes row locks on its workers and waits while another transaction holds them.
 * At COMMIT:
 * - one worker written: plain COMMIT there (one-phase);
 * - several: the pre-commit callback, for each worker, inserts a row (groupid, gid) into
 *   pg_dist_transaction *inside the coordinator's own local transaction* and sends
 *   PREPARE TRANSACTION gid; once every worker prepared, the coordinator commits locally — the
 *   records become visible and durable together: that is the commit point — and the post-commit
 *   callback sends COMMIT PREPARED to every worker. If a prepare fails, the local transaction
 *   aborts (its records vanish with it) and the workers get ROLLBACK (PREPARED).
 * - Recovery (the maintenance daemon, for each worker in turn), presumed abort: P = the worker's
 *   prepared transactions of this coordinator; A = the distributed transactions in progress on
 *   the coordinator; T = a snapshot of the committed pg_dist_transaction records of that worker;
 *   Q = the worker's prepared transactions again. For each record not in A: in P and Q → COMMIT
 *   PREPARED, then delete the record; only in Q → leave it for the next round; in neither →
 *   delete the record (the transaction committed). Every prepared transaction of P with no record
 *   and not in A → ROLLBACK PREPARED.
 * - Distributed deadlock detection: the coordinator gathers every worker's wait edges (a waiting
 *   transaction → the transactions holding the locks it waits for), searches the global wait-for
 *   graph for a cycle, and cancels the youngest transaction in it (the latest start).
 *
 * Granularity. Nodes: one coordinator, `workers` workers, clients. A statement is one row write;
 * its value is the id of the transaction that wrote it, so diverging reference-table placements
 * show in the data. Durable: the coordinator's committed pg_dist_transaction rows; each worker's
 * committed rows, committed and rolled-back transaction ids, and prepared transactions (PREPARE
 * TRANSACTION is on disk). Volatile: the coordinator's backends (its distributed transactions in
 * progress: the set A), its recovery and deadlock-detector runs, a transaction's uncommitted
 * records; each worker's open transactions, their locks and lock waits. A worker may abort an
 * open (unprepared) transaction on its own at any time (`abortIdle`: a dropped connection, an idle
 * timeout, a local deadlock victim); the coordinator learns it when its next statement or its
 * PREPARE fails. The backend waits for the results of COMMIT PREPARED and of ROLLBACK before it
 * ends (it stays in A until then).
 *
 * Not modeled: the coordinator's own shards and reference-table placement, MX (several nodes with
 * metadata), the outer_xid column of newer pg_dist_transaction (its commit-status check),
 * connection failures other than a worker's unilateral abort and crashes, lock modes (every lock
 * is exclusive), PostgreSQL's local deadlock detector (workers never deadlock alone here: each
 * statement locks one row per worker), SELECTs. The liveness side ("a prepared participant
 * eventually decides", "every deadlock is eventually broken") waits for the liveness issue;
 * blocking is shown as a reachable state.
 */
import { add, del, has, invariant, protocol, put, reachable, remove, t, unreachable, type Ctx, type NodeId, type ParamsOf, type Out, type WorldReader } from '../core/index.ts';

// ---------------------------------------------------------------- params

const params = {
  workers: { default: 2, min: 1, max: 255 },
  clients: { default: 1, min: 0, max: 255 },
  opsPerClient: { default: 1, min: 0, max: 2 ** 20 },
  /**
   * What the clients run: `mixed` (a transaction over two workers, a reference-table write, and
   * with `singleWorker` a one-worker transaction) or `deadlock` (two transactions writing two
   * rows in opposite orders).
   */
  workload: { default: 'mixed' as string, oneOf: ['mixed', 'deadlock'] },
  /** `mixed` workload: also offer a transaction on one worker (one-phase commit). */
  singleWorker: false,
  /** The maintenance daemon's 2PC recovery runs (false: nothing resolves an orphaned prepared transaction). */
  recovery: true,
  /** Bound on recovery rounds in a run (each round's queries carry its number, as a connection matches replies to queries). */
  maxRecoveryRounds: { default: 1, min: 0, max: 2 ** 32 - 1 },
  /** The distributed deadlock detector runs. */
  deadlockDetection: true,
  /** Workers may abort an open transaction on their own (`abortIdle`). */
  unilateralAbort: true,
  /** A backend's connection to a worker may fail during PREPARE, COMMIT PREPARED or ROLLBACK (`connectionFails`). */
  connectionFailures: true,
};
type P = ParamsOf<typeof params>;

// ---------------------------------------------------------------- statements, operations, messages

/** One statement: a write of row `key` of a distributed table (one worker) or a reference table (every worker). */
const Stmt = t.struct({ table: t.enum('dist', 'ref'), key: t.u32 });
type Stmt = typeof Stmt.__type;

const Op = t.union('kind', { txn: { stmts: t.array(Stmt) } });
type Op = typeof Op.__type;

const Result = t.union('kind', {
  committed: {},
  aborted: {},
  /** Cancelled by the distributed deadlock detector. */
  deadlock: {},
});
type Result = typeof Result.__type;

/** A wait-for edge on a worker: `waiter` waits for a lock `holder` holds. */
const Edge = t.struct({ waiter: t.string, holder: t.string });
type Edge = typeof Edge.__type;

/** Who sent COMMIT PREPARED: the transaction's backend (post-commit) or the recovery. */
const By = t.enum('backend', 'recovery');

const Msg = t.union('kind', {
  /** A statement of transaction `dtid` on this worker (`first`: its first statement here). */
  exec: { dtid: t.string, stmt: t.u32, keys: t.array(t.string), first: t.bool },
  /**
   * One-phase COMMIT. `keys`: the rows the transaction wrote on this worker, so that a worker whose
   * transaction is not the one the coordinator ran (a restart lost it and a stale statement opened
   * another) refuses, as PostgreSQL refuses on a connection that lost its transaction.
   */
  commit: { dtid: t.string, keys: t.array(t.string) },
  /** PREPARE TRANSACTION (`keys`: as for commit). */
  prepare: { dtid: t.string, keys: t.array(t.string) },
  /** COMMIT PREPARED. */
  commitPrepared: { dtid: t.string, by: By },
  /** ROLLBACK PREPARED (recovery). */
  rollbackPrepared: { dtid: t.string },
  /** The backend's abort: ROLLBACK, or ROLLBACK PREPARED, of its own transaction. */
  abort: { dtid: t.string },
  /** SELECT gid FROM pg_prepared_xacts, for recovery round `round` (`second`: the listing Q). */
  listPrepared: { round: t.u32, second: t.bool },
  /** The worker's local wait edges (lock_graph.c). */
  lockGraph: {},
  execReply: { dtid: t.string, stmt: t.u32, ok: t.bool },
  commitReply: { dtid: t.string, ok: t.bool },
  prepareReply: { dtid: t.string, ok: t.bool },
  commitPreparedReply: { dtid: t.string, by: By, ok: t.bool },
  abortReply: { dtid: t.string },
  preparedList: { round: t.u32, second: t.bool, gids: t.set(t.string) },
  edges: { edges: t.set(Edge) },
});
type Msg = typeof Msg.__type;

// ---------------------------------------------------------------- state

const Worker = t.struct({
  /** Committed rows: row key → the transaction that last wrote it (durable). */
  data: t.map(t.string, t.string),
  committed: t.set(t.string),
  /** Transactions rolled back here, prepared or not (durable). */
  aborted: t.set(t.string),
  /** Prepared transactions (PREPARE TRANSACTION is durable) and the rows they locked. */
  prepared: t.map(t.string, t.array(t.string)),
  /** Open transactions and the rows they locked (volatile). */
  open: t.map(t.string, t.array(t.string)),
  /** Statements waiting for locks: transaction → its statement and rows (volatile). */
  waiting: t.map(t.string, t.struct({ stmt: t.u32, keys: t.array(t.string) })),
});
type Worker = typeof Worker.__type;

/** A committed pg_dist_transaction row: transaction `dtid` prepared on `worker`. */
const Record = t.struct({ dtid: t.string, worker: t.node('worker') });
type Record = typeof Record.__type;

/** One backend in a distributed transaction. */
const Backend = t.struct({
  phase: t.enum('exec', 'commit1pc', 'prepare', 'postCommit', 'abort'),
  client: t.node('client'),
  id: t.u32,
  stmts: t.array(Stmt),
  /** The statement running. */
  next: t.u32,
  /** Workers whose reply to the current step is awaited. */
  awaiting: t.set(t.node('worker')),
  /** Workers the transaction wrote on (its participants). */
  touched: t.set(t.node('worker')),
  /** pg_dist_transaction rows inserted by this transaction, not committed yet (invisible to others). */
  pending: t.set(t.node('worker')),
  /** Start order (the deadlock detector cancels the youngest: the largest). */
  ts: t.u32,
});
type Backend = typeof Backend.__type;

const Recovery = t.struct({
  worker: t.node('worker'),
  phase: t.enum('p', 'q', 'commit'),
  p: t.set(t.string),
  a: t.set(t.string),
  t: t.set(t.string),
  /** Recovery's COMMIT PREPAREDs not yet acknowledged (the record is deleted on success). */
  awaiting: t.set(t.string),
});
type Recovery = typeof Recovery.__type;

const Detector = t.struct({ waiting: t.set(t.node('worker')), edges: t.set(Edge) });

const Coordinator = t.struct({
  /** pg_dist_transaction: committed rows (durable). */
  records: t.set(Record),
  /** Recovery rounds run so far (a model device: replies are matched to their round). */
  rounds: t.u32,
  /**
   * Client requests already taken (a model device: a request reaches its backend once, over its
   * connection; under the set network a message could otherwise be delivered again).
   */
  served: t.set(t.string),
  /** Backends in a distributed transaction, by transaction id: the set A (volatile). */
  txns: t.map(t.string, Backend),
  /** The next transaction's start stamp (volatile). */
  clock: t.u32,
  recovery: t.option(Recovery),
  detector: t.option(Detector),
});
type Coordinator = typeof Coordinator.__type;

const spec = protocol({
  name: 'citus',
  doc: 'Citus 2PC: pg_dist_transaction records in the coordinator\'s local transaction, PREPARE/COMMIT PREPARED, presumed-abort recovery, reference tables, distributed deadlock detection.',
  params,
  messages: Msg,
  client: { op: Op, result: Result },
});

// ---------------------------------------------------------------- rules (the broken variants flip one)

interface CoordinatorRules {
  /** Recovery leaves the transactions in progress (A) alone. */
  recoverySkipsInProgress: boolean;
  /** Recovery lists the prepared transactions again (Q) after its pg_dist_transaction snapshot. */
  recoveryRechecks: boolean;
  /** pg_dist_transaction rows are written inside the coordinator's local transaction. */
  recordInLocalTransaction: boolean;
}

const correctRules: CoordinatorRules = { recoverySkipsInProgress: true, recoveryRechecks: true, recordInLocalTransaction: true };

// ---------------------------------------------------------------- rows and routing

/** The row a statement writes. */
export const rowKey = (s: Stmt): string => (s.table === 'dist' ? `d${s.key}` : `ref${s.key}`);

/** The workers a statement runs on. */
function targets(s: Stmt, workers: readonly NodeId[]): NodeId[] {
  return s.table === 'ref' ? [...workers] : [workers[s.key % workers.length]!];
}

/** The rows statements write on worker `w`. */
function keysOn(stmts: readonly Stmt[], w: NodeId, ctx: Ctx<P>): string[] {
  const all = ctx.nodes('worker');
  const keys: string[] = [];
  for (const st of stmts) if (targets(st, all).includes(w) && !keys.includes(rowKey(st))) keys.push(rowKey(st));
  return keys.sort();
}

/** The workers a transaction writes on. */
export function participants(stmts: readonly Stmt[], workers: readonly NodeId[]): NodeId[] {
  const out: NodeId[] = [];
  for (const s of stmts) for (const w of targets(s, workers)) if (!out.includes(w)) out.push(w);
  return out;
}

export const dtidOf = (client: NodeId, id: number): string => `${client}:${id}`;

/** The transactions other than `dtid` holding a lock on one of `keys`. */
function holders(s: Worker, keys: readonly string[], dtid: string): string[] {
  const out: string[] = [];
  const scan = (m: ReadonlyMap<string, readonly string[]>): void => {
    for (const [other, held] of m) if (other !== dtid && held.some((k) => keys.includes(k)) && !out.includes(other)) out.push(other);
  };
  scan(s.open);
  scan(s.prepared);
  return out;
}

/** The locks released: grant the waiting statements that can now run (in transaction id order). */
function grantWaiters(s: Worker, out: Out<Msg, Result>, coordinator: NodeId): Worker {
  let w = s;
  for (const dtid of [...s.waiting.keys()].sort()) {
    const x = w.waiting.get(dtid)!;
    if (holders(w, x.keys, dtid).length > 0) continue;
    out.send(coordinator, { kind: 'execReply', dtid, stmt: x.stmt, ok: true });
    w = { ...w, waiting: del(w.waiting, dtid), open: put(w.open, dtid, union(w.open.get(dtid) ?? [], x.keys)) };
  }
  return w;
}

const sameKeys = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((k) => b.includes(k));

function union(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const k of b) if (!out.includes(k)) out.push(k);
  return out.sort();
}

const write = (data: ReadonlyMap<string, string>, keys: readonly string[], dtid: string): ReadonlyMap<string, string> => {
  let out = data;
  for (const k of keys) out = put(out, k, dtid);
  return out;
};

/** `dtid`'s rollback on a worker: its open, waiting and prepared parts are gone; it is remembered as rolled back. */
function rollBack(s: Worker, dtid: string): Worker {
  if (!s.open.has(dtid) && !s.waiting.has(dtid) && !s.prepared.has(dtid) && (has(s.aborted, dtid) || has(s.committed, dtid))) return s;
  return {
    ...s, open: del(s.open, dtid), waiting: del(s.waiting, dtid), prepared: del(s.prepared, dtid),
    aborted: has(s.committed, dtid) ? s.aborted : add(s.aborted, dtid),
  };
}

// ---------------------------------------------------------------- the worker

const worker = spec.role(Worker)({
  count: (p) => p.workers,
  durable: ['data', 'committed', 'aborted', 'prepared'],
  init: () => ({ data: new Map(), committed: [], aborted: [], prepared: new Map(), open: new Map(), waiting: new Map() }),
  onMessage: (s, from, m, out, ctx) => {
    const coordinator = ctx.nodes('coordinator')[0]!;
    switch (m.kind) {
      case 'exec': {
        if (has(s.committed, m.dtid) || s.prepared.has(m.dtid) || s.waiting.has(m.dtid)) return s; // a duplicate
        // The transaction is gone here (rolled back, or a crash lost its earlier statements).
        if (has(s.aborted, m.dtid) || (!m.first && !s.open.has(m.dtid))) {
          out.send(from, { kind: 'execReply', dtid: m.dtid, stmt: m.stmt, ok: false });
          return s;
        }
        if (holders(s, m.keys, m.dtid).length > 0) return { ...s, waiting: put(s.waiting, m.dtid, { stmt: m.stmt, keys: m.keys }) };
        out.send(from, { kind: 'execReply', dtid: m.dtid, stmt: m.stmt, ok: true });
        const open = union(s.open.get(m.dtid) ?? [], m.keys);
        return { ...s, open: put(s.open, m.dtid, open) };
      }
      case 'commit': {
        const keys = s.open.get(m.dtid);
        if (has(s.committed, m.dtid)) return s;
        if (keys === undefined || !sameKeys(keys, m.keys)) {
          out.send(from, { kind: 'commitReply', dtid: m.dtid, ok: false });
          return rollBack(s, m.dtid);
        }
        out.send(from, { kind: 'commitReply', dtid: m.dtid, ok: true });
        return grantWaiters({ ...s, data: write(s.data, keys, m.dtid), committed: add(s.committed, m.dtid), open: del(s.open, m.dtid) }, out, coordinator);
      }
      case 'prepare': {
        const keys = s.open.get(m.dtid);
        if (s.prepared.has(m.dtid) || has(s.committed, m.dtid)) return s; // a duplicate
        if (keys === undefined || !sameKeys(keys, m.keys)) {
          out.send(from, { kind: 'prepareReply', dtid: m.dtid, ok: false });
          return rollBack(s, m.dtid);
        }
        out.send(from, { kind: 'prepareReply', dtid: m.dtid, ok: true });
        return { ...s, open: del(s.open, m.dtid), prepared: put(s.prepared, m.dtid, keys) };
      }
      case 'commitPrepared': {
        const keys = s.prepared.get(m.dtid);
        // "prepared transaction with identifier ... does not exist"
        out.send(from, { kind: 'commitPreparedReply', dtid: m.dtid, by: m.by, ok: keys !== undefined });
        if (keys === undefined) return s;
        return grantWaiters({ ...s, data: write(s.data, keys, m.dtid), committed: add(s.committed, m.dtid), prepared: del(s.prepared, m.dtid) }, out, coordinator);
      }
      case 'rollbackPrepared':
        return s.prepared.has(m.dtid) ? grantWaiters(rollBack(s, m.dtid), out, coordinator) : s;
      case 'abort':
        out.send(from, { kind: 'abortReply', dtid: m.dtid });
        return grantWaiters(rollBack(s, m.dtid), out, coordinator);
      case 'listPrepared':
        out.send(from, { kind: 'preparedList', round: m.round, second: m.second, gids: [...s.prepared.keys()].sort() });
        return s;
      case 'lockGraph': {
        let edges: readonly Edge[] = [];
        for (const [waiter, x] of s.waiting) for (const holder of holders(s, x.keys, waiter)) edges = add(edges, { waiter, holder });
        out.send(from, { kind: 'edges', edges });
        return s;
      }
      case 'execReply': case 'commitReply': case 'prepareReply': case 'commitPreparedReply': case 'abortReply':
      case 'preparedList': case 'edges':
        return s;
      default:
        return unreachable(m);
    }
  },
  actions: {
    /**
     * The worker aborts an open, unprepared transaction on its own (the coordinator's connection
     * dropped, idle_in_transaction_session_timeout, a local deadlock victim). A waiting statement
     * fails.
     */
    abortIdle: {
      choices: (s) => [...s.open.keys(), ...[...s.waiting.keys()].filter((d) => !s.open.has(d))],
      when: (_s, ctx) => ctx.params.unilateralAbort,
      do: (s, out, ctx, dtid: string) => {
        const x = s.waiting.get(dtid);
        if (x !== undefined) out.send(ctx.nodes('coordinator')[0]!, { kind: 'execReply', dtid, stmt: x.stmt, ok: false });
        return grantWaiters(rollBack(s, dtid), out, ctx.nodes('coordinator')[0]!);
      },
    },
  },
});

// ---------------------------------------------------------------- the coordinator

function coordinator(rules: CoordinatorRules) {
  const ref = (b: Backend) => ({ client: b.client, id: b.id });
  const set = (s: Coordinator, dtid: string, b: Backend): Coordinator => ({ ...s, txns: put(s.txns, dtid, b) });

  /** Sends statement `b.next` to its workers. */
  const runStatement = (s: Coordinator, dtid: string, b: Backend, out: Out<Msg, Result>, ctx: Ctx<P>): Coordinator => {
    const stmt = b.stmts[b.next]!;
    const to = targets(stmt, ctx.nodes('worker'));
    for (const w of to) out.send(w, { kind: 'exec', dtid, stmt: b.next, keys: [rowKey(stmt)], first: !b.touched.includes(w) });
    let touched = b.touched;
    for (const w of to) touched = add(touched, w);
    return set(s, dtid, { ...b, phase: 'exec', awaiting: to, touched });
  };

  /** The local transaction aborts (its pg_dist_transaction rows with it); the workers get ROLLBACK. */
  const abort = (s: Coordinator, dtid: string, b: Backend, result: Result, out: Out<Msg, Result>): Coordinator => {
    out.reply(result, ref(b));
    for (const w of b.touched) out.send(w, { kind: 'abort', dtid });
    return set(s, dtid, { ...b, phase: 'abort', awaiting: b.touched, pending: [] });
  };

  /** COMMIT: one-phase on one worker; otherwise log a record per worker and PREPARE TRANSACTION everywhere. */
  const commit = (s: Coordinator, dtid: string, b: Backend, out: Out<Msg, Result>, ctx: Ctx<P>): Coordinator => {
    if (b.touched.length === 1) {
      out.send(b.touched[0]!, { kind: 'commit', dtid, keys: keysOn(b.stmts, b.touched[0]!, ctx) });
      return set(s, dtid, { ...b, phase: 'commit1pc', awaiting: b.touched });
    }
    for (const w of b.touched) out.send(w, { kind: 'prepare', dtid, keys: keysOn(b.stmts, w, ctx) });
    if (rules.recordInLocalTransaction) return set(s, dtid, { ...b, phase: 'prepare', awaiting: b.touched, pending: b.touched });
    // The broken variant: each record is committed at once, outside the coordinator's transaction.
    let records = s.records;
    for (const w of b.touched) records = add(records, { dtid, worker: w });
    return { ...s, records, txns: put(s.txns, dtid, { ...b, phase: 'prepare', awaiting: b.touched, pending: [] }) };
  };

  const done = (s: Coordinator, dtid: string): Coordinator => ({ ...s, txns: del(s.txns, dtid) });

  /** A backend's reply from worker `from`. */
  const onBackend = (s: Coordinator, from: NodeId, m: Msg, out: Out<Msg, Result>, ctx: Ctx<P>): Coordinator => {
    if (!('dtid' in m)) return s;
    const b = s.txns.get(m.dtid);
    if (b === undefined || !b.awaiting.includes(from)) return s;
    const awaiting = remove(b.awaiting, from);
    switch (m.kind) {
      case 'execReply': {
        if (b.phase !== 'exec' || m.stmt !== b.next) return s;
        if (!m.ok) return abort(s, m.dtid, b, { kind: 'aborted' }, out);
        if (awaiting.length > 0) return set(s, m.dtid, { ...b, awaiting });
        const next = { ...b, next: b.next + 1, awaiting };
        return next.next < b.stmts.length ? runStatement(s, m.dtid, next, out, ctx) : commit(s, m.dtid, next, out, ctx);
      }
      case 'commitReply':
        if (b.phase !== 'commit1pc') return s;
        out.reply(m.ok ? { kind: 'committed' } : { kind: 'aborted' }, ref(b));
        return done(s, m.dtid);
      case 'prepareReply': {
        if (b.phase !== 'prepare') return s;
        if (!m.ok) return abort(s, m.dtid, b, { kind: 'aborted' }, out);
        if (awaiting.length > 0) return set(s, m.dtid, { ...b, awaiting });
        // Every worker prepared: the local commit makes the records durable (the commit point);
        // the post-commit callback sends COMMIT PREPARED and waits for the results.
        let records = s.records;
        for (const w of b.pending) records = add(records, { dtid: m.dtid, worker: w });
        out.reply({ kind: 'committed' }, ref(b));
        for (const w of b.touched) out.send(w, { kind: 'commitPrepared', dtid: m.dtid, by: 'backend' });
        return { ...s, records, txns: put(s.txns, m.dtid, { ...b, phase: 'postCommit', awaiting: b.touched, pending: [] }) };
      }
      case 'commitPreparedReply':
        if (b.phase !== 'postCommit' || m.by !== 'backend') return s;
        return awaiting.length > 0 ? set(s, m.dtid, { ...b, awaiting }) : done(s, m.dtid);
      case 'abortReply':
        if (b.phase !== 'abort') return s;
        return awaiting.length > 0 ? set(s, m.dtid, { ...b, awaiting }) : done(s, m.dtid);
      default:
        return s;
    }
  };

  /** The recovery's listing of worker `from`'s prepared transactions. */
  const onPreparedList = (s: Coordinator, from: NodeId, m: Extract<Msg, { kind: 'preparedList' }>, out: Out<Msg, Result>): Coordinator => {
    const r = s.recovery;
    if (r === null || r.worker !== from || m.round !== s.rounds) return s;
    const recordsOf = s.records.filter((x) => x.worker === from).map((x) => x.dtid);
    if (r.phase === 'p' && !m.second) {
      const a = rules.recoverySkipsInProgress ? [...s.txns.keys()].sort() : [];
      if (!rules.recoveryRechecks) return resolve(s, r, m.gids, a, recordsOf, m.gids, out);
      // P, then A and T, then Q: ask again.
      out.send(from, { kind: 'listPrepared', round: s.rounds, second: true });
      return { ...s, recovery: { ...r, phase: 'q', p: m.gids, a, t: recordsOf } };
    }
    if (r.phase === 'q' && m.second) return resolve(s, r, r.p, r.a, r.t, m.gids, out);
    return s;
  };

  /** RecoverWorkerTransactions' decisions, from P, A, T and Q. */
  const resolve = (
    s: Coordinator, r: Recovery, p: readonly string[], a: readonly string[], tRecords: readonly string[], q: readonly string[], out: Out<Msg, Result>,
  ): Coordinator => {
    let records = s.records;
    let awaiting: readonly string[] = [];
    for (const dtid of tRecords) {
      if (a.includes(dtid)) continue; // in progress: do not touch
      if (p.includes(dtid) && q.includes(dtid)) {
        out.send(r.worker, { kind: 'commitPrepared', dtid, by: 'recovery' });
        awaiting = add(awaiting, dtid);
      } else if (q.includes(dtid)) {
        continue; // prepared since P: leave it for the next round
      } else {
        records = remove(records, { dtid, worker: r.worker }); // no prepared transaction: it committed
      }
    }
    // Presumed abort: a prepared transaction with no record, not in progress, aborted.
    for (const dtid of p) if (!tRecords.includes(dtid) && !a.includes(dtid)) out.send(r.worker, { kind: 'rollbackPrepared', dtid });
    return { ...s, records, recovery: awaiting.length > 0 ? { ...r, phase: 'commit', p: [], a: [], t: [], awaiting } : null };
  };

  return spec.role(Coordinator)({
    count: 1,
    durable: ['records', 'rounds', 'served'],
    init: () => ({ records: [], rounds: 0, served: [], txns: new Map(), clock: 0, recovery: null, detector: null }),
    onRequest: (s, req, out, ctx) => {
      const dtid = dtidOf(req.client, req.id);
      if (has(s.served, dtid) || req.op.stmts.length === 0) return s;
      const b: Backend = {
        phase: 'exec', client: req.client, id: req.id, stmts: req.op.stmts, next: 0, awaiting: [], touched: [], pending: [], ts: s.clock,
      };
      return runStatement({ ...s, clock: s.clock + 1, served: add(s.served, dtid) }, dtid, b, out, ctx);
    },
    onMessage: (s, from, m, out, ctx) => {
      switch (m.kind) {
        case 'execReply': case 'commitReply': case 'prepareReply': case 'abortReply':
          return onBackend(s, from, m, out, ctx);
        case 'commitPreparedReply': {
          if (m.by === 'backend') return onBackend(s, from, m, out, ctx);
          const r = s.recovery;
          if (r === null || r.phase !== 'commit' || r.worker !== from || !r.awaiting.includes(m.dtid)) return s;
          // Failed: stop this round (the record stays for the next one).
          if (!m.ok) return { ...s, recovery: null };
          const awaiting = remove(r.awaiting, m.dtid);
          const records = remove(s.records, { dtid: m.dtid, worker: from });
          return { ...s, records, recovery: awaiting.length > 0 ? { ...r, awaiting } : null };
        }
        case 'preparedList':
          return onPreparedList(s, from, m, out);
        case 'edges': {
          const d = s.detector;
          if (d === null || !d.waiting.includes(from)) return s;
          let edges = d.edges;
          for (const e of m.edges) edges = add(edges, e);
          const waiting = remove(d.waiting, from);
          if (waiting.length > 0) return { ...s, detector: { waiting, edges } };
          const victim = youngestInCycle(edges, s.txns);
          if (victim === null) return { ...s, detector: null };
          return abort({ ...s, detector: null }, victim, s.txns.get(victim)!, { kind: 'deadlock' }, out);
        }
        case 'exec': case 'commit': case 'prepare': case 'commitPrepared': case 'rollbackPrepared': case 'abort':
        case 'listPrepared': case 'lockGraph':
          return s;
        default:
          return unreachable(m);
      }
    },
    actions: {
      /**
       * A connection of the backend fails while it waits: during PREPARE the transaction errors
       * and aborts (the worker may still prepare: an orphan for recovery); during COMMIT PREPARED
       * or ROLLBACK the backend gives up with a warning and ends (recovery finishes the job).
       */
      connectionFails: {
        choices: (s) => [...s.txns.keys()].filter((d) => ['prepare', 'postCommit', 'abort'].includes(s.txns.get(d)!.phase)),
        when: (_s, ctx) => ctx.params.connectionFailures,
        do: (s, out, _ctx, dtid: string) => {
          const b = s.txns.get(dtid)!;
          return b.phase === 'prepare' ? abort(s, dtid, b, { kind: 'aborted' }, out) : done(s, dtid);
        },
        // Executor: a reply still missing after 500 ms counts as a failed connection.
        timerMs: [500, 500],
      },
      /** The maintenance daemon recovers one worker's prepared transactions. */
      recover: {
        choices: (_s, ctx) => ctx.nodes('worker'),
        when: (s, ctx) => ctx.params.recovery && s.recovery === null && s.rounds < ctx.params.maxRecoveryRounds,
        do: (s, out, _ctx, w: NodeId) => {
          out.send(w, { kind: 'listPrepared', round: s.rounds + 1, second: false });
          return { ...s, rounds: s.rounds + 1, recovery: { worker: w, phase: 'p', p: [], a: [], t: [], awaiting: [] } };
        },
        timerMs: [100, 200],
      },
      /**
       * A recovery round or a deadlock-detector run whose reply does not come (the worker crashed,
       * the connection broke) ends without acting: the next round starts over.
       */
      giveUpRound: {
        when: (s) => s.recovery !== null || s.detector !== null,
        do: (s) => ({ ...s, recovery: null, detector: null }),
        timerMs: [1000, 1000],
      },
      /** The maintenance daemon gathers the wait edges of every worker. */
      detectDeadlocks: {
        // A distributed deadlock needs two transactions still running statements.
        when: (s, ctx) => ctx.params.deadlockDetection && s.detector === null && [...s.txns.values()].filter((b) => b.phase === 'exec').length >= 2,
        do: (s, out, ctx) => {
          for (const w of ctx.nodes('worker')) out.send(w, { kind: 'lockGraph' });
          return { ...s, detector: { waiting: ctx.nodes('worker'), edges: [] } };
        },
        timerMs: [100, 200],
      },
    },
  });
}

/**
 * The youngest live transaction of a cycle in the wait-for graph, or null: a depth-first search
 * from each transaction started here (distributed_deadlock_detection.c).
 */
export function youngestInCycle(edges: readonly Edge[], txns: ReadonlyMap<string, { ts: number }>): string | null {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.waiter, [...(out.get(e.waiter) ?? []), e.holder]);
  for (const start of [...out.keys()].sort()) {
    if (!txns.has(start)) continue;
    // DFS keeping the path; a cycle is a path back to `start`.
    const path: string[] = [];
    const visited = new Set<string>();
    const dfs = (x: string): string[] | null => {
      path.push(x);
      for (const y of out.get(x) ?? []) {
        if (y === start) return [...path];
        if (visited.has(y)) continue;
        visited.add(y);
        const found = dfs(y);
        if (found) return found;
      }
      path.pop();
      return null;
    };
    const cycle = dfs(start);
    if (cycle === null) continue;
    let victim: string | null = null;
    for (const x of cycle) {
      const b = txns.get(x);
      if (b === undefined) continue;
      if (victim === null || b.ts > txns.get(victim)!.ts) victim = x;
    }
    if (victim !== null) return victim;
  }
  return null;
}

// ---------------------------------------------------------------- workloads

const dist = (key: number): Stmt => ({ table: 'dist', key });
const refRow = (key: number): Stmt => ({ table: 'ref', key });
/** A transaction of statements. */
export const txnOp = (...stmts: Stmt[]): Op => ({ kind: 'txn', stmts });
export { dist as distStmt, refRow as refStmt };

function ops(p: P): Op[] {
  if (p.workload === 'deadlock') return [txnOp(dist(0), dist(1)), txnOp(dist(1), dist(0))];
  if (p.workload !== 'mixed') throw new Error(`param workload must be mixed or deadlock, got '${p.workload}'`);
  const list = [txnOp(dist(1), refRow(0))];
  if (p.singleWorker) list.push(txnOp(dist(0)));
  return list;
}

// ---------------------------------------------------------------- properties

/** The transactions the clients invoked and the workers they write on. */
function transactions(w: WorldReader): Map<string, NodeId[]> {
  const all = w.nodes('worker');
  const out = new Map<string, NodeId[]>();
  for (const e of w.history()) if (e.kind === 'invoke') out.set(dtidOf(e.client, e.id), participants((e.op as Op).stmts, all));
  return out;
}

const atomicAgreement = invariant('atomic commit: no transaction is committed on one worker and rolled back on another', (w: WorldReader) => {
  const workers = w.states<Worker>('worker');
  for (const a of workers) for (const d of a.committed) for (const b of workers) if (has(b.aborted, d)) return false;
  return true;
});

/**
 * None half-committed once resolved: a transaction committed on some worker is committed on every
 * worker it wrote, or still prepared there with its pg_dist_transaction record committed (so that
 * recovery commits it).
 */
const noHalfCommit = invariant('no half-committed transaction: committed somewhere ⇒ committed everywhere, or prepared with a committed record where missing', (w: WorldReader) => {
  const ids = w.nodes('worker');
  const states = ids.map((id) => w.node<Worker>(id));
  const committed = new Set<string>();
  for (const s of states) for (const d of s.committed) committed.add(d);
  if (committed.size === 0) return true;
  const c = w.states<Coordinator>('coordinator')[0]!;
  const txns = transactions(w);
  for (const dtid of committed) {
    for (const p of txns.get(dtid) ?? []) {
      const s = states[ids.indexOf(p)]!;
      if (has(s.committed, dtid)) continue;
      if (!s.prepared.has(dtid) || !has(c.records, { dtid, worker: p })) return false;
    }
  }
  return true;
});

/** Reference-table placements agree at every committed snapshot (no prepared transaction anywhere). */
const referenceAgree = invariant('reference table: every placement holds the same rows at every committed snapshot', (w: WorldReader) => {
  const workers = w.states<Worker>('worker');
  if (workers.some((s) => s.prepared.size > 0)) return true;
  const first = workers[0]!;
  for (const s of workers) {
    for (const [k, v] of s.data) if (k.startsWith('ref') && first.data.get(k) !== v) return false;
    for (const [k, v] of first.data) if (k.startsWith('ref') && s.data.get(k) !== v) return false;
  }
  return true;
});

/** A cycle in the union of the workers' wait-for edges. */
function hasDeadlock(w: WorldReader): boolean {
  let edges: Edge[] = [];
  for (const s of w.states<Worker>('worker')) for (const [waiter, x] of s.waiting) for (const holder of holders(s, x.keys, waiter)) edges.push({ waiter, holder });
  const txns = new Map<string, { ts: number }>();
  for (const e of edges) txns.set(e.waiter, { ts: 0 });
  return youngestInCycle(edges, txns) !== null;
}

function citusProperties(p: P) {
  const anyResult = (w: WorldReader, kind: Result['kind']): boolean => w.history().some((e) => e.kind === 'return' && (e.result as Result).kind === kind);
  const props = [
    atomicAgreement,
    noHalfCommit,
    referenceAgree,
    reachable('a transaction commits on two workers by 2PC', (w: WorldReader) => {
      for (const [dtid, ps] of transactions(w)) if (ps.length > 1 && ps.every((id) => has(w.node<Worker>(id).committed, dtid))) return true;
      return false;
    }),
  ];
  if (p.workload === 'mixed') {
    props.push(reachable('a reference-table write commits on every placement', (w: WorldReader) =>
      w.all<Worker>('worker', (s) => [...s.data.keys()].some((k) => k.startsWith('ref')))));
    const orphan = (w: WorldReader, withRecord: boolean): boolean => {
      const c = w.states<Coordinator>('coordinator')[0]!;
      return w.nodes('worker').some((id) => [...w.node<Worker>(id).prepared.keys()].some((dtid) =>
        !c.txns.has(dtid) && has(c.records, { dtid, worker: id }) === withRecord));
    };
    props.push(reachable('blocking: a worker holds a prepared transaction no backend drives and with no record (only recovery can roll it back)', (w: WorldReader) => orphan(w, false)));
    props.push(reachable('a worker holds a prepared transaction no backend drives, with its record committed (recovery commits it)', (w: WorldReader) => orphan(w, true)));
  }
  if (p.workload === 'deadlock') {
    props.push(reachable('a distributed deadlock forms (a cycle in the workers\' wait-for edges)', hasDeadlock));
    props.push(reachable('blocking: a statement waits for a row lock held by a prepared transaction', (w: WorldReader) =>
      w.any<Worker>('worker', (s) => [...s.waiting.values()].some((x) => [...s.prepared.values()].some((keys) => keys.some((k) => x.keys.includes(k)))))));
    if (p.deadlockDetection) props.push(reachable('the detector cancels the youngest transaction of a deadlock', (w: WorldReader) => anyResult(w, 'deadlock')));
  }
  return props;
}

// ---------------------------------------------------------------- the protocol

export default spec.define({
  roles: { coordinator: coordinator(correctRules), worker },
  clients: {
    count: (p) => p.clients,
    target: 'coordinator',
    ops,
    opsPerClient: (p) => p.opsPerClient,
  },
  properties: citusProperties,
  variants: {
    'recovery-during-prepare': {
      doc: 'Recovery does not leave the transactions in progress alone (no set A): a transaction that prepared on a worker but has not committed its local transaction yet has no visible pg_dist_transaction record, so recovery rolls it back — then the coordinator commits, the other workers commit, and COMMIT PREPARED fails on that one (citus #1029/#1030: "Transaction recovery must not run concurrently with prepares").',
      expose: { params: { unilateralAbort: false, connectionFailures: false } },
      roles: { coordinator: coordinator({ ...correctRules, recoverySkipsInProgress: false }) },
    },
    'recovery-without-recheck': {
      doc: 'Recovery lists the worker\'s prepared transactions once (P) and not again after its snapshot of pg_dist_transaction (no Q): a transaction that prepares and commits its records between the two takes a record whose prepared transaction recovery did not see, and recovery deletes the record as if the transaction had committed there — the next round rolls the prepared transaction back (the race the Q listing closes in transaction_recovery.c).',
      expose: { params: { unilateralAbort: false } },
      roles: { coordinator: coordinator({ ...correctRules, recoveryRechecks: false }) },
    },
    'record-outside-transaction': {
      doc: 'The pg_dist_transaction rows are committed on their own before PREPARE, not inside the coordinator\'s local transaction: when the coordinator crashes before its commit (or the transaction aborts), the records survive, and recovery commits the prepared workers of a transaction that others rolled back.',
      expose: { params: { unilateralAbort: false } },
      roles: { coordinator: coordinator({ ...correctRules, recordInLocalTransaction: false }) },
    },
  },
});

export type { Op as CitusOp, Result as CitusResult, Worker as CitusWorker, Coordinator as CitusCoordinator, Stmt as CitusStmt };
