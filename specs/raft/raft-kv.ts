/**
 * A linearizable key-value store replicated with Raft (the consensus core of consensus.ts), with
 * clients, exactly-once writes, and reads four ways — the `reads` param:
 *
 * - `log`: a read is a log entry like a write, answered when it is applied (Raft §8).
 * - `index`: ReadIndex (Raft thesis §6.4): no log entry. Once an entry of its own term is
 *   committed, the leader notes its commit index as the read index, starts a confirmation round
 *   (AppendEntries carry the round as their stamp, sent at once by `replicate`), and answers
 *   from its state machine when a majority (itself included) acknowledged that round or a later
 *   one and the read index is applied. A leader without a committed entry of its term sends the
 *   read through the log. `raft-kv:read-index-unconfirmed` skips the round.
 * - `lease`: the leader answers reads from its state machine, without consensus, while it holds a
 *   lease (Raft thesis §6.4.1; the leaseholder of a CockroachDB range serves reads the same way).
 *   The lease is measured on the leader's own clock (`out.now()`): it starts at the send time of
 *   the latest heartbeat a majority acknowledged and lasts `electionTicks` minus a safety margin
 *   of 4 × `maxClockError` (each of the two clocks involved may misjudge an interval by twice its
 *   error). A follower that accepted an AppendEntries from the current leader ignores RequestVote
 *   and does not time out for `electionTicks` on its own clock (thesis §4.2.3), so no other
 *   leader can exist while the lease lasts; a server that restarts waits `electionTicks` too.
 *   The leader also needs an entry of its own term committed (its no-op), so that its state
 *   machine holds every committed write. Without a valid lease the read goes through the log.
 * - `follower`: any server answers a read at its closed timestamp, from its own applied state
 *   (stale but consistent reads, CockroachDB's follower reads). Every write carries a timestamp
 *   from the leader's clock, increasing along the log, and every entry carries the closed
 *   timestamp: a promise that every later entry has a greater write timestamp. The promise is in
 *   the log, so it survives leader changes (a new leader proposes above the closed timestamp of
 *   its last entry).
 *
 * Clients: the world's clients send `put`, `get` and `cas` to any server; a server that is not
 * the leader answers `notLeader`. That server did nothing, but the answer does not mean the
 * operation never takes effect: the network may deliver the same request again, to the leader
 * (the set network and `--dup` do), so the linearizability check counts a refused write as
 * indeterminate, like a pending one. (A check that counted it as "no effect" is violated: the
 * bare set-network check found a get returning a value whose only put was answered notLeader.)
 * A write is answered by the server
 * that proposed it, when it applies the entry. Each entry carries the client's request id, and
 * the state machine keeps, per client, the last id applied and its result (a session), so a
 * request delivered twice (`--dup`, the `set` network) takes effect once. A new leader appends a
 * no-op entry (§8). Durable: currentTerm, votedFor, log; the state machine is rebuilt from the log
 * as the commit index advances after a restart. The leader writes its own new entries in parallel
 * with replicating them (thesis §10.2.1): they stay out of its `durableView` (`unsynced`) until
 * `persist`, so `replicate` sends them with no flush first, a crash before `persist` loses them,
 * and the leader counts itself towards a quorum only once they are in the view
 * (`raft-kv:commit-before-own-write` counts it early).
 *
 * Bounds: terms ≤ `maxTerm`; the log is bounded by the clients' operations (`clients` ×
 * `opsPerClient`) plus one no-op per term; keys 0..`keys`-1, values 1..`values` (0 is "absent").
 * Time (`--max-time`) and clock error (`--clock-error`) come from the world. The bare check runs
 * on the bag network with one message in flight, with symmetry (`checkDefaults`): 130,796 orbits
 * (783,768 states with `--no-symmetry`, about a minute). The
 * set network at the same params is millions of states and about 25 minutes (`--network set
 * --max-in-flight none`); a bag bound of 2 is 7.8 million.
 *
 * Executor clients also register a session first (`register(nonce)`, see `clients.session`): a
 * client incarnation k numbers its requests from k · 2^16 + 1, so that a client restarted with the
 * same node id is neither taken for a duplicate of its earlier self nor applied twice; a request
 * already applied is answered again from the session (a client retrying at another server).
 * A server whose durable state is found damaged rejoins in Raft's repair mode (consensus.ts).
 *
 * Client restarts (`--client-restarts N`, checker/clients.ts): a restarted world client registers
 * a new incarnation as the executor's clients do, then numbers its requests above the earlier
 * incarnation's; `restarted-client-reuses-ids` is the client without a session.
 *
 * Not modeled: client retries to another server (a world client issues each operation once), log
 * compaction, membership changes.
 * Linearizability is checked by the library's checker against the library's kv model
 * (`linearizable(kvModel, ...)`), the same code that `pacta lincheck` runs on a recorded history.
 */
import {
  invariant, kvModel, linearizable as linearizableHistory, protocol, put, reachable, t, SESSION_IDS, SESSION_REGISTER_ID,
  type Ctx, type HistoryEntry, type KvInput, type KvOutput, type NodeId, type Out, type WorldReader, type ParamsOf,
} from '../core/index.ts';
import {
  advanceCommit, batchOf, correctRules, handleMessage, hasUnsent, initialCore, isQuorum, observeTerm, querying, raftMessages, recoverServer,
  sendAppend, sendRepairQuery, sendRequestVote, serverFields, startElection, type RaftMsg, type RaftRules,
} from './consensus.ts';
import { ParamError } from '../core/params.ts';
import { raftInvariants } from './properties.ts';
import { requestsAnswered } from './liveness.ts';

