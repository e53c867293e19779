/**
 * Spanner: external consistency from TrueTime and commit wait, two-phase commit across Paxos
 * groups, and lock-free reads at a timestamp served by any replica whose safe time covers it.
 *
 * Sources: Corbett et al., *Spanner: Google's Globally-Distributed Database* (OSDI 2012), §3
 * (TrueTime: TT.now() = [earliest, latest], TT.after(t) = t < earliest), §4.1.2 (the Start and
 * Commit Wait rules and the external-consistency proof), §4.1.3 (t_safe = min(t_paxos_safe,
 * t_TM_safe), with t_TM_safe = min prepare timestamp of prepared-but-undecided transactions − 1),
 * §4.2.1 (read-write transactions: read locks at group leaders, writes buffered at the client,
 * the client-driven two-phase commit, the coordinator's choice of s), §4.2.2 (read-only
 * transactions at s_read = TT.now().latest), §4.2.4 (MinNextTS, which advances t_paxos_safe on an
 * idle group); Brewer, *Spanner, TrueTime and the CAP Theorem* (2017), for the role of ε.
 *
 * **Roles.** `replica` × (groups × replicas): key k lives in group k mod groups; the replica at
 * position 0 of each group starts as its leader (epoch 0). `frontend` × 1: the Spanner client
 * library, which runs each client's transaction (one world request = one whole transaction, as
 * the transaction vocabulary has it: specs/txn/README.md).
 *
 * **Read-write transactions** (`mode: 'rw'`). The frontend sends each read to its group's leader,
 * which takes a shared read lock and answers the latest applied version; the writes are buffered
 * at the frontend (an `add` step writes what it read plus a delta). Commit (§4.2.1): the frontend
 * picks the lowest written group as coordinator and sends `commit` to its leader and `prepare` to
 * every other participant's leader (a participant is every group read or written: read locks
 * must hold until commit). A participant leader checks it still holds the transaction's read
 * locks (a leader that restarted or took over has none: the transaction's reads are no longer
 * protected, so it votes no), takes the write locks, picks a prepare timestamp greater than any
 * timestamp it has assigned, logs a prepare record through a majority of its group, and then sends
 * its vote. The coordinator leader takes its write locks, notes TT.now().latest on receipt of the
 * commit, and once every participant voted yes picks s ≥ every prepare timestamp, s > that
 * latest, s > any timestamp it assigned; it logs the commit record through a majority, and
 * applies it (answering the frontend, telling the participants, releasing locks) only once
 * TT.after(s): **commit wait**. Each participant logs the outcome and applies the writes at s.
 *
 * **Locks: no-wait, except behind a committing writer.** Spanner uses wound-wait; here a lock
 * request that conflicts at prepare or commit (a write lock over another transaction's read or
 * write lock) is refused at once and the transaction aborts (no-wait), while a read that finds the
 * key write-locked waits until the writer's outcome is applied. Write locks are only taken by
 * transactions already committing, which never wait for anything, so no cycle of waits can form
 * (deadlock-free without priorities in the state), and a transaction that follows a commit on the
 * same keys waits for it instead of aborting. The model checks safety, which does not depend on
 * which transaction gives way.
 *
 * **Read-only transactions** (`mode: 'strong'` at s_read = TT.now().latest, and `'snapshot'` at
 * a past timestamp TT.now().earliest − `staleness`) take no locks. Each read goes to one replica
 * of the key's group (the leader, or with `followerReads` the group's last replica), which serves
 * it once t_safe ≥ the read timestamp, with t_safe = min(t_paxos_safe, min prepare timestamp of
 * its prepared-but-undecided transactions − 1), and waits until then. A leader asked for a
 * timestamp above any it has assigned logs a **safe** record at that timestamp (MinNextTS), which
 * raises t_paxos_safe once applied; a follower asks its leader to (`advance`).
 *
 * **Groups.** Replication is modeled at the level the transaction protocol relies on, not as full
 * Paxos (the `raft` spec checks consensus itself): a leader appends a record and ships its log to
 * the other replicas (`append`), which adopt it and acknowledge its length; a record is logged once
 * a majority holds it, and then applied in order. Leader change (`campaign`, up to `maxEpoch`
 * epochs): a replica starts a new epoch, each replica that joins it answers with its log, and the
 * candidate that hears from a majority adopts the most recent of their logs (highest epoch of the
 * leader it came from, then longest: Raft's up-to-dateness), so every logged record survives. A
 * crash keeps the log (durable) and loses locks, pending commits and waiting reads; a leader that
 * restarts or takes over rebuilds the 2PC state from its log, and re-sends the votes of its
 * prepared-but-undecided transactions (which the coordinator answers from its own log).
 *
 * **Time.** True time is the world's discrete clock (`--max-time` ticks). Each node reads it with
 * its own offset (`--clock-error`), and TrueTime readings are [reading − ε, reading + ε] with ε
 * from `--epsilon`: TrueTime is correct while the clock error stays within ε, which is the
 * assumption the algorithm rests on (variant `clock-beyond-epsilon`). Commit wait is the guard of
 * the leader's `applyNext` step: it reads TrueTime and changes nothing until TT.after(s). The
 * history's order is real-time order: invocations and returns are recorded as they happen.
 *
 * **Not modeled.** Paxos itself (ballots, the acceptor protocol) and leader leases (a leader of a
 * past epoch may still serve reads of read-write transactions, but their commit fails: the new
 * leader holds no read locks for them); wound-wait priorities; schema changes; the single-group
 * read-only optimisation (LastTS); client retries (a transaction with no answer stays pending:
 * unknown to the history checker); TrueTime's own implementation (its ε is an input).
 */
import {
  add, invariant, protocol, put, del, reachable, remove, t,
  type Ctx, type Interval, type NodeId, type Out, type ParamsOf, type Request,
} from '../core/index.ts';
import { readKeys, TxnResult, TxnStep, TxnValue, tagOf, writesOf } from '../txn/index.ts';
import {
  appliedView, Entry, logWriters, maxTs, minPrepared, recordsOf, TxnId, versionAt, Write,
  type Log,
} from './log.ts';
import { spannerGoals, spannerProperties } from './properties.ts';

// ---------------------------------------------------------------- params

