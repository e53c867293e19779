/**
 * CockroachDB's transaction layer: hybrid logical clocks, write intents and transaction records,
 * pushes, uncertainty restarts and read refreshes, lease transfers carrying the timestamp cache's
 * low-water mark, and parallel commits (STAGING records and their recovery).
 *
 * Sources: Taft et al., *CockroachDB: The Resilient Geo-Distributed SQL Database* (SIGMOD 2020)
 * §3.2–3.4 (write intents, transaction records, the timestamp cache, read refreshes, uncertainty
 * intervals, parallel commits); Kulkarni et al., *Logical Physical Clocks* (OPODIS 2014) for the
 * HLC rules (hlc.ts); CockroachDB's docs/design "Parallel Commits" RFC and docs/tla-plus/
 * ParallelCommits.tla (recovery with QueryIntent that prevents a missing write); the
 * kv/kvserver/uncertainty package doc (global and local uncertainty limits, observed timestamps,
 * local timestamps of values).
 *
 * **Roles.** `node` × `nodes`: each node is a gateway (it coordinates the transactions its clients
 * send it, the TxnCoordSender) and the leaseholder of some ranges. There is one key per range
 * (`keys` ≥ 2 ranges); range k's lease starts at node k mod nodes. Replication under a range is
 * abstracted as in the Spanner spec: a range's data and records are its leaseholder's (and travel
 * with the lease), the raft spec checks the replication itself. One world request is one whole
 * transaction (specs/txn/README.md).
 *
 * **Clocks.** Each node keeps an HLC over its physical reading max(0, now()); true time advances
 * by ticks (`--max-time`) and each node's reading drifts within `--clock-error` of it, so two
 * nodes are within 2·clockError of each other: the cluster's `maxOffset` param must cover that
 * (variant `clock-beyond-max-offset`). A transaction takes its timestamp from its gateway's clock
 * (a local event); every request carries a timestamp the receiver's clock merges (a receive event),
 * and every reply carries the replier's clock, which the gateway merges and keeps as the
 * transaction's **observed timestamp** for that node.
 *
 * **A transaction** (the gateway runs its steps in program order). It reads at `readTs`; its
 * global uncertainty limit is its start's wall time + maxOffset (inclusive: the model's clocks
 * are discrete). A read at the leaseholder: a committed value in (readTs, limit] whose local
 * timestamp is at or below the local limit (the node's observed timestamp, raised to the lease
 * start; or the global limit) makes the read **uncertain**: the gateway moves readTs up to the
 * value's timestamp, **refreshes** its earlier reads (each key read must show no new version and
 * no other intent in (old, new]; the refresh raises the timestamp cache), and reads again; a
 * refresh that fails aborts the transaction (the client may retry; epochs are not modeled). Reads
 * raise the key's timestamp cache. A write places an **intent** at writeTs, raised above the
 * timestamp cache (reads of other transactions) and above the latest version (write too old);
 * the first write, on the **anchor** key, also creates the **transaction record** PENDING. A
 * request that meets another transaction's intent waits and the leaseholder **pushes** that
 * transaction at its record: a read below the intent moves it above the read (PUSH_TIMESTAMP), a
 * write, or a read whose uncertainty interval holds the intent, aborts it (PUSH_ABORT); the
 * answer resolves the intent (moved, committed, or removed) and the waiting requests run again.
 * In the model a push of a PENDING record always succeeds: that covers an expired heartbeat and a
 * higher priority; a pusher that waits instead only delays (liveness, not modeled).
 * Commit: if writeTs > readTs the reads are refreshed to writeTs; then EndTxn at the record: a
 * PENDING record whose pushed timestamp is at or below writeTs becomes COMMITTED (answer the
 * client), one pushed higher answers "retry" (refresh to it, commit again), an ABORTED one aborts.
 * Intents are resolved asynchronously after the answer.
 *
 * **Parallel commits** (`parallelCommits`): the last write goes out together with an EndTxn that
 * writes the record STAGING with the key of that write as in-flight. The transaction is implicitly
 * committed once the record is STAGING and every in-flight write landed at or below the staging
 * timestamp: the gateway answers the client then, and marks the record COMMITTED afterwards. A
 * write that landed above it (pushed) means it is not committed: the gateway aborts. A pusher
 * that finds a STAGING record **recovers** it: the record's range sends QueryIntent for each
 * in-flight write, which **prevents** a missing write from landing later at or below the staging
 * timestamp (it raises the timestamp cache), then COMMITTED if every write was found, else ABORTED.
 *
 * **Lease transfers** (`leaseTransfers`, of range 0): the leaseholder stops serving the range and
 * ships its replicated state to the next node; the new lease starts at the old leaseholder's clock,
 * which is at or above every timestamp it served, and that start is the new timestamp cache's
 * low-water mark (variant `lease-transfer-no-low-water`). Requests sent to the old leaseholder are
 * forwarded once.
 *
 * **Crashes** (`--crashes`): a node loses the transactions it coordinates (recovery is by pushers,
 * which abort PENDING records and recover STAGING ones); its ranges, clock and timestamp caches
 * survive (a simplification: CockroachDB's restarted node waits out max_offset and its new lease's
 * start is the low-water mark).
 *
 * **Not modeled.** Raft under each range and lease acquisition by election; multi-key ranges and
 * range splits; heartbeats and the txn wait queue (pushes succeed at once); transaction epochs and
 * restarts (a failed refresh aborts); read-only transactions' fixed timestamps and follower reads;
 * intent resolution by the record's range on commit (the gateway resolves them); pipelined writes
 * and commit-wait for future timestamps (no timestamp here is ahead of every clock: pushes go to a
 * read's timestamp + 1, and an uncertain intent is aborted rather than pushed past the limit);
 * parallel commits re-staging at a higher timestamp (the gateway aborts instead).
 */