// ---------------------------------------------------------------- operations, entries, messages

const Op = t.union('kind', {
  put: { key: t.u32, value: t.u32 },
  get: { key: t.u32 },
  cas: { key: t.u32, from: t.u32, to: t.u32 },
  /** Executor clients: open a new client incarnation (a session; see `clients.session`). */
  register: { nonce: t.u32 },
});
type Op = typeof Op.__type;

const Result = t.union('kind', {
  ok: {},
  /** A linearizable read: through the log, or under the leader's lease. */
  value: { value: t.u32, via: t.enum('log', 'lease', 'index') },
  cas: { ok: t.bool },
  notLeader: {},
  /** A follower read: the value as of timestamp `ts` (the server's closed timestamp). */
  readAt: { value: t.u32, ts: t.int },
  /** The answer to `register(nonce)`: the client's new incarnation (0: none left). */
  registered: { incarnation: t.u32, nonce: t.u32 },
});
type Result = typeof Result.__type;

/** A client command in the log: who asked, the request id (for exactly-once), who proposed it. */
const Cmd = t.struct({ client: t.node('client'), id: t.u32, by: t.node('server'), op: Op });
type Cmd = typeof Cmd.__type;

/**
 * A log entry: the term, the write timestamp and closed timestamp (follower reads; 0 otherwise),
 * and the command (null: the no-op a new leader appends).
 */
const Entry = t.struct({ term: t.u32, ts: t.int, closed: t.int, cmd: t.option(Cmd) });
type Entry = typeof Entry.__type;

const Msg = raftMessages(Entry);
type Msg = RaftMsg<Entry>;

/**
 * A ReadIndex read waiting at the leader: the commit index when it arrived (`index`) and the
 * confirmation round that must reach a majority before it is answered.
 */
const PendingRead = t.struct({ client: t.node('client'), id: t.u32, key: t.u32, index: t.u32, round: t.u32 });
type PendingRead = typeof PendingRead.__type;

/** One version of a key (MVCC): follower reads read the latest version at or below their timestamp. */
const Version = t.struct({ ts: t.int, value: t.u32 });
type Version = typeof Version.__type;

const Server = t.struct({
  ...serverFields(Entry),
  /**
   * Lease reads: no vote and no election before the own clock reaches this; null: just
   * (re)started. Log reads: the own clock reading when this term's leader was last heard (it only
   * tells the executor to restart the election timer: `restartOn: 'state'`). Follower reads: 0.
   */
  quiet: t.option(t.int),
  /**
   * Leader, lease reads: per follower, the send stamp of the latest acknowledged AppendEntries.
   * ReadIndex reads: per follower, the latest confirmation round it acknowledged.
   */
  acks: t.map(t.node('server'), t.int),
  /** Leader, ReadIndex reads: the current confirmation round (AppendEntries carry it as their stamp). */
  round: t.u32,
  /** Leader, ReadIndex reads: per follower, the latest round sent to it. */
  sent: t.map(t.node('server'), t.u32),
  /** Leader, ReadIndex reads: the reads waiting for their round's quorum and their read index to be applied. */
  reads: t.array(PendingRead),
  /** The state machine: the versions of each key, from the committed log prefix. */
  kv: t.map(t.u32, t.array(Version)),
  /** Per client: the last request id applied and its result (exactly-once). */
  sessions: t.map(t.node('client'), t.struct({ id: t.u32, result: Result })),
  /**
   * Leader: the entries at the end of its log not yet in its durable view (`durableView`): it
   * replicates them while its own write is in flight (thesis §10.2.1), `persist` adds them to
   * the view, and it counts itself towards a quorum only below them. 0 on every other server.
   */
  unsynced: t.u32,
});
type Server = typeof Server.__type;

type ReadMode = 'log' | 'lease' | 'follower' | 'index';

/**
 * The params, with ranges checked before anything is built from them (a thousand million keys
 * would allocate per key before the first state).
 */
const params = {
  servers: { default: 3, min: 1, max: 255 },
  maxTerm: { default: 2, min: 0, max: 2 ** 32 - 1 },
  clients: { default: 2, min: 0, max: 255 },
  opsPerClient: { default: 1, min: 0, max: 2 ** 20 },
  keys: { default: 1, min: 1, max: 2 ** 20 },
  values: { default: 1, min: 1, max: 2 ** 32 - 1 },
  /** Clients may also send cas(key, 1 → 2). */
  cas: false,
  /** How reads are served: log, lease, follower or index (ReadIndex). */
  reads: { default: 'log' as string, oneOf: ['log', 'lease', 'follower', 'index'] },
  /** The minimum election timeout, in clock ticks (leases). */
  electionTicks: { default: 2, min: 1, max: 2 ** 16 },
  /** The clock error the lease's safety margin allows for, in ticks (the world's --clock-error is the real one). */
  maxClockError: { default: 0, min: 0, max: 2 ** 32 - 1 },
  /** Follower reads: how far the closed timestamp trails the leader's clock. */
  closeLag: { default: 1, min: 0, max: 2 ** 32 - 1 },
  /** Most entries per AppendEntries (the model explores batches of 1..batch: see replicate). */
  batch: { default: 64, min: 1, max: 2 ** 16 },
  /**
   * Also check "every client request is eventually answered" (liveness, specs/raft/liveness.ts).
   * Off by default: the graph it needs costs memory, and the bare check's figures stay as pinned.
   */
  requestLiveness: false as boolean,
};
type P = ParamsOf<typeof params>;