/** Every replica is a node: groups × replicas of them, at most what a node id's byte names. */
const replicaNodes = (_v: unknown, p: Readonly<Record<string, unknown>>): string | null =>
  (p.groups as number) * (p.replicas as number) > 255 ? `must keep groups × replicas at most 255 (${String(p.groups)} × ${String(p.replicas)})` : null;

// Ranges: counts that size the layout or every replica's state stay small; bounds the live
// example raises to "never in practice" (maxEpoch: 1,000,000) go up to 2^32 − 1.
const params = {
  /** Paxos groups; key k lives in group k mod groups. */
  groups: { default: 2, min: 1, max: 255, validate: replicaNodes },
  /** Replicas per group (a majority logs a record). */
  replicas: { default: 2, min: 1, max: 255, validate: replicaNodes },
  /** Keys (accounts) 0 .. keys − 1. */
  keys: { default: 2, min: 1, max: 1024 },
  clients: { default: 2, min: 0, max: 255 },
  opsPerClient: { default: 1, min: 0, max: 2 ** 20 },
  /** Clients may run a transfer of 1 from key 0 to key 1 (a read-write transaction across groups 0 and 1). */
  transfers: true,
  /** Clients may write one key (a read-write transaction in one group), for each key. */
  writes: false,
  /** Clients may read every key in a strong read-only transaction (at TT.now().latest). */
  strongReads: true,
  /** Clients may read every key in a snapshot read at TT.now().earliest − staleness. */
  snapshotReads: false,
  staleness: { default: 1, min: 0, max: 2 ** 32 - 1 },
  /** Every account's balance before any write. */
  initial: { default: 10, min: 0, max: 2 ** 32 - 1 },
  /** Leader changes: a replica may start epochs up to this one (0: the initial leaders stay). */
  maxEpoch: { default: 0, min: 0, max: 2 ** 32 - 1 },
  /** Read-only reads go to the group's last replica (a follower) instead of its leader. */
  followerReads: false,
  /**
   * Liveness machinery for live runs (off in the model, whose properties are safety only):
   * heartbeats, a frontend that abandons a transaction stuck reading, a coordinator that aborts a
   * transaction whose votes do not come, a participant that asks again for an outcome.
   */
  timeouts: false,
};
export type P = ParamsOf<typeof params>;

// ---------------------------------------------------------------- operations

/** A transaction: its steps, and how it runs (read-write with locks, or read-only at a timestamp). */
export const SpannerOp = t.struct({ steps: t.array(TxnStep), mode: t.enum('rw', 'strong', 'snapshot') });
export type SpannerOp = typeof SpannerOp.__type;

/** The operations the model's clients choose from. */
export function spannerOps(p: P): SpannerOp[] {
  const all = Array.from({ length: p.keys }, (_, k) => k);
  const ops: SpannerOp[] = [];
  if (p.transfers && p.keys >= 2) ops.push({ steps: [{ f: 'add', key: 0, by: -1 }, { f: 'add', key: 1, by: 1 }], mode: 'rw' });
  if (p.writes) for (const key of all) ops.push({ steps: [{ f: 'w', key, n: p.initial }], mode: 'rw' });
  if (p.strongReads) ops.push({ steps: all.map((key) => ({ f: 'r' as const, key })), mode: 'strong' });
  if (p.snapshotReads) ops.push({ steps: all.map((key) => ({ f: 'r' as const, key })), mode: 'snapshot' });
  return ops;
}

// ---------------------------------------------------------------- messages

const Msg = t.union('kind', {
  // frontend → a group's leader (a replica that is not the leader forwards these once: `fwd`)
  read: { txn: TxnId, key: t.u32, fe: t.node('frontend'), fwd: t.bool },
  prepare: { txn: TxnId, writes: t.array(Write), reads: t.array(t.u32), coord: t.u32, coordAt: t.node('replica'), fe: t.node('frontend'), fwd: t.bool },
  commit: { txn: TxnId, writes: t.array(Write), reads: t.array(t.u32), participants: t.array(t.u32), fe: t.node('frontend'), fwd: t.bool },
  release: { txn: TxnId, fwd: t.bool },
  // frontend → any replica: a read at a timestamp
  snap: { txn: TxnId, key: t.u32, ts: t.u32, fe: t.node('frontend') },
  // replicas → frontend
  readReply: { txn: TxnId, key: t.u32, value: t.option(TxnValue) },
  snapReply: { txn: TxnId, key: t.u32, value: t.option(TxnValue) },
  outcome: { txn: TxnId, commit: t.bool, ts: t.u32 },
  // two-phase commit between leaders: a vote (also sent again as an inquiry), and the decision
  prepared: { txn: TxnId, group: t.u32, ok: t.bool, ts: t.u32, at: t.node('replica'), fwd: t.bool },
  decide: { txn: TxnId, commit: t.bool, ts: t.u32, fwd: t.bool },
  // within a group
  advance: { ts: t.u32, fwd: t.bool },
  /** The leader's log from index `from` on (the replica holds the rest, in this epoch), and how much of it is applied. */
  append: { epoch: t.u32, from: t.u32, entries: t.array(Entry), applied: t.u32 },
  appended: { epoch: t.u32, logEpoch: t.u32, length: t.u32 },
  campaign: { epoch: t.u32 },
  vote: { epoch: t.u32, logEpoch: t.u32, log: t.array(Entry) },
});
type Msg = typeof Msg.__type;
type LeaderMsg = Extract<Msg, { fwd: boolean }>;

// ---------------------------------------------------------------- state

/** A coordinator's transaction before its decision (volatile): the commit request, once it came, and the votes so far. */
const Pending = t.struct({
  req: t.option(t.struct({ writes: t.array(Write), participants: t.array(t.u32), fe: t.node('frontend'), floor: t.u32 })),
  votes: t.map(t.u32, t.struct({ ts: t.u32, at: t.node('replica') })),
});
type Pending = typeof Pending.__type;

/** A read of a read-write transaction waiting for a committing writer to release the key. */
const Queued = t.struct({ txn: TxnId, key: t.u32, fe: t.node('frontend') });
type Queued = typeof Queued.__type;

/** A read-only read waiting for t_safe to reach its timestamp. */
const Wait = t.struct({ txn: TxnId, key: t.u32, ts: t.u32, fe: t.node('frontend') });
type Wait = typeof Wait.__type;