import { add, del, put, protocol, t, type Ctx, type NodeId, type ParamsOf, type Out, type Request } from '../core/index.ts';
import { numberOf, readKeys, tagOf, txn, txnClients, TxnOp, TxnResult, TxnValue, valueOf } from '../txn/index.ts';
import { endOf, forward, Hlc, pack, receive, same, tick, unpack, ZERO } from './hlc.ts';
import { Intent, insertVersion, noteRead, Record, RecordStatus, TsCache, TxnId, Version, versionAt, writeFloor } from './store.ts';
import { cockroachGoals, cockroachProperties } from './properties.ts';

// ---------------------------------------------------------------- params

const params = {
  /** Nodes: gateways and leaseholders. */
  nodes: { default: 2, min: 1, max: 255 },
  /** Keys 0 .. keys − 1, one range each; range k's lease starts at node k mod nodes. */
  keys: { default: 2, min: 1, max: 1024 },
  clients: { default: 2, min: 0, max: 255 },
  opsPerClient: { default: 1, min: 0, max: 2 ** 20 },
  /** The cluster's maximum clock offset between two nodes, in physical time units. */
  maxOffset: { default: 1, min: 0, max: 2 ** 32 - 1 },
  /**
   * A fixed clock skew: node 0's physical clock reads true time + skew, the others read it exactly
   * (a skew that does not move keeps the state space small; `--clock-error` adds drift on top).
   */
  skew: { default: 1, min: 0, max: 2 ** 32 - 1 },
  /** Workload: a blind write of each key (one op per key). */
  writes: true,
  /** Workload: a read of every key. */
  reads: true,
  /** Workload: the bank transfer of 1 from key 0 to key 1. */
  transfers: false,
  /** Workload: write skew's pair (read 0 write 1; read 1 write 0). */
  writeSkew: false,
  /** Workload: a read of key 0 then a write of it (a read-modify-write). */
  rmw: false,
  /** Workload: one transaction writing keys 0 and 1 (with parallel commits, the write of 1 is in flight while STAGING). */
  pairWrites: false,
  /** Every account's balance before any write. */
  initial: { default: 10, min: 0, max: 2 ** 32 - 1 },
  /** How many times range 0's lease may move (0: leases never move). */
  leaseTransfers: { default: 0, min: 0, max: 2 ** 32 - 1 },
  /**
   * The HLC receive rule: Kulkarni et al.'s (every receive ticks: l' = max(l, l_m, pt) and the
   * counter by cases), or, by default, CockroachDB's hlc.Clock.Update (move forward to the
   * message's timestamp if it is ahead; the next local event ticks). Both keep a receive at or
   * above its send; the paper's rule makes many more distinct clock values (state space).
   */
  kulkarni: false,
  /** Parallel commits: the record goes STAGING with the last write in flight. */
  parallelCommits: false,
};
export type P = ParamsOf<typeof params>;

/** The operations the model's clients choose from. */
export function cockroachOps(p: P): TxnOp[] {
  const keys = Array.from({ length: p.keys }, (_, k) => k);
  const ops: TxnOp[] = [];
  if (p.writes) for (const k of keys) ops.push(txn.write(1, k));
  if (p.reads) ops.push(txn.read(...keys));
  if (p.transfers) ops.push(txn.transfer(0, 1, 1));
  if (p.writeSkew) ops.push(txn.of({ f: 'r', key: 0 }, { f: 'w', key: 1, n: 1 }), txn.of({ f: 'r', key: 1 }, { f: 'w', key: 0, n: 1 }));
  if (p.rmw) ops.push(txn.of({ f: 'add', key: 0, by: 1 }));
  if (p.pairWrites && p.keys >= 2) ops.push(txn.write(1, 0, 1));
  return ops;
}

// ---------------------------------------------------------------- messages

const Obs = t.struct({ node: t.node('node'), ts: t.u32 });
const GetF = { txn: TxnId, key: t.u32, ts: t.u32, limit: t.u32, obs: t.option(Obs), gw: t.node('node'), fwd: t.bool };
const PutF = { txn: TxnId, key: t.u32, ts: t.u32, value: TxnValue, anchor: t.u32, begin: t.bool, gw: t.node('node'), fwd: t.bool };

/** A request that may wait at a leaseholder behind another transaction's intent. */
const Waiter = t.union('kind', { get: GetF, put: PutF });
type Waiter = typeof Waiter.__type;

const Msg = t.union('kind', {
  // gateway → leaseholder (`fwd`: already forwarded once by a node the lease moved away from)
  get: GetF,
  put: PutF,
  refresh: { txn: TxnId, key: t.u32, from: t.u32, to: t.u32, gw: t.node('node'), fwd: t.bool },
  /** `intents`: the other keys whose intents the record's range resolves once the record is decided (parallel commits' explicit commit). */
  endTxn: { txn: TxnId, anchor: t.u32, commit: t.bool, ts: t.u32, inFlight: t.array(t.u32), intents: t.array(t.u32), gw: t.node('node'), fwd: t.bool },
  resolve: { txn: TxnId, key: t.u32, commit: t.bool, ts: t.u32, fwd: t.bool },
  // leaseholder → the record's leaseholder, and back
  push: { txn: TxnId, anchor: t.u32, to: t.u32, abort: t.bool, key: t.u32, by: t.node('node'), fwd: t.bool },
  pushed: { txn: TxnId, key: t.u32, status: RecordStatus, ts: t.u32, now: t.u32 },
  // parallel-commit recovery: the record's leaseholder → an in-flight write's leaseholder, and back
  queryIntent: { txn: TxnId, key: t.u32, ts: t.u32, anchor: t.u32, by: t.node('node'), fwd: t.bool },
  queried: { txn: TxnId, anchor: t.u32, key: t.u32, found: t.bool, now: t.u32 },
  // leaseholder → gateway (`now`: the leaseholder's clock, the gateway's observed timestamp)
  value: { txn: TxnId, key: t.u32, value: t.option(TxnValue), now: t.u32 },
  uncertain: { txn: TxnId, key: t.u32, ts: t.u32, now: t.u32 },
  written: { txn: TxnId, key: t.u32, ts: t.u32, now: t.u32 },
  refreshed: { txn: TxnId, key: t.u32, ok: t.bool, now: t.u32 },
  ended: { txn: TxnId, status: t.enum('committed', 'aborted', 'retry', 'staged'), ts: t.u32, now: t.u32 },
  // lease transfer: the range's replicated state, and the new lease's start
  lease: { key: t.u32, intent: t.option(Intent), versions: t.array(Version), records: t.map(TxnId, Record), start: t.u32, transfers: t.u32 },
});
type Msg = typeof Msg.__type;