const spec = protocol({
  name: 'raft-kv',
  doc: 'A KV store on Raft with clients: exactly-once writes; reads through the log, under a leader lease, or at a closed timestamp on any server.',
  params,
  messages: Msg,
  client: { op: Op, result: Result },
});

/** What the KV layer may get wrong (the broken variants). */
interface KvRules {
  /** The lease's safety margin, in ticks, given the params. */
  leaseMargin(p: P): number;
  /** The timestamp a follower read is served at. */
  followerReadTs(closed: number, now: number): number;
  /** Whether a waiting ReadIndex read may be answered now. */
  readIndexReady(s: Server, r: PendingRead, servers: number): boolean;
}

const correctKv: KvRules = {
  leaseMargin: (p) => 4 * p.maxClockError,
  followerReadTs: (closed) => closed,
  readIndexReady: (s, r, servers) => readIndexReady(s, r, servers),
};

/** The bug of `lease-ignores-skew`: no safety margin for clock error. */
const skewBlindKv: KvRules = { ...correctKv, leaseMargin: () => 0 };

// ---------------------------------------------------------------- the state machine

const NO_KV: ReadonlyMap<number, readonly Version[]> = new Map();
const NO_SESSIONS: Server['sessions'] = new Map();
const NO_ACKS: ReadonlyMap<NodeId, number> = new Map();
const NO_READS: readonly PendingRead[] = [];

/** The latest value of `key` at or below timestamp `ts` (0: absent). */
export function readAt(kv: ReadonlyMap<number, readonly Version[]>, key: number, ts = Number.POSITIVE_INFINITY): number {
  const versions = kv.get(key);
  if (!versions) return 0;
  for (let i = versions.length - 1; i >= 0; i--) if (versions[i]!.ts <= ts) return versions[i]!.value;
  return 0;
}

/**
 * `map` with `k` set to `v`: a new map, unless `fresh` says this step made `map` itself (then it is
 * set in place: the entries one step applies share one copy of each map, not one per entry).
 */
function putFresh<K, V>(map: ReadonlyMap<K, V>, k: K, v: V, fresh: Set<object> | null): ReadonlyMap<K, V> {
  if (fresh === null) return put(map, k, v);
  if (fresh.has(map)) {
    (map as Map<K, V>).set(k, v);
    return map;
  }
  const out = new Map(map);
  out.set(k, v);
  fresh.add(out);
  return out;
}

/**
 * Applies one entry to the state machine: the new kv and sessions, and the result to answer
 * (null for a no-op and for an older duplicate, whose client has moved on). `fresh`: the maps
 * the caller's step made itself, which may be set in place (see {@link putFresh}).
 */
export function applyEntry(kv: Server['kv'], sessions: Server['sessions'], e: Entry, fresh: Set<object> | null = null): { kv: Server['kv']; sessions: Server['sessions']; result: Result | null } {
  const cmd = e.cmd;
  if (cmd === null) return { kv, sessions, result: null };
  const session = sessions.get(cmd.client);
  const op = cmd.op;
  if (op.kind === 'register') return register(kv, sessions, cmd.client, op.nonce, fresh);
  if (session && session.id >= cmd.id) return { kv, sessions, result: session.id === cmd.id ? session.result : null };
  let result: Result;
  switch (op.kind) {
    case 'put':
      kv = putFresh(kv, op.key, [...(kv.get(op.key) ?? []), { ts: e.ts, value: op.value }], fresh);
      result = { kind: 'ok' };
      break;
    case 'get':
      result = { kind: 'value', value: readAt(kv, op.key), via: 'log' };
      break;
    case 'cas': {
      const ok = readAt(kv, op.key) === op.from;
      if (ok) kv = putFresh(kv, op.key, [...(kv.get(op.key) ?? []), { ts: e.ts, value: op.to }], fresh);
      result = { kind: 'cas', ok };
      break;
    }
  }
  return { kv, sessions: putFresh(sessions, cmd.client, { id: cmd.id, result }, fresh), result };
}

/**
 * A client incarnation registers: its session moves to the next incarnation k, whose requests
 * carry ids from k · 2^16 + 1 (above every id of the earlier ones, which are now old duplicates).
 * The session's last id becomes k · 2^16 and its result the registration, so that a retried
 * registration is answered the same until the incarnation's first request.
 */
function register(kv: Server['kv'], sessions: Server['sessions'], client: NodeId, nonce: number, fresh: Set<object> | null): ReturnType<typeof applyEntry> {
  const session = sessions.get(client);
  if (session?.result.kind === 'registered' && session.result.nonce === nonce) return { kv, sessions, result: session.result };
  const incarnation = Math.floor((session?.id ?? 0) / SESSION_IDS) + 1;
  if (incarnation * SESSION_IDS >= SESSION_REGISTER_ID) return { kv, sessions, result: { kind: 'registered', incarnation: 0, nonce } };
  const result: Result = { kind: 'registered', incarnation, nonce };
  return { kv, sessions: putFresh(sessions, client, { id: incarnation * SESSION_IDS, result }, fresh), result };
}

/** Applies the entries the commit index just passed; the proposer answers its clients. */
function applyCommitted(s: Server, from: number, out: Out<Msg, Result>, self: NodeId): Server {
  if (s.commit <= from) return s;
  let kv = s.kv;
  let sessions = s.sessions;
  const fresh = new Set<object>();
  for (let i = from; i < s.commit; i++) {
    const e = s.log[i]!;
    const r = applyEntry(kv, sessions, e, fresh);
    kv = r.kv;
    sessions = r.sessions;
    if (r.result !== null && e.cmd!.by === self) out.reply(r.result, { client: e.cmd!.client, id: e.cmd!.id });
  }
  return { ...s, kv, sessions };
}