export const Replica = t.struct({
  /** The latest epoch this replica joined (durable: it never goes back). */
  epoch: t.u32,
  role: t.enum('leader', 'follower', 'candidate'),
  /** The group's log as this replica has it (durable). */
  log: t.array(Entry),
  /** The epoch of the leader this log came from. */
  logEpoch: t.u32,
  /** The prefix known to be logged by a majority (a leader counts acknowledgements; a follower knows what is applied). */
  chosen: t.u32,
  /** The prefix applied (for a leader, never past a commit record whose commit wait is not over). */
  applied: t.u32,
  /** Who leads this replica's epoch, when known (where leader-only messages are forwarded). */
  leader: t.option(t.node('replica')),
  /** Leader: per other replica, the length of this epoch's log it acknowledged. */
  acks: t.map(t.node('replica'), t.u32),
  /** Leader: per other replica, the log length and applied index last shipped to it, and whether that is unacknowledged. */
  sent: t.map(t.node('replica'), t.struct({ length: t.u32, applied: t.u32, waiting: t.bool })),
  /** Candidate: who joined its epoch, and the most recent log among theirs. */
  votes: t.set(t.node('replica')),
  best: t.option(t.struct({ logEpoch: t.u32, log: t.array(Entry) })),
  /** Leader: shared read locks, per key (volatile: lost on a crash or a leader change). */
  locks: t.map(t.u32, t.set(TxnId)),
  /** Leader: reads waiting for a committing writer (volatile). */
  queued: t.array(Queued),
  /** Coordinator leader: transactions not yet decided (volatile). */
  pending: t.map(TxnId, Pending),
  /** Read-only reads waiting for t_safe. */
  waits: t.array(Wait),
  /** Leader: prepared transactions whose vote this incarnation sent. */
  voted: t.set(TxnId),
  /** Leader, with `timeouts`: prepared transactions whose vote it sent again. */
  asked: t.set(TxnId),
});
export type Replica = typeof Replica.__type;

/** A transaction at the frontend. */
const FeTxn = t.struct({
  client: t.node('client'),
  id: t.u32,
  op: SpannerOp,
  /** Read-only: the read timestamp. */
  ts: t.u32,
  /** The version each key read saw. */
  reads: t.map(t.u32, t.option(TxnValue)),
  phase: t.enum('reading', 'committing'),
});
type FeTxn = typeof FeTxn.__type;

export const Frontend = t.struct({
  txns: t.map(TxnId, FeTxn),
  /** The leader each group answered from last (default: the group's first replica). */
  leaders: t.map(t.u32, t.node('replica')),
});
export type Frontend = typeof Frontend.__type;

// ---------------------------------------------------------------- rules (what the broken variants change)

/** The choices the variants get wrong. */
export interface Rules {
  /** Commit wait: apply a commit record only once TT.after(s). */
  readonly commitWait: boolean;
  /** The coordinator's floor for s, from TT.now() on receipt of the commit: s > floor. */
  commitFloor(tt: Interval): number;
  /** A strong read-only transaction's timestamp. */
  readTs(tt: Interval): number;
  /** t_safe from t_paxos_safe and the smallest prepare timestamp of a prepared-but-undecided transaction (+∞: none). */
  tSafe(paxosSafe: number, minPrepared: number): number;
  /** s ≥ every participant's prepare timestamp. */
  readonly coverPrepares: boolean;
  /** A leader prepares or commits a transaction only while it still holds the transaction's read locks. */
  readonly checkReadLocks: boolean;
}

export const correctRules: Rules = {
  commitWait: true,
  commitFloor: (tt) => tt.latest,
  readTs: (tt) => tt.latest,
  tSafe: (paxosSafe, prep) => Math.min(paxosSafe, prep - 1),
  coverPrepares: true,
  checkReadLocks: true,
};

// ---------------------------------------------------------------- layout helpers

const spec = protocol({
  name: 'spanner',
  doc: 'Spanner: TrueTime commit wait, 2PC across Paxos groups, reads at safe time.',
  params,
  messages: Msg,
  client: { op: SpannerOp, result: TxnResult },
});

/** The group of key `key`. */
export const groupOfKey = (key: number, p: P): number => key % p.groups;

/** The group and position of replica `id`. */
function placeOf(id: NodeId, ctx: Ctx<P>): { group: number; position: number } {
  const index = id - ctx.nodes('replica')[0]!;
  return { group: Math.floor(index / ctx.params.replicas), position: index % ctx.params.replicas };
}

/** The replicas of group `g`. */
function groupNodes(g: number, ctx: Ctx<P>): NodeId[] {
  const base = ctx.nodes('replica')[0]! + g * ctx.params.replicas;
  return Array.from({ length: ctx.params.replicas }, (_, i) => base + i);
}

const majority = (p: P): number => Math.floor(p.replicas / 2) + 1;

const NO_LOCKS: Replica['locks'] = new Map();
const NO_PENDING: Replica['pending'] = new Map();
const NO_ACKS: Replica['acks'] = new Map();
const NO_SENT: Replica['sent'] = new Map();
const NONE: readonly never[] = [];

/** A replica that stops leading (or restarts) loses everything a leader keeps in memory. */
function asFollower(s: Replica, epoch: number, leader: NodeId | null): Replica {
  return {
    ...s, epoch, role: 'follower', leader, acks: NO_ACKS, sent: NO_SENT, votes: NONE, best: null,
    locks: NO_LOCKS, queued: NONE, pending: NO_PENDING, voted: NONE, asked: NONE,
  };
}

// ---------------------------------------------------------------- the replica