// ---------------------------------------------------------------- state

/** A parallel-commit recovery in progress at the record's range. */
const Recovery = t.struct({
  /** In-flight writes not yet found. */
  left: t.array(t.u32),
  /** Pushers waiting for the outcome: their node and the key of their intent. */
  pushers: t.array(t.struct({ by: t.node('node'), key: t.u32 })),
});

/** A range this node holds the lease of. */
export const Range = t.struct({
  intent: t.option(Intent),
  versions: t.array(Version),
  /** The records of the transactions anchored on this range's key. */
  records: t.map(TxnId, Record),
  /** In memory at the leaseholder; a new lease starts it at its low-water mark. */
  tscache: TsCache,
  leaseStart: t.u32,
  /** How many times this range's lease moved. */
  transfers: t.u32,
  /** Requests waiting for the intent's transaction to be pushed. */
  waiting: t.array(Waiter),
  /** A push for the intent is out. */
  pushing: t.bool,
  /** STAGING records being recovered. */
  recovering: t.map(TxnId, Recovery),
});
export type Range = typeof Range.__type;

/** A transaction this node coordinates. */
const Coord = t.struct({
  client: t.node('client'),
  id: t.u32,
  op: TxnOp,
  startTs: t.u32,
  readTs: t.u32,
  writeTs: t.u32,
  /** The global uncertainty limit. */
  limit: t.u32,
  /** Per node, the first clock reading heard from it (the gateway's own: the start). */
  observed: t.map(t.node('node'), t.u32),
  /** The current step, and for an `add` whether its read is done. */
  step: t.u32,
  readDone: t.bool,
  /** The versions read, in the order of the read steps. */
  reads: t.array(t.option(TxnValue)),
  /** The keys read so far (the refresh spans). */
  readSet: t.set(t.u32),
  /** The keys written, in order: the first is the anchor (where the record lives). */
  written: t.array(t.u32),
  phase: t.enum('running', 'refreshing', 'committing', 'staging'),
  /** Refreshing: to which timestamp, the keys left, and whether the commit follows. */
  refresh: t.option(t.struct({ to: t.u32, left: t.array(t.u32), commit: t.bool })),
  /** Staging: the record's answer so far, and the in-flight write's timestamp once it landed. */
  staged: t.option(t.enum('staged', 'retry')),
  retryTs: t.u32,
  landed: t.option(t.u32),
  /** How many uncertainty restarts it took (a goal reads it). */
  restarts: t.u32,
});
type Coord = typeof Coord.__type;

export const Node = t.struct({
  hlc: Hlc,
  ranges: t.map(t.u32, Range),
  /** Ranges whose lease this node handed to another node (where to forward requests). */
  moved: t.map(t.u32, t.node('node')),
  txns: t.map(TxnId, Coord),
});
export type Node = typeof Node.__type;

// ---------------------------------------------------------------- rules (what the broken variants change)

/** The choices the variants get wrong. */
export interface Rules {
  /** Reads honour the uncertainty interval. */
  readonly uncertainty: boolean;
  /** The HLC receive rule (`kulkarni`: the paper's, which ticks; otherwise CockroachDB's forward-only Update). */
  receive(h: Hlc, m: Hlc, pt: number, kulkarni: boolean): Hlc;
  /** The new leaseholder's timestamp-cache low-water mark, given the lease start. */
  lowWater(start: number): number;
  /** A refresh fails on a version committed in (from, to]. */
  readonly refreshChecksVersions: boolean;
  /** Parallel-commit recovery's QueryIntent prevents a missing write from landing later. */
  readonly preventMissingWrite: boolean;
}

export const correctRules: Rules = {
  uncertainty: true,
  receive: (h, m, pt, kulkarni) => (kulkarni ? receive(h, m, pt) : forward(h, m)),
  lowWater: (start) => start,
  refreshChecksVersions: true,
  preventMissingWrite: true,
};

// ---------------------------------------------------------------- helpers

const spec = protocol({
  name: 'cockroach',
  doc: "CockroachDB's transaction layer: HLC, intents and records, uncertainty, refreshes, parallel commits.",
  params,
  messages: Msg,
  client: { op: TxnOp, result: TxnResult },
});

const NONE: readonly never[] = [];
const NO_RECOVERY: Range['recovering'] = new Map();

/** The physical clock reading: the world's clock (which may start below zero under drift), node 0's skewed by `skew`. */
const physical = (out: Out<Msg, TxnResult>, ctx: Ctx<P>): number => Math.max(0, out.now() + (ctx.index === 0 ? ctx.params.skew : 0));

/** The node range `key`'s lease starts at. */
const initialHolder = (key: number, ctx: Ctx<P>): NodeId => ctx.nodes('node')[key % ctx.count('node')]!;

/** Where this node sends requests for range `key`: itself, where it moved the lease, or the initial leaseholder. */
function holderOf(s: Node, key: number, ctx: Ctx<P>): NodeId {
  if (s.ranges.has(key)) return ctx.self;
  return s.moved.get(key) ?? initialHolder(key, ctx);
}

/** The range a request is about. */
function rangeOf(m: Msg): number | null {
  switch (m.kind) {
    case 'get': case 'put': case 'refresh': case 'resolve': case 'queryIntent':
      return m.key;
    case 'endTxn': case 'push':
      return m.anchor;
    default:
      return null;
  }
}

function initRange(start: number): Range {
  return { intent: null, versions: NONE, records: new Map(), tscache: { ts: start, txn: null }, leaseStart: start, transfers: 0, waiting: NONE, pushing: false, recovering: NO_RECOVERY };
}

// ---------------------------------------------------------------- the node