// ---------------------------------------------------------------- the server

function mode(ctx: Ctx<P>): ReadMode {
  const r = ctx.params.reads;
  if (r !== 'log' && r !== 'lease' && r !== 'follower' && r !== 'index') throw new Error(`param reads must be log, lease, follower or index, got '${r}'`);
  return r;
}

/** Appends an entry at the leader: timestamps increase along the log and stay above the closed timestamp. */
function propose(s: Server, cmd: Cmd | null, now: number, ctx: Ctx<P>): Server {
  let ts = 0;
  let closed = 0;
  if (mode(ctx) === 'follower') {
    const last = s.log[s.log.length - 1];
    const lastTs = last?.ts ?? 0;
    const lastClosed = last?.closed ?? 0;
    ts = Math.max(now, lastTs + 1, lastClosed + 1);
    closed = Math.min(ts - 1, Math.max(lastClosed, now - ctx.params.closeLag));
  }
  return { ...s, log: [...s.log, { term: s.term, ts, closed, cmd }], unsynced: s.unsynced + 1 };
}

/** The start of the leader's lease: the send stamp a majority (itself included) acknowledged. */
function leaseStart(s: Server, servers: number): number | null {
  const need = Math.floor(servers / 2); // followers needed besides the leader
  if (need === 0) return Number.POSITIVE_INFINITY;
  const stamps = [...s.acks.values()].sort((a, b) => b - a);
  return stamps.length >= need ? stamps[need - 1]! : null;
}

/** Whether leader `s` may serve a read from its state machine at clock reading `now` (of `servers` servers). */
function holdsLease(s: Server, now: number, servers: number, p: P, kv: KvRules): boolean {
  if (s.role !== 'leader' || s.commit === 0 || s.log[s.commit - 1]!.term !== s.term) return false;
  const start = leaseStart(s, servers);
  if (start === null) return false;
  if (start === Number.POSITIVE_INFINITY) return true;
  return now < start + p.electionTicks - kv.leaseMargin(p);
}

/**
 * Lease reads: the server heard from a leader (or restarted) less than an election timeout ago,
 * so it must not vote or campaign. `quiet` is volatile: after a restart it is unknown (null) until
 * the `boot` step reads the clock — unless the server is still in term 1, which proves it never
 * accepted a leader (leaders have terms ≥ 2) and so never made the promise.
 */
function quietNow(s: Server, now: number, ctx: Ctx<P>): boolean {
  if (mode(ctx) !== 'lease') return false;
  return s.quiet === null ? s.term > 1 : now < s.quiet;
}

/**
 * Whether some entry of the log is `same` as a request, without reading the whole log on the hot
 * path: the entries not yet applied are scanned; the applied prefix only when the client's
 * session (monotone: applying an entry with id X leaves the session's id ≥ X) has reached the
 * request's id (a retry or a duplicate), or for a registration (`req` null).
 */
function inLog(s: Server, same: (e: Entry) => boolean, req: { client: NodeId; id: number } | null): boolean {
  for (let i = s.commit; i < s.log.length; i++) if (same(s.log[i]!)) return true;
  if (req !== null && (s.sessions.get(req.client)?.id ?? -1) < req.id) return false;
  for (let i = 0; i < s.commit; i++) if (same(s.log[i]!)) return true;
  return false;
}

/** The stamp of an AppendEntries: the send time under leases, the confirmation round under ReadIndex, else 0. */
function stampOf(s: Server, out: Out<Msg, Result>, ctx: Ctx<P>): number {
  const reads = mode(ctx);
  return reads === 'lease' ? out.now() : reads === 'index' ? s.round : 0;
}

/** Records that `j` is sent the current confirmation round (ReadIndex; no change otherwise). */
function sentRound(s: Server, j: NodeId): Server {
  return s.round === 0 || (s.sent.get(j) ?? 0) >= s.round ? s : { ...s, sent: put(s.sent, j, s.round) };
}

/** Whether the leader's log has an entry of its own term committed (its no-op, §8). */
function ownTermCommitted(s: Server): boolean {
  return s.commit > 0 && s.log[s.commit - 1]!.term === s.term;
}

/**
 * Answers the waiting ReadIndex reads whose round a majority (the leader included) acknowledged
 * and whose read index the state machine has applied (the leader applies up to its commit index).
 */
function serveReads(s: Server, out: Out<Msg, Result>, servers: number, kvRules: KvRules): Server {
  if (s.reads.length === 0) return s;
  let left: PendingRead[] | null = null;
  for (let k = 0; k < s.reads.length; k++) {
    const r = s.reads[k]!;
    if (kvRules.readIndexReady(s, r, servers)) {
      left ??= s.reads.slice(0, k);
      out.reply({ kind: 'value', value: readAt(s.kv, r.key), via: 'index' }, { client: r.client, id: r.id });
    } else if (left !== null) left.push(r);
  }
  return left === null ? s : { ...s, reads: left };
}

/** The correct ReadIndex rule: the read's round acknowledged by a majority, its index applied. */
function readIndexReady(s: Server, r: PendingRead, servers: number): boolean {
  if (s.commit < r.index) return false;
  let agree = 1;
  for (const a of s.acks.values()) if (a >= r.round) agree++;
  return isQuorum(agree, servers);
}