function replica(rules: Rules) {
  /** Sends a leader-only message on to the leader, once, or drops it. */
  function forward(s: Replica, m: LeaderMsg, out: Out<Msg, TxnResult>): Replica {
    if (!m.fwd && s.leader !== null) out.send(s.leader, { ...m, fwd: true });
    return s;
  }

  /** t_safe of `s`. */
  function tSafe(s: Replica): number {
    const view = appliedView(s.log, s.applied);
    return rules.tSafe(view.paxosSafe, minPrepared(view));
  }

  /** Releases every read lock of `txn`. */
  function unlock(s: Replica, txn: TxnId): Replica {
    let locks = s.locks;
    for (const [key, holders] of s.locks) {
      if (!holders.includes(txn)) continue;
      const rest = remove(holders, txn);
      locks = rest.length === 0 ? del(locks, key) : put(locks, key, rest);
    }
    return locks === s.locks ? s : { ...s, locks };
  }

  /** Whether `txn` still holds read locks on `keys`, and no other transaction holds `writes`' keys. */
  function lockable(s: Replica, txn: TxnId, reads: readonly number[], writes: readonly Write[]): boolean {
    if (rules.checkReadLocks) for (const key of reads) if (!(s.locks.get(key) ?? NONE).includes(txn)) return false;
    const writers = logWriters(s.log, s.applied);
    for (const [t2, p] of s.pending) if (t2 !== txn && p.req) for (const w of p.req.writes) writers.set(w.key, t2);
    for (const w of writes) {
      const holder = writers.get(w.key);
      if (holder !== undefined && holder !== txn) return false;
      for (const r of s.locks.get(w.key) ?? NONE) if (r !== txn) return false;
    }
    return true;
  }

  /** The transaction other than `txn` that holds the write lock on `key` (prepared, committing, or a coordinator's pending commit), or null. */
  function writerOf(s: Replica, key: number, txn: TxnId): TxnId | null {
    const writer = logWriters(s.log, s.applied).get(key);
    if (writer !== undefined && writer !== txn) return writer;
    for (const [t2, p] of s.pending) if (t2 !== txn && p.req?.writes.some((w) => w.key === key)) return t2;
    return null;
  }

  /** Grants a read lock and answers the read with the latest applied version. */
  function grant(s: Replica, q: Queued, out: Out<Msg, TxnResult>): Replica {
    out.send(q.fe, { kind: 'readReply', txn: q.txn, key: q.key, value: versionAt(appliedView(s.log, s.applied), q.key) });
    const holders = s.locks.get(q.key) ?? NONE;
    return holders.includes(q.txn) ? s : { ...s, locks: put(s.locks, q.key, add(holders, q.txn)) };
  }

  /** Grants the queued reads whose key no writer holds any more. */
  function grantQueued(s: Replica, out: Out<Msg, TxnResult>): Replica {
    if (s.queued.length === 0) return s;
    let next = s;
    const rest: Queued[] = [];
    for (const q of s.queued) {
      if (writerOf(next, q.key, q.txn) === null) next = grant(next, q, out);
      else rest.push(q);
    }
    return rest.length === s.queued.length ? s : { ...next, queued: rest };
  }

  /** Appends a record at the leader. */
  const append = (s: Replica, e: Entry): Replica => ({ ...s, log: [...s.log, e] });

  /**
   * The coordinator decides commit once the commit request and every vote are in: s ≥ every
   * prepare timestamp, s > TT.now().latest on receipt, s > any timestamp the leader assigned.
   */
  function tryCommit(s: Replica, txn: TxnId): Replica {
    const p = s.pending.get(txn);
    if (!p || !p.req || p.req.participants.some((g) => !p.votes.has(g))) return s;
    let ts = Math.max(p.req.floor + 1, maxTs(s.log) + 1);
    if (rules.coverPrepares) for (const v of p.votes.values()) ts = Math.max(ts, v.ts);
    const participants = p.req.participants.map((g) => p.votes.get(g)!.at);
    return append({ ...s, pending: del(s.pending, txn) }, { kind: 'commit', txn, ts, writes: p.req.writes, participants, fe: p.req.fe });
  }

  /** The coordinator aborts `txn`: it logs an abort record and tells who it can. */
  function abortTxn(s: Replica, txn: TxnId, out: Out<Msg, TxnResult>, also: NodeId | null): Replica {
    const p = s.pending.get(txn);
    const told = new Set<NodeId>();
    for (const v of p?.votes.values() ?? []) told.add(v.at);
    if (also !== null) told.add(also);
    for (const at of told) out.send(at, { kind: 'decide', txn, commit: false, ts: 0, fwd: false });
    if (p?.req) out.send(p.req.fe, { kind: 'outcome', txn, commit: false, ts: 0 });
    const r = recordsOf(s.log, txn);
    const logged = r.commit === null && r.outcome === null ? append(s, { kind: 'outcome', txn, commit: false, ts: 0 }) : s;
    return unlock({ ...logged, pending: del(s.pending, txn) }, txn);
  }

  /** Serves the waiting reads that t_safe now covers. */
  function serveWaits(s: Replica, out: Out<Msg, TxnResult>): Replica {
    if (s.waits.length === 0) return s;
    const view = appliedView(s.log, s.applied);
    const safe = rules.tSafe(view.paxosSafe, minPrepared(view));
    const rest: Wait[] = [];
    for (const w of s.waits) {
      if (w.ts <= safe) out.send(w.fe, { kind: 'snapReply', txn: w.txn, key: w.key, value: versionAt(view, w.key, w.ts) });
      else rest.push(w);
    }
    return rest.length === s.waits.length ? s : { ...s, waits: rest };
  }

  /**
   * After a leader's step: count the acknowledgements (a record is logged once a majority holds
   * it), send the votes of prepare records just logged, apply what is logged in order (a commit
   * record only after commit wait), ship the log to the other replicas when it changed, serve the
   * reads t_safe now covers.
   */
  function settle(s0: Replica, s: Replica, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Replica {
    if (s.role !== 'leader') return serveWaits(s, out);
    const { group } = placeOf(ctx.self, ctx);
    // Logged: the largest prefix a majority holds.
    const lengths = [s.log.length, ...groupNodes(group, ctx).filter((n) => n !== ctx.self).map((n) => s.acks.get(n) ?? 0)].sort((a, b) => b - a);
    const chosen = Math.max(s.chosen, Math.min(s.log.length, lengths[majority(ctx.params) - 1]!));
    let voted = s.voted;
    for (let i = s.chosen; i < chosen; i++) {
      const e = s.log[i]!;
      if (e.kind !== 'prepare' || recordsOf(s.log, e.txn).outcome !== null) continue;
      out.send(e.coordAt, { kind: 'prepared', txn: e.txn, group, ok: true, ts: e.ts, at: ctx.self, fwd: false });
      voted = add(voted, e.txn);
    }
    if (chosen !== s.chosen) s = { ...s, chosen, voted };
    s = grantQueued(applyLogged(s, out), out);
    return serveWaits(ship(s, out, ctx, false), out);
  }

  /**
   * Ships the log to each other replica of the group that lacks part of it (or, with follower
   * reads, part of what is applied), one append at a time: the next goes out when the last is
   * acknowledged (`force`: regardless, as heartbeats do).
   */
  function ship(s: Replica, out: Out<Msg, TxnResult>, ctx: Ctx<P>, force: boolean): Replica {
    let sent = s.sent;
    for (const n of groupNodes(placeOf(ctx.self, ctx).group, ctx)) {
      if (n === ctx.self) continue;
      const last = sent.get(n);
      const behind = (last?.length ?? 0) < s.log.length || (ctx.params.followerReads && (last?.applied ?? 0) < s.applied);
      if (!force && (last?.waiting || !behind)) continue;
      // What the replica acknowledged of this epoch's log, it holds: ship the rest.
      const from = Math.min(s.acks.get(n) ?? 0, s.log.length);
      out.send(n, { kind: 'append', epoch: s.epoch, from, entries: s.log.slice(from), applied: s.applied });
      sent = put(sent, n, { length: s.log.length, applied: s.applied, waiting: true });
    }
    return sent === s.sent ? s : { ...s, sent };
  }

  /** Applies logged records in order; a commit record waits for TT.after(s). */
  function applyLogged(s: Replica, out: Out<Msg, TxnResult>): Replica {
    let applied = s.applied;
    let next = s;
    while (applied < s.chosen) {
      const e = s.log[applied]!;
      if (e.kind === 'commit') {
        if (rules.commitWait && !(out.trueTime().earliest > e.ts)) break;
        out.send(e.fe, { kind: 'outcome', txn: e.txn, commit: true, ts: e.ts });
        for (const at of e.participants) out.send(at, { kind: 'decide', txn: e.txn, commit: true, ts: e.ts, fwd: false });
      }
      if (e.kind === 'commit' || e.kind === 'outcome') next = unlock(next, e.txn);
      applied++;
    }
    return applied === s.applied ? s : { ...next, applied };
  }

  /** A read at `ts` that t_safe does not cover yet waits; the leader logs a safe record when no timestamp it assigned reaches `ts`. */
  function awaitSafe(s: Replica, w: Wait, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Replica {
    const waiting = { ...s, waits: [...s.waits, w] };
    if (s.role === 'leader') return maxTs(s.log) < w.ts ? append(waiting, { kind: 'safe', ts: w.ts }) : waiting;
    if (s.leader !== null && ctx.params.followerReads) out.send(s.leader, { kind: 'advance', ts: w.ts, fwd: false });
    return waiting;
  }

  function onMessage(s: Replica, from: NodeId, m: Msg, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Replica {
    if ('fwd' in m && s.role !== 'leader') return forward(s, m, out);
    const { group } = placeOf(ctx.self, ctx);
    switch (m.kind) {
      case 'read': {
        // A read of a read-write transaction: a shared lock and the latest applied version, or a
        // wait behind a writer that is committing.
        if (s.queued.some((q) => q.txn === m.txn && q.key === m.key)) return s;
        const q = { txn: m.txn, key: m.key, fe: m.fe };
        return writerOf(s, m.key, m.txn) === null ? grant(s, q, out) : { ...s, queued: [...s.queued, q] };
      }
      case 'release': {
        const queued = s.queued.filter((q) => q.txn !== m.txn);
        const next = queued.length === s.queued.length ? s : { ...s, queued };
        return recordsOf(s.log, m.txn).prepare !== null || s.pending.has(m.txn) ? next : unlock(next, m.txn);
      }
      case 'prepare': {
        const r = recordsOf(s.log, m.txn);
        if (r.prepare !== null || r.outcome !== null) return s;
        if (!lockable(s, m.txn, m.reads, m.writes)) {
          out.send(m.coordAt, { kind: 'prepared', txn: m.txn, group, ok: false, ts: 0, at: ctx.self, fwd: false });
          return unlock(s, m.txn);
        }
        const next = append(s, { kind: 'prepare', txn: m.txn, ts: maxTs(s.log) + 1, writes: m.writes, coord: m.coord, coordAt: m.coordAt });
        return settle(s, next, out, ctx);
      }
      case 'commit': {
        const r = recordsOf(s.log, m.txn);
        if (r.commit !== null) return s;
        if (r.outcome !== null) {
          out.send(m.fe, { kind: 'outcome', txn: m.txn, commit: false, ts: 0 });
          return s;
        }
        const p = s.pending.get(m.txn);
        if (p?.req) return s;
        if (!lockable(s, m.txn, m.reads, m.writes)) return settle(s, abortTxn({ ...s, pending: put(s.pending, m.txn, { req: { writes: m.writes, participants: m.participants, fe: m.fe, floor: 0 }, votes: p?.votes ?? new Map() }) }, m.txn, out, null), out, ctx);
        const floor = rules.commitFloor(out.trueTime());
        const next = { ...s, pending: put(s.pending, m.txn, { req: { writes: m.writes, participants: m.participants, fe: m.fe, floor }, votes: p?.votes ?? new Map() }) };
        return settle(s, tryCommit(next, m.txn), out, ctx);
      }
      case 'prepared': {
        // A vote, or a participant asking again for the outcome (after it restarted or took over).
        const r = recordsOf(s.log, m.txn);
        if (r.commit !== null) {
          if (s.applied > r.decidedAt) out.send(m.at, { kind: 'decide', txn: m.txn, commit: true, ts: r.commit.ts, fwd: false });
          return s;
        }
        if (r.outcome !== null) {
          out.send(m.at, { kind: 'decide', txn: m.txn, commit: false, ts: 0, fwd: false });
          return s;
        }
        if (!m.ok) return settle(s, abortTxn(s, m.txn, out, m.at), out, ctx);
        const p = s.pending.get(m.txn) ?? { req: null, votes: new Map() };
        if (p.votes.get(m.group)?.ts === m.ts && p.votes.get(m.group)?.at === m.at) return s;
        const next = { ...s, pending: put(s.pending, m.txn, { ...p, votes: put(p.votes, m.group, { ts: m.ts, at: m.at }) }) };
        return settle(s, tryCommit(next, m.txn), out, ctx);
      }
      case 'decide': {
        const r = recordsOf(s.log, m.txn);
        if (r.prepare === null) return unlock(s, m.txn);
        if (r.outcome !== null) return s;
        return settle(s, append(s, { kind: 'outcome', txn: m.txn, commit: m.commit, ts: m.ts }), out, ctx);
      }
      case 'advance':
        return maxTs(s.log) < m.ts ? settle(s, append(s, { kind: 'safe', ts: m.ts }), out, ctx) : s;
      case 'snap': {
        if (m.ts <= tSafe(s)) {
          out.send(m.fe, { kind: 'snapReply', txn: m.txn, key: m.key, value: versionAt(appliedView(s.log, s.applied), m.key, m.ts) });
          return s;
        }
        return settle(s, awaitSafe(s, { txn: m.txn, key: m.key, ts: m.ts, fe: m.fe }, out, ctx), out, ctx);
      }
      case 'append': {
        if (m.epoch < s.epoch) {
          out.send(from, { kind: 'appended', epoch: s.epoch, logEpoch: s.logEpoch, length: s.log.length });
          return s;
        }
        let next = s.role === 'follower' && s.epoch === m.epoch ? (s.leader === from ? s : { ...s, leader: from }) : asFollower(s, m.epoch, from);
        // Within an epoch every log is a prefix of the leader's: extend by what is new. A log of an
        // older epoch is replaced, by a whole log only (`from` 0; otherwise the ack asks for it).
        const end = m.from + m.entries.length;
        if (m.epoch === next.logEpoch ? m.from <= next.log.length && end > next.log.length : m.from === 0) {
          next = { ...next, log: [...next.log.slice(0, m.from), ...m.entries], logEpoch: m.epoch };
        }
        const applied = Math.max(next.applied, Math.min(m.applied, next.log.length));
        if (applied !== next.applied) next = { ...next, applied, chosen: Math.max(next.chosen, applied) };
        out.send(from, { kind: 'appended', epoch: next.epoch, logEpoch: next.logEpoch, length: next.log.length });
        return serveWaits(next, out);
      }
      case 'appended': {
        if (m.epoch > s.epoch) return asFollower(s, m.epoch, null);
        if (s.role !== 'leader' || m.epoch !== s.epoch || m.logEpoch !== s.epoch) return s;
        const last = s.sent.get(from);
        const sent = last?.waiting ? put(s.sent, from, { ...last, waiting: false }) : s.sent;
        const acks = (s.acks.get(from) ?? 0) < m.length ? put(s.acks, from, m.length) : s.acks;
        return sent === s.sent && acks === s.acks ? s : settle(s, { ...s, sent, acks }, out, ctx);
      }
      case 'campaign': {
        if (m.epoch <= s.epoch) return s;
        out.send(from, { kind: 'vote', epoch: m.epoch, logEpoch: s.logEpoch, log: s.log });
        return asFollower(s, m.epoch, null);
      }
      case 'vote': {
        if (s.role !== 'candidate' || m.epoch !== s.epoch || s.votes.includes(from)) return s;
        const best = s.best === null || m.logEpoch > s.best.logEpoch || (m.logEpoch === s.best.logEpoch && m.log.length > s.best.log.length)
          ? { logEpoch: m.logEpoch, log: m.log } : s.best;
        const votes = add(s.votes, from);
        if (votes.length < majority(ctx.params)) return { ...s, votes, best };
        return settle(s, { ...s, role: 'leader', leader: ctx.self, votes: NONE, best: null, log: best.log, logEpoch: s.epoch, acks: NO_ACKS, sent: NO_SENT }, out, ctx);
      }
      case 'readReply':
      case 'snapReply':
      case 'outcome':
        return s;
    }
  }

  return spec.role(Replica)({
    count: (p) => p.groups * p.replicas,
    // The log and the epoch promise survive a crash; a leader restarts as the leader of its epoch.
    durable: ['epoch', 'role', 'log', 'logEpoch', 'chosen', 'applied'],
    init: (ctx) => {
      const { group, position } = placeOf(ctx.self, ctx);
      return {
        epoch: 0, role: position === 0 ? 'leader' : 'follower', log: NONE, logEpoch: 0, chosen: 0, applied: 0,
        leader: groupNodes(group, ctx)[0]!, acks: NO_ACKS, sent: NO_SENT, votes: NONE, best: null, locks: NO_LOCKS, queued: NONE, pending: NO_PENDING,
        waits: NONE, voted: NONE, asked: NONE,
      };
    },
    onMessage,
    actions: {
      /** Commit wait: a logged commit record is applied once TT.after(s) (the step reads TrueTime and waits otherwise). */
      applyNext: {
        when: (s) => s.role === 'leader' && s.applied < s.chosen,
        do: (s, out, ctx) => settle(s, s, out, ctx),
        timerMs: [1, 1],
      },
      /** A replica starts a new epoch and asks the others of its group to join it. */
      campaign: {
        when: (s, ctx) => s.role !== 'leader' && s.epoch < ctx.params.maxEpoch,
        do: (s, out, ctx) => {
          const epoch = s.epoch + 1;
          const { group } = placeOf(ctx.self, ctx);
          const next: Replica = { ...asFollower(s, epoch, null), role: 'candidate', votes: [ctx.self], best: { logEpoch: s.logEpoch, log: s.log } };
          if (majority(ctx.params) === 1) return settle(next, { ...next, role: 'leader', leader: ctx.self, votes: NONE, best: null, logEpoch: epoch }, out, ctx);
          for (const n of groupNodes(group, ctx)) if (n !== ctx.self) out.send(n, { kind: 'campaign', epoch });
          return next;
        },
        timerMs: [300, 600],
        restartOn: 'message',
      },
      /**
       * A leader sends the vote of a prepared-but-undecided transaction again: once after it
       * restarted or took over (its predecessor's vote may be lost), and with `timeouts` once more.
       */
      revote: {
        choices: (s) => {
          if (s.role !== 'leader') return NONE;
          const view = appliedView(s.log, s.chosen);
          return [...view.prepared.keys()];
        },
        when: (s, ctx, txn: TxnId) => !s.voted.includes(txn) || (ctx.params.timeouts && !s.asked.includes(txn)),
        do: (s, out, ctx, txn: TxnId) => {
          const e = recordsOf(s.log, txn).prepare!;
          out.send(e.coordAt, { kind: 'prepared', txn, group: placeOf(ctx.self, ctx).group, ok: true, ts: e.ts, at: ctx.self, fwd: false });
          return s.voted.includes(txn) ? { ...s, asked: add(s.asked, txn) } : { ...s, voted: add(s.voted, txn) };
        },
        timerMs: [500, 500],
      },
      /** With `timeouts`: a coordinator aborts a transaction whose commit request or votes did not come. */
      giveUp: {
        choices: (s, ctx) => (ctx.params.timeouts && s.role === 'leader' ? [...s.pending.keys()] : NONE),
        do: (s, out, ctx, txn: TxnId) => settle(s, abortTxn(s, txn, out, null), out, ctx),
        timerMs: [1000, 1000],
      },
      /** With `timeouts`: the leader ships its log, so that idle followers do not campaign and catch up. */
      heartbeat: {
        when: (s, ctx) => ctx.params.timeouts && s.role === 'leader' && ctx.params.replicas > 1,
        do: (s, out, ctx) => ship(s, out, ctx, true),
        timerMs: [50, 50],
      },
    },
  });
}

// ---------------------------------------------------------------- the frontend (Spanner's client library)

function frontend(rules: Rules) {
  const leaderOf = (s: Frontend, g: number, ctx: Ctx<P>): NodeId => s.leaders.get(g) ?? groupNodes(g, ctx)[0]!;
  const readReplicaOf = (s: Frontend, g: number, ctx: Ctx<P>): NodeId => (ctx.params.followerReads ? groupNodes(g, ctx)[ctx.params.replicas - 1]! : leaderOf(s, g, ctx));
  const distinct = (keys: readonly number[]): number[] => [...new Set(keys)];

  /** The answer to the client. */
  function answer(tx: FeTxn, status: TxnResult['status'], startTs: number, commitTs: number, out: Out<Msg, TxnResult>): void {
    const reads = status === 'committed' ? readKeys(tx.op).map((k) => tx.reads.get(k) ?? null) : [];
    out.reply({ status, startTs, commitTs, reads }, { client: tx.client, id: tx.id });
  }

  /** Every read is in: buffer the writes, send prepare to the participants and commit to the coordinator. */
  function commit(s: Frontend, txn: TxnId, tx: FeTxn, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Frontend {
    const req: Request<SpannerOp> = { client: tx.client, id: tx.id, op: tx.op };
    const written = writesOf(req, readKeys(tx.op).map((k) => tx.reads.get(k) ?? null), ctx.params.initial);
    const writesIn = (g: number): Write[] => [...written].filter(([k]) => groupOfKey(k, ctx.params) === g).map(([key, value]) => ({ key, value }));
    const readsIn = (g: number): number[] => [...tx.reads.keys()].filter((k) => groupOfKey(k, ctx.params) === g);
    const groups = distinct([...written.keys(), ...tx.reads.keys()].map((k) => groupOfKey(k, ctx.params))).sort((a, b) => a - b);
    const coord = Math.min(...[...written.keys()].map((k) => groupOfKey(k, ctx.params)));
    const others = groups.filter((g) => g !== coord);
    const coordAt = leaderOf(s, coord, ctx);
    for (const g of others) {
      out.send(leaderOf(s, g, ctx), { kind: 'prepare', txn, writes: writesIn(g), reads: readsIn(g), coord, coordAt, fe: ctx.self, fwd: false });
    }
    out.send(coordAt, { kind: 'commit', txn, writes: writesIn(coord), reads: readsIn(coord), participants: others, fe: ctx.self, fwd: false });
    return { ...s, txns: put(s.txns, txn, { ...tx, phase: 'committing' }) };
  }

  /** Gives up a read-write transaction still reading: its read locks are released. */
  function abandon(s: Frontend, txn: TxnId, tx: FeTxn, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Frontend {
    for (const g of distinct(readKeys(tx.op).map((k) => groupOfKey(k, ctx.params)))) out.send(leaderOf(s, g, ctx), { kind: 'release', txn, fwd: false });
    answer(tx, 'aborted', 0, 0, out);
    return { ...s, txns: del(s.txns, txn) };
  }

  return spec.role(Frontend)({
    count: 1,
    init: () => ({ txns: new Map(), leaders: new Map() }),
    onRequest: (s, req, out, ctx) => {
      const txn = tagOf(req);
      if (s.txns.has(txn)) return s;
      const op = req.op;
      const tx: FeTxn = { client: req.client, id: req.id, op, ts: 0, reads: new Map(), phase: 'reading' };
      const keys = distinct(readKeys(op));
      if (op.mode === 'rw') {
        if (keys.length === 0) return commit(s, txn, tx, out, ctx);
        for (const key of keys) out.send(leaderOf(s, groupOfKey(key, ctx.params), ctx), { kind: 'read', txn, key, fe: ctx.self, fwd: false });
        return { ...s, txns: put(s.txns, txn, tx) };
      }
      const tt = out.trueTime();
      const ts = Math.max(0, op.mode === 'strong' ? rules.readTs(tt) : tt.earliest - ctx.params.staleness);
      for (const key of keys) out.send(readReplicaOf(s, groupOfKey(key, ctx.params), ctx), { kind: 'snap', txn, key, ts, fe: ctx.self });
      return { ...s, txns: put(s.txns, txn, { ...tx, ts }) };
    },
    onMessage: (s, from, m, out, ctx) => {
      switch (m.kind) {
        case 'readReply': {
          const tx = s.txns.get(m.txn);
          if (!tx || tx.phase !== 'reading' || tx.reads.has(m.key)) {
            // A lock granted to a transaction that already gave up: let it go.
            if (!tx) out.send(from, { kind: 'release', txn: m.txn, fwd: false });
            return s;
          }
          const g = groupOfKey(m.key, ctx.params);
          const leaders = s.leaders.get(g) === from || (s.leaders.get(g) === undefined && groupNodes(g, ctx)[0] === from) ? s.leaders : put(s.leaders, g, from);
          const next = { ...tx, reads: put(tx.reads, m.key, m.value) };
          const s2 = { ...s, leaders, txns: put(s.txns, m.txn, next) };
          return next.reads.size === distinct(readKeys(tx.op)).length ? commit(s2, m.txn, next, out, ctx) : s2;
        }
        case 'snapReply': {
          const tx = s.txns.get(m.txn);
          if (!tx || tx.op.mode === 'rw' || tx.reads.has(m.key)) return s;
          const next = { ...tx, reads: put(tx.reads, m.key, m.value) };
          if (next.reads.size < distinct(readKeys(tx.op)).length) return { ...s, txns: put(s.txns, m.txn, next) };
          answer(next, 'committed', tx.ts, tx.ts, out);
          return { ...s, txns: del(s.txns, m.txn) };
        }
        case 'outcome': {
          const tx = s.txns.get(m.txn);
          if (!tx || tx.phase !== 'committing') return s;
          answer(tx, m.commit ? 'committed' : 'aborted', 0, m.commit ? m.ts : 0, out);
          return { ...s, txns: del(s.txns, m.txn) };
        }
        default:
          return s;
      }
    },
    actions: {
      /** With `timeouts`: a read-write transaction stuck reading (a leader is down) gives up. */
      abandon: {
        choices: (s, ctx) => (ctx.params.timeouts ? [...s.txns].filter(([, tx]) => tx.op.mode === 'rw' && tx.phase === 'reading').map(([txn]) => txn) : NONE),
        do: (s, out, ctx, txn: TxnId) => abandon(s, txn, s.txns.get(txn)!, out, ctx),
        timerMs: [1000, 1000],
      },
    },
  });
}

// ---------------------------------------------------------------- the protocol

const roles = (r: Rules) => ({ replica: replica(r), frontend: frontend(r) });
const correct = roles(correctRules);

/** A broken variant: the same protocol with `rules` changed. */
const broken = (r: Partial<Rules>) => roles({ ...correctRules, ...r });

export default spec.define({
  roles: correct,
  clients: { count: (p) => p.clients, target: 'frontend', ops: spannerOps, opsPerClient: (p) => p.opsPerClient },
  // TrueTime with ε = 1 and enough true time for a cross-group transfer to commit (its commit
  // wait ends 2ε + 2 ticks after the coordinator received it); bag: reordering, no duplicates.
  checkDefaults: { network: 'bag', epsilon: 1, maxTime: 4 },
  properties: (p) => [...spannerProperties(p), ...spannerGoals(p)],
  variants: {
    'no-commit-wait': {
      doc: 'The coordinator applies its commit record (and answers the client) as soon as it is logged, without waiting for TT.after(s). Since s > TT.now().latest, s is still in the future when the client hears of the commit: a strong read that starts right after reads at s_read = TT.now().latest < s and misses the write (Spanner §4.1.2: commit wait is what makes s smaller than the absolute time of the commit). Caught with perfect clocks, no tick of time needed.',
      expose: { params: { transfers: false, writes: true, groups: 1, keys: 1, replicas: 1 }, options: { maxTime: 0 } },
      roles: broken({ commitWait: false }),
    },
    'commit-ts-earliest': {
      doc: 'The coordinator takes its floor for s from TT.now().earliest instead of TT.now().latest. Commit wait then hides the error while clocks are exact, but with errors within ε (coordinator of the first write fast, of the second slow) a write that starts after another returned gets a commit timestamp no larger (the Start rule of §4.1.2 is what puts s above the absolute time of the commit request).',
      expose: { params: { transfers: false, writes: true, strongReads: false, replicas: 1 }, options: { clockError: 1, maxTime: 3 } },
      roles: broken({ commitFloor: (tt) => tt.earliest }),
    },
    'tsafe-ignores-prepared': {
      doc: 'A replica serves reads up to t_paxos_safe, ignoring its prepared-but-undecided transactions (t_TM_safe, §4.1.3): a read at s_read is answered while a transaction prepared at or below s_read can still commit at or below it, so the read misses that commit in one group and may see it in another (a partial commit).',
      expose: { params: { replicas: 1 } },
      roles: broken({ tSafe: (paxosSafe) => paxosSafe }),
    },
    'read-at-earliest': {
      doc: 'Strong read-only transactions read at TT.now().earliest instead of TT.now().latest (§4.1.2 requires s_read ≥ TT.now().latest at the start). With exact clocks commit wait leaves exactly enough margin, but with a clock error within ε a read that starts after a commit returned can read below its timestamp: a stale read.',
      expose: { params: { transfers: false, writes: true, groups: 1, keys: 1, replicas: 1 }, options: { clockError: 1 } },
      roles: broken({ readTs: (tt) => tt.earliest }),
    },
    'clock-beyond-epsilon': {
      doc: 'The protocol is the correct one; the fault is the clock: clocks drift 1 tick from true time while TrueTime claims ε = 0, so TT.now() no longer contains true time (the seed\'s failure mode 4: when the uncertainty grows, commit wait must grow with it). A fast coordinator ends commit wait before true time passes s, and a slow frontend starts a read right after, below s. The same with ε = 1 needs a drift of 2 on two nodes (--epsilon 1 --clock-error 2 --max-time 4: 18 steps, ~420,000 states).',
      expose: { params: { transfers: false, writes: true, groups: 1, keys: 1, replicas: 1 }, options: { epsilon: 0, clockError: 1, maxTime: 2 } },
    },
    'commit-below-prepare': {
      doc: 'The coordinator picks s from its own floor and its own assigned timestamps only, not from the participants\' prepare timestamps (§4.2.1: s ≥ every prepare timestamp). A participant whose group already promised a larger timestamp (a safe-time record for a strong read) prepares above s and is told to commit below it: the read at that timestamp was answered without the write.',
      expose: { params: { replicas: 1 }, options: { maxTime: 1 } },
      roles: broken({ coverPrepares: false }),
    },
    'unchecked-read-locks': {
      doc: 'A leader prepares a transaction without checking that it still holds the transaction\'s read locks. Read locks live in the leader\'s memory: after the leader crashes and restarts (or another takes over) they are gone, another transaction writes the key read, and the first one commits on a stale read: a lost update (Spanner §4.2.1 relies on the locks being held from the read to the commit; a transaction whose locks were lost must abort).',
      expose: { params: { writes: true, strongReads: false, groups: 1, replicas: 1 }, options: { crashes: 1, epsilon: 0, maxTime: 2 } },
      roles: broken({ checkReadLocks: false }),
    },
  },
});

export { Msg as SpannerMsg };
export type { Log, Msg };