function node(rules: Rules) {
  type Step = { s: Node; out: Out<Msg, TxnResult>; ctx: Ctx<P> };

  /** The node's clock now, as a packed timestamp. */
  const clock = (s: Node): number => pack(s.hlc);

  const withRange = (s: Node, key: number, r: Range): Node => ({ ...s, ranges: put(s.ranges, key, r) });
  const withTxn = (s: Node, id: TxnId, co: Coord | null): Node => ({ ...s, txns: co ? put(s.txns, id, co) : del(s.txns, id) });

  // ------------------------------------------------------------ leaseholder

  /**
   * Evaluates a read or a write at the leaseholder of its key. Returns the range after it, or
   * null when the request must wait behind another transaction's intent (the caller pushes).
   */
  function evaluate(s: Node, r: Range, q: Waiter, out: Out<Msg, TxnResult>, ctx: Ctx<P>): { r: Range; push: { to: number; abort: boolean } | null } {
    const now = clock(s);
    const intent = r.intent;
    if (q.kind === 'get') {
      // The local limit: the observed timestamp of this node (raised to the lease start: values the
      // previous leaseholder wrote may carry its clock), never above the global limit.
      const local = q.obs && q.obs.node === ctx.self ? Math.min(q.limit, Math.max(q.obs.ts, r.leaseStart)) : q.limit;
      const inWindow = (ts: number, at: number): boolean => rules.uncertainty && ts > q.ts && ts <= q.limit && at <= local;
      if (intent && intent.txn !== q.txn) {
        if (intent.ts <= q.ts) return { r, push: { to: q.ts + 1, abort: false } };
        if (inWindow(intent.ts, intent.local)) return { r, push: { to: 0, abort: true } };
      }
      if (intent && intent.txn === q.txn) {
        out.send(q.gw, { kind: 'value', txn: q.txn, key: q.key, value: intent.value, now });
        return { r, push: null };
      }
      let uncertain = -1;
      for (const v of r.versions) if (inWindow(v.ts, v.local)) uncertain = Math.max(uncertain, v.ts);
      if (uncertain >= 0) {
        out.send(q.gw, { kind: 'uncertain', txn: q.txn, key: q.key, ts: uncertain, now });
        return { r, push: null };
      }
      out.send(q.gw, { kind: 'value', txn: q.txn, key: q.key, value: versionAt(r.versions, q.ts)?.value ?? null, now });
      const tscache = noteRead(r.tscache, q.ts, q.txn);
      return { r: tscache === r.tscache ? r : { ...r, tscache }, push: null };
    }
    // A write.
    if (intent && intent.txn !== q.txn) return { r, push: { to: 0, abort: true } };
    if (intent) {
      out.send(q.gw, { kind: 'written', txn: q.txn, key: q.key, ts: intent.ts, now });
      return { r, push: null };
    }
    const latest = r.versions.length > 0 ? r.versions[r.versions.length - 1]!.ts : -1;
    const ts = Math.max(q.ts, writeFloor(r.tscache, q.txn), latest + 1);
    let next: Range = { ...r, intent: { txn: q.txn, ts, local: now, anchor: q.anchor, value: q.value } };
    if (q.begin && !r.records.has(q.txn)) next = { ...next, records: put(r.records, q.txn, { status: 'PENDING', ts: q.ts, inFlight: NONE }) };
    out.send(q.gw, { kind: 'written', txn: q.txn, key: q.key, ts, now });
    return { r: next, push: null };
  }

  /** Evaluates `q`, or queues it behind the intent and pushes the intent's transaction (once). */
  function serve(s: Node, key: number, q: Waiter, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Node {
    const r = s.ranges.get(key)!;
    const { r: next, push } = evaluate(s, r, q, out, ctx);
    if (!push) return next === r ? s : withRange(s, key, next);
    const intent = r.intent!;
    if (!r.pushing) {
      out.send(holderOf(s, intent.anchor, ctx), { kind: 'push', txn: intent.txn, anchor: intent.anchor, to: push.to, abort: push.abort, key, by: ctx.self, fwd: false });
    }
    return withRange(s, key, { ...r, waiting: [...r.waiting, q], pushing: true });
  }

  /** The intent of `txn` on `key` settled as its record says; the waiting requests run again. */
  function settle(s: Node, key: number, id: TxnId, status: Record['status'] | 'moved', ts: number, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Node {
    let r = s.ranges.get(key);
    if (!r) return s;
    const intent = r.intent;
    if (intent && intent.txn === id) {
      if (status === 'COMMITTED') r = { ...r, intent: null, versions: insertVersion(r.versions, { ts, local: intent.local, value: intent.value }) };
      else if (status === 'ABORTED') r = { ...r, intent: null };
      else if (ts > intent.ts) r = { ...r, intent: { ...intent, ts } };
    }
    return drain(withRange(s, key, r), key, out, ctx);
  }

  /** Runs the waiting requests of range `key` again (unless a push is still out). */
  function drain(s: Node, key: number, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Node {
    const r = s.ranges.get(key)!;
    if (r.pushing || r.waiting.length === 0) return s;
    let next = withRange(s, key, { ...r, waiting: NONE });
    for (const q of r.waiting) next = serve(next, key, q, out, ctx);
    return next;
  }

  /** The record's answer to pushers once it is decided. */
  function answerPushers(s: Node, anchor: number, id: TxnId, pushers: readonly { by: NodeId; key: number }[], out: Out<Msg, TxnResult>): void {
    const rec = s.ranges.get(anchor)!.records.get(id)!;
    for (const p of pushers) out.send(p.by, { kind: 'pushed', txn: id, key: p.key, status: rec.status, ts: rec.ts, now: clock(s) });
  }

  /** Handles a request for a range this node holds. */
  function onRange(s: Node, key: number, m: Msg, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Node {
    const r = s.ranges.get(key)!;
    const now = clock(s);
    switch (m.kind) {
      case 'get':
      case 'put':
        return serve(s, key, m, out, ctx);
      case 'refresh': {
        const other = r.intent && r.intent.txn !== m.txn && r.intent.ts <= m.to;
        const changed = rules.refreshChecksVersions && r.versions.some((v) => v.ts > m.from && v.ts <= m.to);
        const ok = !other && !changed;
        out.send(m.gw, { kind: 'refreshed', txn: m.txn, key, ok, now });
        return ok ? withRange(s, key, { ...r, tscache: noteRead(r.tscache, m.to, m.txn) }) : s;
      }
      case 'resolve':
        return settle(s, key, m.txn, m.commit ? 'COMMITTED' : 'ABORTED', m.ts, out, ctx);
      case 'endTxn': {
        const rec = r.records.get(m.txn);
        const reply = (status: 'committed' | 'aborted' | 'retry' | 'staged', ts: number): void => out.send(m.gw, { kind: 'ended', txn: m.txn, status, ts, now });
        if (!rec || rec.status === 'ABORTED') {
          reply('aborted', 0);
          for (const k of m.intents) out.send(holderOf(s, k, ctx), { kind: 'resolve', txn: m.txn, key: k, commit: false, ts: 0, fwd: false });
          return rec ? s : withRange(s, key, { ...r, records: put(r.records, m.txn, { status: 'ABORTED', ts: 0, inFlight: NONE }) });
        }
        if (rec.status === 'COMMITTED') {
          reply(m.commit ? 'committed' : 'aborted', rec.ts);
          for (const k of m.intents) out.send(holderOf(s, k, ctx), { kind: 'resolve', txn: m.txn, key: k, commit: true, ts: rec.ts, fwd: false });
          return s;
        }
        // The record's own range resolves the transaction's intent on it at once (EndTxn resolves local intents).
        if (!m.commit) {
          reply('aborted', 0);
          return settle(withRange(s, key, { ...r, records: put(r.records, m.txn, { status: 'ABORTED', ts: rec.ts, inFlight: NONE }) }), key, m.txn, 'ABORTED', 0, out, ctx);
        }
        if (rec.status === 'STAGING') {
          // The explicit commit of an implicitly committed transaction.
          reply('committed', rec.ts);
          for (const k of m.intents) out.send(holderOf(s, k, ctx), { kind: 'resolve', txn: m.txn, key: k, commit: true, ts: rec.ts, fwd: false });
          return settle(withRange(s, key, { ...r, records: put(r.records, m.txn, { status: 'COMMITTED', ts: rec.ts, inFlight: NONE }) }), key, m.txn, 'COMMITTED', rec.ts, out, ctx);
        }
        if (rec.ts > m.ts) {
          reply('retry', rec.ts);
          return s;
        }
        const staging = m.inFlight.length > 0;
        reply(staging ? 'staged' : 'committed', m.ts);
        const next = withRange(s, key, { ...r, records: put(r.records, m.txn, { status: staging ? 'STAGING' : 'COMMITTED', ts: m.ts, inFlight: m.inFlight }) });
        return staging ? next : settle(next, key, m.txn, 'COMMITTED', m.ts, out, ctx);
      }
      case 'push': {
        const rec = r.records.get(m.txn);
        const pusher = { by: m.by, key: m.key };
        if (!rec) {
          // No record: the transaction can no longer create one.
          const next = withRange(s, key, { ...r, records: put(r.records, m.txn, { status: 'ABORTED', ts: 0, inFlight: NONE }) });
          answerPushers(next, key, m.txn, [pusher], out);
          return next;
        }
        if (rec.status === 'STAGING') {
          const rc = r.recovering.get(m.txn);
          if (rc) return withRange(s, key, { ...r, recovering: put(r.recovering, m.txn, { ...rc, pushers: [...rc.pushers, pusher] }) });
          for (const k of rec.inFlight) out.send(holderOf(s, k, ctx), { kind: 'queryIntent', txn: m.txn, key: k, ts: rec.ts, anchor: key, by: ctx.self, fwd: false });
          return withRange(s, key, { ...r, recovering: put(r.recovering, m.txn, { left: rec.inFlight, pushers: [pusher] }) });
        }
        let records = r.records;
        if (rec.status === 'PENDING') {
          records = put(records, m.txn, m.abort ? { status: 'ABORTED', ts: rec.ts, inFlight: NONE } : { ...rec, ts: Math.max(rec.ts, m.to) });
        }
        const next = records === r.records ? s : withRange(s, key, { ...r, records });
        answerPushers(next, key, m.txn, [pusher], out);
        return next;
      }
      case 'queryIntent': {
        const found = r.intent !== null && r.intent.txn === m.txn && r.intent.ts <= m.ts;
        out.send(m.by, { kind: 'queried', txn: m.txn, anchor: m.anchor, key, found, now });
        // Prevention: the missing write can no longer land at or below the staging timestamp.
        if (found || !rules.preventMissingWrite) return s;
        return withRange(s, key, { ...r, tscache: noteRead(r.tscache, m.ts, '') });
      }
      default:
        return s;
    }
  }

  // ------------------------------------------------------------ gateway

  /** Answers the client and forgets the transaction. */
  function finish(st: Step, id: TxnId, co: Coord, status: TxnResult['status'], commitTs: number): Node {
    st.out.reply({ status, startTs: co.startTs, commitTs, reads: status === 'committed' ? co.reads : NONE }, { client: co.client, id: co.id });
    return withTxn(st.s, id, null);
  }

  /** Resolves the transaction's intents but the anchor's (EndTxn resolved that one), asynchronously: nobody waits for the answers. */
  function resolveAll(st: Step, id: TxnId, co: Coord, commit: boolean, ts: number): void {
    for (const k of co.written.slice(1)) st.out.send(holderOf(st.s, k, st.ctx), { kind: 'resolve', txn: id, key: k, commit, ts, fwd: false });
  }

  /** Gives up: the record ABORTED (if any write went out), the intents removed, the client told. */
  function abort(st: Step, id: TxnId, co: Coord): Node {
    if (co.written.length > 0) {
      const anchor = co.written[0]!;
      st.out.send(holderOf(st.s, anchor, st.ctx), { kind: 'endTxn', txn: id, anchor, commit: false, ts: 0, inFlight: NONE, intents: NONE, gw: st.ctx.self, fwd: false });
      resolveAll(st, id, co, false, 0);
    }
    return finish(st, id, co, 'aborted', 0);
  }

  /** The observed timestamp to send with a read to the node that holds `key`. */
  function obsFor(st: Step, co: Coord, key: number): { node: NodeId; ts: number } | null {
    const to = holderOf(st.s, key, st.ctx);
    const ts = co.observed.get(to);
    return ts === undefined ? null : { node: to, ts };
  }

  /** Sends the current step's request, or commits after the last. */
  function next(st: Step, id: TxnId, co: Coord): Node {
    const { ctx } = st;
    const s = withTxn(st.s, id, co);
    const steps = co.op.steps;
    if (co.step >= steps.length) return commit({ ...st, s }, id, co);
    const step = steps[co.step]!;
    if (step.f === 'r' || (step.f === 'add' && !co.readDone)) {
      st.out.send(holderOf(s, step.key, ctx), { kind: 'get', txn: id, key: step.key, ts: co.readTs, limit: co.limit, obs: obsFor({ ...st, s }, co, step.key), gw: ctx.self, fwd: false });
      return s;
    }
    const req: Request<TxnOp> = { client: co.client, id: co.id, op: co.op };
    const value = step.f === 'w' ? valueOf(req, step.n) : valueOf(req, numberOf(co.reads[co.reads.length - 1] ?? null, ctx.params.initial) + step.by);
    const anchor = co.written[0] ?? step.key;
    const last = co.step === steps.length - 1;
    // Parallel commits: the last write goes out with the STAGING record (when no refresh is due and it is not the anchor's own first write).
    if (ctx.params.parallelCommits && last && co.written.length > 0 && co.readTs === co.writeTs) {
      st.out.send(holderOf(s, step.key, ctx), { kind: 'put', txn: id, key: step.key, ts: co.writeTs, value, anchor, begin: false, gw: ctx.self, fwd: false });
      st.out.send(holderOf(s, anchor, ctx), { kind: 'endTxn', txn: id, anchor, commit: true, ts: co.writeTs, inFlight: [step.key], intents: NONE, gw: ctx.self, fwd: false });
      return withTxn(s, id, { ...co, phase: 'staging', staged: null, landed: null });
    }
    st.out.send(holderOf(s, step.key, ctx), { kind: 'put', txn: id, key: step.key, ts: co.writeTs, value, anchor, begin: co.written.length === 0, gw: ctx.self, fwd: false });
    return s;
  }

  /** All steps done: a read-only transaction commits at its read timestamp; otherwise refresh if pushed, then EndTxn. */
  function commit(st: Step, id: TxnId, co: Coord): Node {
    if (co.written.length === 0) return finish(st, id, co, 'committed', co.readTs);
    if (co.readTs < co.writeTs) return startRefresh(st, id, co, co.writeTs, true);
    const anchor = co.written[0]!;
    st.out.send(holderOf(st.s, anchor, st.ctx), { kind: 'endTxn', txn: id, anchor, commit: true, ts: co.writeTs, inFlight: NONE, intents: NONE, gw: st.ctx.self, fwd: false });
    return withTxn(st.s, id, { ...co, phase: 'committing' });
  }

  /** Moves the read timestamp to `to`: refresh every key read first (none: at once). */
  function startRefresh(st: Step, id: TxnId, co: Coord, to: number, thenCommit: boolean): Node {
    const left = [...co.readSet];
    if (left.length === 0) return afterRefresh(st, id, { ...co, readTs: to, writeTs: Math.max(co.writeTs, to) }, thenCommit);
    st.out.send(holderOf(st.s, left[0]!, st.ctx), { kind: 'refresh', txn: id, key: left[0]!, from: co.readTs, to, gw: st.ctx.self, fwd: false });
    return withTxn(st.s, id, { ...co, phase: 'refreshing', refresh: { to, left, commit: thenCommit } });
  }

  function afterRefresh(st: Step, id: TxnId, co: Coord, thenCommit: boolean): Node {
    const ready = { ...co, phase: 'running' as const, refresh: null };
    return thenCommit ? commit(st, id, ready) : next(st, id, ready);
  }

  /** The staging transaction's answers so far: implicitly committed, not committed, or still waiting. */
  function staging(st: Step, id: TxnId, co: Coord): Node {
    if (co.staged === null || co.landed === null) return withTxn(st.s, id, co);
    const key = co.op.steps[co.step]!.key;
    const done = { ...co, written: add(co.written, key) as number[], step: co.step + 1 };
    if (co.staged === 'retry') {
      // The record was pushed before it could stage: commit the ordinary way at the higher timestamp.
      const to = Math.max(co.writeTs, co.retryTs, co.landed);
      return startRefresh(st, id, { ...done, phase: 'running', staged: null, landed: null, writeTs: to }, to, true);
    }
    if (co.landed > co.writeTs) return abort(st, id, done);
    // Implicitly committed: answer; the explicit commit resolves the intents once the record is COMMITTED.
    const anchor = co.written[0]!;
    st.out.send(holderOf(st.s, anchor, st.ctx), { kind: 'endTxn', txn: id, anchor, commit: true, ts: co.writeTs, inFlight: NONE, intents: done.written.slice(1), gw: st.ctx.self, fwd: false });
    return finish(st, id, done, 'committed', co.writeTs);
  }

  /** A reply to a transaction this node coordinates. */
  function onReply(st: Step, m: Msg): Node {
    if (!('txn' in m)) return st.s;
    const co = st.s.txns.get(m.txn);
    if (!co) return st.s;
    const id = m.txn;
    const step = co.op.steps[co.step];
    switch (m.kind) {
      case 'value': {
        if (co.phase !== 'running' || !step || step.key !== m.key || (step.f === 'w') || (step.f === 'add' && co.readDone)) return st.s;
        const read = { ...co, reads: [...co.reads, m.value], readSet: add(co.readSet, m.key) as number[] };
        return next(st, id, step.f === 'add' ? { ...read, readDone: true } : { ...read, step: co.step + 1 });
      }
      case 'uncertain': {
        if (co.phase !== 'running' || !step || step.key !== m.key) return st.s;
        return startRefresh(st, id, { ...co, restarts: co.restarts + 1, writeTs: Math.max(co.writeTs, m.ts) }, m.ts, false);
      }
      case 'written': {
        if (co.phase === 'staging') return step && step.key === m.key && co.landed === null ? staging(st, id, { ...co, landed: m.ts }) : st.s;
        if (co.phase !== 'running' || !step || step.key !== m.key || step.f === 'r' || (step.f === 'add' && !co.readDone)) return st.s;
        return next(st, id, { ...co, writeTs: Math.max(co.writeTs, m.ts), written: [...co.written, m.key], step: co.step + 1, readDone: false });
      }
      case 'refreshed': {
        const rf = co.refresh;
        if (co.phase !== 'refreshing' || !rf || rf.left[0] !== m.key) return st.s;
        if (!m.ok) return abort(st, id, co);
        const left = rf.left.slice(1);
        if (left.length === 0) return afterRefresh(st, id, { ...co, readTs: rf.to, writeTs: Math.max(co.writeTs, rf.to) }, rf.commit);
        st.out.send(holderOf(st.s, left[0]!, st.ctx), { kind: 'refresh', txn: id, key: left[0]!, from: co.readTs, to: rf.to, gw: st.ctx.self, fwd: false });
        return withTxn(st.s, id, { ...co, refresh: { ...rf, left } });
      }
      case 'ended': {
        if (co.phase === 'staging') {
          if (co.staged !== null) return st.s;
          if (m.status === 'aborted') {
            const key = step!.key;
            return abort(st, id, { ...co, written: add(co.written, key) as number[] });
          }
          return staging(st, id, m.status === 'retry' ? { ...co, staged: 'retry', retryTs: m.ts } : { ...co, staged: 'staged' });
        }
        if (co.phase !== 'committing') return st.s;
        if (m.status === 'committed') {
          resolveAll(st, id, co, true, m.ts);
          return finish(st, id, co, 'committed', m.ts);
        }
        if (m.status === 'retry') return startRefresh(st, id, { ...co, phase: 'running', writeTs: m.ts }, m.ts, true);
        return abort(st, id, co);
      }
      default:
        return st.s;
    }
  }

  // ------------------------------------------------------------ the role

  /** The timestamp a message carries for the receiver's clock. */
  function stampOf(m: Msg): number | null {
    switch (m.kind) {
      case 'get': case 'put': case 'endTxn': case 'resolve':
        return m.ts;
      case 'refresh':
        return m.to;
      case 'push':
        return m.to;
      case 'queryIntent':
        return m.ts;
      case 'lease':
        return m.start;
      case 'value': case 'uncertain': case 'written': case 'refreshed': case 'ended': case 'pushed': case 'queried':
        return m.now;
    }
  }

  function onMessage(s0: Node, from: NodeId, m: Msg, out: Out<Msg, TxnResult>, ctx: Ctx<P>): Node {
    const key = rangeOf(m);
    if (key !== null && !s0.ranges.has(key)) {
      // Not the leaseholder: forward once to where the lease went, else drop (the sender's request stays unanswered).
      const to = s0.moved.get(key);
      if (to !== undefined && 'fwd' in m && !m.fwd) out.send(to, { ...m, fwd: true } as Msg);
      return s0;
    }
    const stamp = stampOf(m);
    const s = stamp === null ? s0 : { ...s0, hlc: same(s0.hlc, rules.receive(s0.hlc, unpack(stamp), physical(out, ctx), ctx.params.kulkarni)) };
    if (m.kind === 'lease') {
      const r: Range = { ...initRange(m.start), intent: m.intent, versions: m.versions, records: m.records, transfers: m.transfers, tscache: { ts: rules.lowWater(m.start), txn: null } };
      return { ...withRange(s, m.key, r), moved: del(s.moved, m.key) };
    }
    if (key !== null) return onRange(s, key, m, out, ctx);
    if (m.kind === 'pushed') return settle({ ...s, ranges: s.ranges.has(m.key) ? put(s.ranges, m.key, { ...s.ranges.get(m.key)!, pushing: false }) : s.ranges }, m.key, m.txn, m.status === 'PENDING' ? 'moved' : m.status, m.ts, out, ctx);
    if (m.kind === 'queried') return onQueried(s, m, out);
    if (key !== null || !('now' in m)) return s;
    // A reply to a transaction: the gateway keeps the first clock reading it hears from each node.
    let next = s;
    const co = s.txns.get(m.txn);
    if (co && !co.observed.has(from)) next = withTxn(s, m.txn, { ...co, observed: put(co.observed, from, m.now) });
    return onReply({ s: next, out, ctx }, m);
  }

  /** A recovery's QueryIntent answer: all found → COMMITTED; one missing → ABORTED; then the pushers learn. */
  function onQueried(s: Node, m: Extract<Msg, { kind: 'queried' }>, out: Out<Msg, TxnResult>): Node {
    const r = s.ranges.get(m.anchor);
    const rc = r?.recovering.get(m.txn);
    if (!r || !rc || !rc.left.includes(m.key)) return s;
    const rec = r.records.get(m.txn)!;
    const left = rc.left.filter((k) => k !== m.key);
    if (m.found && left.length > 0) return withRange(s, m.anchor, { ...r, recovering: put(r.recovering, m.txn, { ...rc, left }) });
    const decided: Record = rec.status !== 'STAGING' ? rec : { status: m.found ? 'COMMITTED' : 'ABORTED', ts: rec.ts, inFlight: NONE };
    const next = withRange(s, m.anchor, { ...r, records: put(r.records, m.txn, decided), recovering: del(r.recovering, m.txn) });
    answerPushers(next, m.anchor, m.txn, rc.pushers, out);
    return next;
  }

  return spec.role(Node)({
    count: (p) => p.nodes,
    // A range's data and records are replicated (Raft, abstracted); the gateway's transactions are not.
    durable: ['hlc', 'ranges', 'moved'],
    init: (ctx) => {
      const ranges = new Map<number, Range>();
      for (let k = 0; k < ctx.params.keys; k++) if (initialHolder(k, ctx) === ctx.self) ranges.set(k, initRange(0));
      return { hlc: ZERO, ranges, moved: new Map(), txns: new Map() };
    },
    onRequest: (s0, req, out, ctx) => {
      const id = tagOf(req);
      if (s0.txns.has(id)) return s0;
      const hlc = tick(s0.hlc, physical(out, ctx));
      const ts = pack(hlc);
      const co: Coord = {
        client: req.client, id: req.id, op: req.op, startTs: ts, readTs: ts, writeTs: ts, limit: endOf(hlc.l + ctx.params.maxOffset),
        observed: new Map([[ctx.self, ts]]), step: 0, readDone: false, reads: NONE, readSet: NONE, written: NONE, phase: 'running',
        refresh: null, staged: null, retryTs: 0, landed: null, restarts: 0,
      };
      return next({ s: { ...s0, hlc }, out, ctx }, id, co);
    },
    onMessage,
    actions: {
      /**
       * The leaseholder hands range 0's lease to the next node (itself when it is the only one: a
       * new lease, as after an expiry), with the range's replicated state; the new lease starts at
       * its clock, which is at or above every read it served.
       */
      transferLease: {
        choices: (s, ctx) => {
          const r = s.ranges.get(0);
          return r && r.transfers < ctx.params.leaseTransfers && r.waiting.length === 0 && !r.pushing && r.recovering.size === 0 ? [0] : NONE;
        },
        do: (s, out, ctx, key: number) => {
          const r = s.ranges.get(key)!;
          const nodes = ctx.nodes('node');
          const to = nodes[(nodes.indexOf(ctx.self) + 1) % nodes.length]!;
          out.send(to, { kind: 'lease', key, intent: r.intent, versions: r.versions, records: r.records, start: clock(s), transfers: r.transfers + 1 });
          return { ...s, ranges: del(s.ranges, key), moved: put(s.moved, key, to) };
        },
        timerMs: [500, 1000],
      },
    },
  });
}

// ---------------------------------------------------------------- the protocol

const roles = (r: Rules) => ({ node: node(r) });
const broken = (r: Partial<Rules>) => roles({ ...correctRules, ...r });

export default spec.define({
  roles: roles(correctRules),
  clients: txnClients<P>({ count: (p) => p.clients, target: 'node', ops: cockroachOps, perClient: (p) => p.opsPerClient }),
  // Node 0's clock 1 ahead (maxOffset 1), no drift, no tick; bag: reordering, no duplicates.
  checkDefaults: { network: 'bag' },
  properties: (p) => [...cockroachProperties(p), ...cockroachGoals(p)],
  variants: {
    'ignore-uncertainty': {
      doc: 'Reads ignore the uncertainty interval: a value above the read timestamp is invisible even when it is within max_offset of it. With clocks skewed within max_offset, a write coordinated by a node whose clock runs ahead commits at a timestamp above the clock of a node behind; a read that starts there after the write returned reads below it and misses it: a stale read of a single key (what the uncertainty interval exists for, since there is no commit wait).',
      expose: { params: { keys: 1 } },
      roles: broken({ uncertainty: false }),
    },
    'clock-beyond-max-offset': {
      doc: 'The protocol is the correct one; the fault is the clocks: node 0\'s runs 2 ahead while the cluster assumes max_offset 1. A write on the fast node commits at a wall time more than max_offset above the slow node\'s clock, a read that starts there after it returned puts it outside its uncertainty interval and misses it: a stale read. This is why CockroachDB kills a node whose clock is too far from the others\'. (The HLC bound l − pt ≤ max_offset is left out of this variant\'s properties, so that the check shows the stale read it leads to.)',
      expose: { params: { keys: 1, skew: 2 } },
      properties: (p) => [...cockroachProperties(p, { hlcBound: false }), ...cockroachGoals(p)],
    },
    'hlc-ignores-receive': {
      doc: 'The HLC receive rule ignores the message\'s timestamp: a leaseholder whose clock is behind the gateway\'s serves a read at a timestamp above its own clock (its timestamp cache holds a read from its future), so a receive is ordered before its send (causality broken); the lease start, the observed timestamps and the local timestamps of values all rest on the leaseholder\'s clock being at or above what it served.',
      expose: { params: { clients: 1, writes: false } },
      roles: broken({ receive: (h) => h }),
    },
    'lease-transfer-no-low-water': {
      doc: 'A new lease does not carry the timestamp cache forward: its cache starts at 0 instead of at the lease start (the low-water mark). A read served under the old lease no longer pushes a later write above it: a read-modify-write that read the key at a higher timestamp and one that writes it below that, after the lease moved, both commit on the version they read, a lost update; with two keys the same is write skew. (The issue cites cockroach#7899, where a new lease did not set the low-water mark.) Shown with one node that takes a new lease on its own range, as after an expiry.',
      expose: { params: { nodes: 1, keys: 1, writes: false, reads: false, rmw: true, leaseTransfers: 1, skew: 0 } },
      roles: broken({ lowWater: () => 0 }),
    },
    'refresh-skips-new-writes': {
      doc: 'A refresh does not check the key for versions committed since the original read (it only looks for intents): a transaction whose timestamp was pushed moves its reads forward over a write it never saw, and two read-modify-writes of one key both commit on the same version: a lost update (the family of cockroach#36431 as the issue names it: refresh spans that miss writes).',
      expose: { params: { nodes: 1, keys: 1, writes: false, reads: false, rmw: true, skew: 0 } },
      roles: broken({ refreshChecksVersions: false }),
    },
    'recovery-no-prevent': {
      doc: 'Parallel-commit recovery queries the in-flight writes but does not prevent a missing one from landing later: the recovering pusher finds the last write not there yet and marks the STAGING record ABORTED, then the write lands at the staging timestamp, the gateway sees every write in place and tells the client the transaction committed. An acknowledged commit with an ABORTED record, its other intents removed (the family of cockroach#110185; ParallelCommits.tla\'s AckImpliesCommit is the property).',
      expose: { params: { nodes: 1, writes: false, reads: true, pairWrites: true, parallelCommits: true, skew: 0 } },
      roles: broken({ preventMissingWrite: false }),
    },
  },
});

export { Msg as CockroachMsg };
export type { Msg, Coord };