function server(rules: RaftRules, kvRules: KvRules) {
  return spec.role(Server)({
    count: (p) => p.servers,
    symmetric: true,
    durable: ['term', 'votedFor', 'log', 'repair'],
    init: (ctx) => ({
      ...initialCore<Entry>(), quiet: mode(ctx) === 'lease' ? null : 0, acks: NO_ACKS, round: 0, sent: NO_ACKS, reads: NO_READS, kv: NO_KV, sessions: NO_SESSIONS, unsynced: 0,
    }),
    /**
     * The leader's own write in parallel with replication (thesis §10.2.1): its durable view lacks
     * the entries it has not persisted yet, so proposing and replicating them needs no flush first
     * (the executor sends the AppendEntries at once), and a crash before `persist` loses them.
     */
    durableView: (s) => (s.unsynced === 0 ? s : { ...s, log: s.log.slice(0, s.log.length - s.unsynced) }),
    /** A damaged durable state: repair mode, as raft's servers (consensus.ts). */
    onRecover: (s, damage, ctx) => recoverServer(s, damage, ctx),
    /** A lost write is seen (a high-water mark flushed apart, as raft's servers): repair mode. */
    lostWrites: 'detected',
    onMessage: (s0, from, m, out, ctx) => {
      const now = out.now();
      // Thesis §4.2.3: within an election timeout of hearing from the leader, ignore RequestVote.
      if (m.kind === 'requestVote' && quietNow(s0, now, ctx)) return s0;
      const s1 = observeTerm(s0, m.term);
      let s = handleMessage(s1, from, m, out, ctx, rules);
      // Log reads: record the heartbeat, so that the executor pushes the election timeout back
      // (restartOn: 'state'), as Raft restarts it on an AppendEntries from the current leader.
      if ((mode(ctx) === 'log' || mode(ctx) === 'index') && m.kind === 'append' && m.term === s.term && s.quiet !== now) s = { ...s, quiet: now };
      // ReadIndex: a reply of this term (success or not) confirms that `from` still follows this leader.
      if (mode(ctx) === 'index' && m.kind === 'appendReply' && s.role === 'leader' && m.term === s.term && (s.acks.get(from) ?? 0) < m.stamp) {
        s = { ...s, acks: put(s.acks, from, m.stamp) };
      }
      if (mode(ctx) === 'lease') {
        if (m.kind === 'append' && m.term === s.term) s = { ...s, quiet: now + ctx.params.electionTicks };
        if (m.kind === 'appendReply' && s.role === 'leader' && m.term === s.term && (s.acks.get(from) ?? -1) < m.stamp) {
          s = { ...s, acks: put(s.acks, from, m.stamp) };
        }
      }
      if (s.role === 'leader' && s1.role !== 'leader') s = propose({ ...s, acks: NO_ACKS }, null, now, ctx); // the no-op of §8
      if (s.role !== 'leader' && s.acks.size > 0) s = { ...s, acks: NO_ACKS };
      // A leader that steps down writes its whole log, as every follower does.
      if (s.role !== 'leader' && s.unsynced !== 0) s = { ...s, unsynced: 0 };
      // A server that is not the leader drops its waiting reads (unanswered: the client's call stays pending).
      if (s.role !== 'leader' && (s.reads.length > 0 || s.round !== 0)) s = { ...s, round: 0, sent: NO_ACKS, reads: NO_READS };
      return serveReads(applyCommitted(s, s0.commit, out, ctx.self), out, ctx.count('server'), kvRules);
    },
    onRequest: (s, req, out, ctx) => {
      const op = req.op;
      const now = out.now();
      if (op.kind === 'get') {
        const reads = mode(ctx);
        if (reads === 'follower') {
          const closed = s.commit > 0 ? s.log[s.commit - 1]!.closed : 0;
          const ts = kvRules.followerReadTs(closed, now);
          out.reply({ kind: 'readAt', value: readAt(s.kv, op.key, ts), ts });
          return s;
        }
        if (reads === 'lease' && holdsLease(s, now, ctx.count('server'), ctx.params, kvRules)) {
          out.reply({ kind: 'value', value: readAt(s.kv, op.key), via: 'lease' });
          return s;
        }
        // ReadIndex (thesis §6.4): once an entry of its term is committed, the leader notes its
        // commit index, starts a confirmation round, and answers when a majority acknowledged the
        // round and the index is applied. Before its no-op commits, the read goes through the log.
        if (reads === 'index' && s.role === 'leader' && ownTermCommitted(s)) {
          const round = s.round + 1;
          const pending: PendingRead = { client: req.client, id: req.id, key: op.key, index: s.commit, round };
          return serveReads({ ...s, round, reads: [...s.reads, pending] }, out, ctx.count('server'), kvRules);
        }
      }
      if (s.role !== 'leader') {
        out.reply({ kind: 'notLeader' });
        return s;
      }
      // Exactly-once at proposal too: a request already in the log is not appended again; if it
      // has been applied, its result is answered again (a client retrying elsewhere, or after a
      // lost reply, gets the answer the proposer gave).
      const same = op.kind === 'register'
        ? (e: Entry) => e.cmd !== null && e.cmd.client === req.client && e.cmd.op.kind === 'register' && e.cmd.op.nonce === op.nonce
        : (e: Entry) => e.cmd !== null && e.cmd.client === req.client && e.cmd.id === req.id;
      if (inLog(s, same, op.kind === 'register' ? null : req)) {
        const session = s.sessions.get(req.client);
        const applied = op.kind === 'register'
          ? session?.result.kind === 'registered' && session.result.nonce === op.nonce
          : session?.id === req.id;
        if (applied) out.reply(session!.result);
        return s;
      }
      const next = propose(s, { client: req.client, id: req.id, by: ctx.self, op }, now, ctx);
      return applyCommitted(advanceCommit(next, ctx, rules), s.commit, out, ctx.self); // commits at once only when alone
    },
    actions: {
      /** Lease reads: a server that restarted waits an election timeout before it votes or campaigns. */
      boot: {
        when: (s) => s.quiet === null && s.term > 1,
        do: (s, out, ctx) => ({ ...s, quiet: out.now() + ctx.params.electionTicks }),
        timerMs: [0, 0],
      },
      /**
       * The election timer fires: start an election, unless a leader was heard from recently
       * (leases). The executor draws a new timeout whenever the state changes: a heartbeat of the
       * current leader changes `quiet` (log and lease reads), a vote granted changes `votedFor`, a
       * newer term changes `term` (Raft restarts it on the first two; follower reads do not record
       * heartbeats, so their followers still time out under a healthy leader). Votes refused
       * change nothing, so a candidate that cannot win times out again.
       */
      timeout: {
        fair: 'weak',
        when: (s, ctx) => s.role !== 'leader' && s.term < ctx.params.maxTerm && s.repair === null,
        do: (s, out, ctx) => {
          if (quietNow(s, out.now(), ctx)) return s;
          const next = startElection(s, ctx);
          return next.role === 'leader' ? propose(next, null, out.now(), ctx) : next;
        },
        timerMs: [150, 300],
        restartOn: 'state',
      },
      requestVote: {
        fair: 'weak',
        fairPerChoice: true,
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s, _ctx, j: NodeId) => s.role === 'candidate' && !s.votes.includes(j),
        do: (s, out, _ctx, j: NodeId) => sendRequestVote(s, j, out),
        timerMs: [50, 50],
      },
      /** Repair mode: ask `j` for its term (again, if the query or the answer was lost). */
      repairQuery: {
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s, _ctx, j: NodeId) => querying(s, j),
        do: (s, out, _ctx, j: NodeId) => sendRepairQuery(s, j, out),
        timerMs: [50, 50],
      },
      /**
       * Follower reads: the leader closes time that has passed on an idle range by appending a
       * no-op that carries the new closed timestamp (CockroachDB closes timestamps through Raft
       * commands as well), so that reads at the closed timestamp eventually see every write.
       */
      closeTimestamp: {
        when: (s, ctx) => s.role === 'leader' && mode(ctx) === 'follower',
        do: (s, out, ctx) => {
          const now = out.now();
          const lastClosed = s.log.length > 0 ? s.log[s.log.length - 1]!.closed : 0;
          return now - ctx.params.closeLag > lastClosed ? propose(s, null, now, ctx) : s;
        },
        timerMs: [200, 200],
      },
      /** Replication and heartbeats; under leases the stamp is the leader's clock reading. */
      appendEntries: {
        fair: 'weak',
        fairPerChoice: true,
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s) => s.role === 'leader',
        do: (s, out, ctx, j: NodeId) => sendAppend(sentRound(s, j), j, out, stampOf(s, out, ctx), batchOf(ctx)),
        timerMs: [50, 50],
      },
      /**
       * Replication on proposal: a follower has entries not yet sent (new proposals, or a retry
       * after a rejection); send them now, at most `batch` (pipelined: nextIndex moves past them).
       * The executor runs it at the end of the event-loop turn (a zero timer), so the proposals
       * of one turn leave in one AppendEntries per follower.
       */
      replicate: {
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s, _ctx, j: NodeId) => hasUnsent(s, j) || (s.role === 'leader' && (s.sent.get(j) ?? 0) < s.round),
        do: (s, out, ctx, j: NodeId) => sendAppend(sentRound(s, j), j, out, stampOf(s, out, ctx), batchOf(ctx)),
        timerMs: [0, 0],
      },
      /**
       * The leader writes its new entries (after `replicate`, so that in the executor the
       * AppendEntries of the turn leave before its flush starts): once they are in its durable
       * view it counts itself for them, which may commit them; the effects of this step (the
       * answers) wait for the flush, as every step's that moves the durable view.
       */
      persist: {
        fair: 'weak',
        when: (s) => s.unsynced > 0,
        do: (s, out, ctx) => serveReads(applyCommitted(advanceCommit({ ...s, unsynced: 0 }, ctx, rules), s.commit, out, ctx.self), out, ctx.count('server'), kvRules),
        timerMs: [0, 0],
      },
    },
  });
}

// ---------------------------------------------------------------- history properties

interface HistOp {
  client: NodeId;
  op: Op;
  result: Result | null;
  invokedAt: number;
  returnedAt: number;
}

/** The operations of a history, paired invocation with return (result null: still pending). */
export function operations(h: readonly HistoryEntry[]): HistOp[] {
  const ops: HistOp[] = [];
  const open = new Map<string, HistOp>();
  h.forEach((e, i) => {
    const key = `${e.client}:${e.id}`;
    if (e.kind === 'invoke') {
      const op: HistOp = { client: e.client, op: e.op as Op, result: null, invokedAt: i, returnedAt: Number.POSITIVE_INFINITY };
      ops.push(op);
      open.set(key, op);
    } else {
      const op = open.get(key);
      if (op) {
        op.result = e.result as Result;
        op.returnedAt = i;
      }
    }
  });
  return ops;
}

/** A raft-kv value as the kv model's string value: 0 is "absent", the model's `''`. */
const kvValue = (v: number): string => (v === 0 ? '' : String(v));

/** raft-kv's operations in the vocabulary of the library's kv model (specs/core/models/kv.ts). */
export function toKvInput(op: Op): KvInput {
  switch (op.kind) {
    case 'put':
      return { f: 'put', key: String(op.key), value: kvValue(op.value) };
    case 'get':
      return { f: 'get', key: String(op.key) };
    case 'cas':
      return { f: 'cas', key: String(op.key), from: kvValue(op.from), to: kvValue(op.to) };
    case 'register':
      // Never in the check: keptForLinearizability leaves registrations out.
      return { f: 'get', key: '' };
  }
}

/**
 * raft-kv's results as the kv model's outputs. `notLeader` is indeterminate (undefined): the
 * server that answered did nothing, but the network may deliver the same request again, to the
 * leader, which then proposes it — the model's set network and `--dup` do exactly that.
 */
export function toKvOutput(result: Result): KvOutput | undefined {
  switch (result.kind) {
    case 'notLeader':
      return undefined;
    case 'value':
    case 'readAt':
      return kvValue(result.value);
    case 'cas':
      return result.ok;
    default:
      return null;
  }
}

/**
 * Which operations the linearizability check includes: a follower read is not meant to be
 * linearizable (its own property checks it), and a read that is pending or was refused
 * (`notLeader`) cannot have changed anything; a write that is pending or was refused may still
 * take effect (see {@link toKvOutput}), so it stays, as indeterminate.
 */
export function keptForLinearizability(op: Op, result: Result | undefined): boolean {
  if (op.kind === 'register') return false; // a client's session, not an operation on the store
  if (result === undefined || result.kind === 'notLeader') return op.kind !== 'get';
  return result.kind !== 'readAt';
}

/**
 * Log and lease reads, writes and cas are linearizable: the library's checker (Wing–Gong–Lowe,
 * per key) against the library's kv model, as `pacta lincheck --model kv` checks a recorded
 * history.
 */
const linearizable = linearizableHistory(kvModel, {
  name: 'linearizable: log and lease reads and writes',
  mapOp: toKvInput,
  mapResult: toKvOutput,
  keep: keptForLinearizability,
});

/**
 * A follower read at timestamp ts returns exactly the writes with timestamps ≤ ts, as committed:
 * replaying the longest committed log prefix and reading at ts must give the same value. (A write
 * at or below ts that commits later makes the read stale: the check fails when it commits.)
 */
const followerReadsConsistent = invariant('follower reads: a read at ts sees exactly the committed writes at or below ts', (w: WorldReader) => {
  const reads = operations(w.history()).filter((o) => o.result?.kind === 'readAt');
  if (reads.length === 0) return true;
  let longest: Server | undefined;
  for (const s of w.states<Server>('server')) if (!longest || s.commit > longest.commit) longest = s;
  let kv: Server['kv'] = NO_KV;
  let sessions: Server['sessions'] = NO_SESSIONS;
  for (let i = 0; i < longest!.commit; i++) ({ kv, sessions } = applyEntry(kv, sessions, longest!.log[i]!));
  for (const r of reads) {
    const res = r.result as Extract<Result, { kind: 'readAt' }>;
    if (r.op.kind === 'register' || readAt(kv, r.op.key, res.ts) !== res.value) return false;
  }
  return true;
});

/**
 * Lease safety, as a state invariant over the servers' clocks (`w.clock(id)`): no server that is
 * up would serve a lease read now — it is a leader, its no-op is committed, and by its own clock
 * and its own rules its lease is still valid — while another server leads a later term. A later
 * leader may have committed writes the leaseholder's state machine lacks, so a read served then
 * can be stale. It fails at the state where the later leader is elected, before any client
 * operation has to show the stale read (about half the steps the history check needs).
 */
function leaseSafe(kvRules: KvRules, p: P) {
  return invariant('lease safety: no valid lease while another server leads a later term', (w: WorldReader) => {
    const ids = w.nodes('server');
    let latest = 0;
    for (const id of ids) {
      const s = w.node<Server>(id);
      if (!w.crashed(id) && s.role === 'leader' && s.term > latest) latest = s.term;
    }
    for (const id of ids) {
      if (w.crashed(id)) continue;
      const s = w.node<Server>(id);
      if (s.role === 'leader' && s.term < latest && holdsLease(s, w.clock(id), ids.length, p, kvRules)) return false;
    }
    return true;
  });
}

const readsWrittenValue = reachable('a read returns a written value', (w: WorldReader) =>
  operations(w.history()).some((o) => (o.result?.kind === 'value' || o.result?.kind === 'readAt') && o.result.value > 0));

// ---------------------------------------------------------------- the protocol

/** The most operations the model's clients choose among (see `ops` below). */
const MODEL_OPS_MAX = 1 << 12;

export default spec.define({
  roles: { server: server(correctRules, correctKv) },
  // Symmetry: servers are interchangeable; --disk-faults 1 at these bounds is ~1 M orbits instead
  // of 5.7 M states (--no-symmetry to check the liveness property `requestLiveness`).
  checkDefaults: { network: 'bag', maxInFlight: 1, symmetry: true },
  clients: {
    count: (p) => p.clients,
    target: 'server',
    ops: (p) => {
      // The model tries every operation at every request: a list past this is a mistyped param,
      // not a model (the executor's workloads draw their own keys and values and never list them).
      const count = p.keys * (p.values + 1 + (p.cas ? 1 : 0));
      if (count > MODEL_OPS_MAX) throw new ParamError(`params keys=${p.keys} and values=${p.values} give the model's clients ${count} operations to choose from at each request; at most ${MODEL_OPS_MAX} (lower keys or values)`);
      const ops: Op[] = [];
      for (let key = 0; key < p.keys; key++) {
        for (let value = 1; value <= p.values; value++) ops.push({ kind: 'put', key, value });
        ops.push({ kind: 'get', key });
        if (p.cas) ops.push({ kind: 'cas', key, from: 1, to: 2 });
      }
      return ops;
    },
    opsPerClient: (p) => p.opsPerClient,
    redirect: (r) => (r.kind === 'notLeader' ? {} : null),
    session: {
      register: (nonce) => ({ kind: 'register', nonce }),
      incarnation: (r, nonce) => (r.kind === 'registered' && r.nonce === nonce && r.incarnation > 0 ? r.incarnation : null),
    },
  },
  properties: (p) => kvProperties(correctKv, p),
  variants: {
    'lease-ignores-skew': {
      doc: 'The leaseholder serves reads for the whole election timeout on its own clock, with no margin for clock error: under skew (--clock-error) a new leader is elected while the old one still holds its lease (lease safety), and commits a write while the old one still serves the old value (linearizability).',
      expose: {
        params: { reads: 'lease', clients: 0, maxTerm: 3, electionTicks: 1 },
        options: { network: 'bag', clockError: 1, maxInFlight: 1 },
      },
      roles: { server: server(correctRules, skewBlindKv) },
      properties: (p: P) => kvProperties(skewBlindKv, p),
    },
    'read-index-unconfirmed': {
      doc: 'ReadIndex without the confirmation round: the leader answers a read once its read index is applied, without hearing from a majority that it still leads. A leader cut off by a newer one serves a stale value (linearizability).',
      expose: {
        params: { reads: 'index', clients: 1, opsPerClient: 2, maxTerm: 3 },
        options: { network: 'bag', maxInFlight: 1, symmetry: true },
      },
      roles: { server: server(correctRules, { ...correctKv, readIndexReady: (s, r) => s.commit >= r.index }) },
    },
    'commit-before-own-write': {
      doc: "The leader counts itself towards a quorum for entries it has sent but not yet written (the parallel write's rule broken): with one follower's acknowledgement it commits its no-op, tells the follower, crashes before its own write, restarts without the entry, and votes a server without it into the next term (leader completeness).",
      expose: {
        params: { clients: 0, maxTerm: 3 },
        options: { network: 'bag', maxInFlight: 1, crashes: 1 },
      },
      roles: { server: server({ ...correctRules, selfOnlyWhenWritten: false }, correctKv) },
    },
    'restarted-client-reuses-ids': {
      doc: "Clients without sessions (`--client-restarts`): a client restarted with the same id numbers its requests from 0 again. The reply to its earlier incarnation's put completes the new incarnation's get, which returns `ok` (linearizability, 13 steps); a new put with an id the servers already applied is taken for a duplicate and answered from the session, never applied. The executor's clients did this before sessions: 7 of 8 puts of a restarted client were never applied.",
      expose: {
        params: { clients: 1, opsPerClient: 2, keys: 1, values: 1 },
        options: { clientRestarts: 1 },
      },
      clients: { session: undefined },
    },
    'follower-read-above-closed': {
      doc: 'A follower serves reads at its own clock reading instead of its closed timestamp: a write at or below that timestamp may still commit (follower reads).',
      expose: {
        params: { reads: 'follower', clients: 1, opsPerClient: 2 },
        options: { network: 'bag', maxTime: 2, maxInFlight: 1 },
      },
      roles: { server: server(correctRules, { ...correctKv, followerReadTs: (closed, now) => Math.max(closed, now) }) },
    },
  },
});

/** raft-kv's properties; lease safety judges a lease by the servers' own rules (`kvRules`). */
function kvProperties(kvRules: KvRules, p: P) {
  return [
    ...raftInvariants,
    ...(p.reads === 'follower' ? [followerReadsConsistent] : [linearizable]),
    reachable('a leader is elected', (w) => w.any<Server>('server', (s) => s.role === 'leader')),
    ...(p.requestLiveness ? [requestsAnswered(p.maxTerm)] : []),
    reachable('a write is committed', (w) => w.any<Server>('server', (s) => s.log.slice(0, s.commit).some((e) => e.cmd !== null && e.cmd.op.kind !== 'get'))),
    readsWrittenValue,
    ...(p.reads === 'lease'
      ? [
        leaseSafe(kvRules, p),
        reachable('a leader holds a valid lease', (w: WorldReader) => {
          const ids = w.nodes('server');
          return ids.some((id) => !w.crashed(id) && holdsLease(w.node<Server>(id), w.clock(id), ids.length, p, kvRules));
        }),
        reachable('a lease read is served', (w: WorldReader) => operations(w.history()).some((o) => o.result?.kind === 'value' && o.result.via === 'lease')),
      ]
      : []),
    ...(p.reads === 'index'
      ? [reachable('a ReadIndex read is served', (w: WorldReader) => operations(w.history()).some((o) => o.result?.kind === 'value' && o.result.via === 'index'))]
      : []),
  ];
}

export type { Op as KvOp, Result as KvResult, Entry as KvEntry, Server as KvServer };
