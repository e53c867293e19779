/**
 * Percolator transactions on a timestamp oracle, as TiKV runs them (Peng & Dabek, "Large-scale
 * Incremental Processing Using Distributed Transactions and Notifications", OSDI 2010; TiKV's
 * src/storage/txn/actions/{prewrite,commit,check_txn_status,cleanup}.rs and client-go's
 * 2pc.go / lock_resolver.go), with TiKV 5.0's async commit and one-phase commit as params.
 *
 * Roles:
 * - `tso` (PD's timestamp oracle): hands out strictly increasing timestamps. Its counter is
 *   durable (PD persists a high-water mark and restarts above it). A request delivered again
 *   (the `set` network redelivers) gets the same answer: the TSO remembers, per client, the last
 *   request it answered.
 * - `store` (a TiKV region; each stands for a Raft group, so its whole state is durable: the
 *   raft spec checks that layer): keys `k` live on store `k mod stores`. Per key an MVCC key
 *   state (specs/txn/mvcc.ts): at most one lock and the write records (short values inline, as
 *   TiKV stores values of up to 255 bytes). `maxTs`, the largest timestamp read on the store,
 *   is TiKV's concurrency manager's max_ts (async commit and 1PC need it).
 * - `coord` (a TiDB server): runs each client's transaction. It keeps the transactions it runs
 *   in memory only: a crash (`--crashes`) is Percolator's client crash, leaving locks behind for
 *   other transactions to resolve.
 * The world's clients send whole transactions (specs/txn/clients.ts) to a coordinator.
 *
 * A transaction: get `startTs` from the TSO; read each read key at `startTs`, in program order.
 * A read that meets a lock with `lock.startTs <= startTs` (and, for async commit, a
 * `minCommitTs <= startTs`) must resolve it first: ask the primary's store (CheckTxnStatus) —
 * committed: roll the lock forward; rolled back: roll it back; the primary still locked and its
 * TTL expired (`lockTtl` timestamp units past its start; 0: at once): roll the primary back,
 * leaving a rollback record that stops a late commit; not expired: read again; no primary lock
 * and no record (its prewrite has not arrived): write a rollback record so it never will. Then
 * prewrite every written key in parallel: fail on a version committed at or after `startTs`
 * (write-write conflict), on any other lock, or on its own rollback record; otherwise lock the
 * key with the value (primary pointing to itself, secondaries to the primary). Then (2PC) get
 * `commitTs` from the TSO, commit the primary only if its lock is still there (write record
 * `commitTs -> startTs`, lock removed) — the transaction is committed then — answer the client,
 * and commit the secondaries asynchronously. A failed prewrite aborts the transaction and rolls
 * its keys back (cleanup; locks missed are resolved by others).
 *
 * Async commit (`async`, TiKV 5.0; tikv/sig-transaction design/async-commit): the primary lock
 * lists every secondary key; each lock gets `minCommitTs = max(startTs + 1, maxTs + 1)` from its
 * store; the transaction is committed once every lock is prewritten, at `commitTs = max` of the
 * locks' `minCommitTs`, and the client is answered then, before any commit record is written. A
 * reader that meets an async lock asks the primary (which is never rolled back by age), then every
 * secondary (CheckSecondaryLocks): all still locked — committed at the max `minCommitTs`; any
 * committed — committed at its timestamp; any missing — its store writes a rollback record (a
 * late prewrite must fail) and the transaction is rolled back. A rejected async prewrite leaves a
 * rollback record, so that the rejection is final: TiKV executes each request at most once and
 * the client's cleanup rolls the keys back; our network may deliver a request again, and a
 * rejected prewrite that later succeeds would commit a transaction its client was told had
 * aborted (that is the `async-abort-not-final` variant, the bug of pingcap/tla-plus PR #38).
 * One-phase commit (`onePC`): a transaction whose written keys all live on one store sends one
 * request that checks every key and writes the commit records at once, at
 * `max(startTs + 1, maxTs + 1)`.
 *
 * Properties: snapshot isolation of the client history, decided by the transaction checker
 * (`pacta txcheck`'s) on every explored history; no lost update; atomicity (no transaction has
 * both a committed and a rolled-back key, or two commit timestamps); abort and commit
 * consistency (what the client was told is what the stores hold); first committer wins on every
 * key; stable snapshot reads (every read at `startTs` saw exactly the versions committed at or
 * below `startTs` — for async commit, single-key linearizability of reads at timestamps, the
 * promise tikv#8589 broke); the TSO never gives one timestamp to two transactions; the bank's
 * total. Broken variants: see `variants` below and docs/protocols/percolator.md.
 *
 * Granularity: one event per message delivery; reads are sequential within a transaction,
 * prewrites and commits go out in parallel. Not modeled: pessimistic transactions, TTL heartbeats
 * (a lock's TTL is fixed), TiKV's caller-start-ts push of a 2PC lock's `minCommitTs` (readers
 * resolve instead), region splits, the TSO's batching, async-commit fallback to 2PC, the
 * `tidb_guarantee_external_consistency` TSO fetch, GC.
 */
import { add, invariant, protocol, put, reachable, remove, t, type Ctx, type NodeId, type ParamsOf, type Out, type Request, type WorldReader } from '../core/index.ts';
import {
  TxnOp, TxnResult, TxnValue, commitLock, completed, fatesOf, hasNewerVersion, keyOf, lockBlocksRead, mvccSchemas, noLostUpdate,
  isolation, putVersion, readKeys, recordOf, rollbackKey, snapshotIsolation, tagOf, totalConserved, txn, txnClients,
  txnGoals, versionAt, versionsDisjoint, withKey, withLock, writeKeys, writesOf,
  type KeyState, type Store,
} from '../txn/index.ts';

// ---------------------------------------------------------------- params

const params = {
  /** World clients, and transactions each issues. */
  clients: { default: 2, min: 0, max: 255 },
  perClient: { default: 1, min: 0, max: 2 ** 20 },
  /** Keys 0..keys-1; key k lives on store k mod stores. */
  keys: { default: 2, min: 1, max: 2 ** 16 },
  stores: { default: 1, min: 1, max: 255 },
  coordinators: { default: 1, min: 1, max: 255 },
  /** Async commit (TiKV 5.0). */
  async: false,
  /** One-phase commit for transactions whose written keys live on one store. */
  onePC: false,
  /** A lock's TTL in timestamp units past its start (0: others may roll it back at once). */
  lockTtl: { default: 0, min: 0, max: 2 ** 32 - 1 },
  /**
   * The transactions clients choose from: `transfer` (transfer 0→1, and a read of all keys),
   * `transfers` (the transfer only), `skew` (r0 w1 and r1 w0: write skew), `mixed` (all three).
   */
  workload: { default: 'transfer' as string, oneOf: ['transfer', 'transfers', 'skew', 'mixed'] },
  /** Every account's initial balance (the bank workload). */
  initial: { default: 10, min: 0, max: 2 ** 32 - 1 },
};
type P = ParamsOf<typeof params>;

function workload(p: P): TxnOp[] {
  const all = Array.from({ length: p.keys }, (_, k) => k);
  const transfer = [txn.transfer(0, 1 % p.keys, 1), txn.read(...all)];
  const skew = [txn.of({ f: 'r', key: 0 }, { f: 'w', key: 1 % p.keys, n: 0 }), txn.of({ f: 'r', key: 1 % p.keys }, { f: 'w', key: 0, n: 0 })];
  switch (p.workload) {
    case 'transfer': return transfer;
    case 'transfers': return [transfer[0]!];
    case 'skew': return skew;
    case 'mixed': return [...transfer, ...skew];
    default: throw new Error(`param workload must be transfer, transfers, skew or mixed, got '${p.workload}'`);
  }
}

// ---------------------------------------------------------------- messages

const { Store: StoreSchema } = mvccSchemas(TxnValue);

/** Which transaction a message is about: the client and its request id. */
const Who = { client: t.node('client'), id: t.u32 };
const Purpose = t.enum('start', 'commit');
const Mutation = t.struct({ key: t.u32, value: TxnValue });
/** What CheckTxnStatus / CheckSecondaryLocks found. */
const Status = t.enum('committed', 'rolledBack', 'alive', 'async', 'locked');

const Msg = t.union('kind', {
  getTs: { ...Who, purpose: Purpose },
  ts: { ...Who, purpose: Purpose, ts: t.u32 },
  get: { ...Who, key: t.u32, ts: t.u32 },
  value: { ...Who, key: t.u32, version: t.option(TxnValue) },
  locked: { ...Who, key: t.u32, lockTs: t.u32, primary: t.u32 },
  prewrite: { ...Who, key: t.u32, startTs: t.u32, primary: t.u32, value: TxnValue, secondaries: t.option(t.array(t.u32)) },
  prewritten: { ...Who, key: t.u32, ok: t.bool, minCommitTs: t.u32 },
  prewrite1pc: { ...Who, startTs: t.u32, mutations: t.array(Mutation) },
  committed1pc: { ...Who, ok: t.bool, commitTs: t.u32 },
  /** Commit a lock; `ack`: answer (the primary's commit). */
  commit: { ...Who, key: t.u32, startTs: t.u32, commitTs: t.u32, ack: t.bool },
  commitAck: { ...Who, key: t.u32, ok: t.bool },
  rollback: { key: t.u32, startTs: t.u32 },
  checkTxn: { ...Who, primary: t.u32, lockTs: t.u32, callerTs: t.u32 },
  txnStatus: { ...Who, lockTs: t.u32, status: Status, commitTs: t.u32, secondaries: t.array(t.u32) },
  checkSecondary: { ...Who, key: t.u32, lockTs: t.u32 },
  secondaryStatus: { ...Who, key: t.u32, lockTs: t.u32, status: Status, ts: t.u32 },
  /** Resolve a lock: commit at `commitTs`, or roll back when it is 0. */
  resolve: { ...Who, key: t.u32, lockTs: t.u32, commitTs: t.u32, ack: t.bool },
  resolved: { ...Who, key: t.u32 },
});
type Msg = typeof Msg.__type;

// ---------------------------------------------------------------- state

const Tso = t.struct({
  /** The last timestamp handed out (durable: the high-water mark). */
  last: t.u32,
  /** Per client, the last request answered and its timestamp (a request delivered again gets the same). */
  answered: t.map(t.node('client'), t.struct({ id: t.u32, purpose: Purpose, ts: t.u32 })),
});
type Tso = typeof Tso.__type;

const StoreState = t.struct({ kv: StoreSchema, maxTs: t.u32 });
type StoreState = typeof StoreState.__type;

/** A lock a read met, while the coordinator resolves it. */
const Blocked = t.struct({
  key: t.u32,
  lockTs: t.u32,
  primary: t.u32,
  /** Async-commit recovery: the secondaries whose status is still awaited. */
  pending: t.set(t.u32),
  /** The decision so far: a commit timestamp (max of what was found), or 0 with `rollback`. */
  commitTs: t.u32,
  rollback: t.bool,
  /** Every key of the locked transaction (async: to resolve them all). */
  keys: t.set(t.u32),
});
type Blocked = typeof Blocked.__type;

const Phase = t.enum('start', 'read', 'check', 'secondaries', 'resolve', 'prewrite', 'commitTs', 'commit');
const Txn = t.struct({
  id: t.u32,
  op: TxnOp,
  phase: Phase,
  startTs: t.u32,
  /** What each read so far saw, in the order of the read steps. */
  reads: t.array(t.option(TxnValue)),
  blocked: t.option(Blocked),
  /** Locks this transaction resolved (stale `locked` answers about them are ignored, as TiKV's resolved_locks). */
  resolved: t.set(t.u32),
  /** Keys whose prewrite succeeded. */
  acked: t.set(t.u32),
  /** Async commit: the largest minCommitTs acknowledged. */
  minCommitTs: t.u32,
  commitTs: t.u32,
});
type Txn = typeof Txn.__type;

const Coord = t.struct({
  txns: t.map(t.node('client'), Txn),
  /** Per client, the last request id taken (durable: a request delivered again is not run again). */
  taken: t.map(t.node('client'), t.u32),
});
type Coord = typeof Coord.__type;

const spec = protocol({
  name: 'percolator',
  doc: "Percolator (TiKV): transactions on a timestamp oracle, locks with a primary, lock resolution; async commit and 1PC as params.",
  params,
  messages: Msg,
  client: { op: TxnOp, result: TxnResult },
});

// ---------------------------------------------------------------- what the variants change

/** The rules a correct implementation follows; each broken variant breaks one. */
interface Rules {
  /** Prewrite fails on a version committed at or after the start timestamp (lost-update: no). */
  checkNewerVersions: boolean;
  /** A rollback leaves a rollback record (no-rollback-record: no). */
  rollbackRecords: boolean;
  /** A rejected async-commit prewrite leaves a rollback record (async-abort-not-final: no). */
  finalRejections: boolean;
  /** minCommitTs and 1PC commit timestamps are above the store's max read timestamp (async-no-max-ts: no). */
  useMaxTs: boolean;
  /** The primary lock lists every secondary (async-unlisted-secondary: all but the last). */
  listAllSecondaries: boolean;
  /** Secondaries commit only after the primary did (secondary-first: together with it). */
  primaryFirst: boolean;
  /** A lock is resolved by the primary's status (roll-forward-unchecked: rolled forward blindly). */
  checkPrimary: boolean;
}

const correct: Rules = {
  checkNewerVersions: true,
  rollbackRecords: true,
  finalRejections: true,
  useMaxTs: true,
  listAllSecondaries: true,
  primaryFirst: true,
  checkPrimary: true,
};

// ---------------------------------------------------------------- helpers

const NO_TXNS: Coord['txns'] = new Map();
const NO_TAKEN: Coord['taken'] = new Map();

function storeOf(ctx: Ctx<P>, key: number): NodeId {
  const stores = ctx.nodes('store');
  return stores[key % stores.length]!;
}

/** The primary key of a transaction: its first written key. */
function primaryOf(op: TxnOp): number {
  return writeKeys(op)[0]!;
}

function who(client: NodeId, tx: Txn) {
  return { client, id: tx.id };
}

// ---------------------------------------------------------------- the TSO

function tso() {
  return spec.role(Tso)({
    count: 1,
    durable: ['last'],
    init: () => ({ last: 0, answered: new Map() }),
    onMessage: (s, from, m, out) => {
      if (m.kind !== 'getTs') return s;
      const prev = s.answered.get(m.client);
      if (prev && prev.id === m.id && prev.purpose === m.purpose) {
        out.send(from, { kind: 'ts', client: m.client, id: m.id, purpose: m.purpose, ts: prev.ts });
        return s;
      }
      // An older request of this client, delivered late: its transaction has moved on.
      if (prev && (prev.id > m.id || (prev.id === m.id && prev.purpose === 'commit'))) return s;
      const ts = s.last + 1;
      out.send(from, { kind: 'ts', client: m.client, id: m.id, purpose: m.purpose, ts });
      return { last: ts, answered: put(s.answered, m.client, { id: m.id, purpose: m.purpose, ts }) };
    },
  });
}

// ---------------------------------------------------------------- the stores

function store(rules: Rules) {
  return spec.role(StoreState)({
    count: (p) => p.stores,
    durable: true,
    init: () => ({ kv: new Map(), maxTs: 0 }),
    onMessage: (s, from, m, out, ctx) => {
      const kv = s.kv;
      const set = (key: number, ks: KeyState<TxnValue>): StoreState => (keyOf(kv, key) === ks ? s : { ...s, kv: withKey(kv, key, ks) });
      switch (m.kind) {
        case 'get': {
          const ks = keyOf(kv, m.key);
          const next = m.ts > s.maxTs ? { ...s, maxTs: m.ts } : s;
          if (lockBlocksRead(ks.lock, m.ts)) {
            out.send(from, { kind: 'locked', client: m.client, id: m.id, key: m.key, lockTs: ks.lock.startTs, primary: ks.lock.primary });
          } else {
            out.send(from, { kind: 'value', client: m.client, id: m.id, key: m.key, version: versionAt(ks, m.ts)?.value ?? null });
          }
          return next;
        }
        case 'prewrite': {
          const ks = keyOf(kv, m.key);
          const ok = (minCommitTs: number) => out.send(from, { kind: 'prewritten', client: m.client, id: m.id, key: m.key, ok: true, minCommitTs });
          const reject = (): StoreState => {
            out.send(from, { kind: 'prewritten', client: m.client, id: m.id, key: m.key, ok: false, minCommitTs: 0 });
            return ctx.params.async && rules.finalRejections ? set(m.key, rollbackKey(ks, m.startTs)) : s;
          };
          const rec = recordOf(ks, m.startTs);
          if (rec !== null) {
            // Delivered again after the key committed (its coordinator, or a reader, committed it):
            // report the commit timestamp, so that an async-commit coordinator computes the same one.
            if (rec.kind === 'put') ok(ctx.params.async ? rec.commitTs : 0);
            else out.send(from, { kind: 'prewritten', client: m.client, id: m.id, key: m.key, ok: false, minCommitTs: 0 });
            return s;
          }
          if (ks.lock !== null) {
            if (ks.lock.startTs === m.startTs) {
              ok(ks.lock.minCommitTs);
              return s;
            }
            return reject();
          }
          if (rules.checkNewerVersions && hasNewerVersion(ks, m.startTs)) return reject();
          const minCommitTs = ctx.params.async ? Math.max(m.startTs + 1, rules.useMaxTs ? s.maxTs + 1 : 0) : 0;
          ok(minCommitTs);
          return set(m.key, withLock(ks, { startTs: m.startTs, primary: m.primary, value: m.value, ttl: ctx.params.lockTtl, minCommitTs, secondaries: m.secondaries }));
        }
        case 'prewrite1pc': {
          // Delivered again after it committed: answer as before.
          const done = m.mutations.length > 0 ? recordOf(keyOf(kv, m.mutations[0]!.key), m.startTs) : null;
          if (done !== null) {
            out.send(from, { kind: 'committed1pc', client: m.client, id: m.id, ok: done.kind === 'put', commitTs: done.kind === 'put' ? done.commitTs : 0 });
            return s;
          }
          const conflict = m.mutations.some(({ key }) => {
            const ks = keyOf(kv, key);
            return ks.lock !== null || (rules.checkNewerVersions && hasNewerVersion(ks, m.startTs));
          });
          if (conflict) {
            out.send(from, { kind: 'committed1pc', client: m.client, id: m.id, ok: false, commitTs: 0 });
            // The rejection is final (see the async-commit note in the doc comment).
            if (!rules.finalRejections) return s;
            let next = kv;
            for (const { key } of m.mutations) next = withKey(next, key, rollbackKey(keyOf(next, key), m.startTs));
            return { ...s, kv: next };
          }
          const commitTs = Math.max(m.startTs + 1, rules.useMaxTs ? s.maxTs + 1 : 0);
          let next = kv;
          for (const { key, value } of m.mutations) next = withKey(next, key, putVersion(keyOf(next, key), m.startTs, commitTs, value));
          out.send(from, { kind: 'committed1pc', client: m.client, id: m.id, ok: true, commitTs });
          return { ...s, kv: next };
        }
        case 'commit': {
          const ks = keyOf(kv, m.key);
          const rec = recordOf(ks, m.startTs);
          const ok = (ks.lock !== null && ks.lock.startTs === m.startTs) || rec?.kind === 'put';
          if (m.ack) out.send(from, { kind: 'commitAck', client: m.client, id: m.id, key: m.key, ok });
          return set(m.key, commitLock(ks, m.startTs, m.commitTs));
        }
        case 'rollback':
          return set(m.key, rollbackKey(keyOf(kv, m.key), m.startTs, rules.rollbackRecords));
        case 'checkTxn': {
          const ks = keyOf(kv, m.primary);
          const answer = (status: typeof Status.__type, commitTs = 0, secondaries: readonly number[] = []) =>
            out.send(from, { kind: 'txnStatus', client: m.client, id: m.id, lockTs: m.lockTs, status, commitTs, secondaries });
          const rec = recordOf(ks, m.lockTs);
          if (rec !== null) {
            answer(rec.kind === 'put' ? 'committed' : 'rolledBack', rec.kind === 'put' ? rec.commitTs : 0);
            return s;
          }
          const lock = ks.lock;
          if (lock !== null && lock.startTs === m.lockTs) {
            if (lock.secondaries !== null) {
              answer('async', lock.minCommitTs, lock.secondaries);
              return s;
            }
            if (m.callerTs < lock.startTs + lock.ttl) {
              answer('alive');
              return s;
            }
          }
          // Expired, or never prewritten: roll the primary back; its record stops a late prewrite or commit.
          answer('rolledBack');
          return set(m.primary, rollbackKey(ks, m.lockTs, rules.rollbackRecords));
        }
        case 'checkSecondary': {
          const ks = keyOf(kv, m.key);
          const answer = (status: typeof Status.__type, ts = 0) =>
            out.send(from, { kind: 'secondaryStatus', client: m.client, id: m.id, key: m.key, lockTs: m.lockTs, status, ts });
          const rec = recordOf(ks, m.lockTs);
          if (rec !== null) {
            answer(rec.kind === 'put' ? 'committed' : 'rolledBack', rec.kind === 'put' ? rec.commitTs : 0);
            return s;
          }
          if (ks.lock !== null && ks.lock.startTs === m.lockTs) {
            answer('locked', ks.lock.minCommitTs);
            return s;
          }
          // Not prewritten (yet): make sure it never will be.
          answer('rolledBack');
          return set(m.key, rollbackKey(ks, m.lockTs, rules.rollbackRecords));
        }
        case 'resolve': {
          const ks = keyOf(kv, m.key);
          if (m.ack) out.send(from, { kind: 'resolved', client: m.client, id: m.id, key: m.key });
          return set(m.key, m.commitTs > 0 ? commitLock(ks, m.lockTs, m.commitTs) : rollbackKey(ks, m.lockTs, rules.rollbackRecords));
        }
        case 'getTs': case 'ts': case 'value': case 'locked': case 'prewritten': case 'committed1pc': case 'commitAck':
        case 'txnStatus': case 'secondaryStatus': case 'resolved':
          return s;
      }
    },
  });
}

// ---------------------------------------------------------------- the coordinator

type CoordOut = Out<Msg, TxnResult>;

/** Ends a transaction: answers the client and forgets it. */
function finish(s: Coord, client: NodeId, tx: Txn, result: TxnResult, out: CoordOut): Coord {
  out.reply(result, { client, id: tx.id });
  const txns = new Map(s.txns);
  txns.delete(client);
  return { ...s, txns };
}

function withTxn(s: Coord, client: NodeId, tx: Txn): Coord {
  return { ...s, txns: put(s.txns, client, tx) };
}

/** Sends the next read, or moves on to commit when every read is done. */
function nextRead(s: Coord, client: NodeId, tx: Txn, out: CoordOut, ctx: Ctx<P>, rules: Rules): Coord {
  const keys = readKeys(tx.op);
  if (tx.reads.length < keys.length) {
    const key = keys[tx.reads.length]!;
    out.send(storeOf(ctx, key), { kind: 'get', ...who(client, tx), key, ts: tx.startTs });
    return withTxn(s, client, { ...tx, phase: 'read', blocked: null });
  }
  return prewrite(s, client, tx, out, ctx, rules);
}

/** Prewrites every written key (or commits in one phase); a read-only transaction is done. */
function prewrite(s: Coord, client: NodeId, tx: Txn, out: CoordOut, ctx: Ctx<P>, rules: Rules): Coord {
  const writes = writesOf({ client, id: tx.id, op: tx.op }, tx.reads, ctx.params.initial);
  if (writes.size === 0) return finish(s, client, tx, { status: 'committed', startTs: tx.startTs, commitTs: tx.startTs, reads: tx.reads }, out);
  const keys = [...writes.keys()];
  const primary = primaryOf(tx.op);
  if (ctx.params.onePC && keys.every((k) => storeOf(ctx, k) === storeOf(ctx, primary))) {
    out.send(storeOf(ctx, primary), { kind: 'prewrite1pc', ...who(client, tx), startTs: tx.startTs, mutations: keys.map((key) => ({ key, value: writes.get(key)! })) });
    return withTxn(s, client, { ...tx, phase: 'prewrite', blocked: null });
  }
  const secondaries = keys.filter((k) => k !== primary);
  const listed = rules.listAllSecondaries ? secondaries : secondaries.slice(0, -1);
  for (const key of keys) {
    out.send(storeOf(ctx, key), {
      kind: 'prewrite', ...who(client, tx), key, startTs: tx.startTs, primary, value: writes.get(key)!,
      secondaries: ctx.params.async && key === primary ? listed : null,
    });
  }
  return withTxn(s, client, { ...tx, phase: 'prewrite', blocked: null });
}

/** Aborts after a failed prewrite: answers the client and rolls its keys back (cleanup). */
function abort(s: Coord, client: NodeId, tx: Txn, out: CoordOut, ctx: Ctx<P>): Coord {
  for (const key of writeKeys(tx.op)) out.send(storeOf(ctx, key), { kind: 'rollback', key, startTs: tx.startTs });
  return finish(s, client, tx, { status: 'aborted', startTs: tx.startTs, commitTs: 0, reads: tx.reads }, out);
}

/** Commits every written key at `commitTs` (the secondaries, or all keys under async commit) and answers the client. */
function commitAll(s: Coord, client: NodeId, tx: Txn, commitTs: number, keys: readonly number[], out: CoordOut, ctx: Ctx<P>): Coord {
  for (const key of keys) out.send(storeOf(ctx, key), { kind: 'commit', ...who(client, tx), key, startTs: tx.startTs, commitTs, ack: false });
  return finish(s, client, tx, { status: 'committed', startTs: tx.startTs, commitTs, reads: tx.reads }, out);
}

/** The blocked read's lock is decided: resolve it (every key, for async commit), then read again. */
function resolveBlocked(s: Coord, client: NodeId, tx: Txn, b: Blocked, out: CoordOut, ctx: Ctx<P>): Coord {
  const commitTs = b.rollback ? 0 : b.commitTs;
  const keys = b.keys.length > 0 ? b.keys : [b.key];
  for (const key of keys) {
    out.send(storeOf(ctx, key), { kind: 'resolve', ...who(client, tx), key, lockTs: b.lockTs, commitTs, ack: key === b.key });
  }
  return withTxn(s, client, { ...tx, phase: 'resolve', blocked: { ...b, commitTs } });
}

function coord(rules: Rules) {
  return spec.role(Coord)({
    count: (p) => p.coordinators,
    durable: ['taken'],
    init: () => ({ txns: NO_TXNS, taken: NO_TAKEN }),
    onRequest: (s, req: Request<TxnOp>, out, ctx) => {
      const taken = s.taken.get(req.client);
      if (taken !== undefined && taken >= req.id) return s; // delivered again
      const tx: Txn = { id: req.id, op: req.op, phase: 'start', startTs: 0, reads: [], blocked: null, resolved: [], acked: [], minCommitTs: 0, commitTs: 0 };
      out.send(ctx.nodes('tso')[0]!, { kind: 'getTs', client: req.client, id: req.id, purpose: 'start' });
      return { txns: put(s.txns, req.client, tx), taken: put(s.taken, req.client, req.id) };
    },
    onMessage: (s, _from, m, out, ctx) => {
      if (!('client' in m)) return s;
      const client = m.client;
      const tx = s.txns.get(client);
      if (!tx || tx.id !== m.id) return s; // a transaction already finished, or lost in a crash
      switch (m.kind) {
        case 'ts':
          if (m.purpose === 'start' && tx.phase === 'start') return nextRead(s, client, { ...tx, startTs: m.ts }, out, ctx, rules);
          if (m.purpose === 'commit' && tx.phase === 'commitTs') {
            const primary = primaryOf(tx.op);
            const next: Txn = { ...tx, phase: 'commit', commitTs: m.ts };
            const keys = rules.primaryFirst ? [primary] : writeKeys(tx.op);
            for (const key of keys) {
              out.send(storeOf(ctx, key), { kind: 'commit', ...who(client, tx), key, startTs: tx.startTs, commitTs: m.ts, ack: key === primary });
            }
            return withTxn(s, client, next);
          }
          return s;
        case 'value': {
          if (tx.phase !== 'read' || readKeys(tx.op)[tx.reads.length] !== m.key) return s;
          return nextRead(s, client, { ...tx, reads: [...tx.reads, m.version] }, out, ctx, rules);
        }
        case 'locked': {
          if (tx.phase !== 'read' || readKeys(tx.op)[tx.reads.length] !== m.key || tx.resolved.includes(m.lockTs)) return s;
          const b: Blocked = { key: m.key, lockTs: m.lockTs, primary: m.primary, pending: [], commitTs: 0, rollback: false, keys: [] };
          if (!rules.checkPrimary) {
            // The bug: roll the lock forward without asking its primary.
            return resolveBlocked(s, client, tx, { ...b, commitTs: tx.startTs }, out, ctx);
          }
          out.send(storeOf(ctx, m.primary), { kind: 'checkTxn', ...who(client, tx), primary: m.primary, lockTs: m.lockTs, callerTs: tx.startTs });
          return withTxn(s, client, { ...tx, phase: 'check', blocked: b });
        }
        case 'txnStatus': {
          const b = tx.blocked;
          if (tx.phase !== 'check' || b === null || b.lockTs !== m.lockTs) return s;
          switch (m.status) {
            case 'alive':
              return nextRead(s, client, tx, out, ctx, rules); // not expired: read again
            case 'committed': case 'rolledBack': {
              const decided: Blocked = { ...b, commitTs: m.commitTs, rollback: m.status === 'rolledBack' };
              if (b.key === b.primary) {
                // The primary itself was the lock: it is resolved already.
                return nextRead(s, client, { ...tx, resolved: add(tx.resolved, b.lockTs) }, out, ctx, rules);
              }
              return resolveBlocked(s, client, tx, decided, out, ctx);
            }
            case 'async': {
              const keys = add(m.secondaries, b.primary);
              const next: Blocked = { ...b, pending: m.secondaries, commitTs: m.commitTs, keys };
              if (m.secondaries.length === 0) return resolveBlocked(s, client, tx, next, out, ctx);
              for (const key of m.secondaries) out.send(storeOf(ctx, key), { kind: 'checkSecondary', ...who(client, tx), key, lockTs: b.lockTs });
              return withTxn(s, client, { ...tx, phase: 'secondaries', blocked: next });
            }
            case 'locked':
              return s;
          }
          return s;
        }
        case 'secondaryStatus': {
          const b = tx.blocked;
          if (tx.phase !== 'secondaries' || b === null || b.lockTs !== m.lockTs || !b.pending.includes(m.key)) return s;
          let next: Blocked = { ...b, pending: remove(b.pending, m.key) };
          if (m.status === 'committed') next = { ...next, commitTs: m.ts, rollback: false, pending: [] };
          else if (m.status === 'rolledBack') next = { ...next, rollback: true, pending: [] };
          else next = { ...next, commitTs: Math.max(next.commitTs, m.ts) };
          if (next.pending.length > 0) return withTxn(s, client, { ...tx, blocked: next });
          return resolveBlocked(s, client, tx, next, out, ctx);
        }
        case 'resolved': {
          const b = tx.blocked;
          if (tx.phase !== 'resolve' || b === null || b.key !== m.key) return s;
          return nextRead(s, client, { ...tx, resolved: add(tx.resolved, b.lockTs) }, out, ctx, rules);
        }
        case 'prewritten': {
          if (tx.phase !== 'prewrite' || tx.acked.includes(m.key)) return s;
          if (!m.ok) return abort(s, client, tx, out, ctx);
          const acked = add(tx.acked, m.key);
          const next: Txn = { ...tx, acked, minCommitTs: Math.max(tx.minCommitTs, m.minCommitTs) };
          const keys = writeKeys(tx.op);
          if (acked.length < keys.length) return withTxn(s, client, next);
          if (ctx.params.async) return commitAll(s, client, next, next.minCommitTs, keys, out, ctx);
          out.send(ctx.nodes('tso')[0]!, { kind: 'getTs', client, id: tx.id, purpose: 'commit' });
          return withTxn(s, client, { ...next, phase: 'commitTs' });
        }
        case 'committed1pc': {
          if (tx.phase !== 'prewrite') return s;
          if (!m.ok) return finish(s, client, tx, { status: 'aborted', startTs: tx.startTs, commitTs: 0, reads: tx.reads }, out);
          return finish(s, client, tx, { status: 'committed', startTs: tx.startTs, commitTs: m.commitTs, reads: tx.reads }, out);
        }
        case 'commitAck': {
          if (tx.phase !== 'commit' || m.key !== primaryOf(tx.op)) return s;
          if (!m.ok) return finish(s, client, tx, { status: 'aborted', startTs: tx.startTs, commitTs: 0, reads: tx.reads }, out);
          const secondaries = rules.primaryFirst ? writeKeys(tx.op).filter((k) => k !== m.key) : [];
          return commitAll(s, client, tx, tx.commitTs, secondaries, out, ctx);
        }
        case 'getTs': case 'get': case 'prewrite': case 'prewrite1pc': case 'commit': case 'checkTxn': case 'checkSecondary': case 'resolve':
          return s;
      }
    },
  });
}

// ---------------------------------------------------------------- properties

function storesOf(w: WorldReader): Store<TxnValue>[] {
  return w.states<StoreState>('store').map((s) => s.kv);
}

/** The committed version of `key` at `ts` across the stores (keys live on one store each). */
function committedAt(stores: readonly Store<TxnValue>[], key: number, ts: number): TxnValue | null {
  for (const kv of stores) {
    const ks = kv.get(key);
    if (ks) return versionAt(ks, ts)?.value ?? null;
  }
  return null;
}

const sameVersion = (a: TxnValue | null, b: TxnValue | null): boolean =>
  a === null || b === null ? a === b : a.client === b.client && a.id === b.id && a.n === b.n;

/** The TSO never gives one start timestamp to two transactions. */
const tsoUnique = invariant('tso: no two transactions share a start timestamp', (w: WorldReader) => {
  const owner = new Map<number, string>();
  const claim = (ts: number, tag: string): boolean => {
    const o = owner.get(ts);
    if (o !== undefined && o !== tag) return false;
    owner.set(ts, tag);
    return true;
  };
  for (const c of w.states<Coord>('coord')) {
    for (const [client, tx] of c.txns) if (tx.phase !== 'start' && !claim(tx.startTs, tagOf({ client, id: tx.id }))) return false;
  }
  for (const kv of storesOf(w)) {
    for (const ks of kv.values()) {
      if (ks.lock && !claim(ks.lock.startTs, tagOf(ks.lock.value))) return false;
      for (const r of ks.writes) if (r.kind === 'put' && !claim(r.startTs, tagOf(r.value))) return false;
    }
  }
  for (const d of completed(w.history())) if (d.result.startTs > 0 && !claim(d.result.startTs, tagOf(d))) return false;
  return true;
});

/** Atomicity: no transaction has a committed key and a rolled-back key, or two commit timestamps. */
const atomicity = invariant('atomicity: no transaction both committed and rolled back, or committed at two timestamps', (w: WorldReader) => {
  for (const f of fatesOf(storesOf(w)).values()) if (f.commits.size > 1 || (f.commits.size > 0 && f.rolledBack)) return false;
  return true;
});

/**
 * What the client was told is what the stores hold: an aborted transaction has no committed
 * key; a committed one has no rolled-back key, commits at the timestamp it was told, and every
 * key it wrote holds its lock (to be rolled forward) or its committed version.
 */
const answersConsistent = (async: boolean) => invariant('abort and commit consistency: the stores agree with what clients were told', (w: WorldReader) => {
  const done = completed(w.history());
  if (done.length === 0) return true;
  const stores = storesOf(w);
  const fates = fatesOf(stores);
  /** Key `key` holds the transaction's lock or its committed version. */
  const held = (key: number, startTs: number): boolean => {
    const ks = stores.map((kv) => kv.get(key)).find((x) => x !== undefined);
    return ks !== undefined && ((ks.lock !== null && ks.lock.startTs === startTs) || recordOf(ks, startTs)?.kind === 'put');
  };
  for (const d of done) {
    const f = fates.get(d.result.startTs);
    const keys = writeKeys(d.op);
    if (d.result.status === 'aborted') {
      if (f && f.commits.size > 0) return false;
      // Under async commit a transaction whose every lock is present is committed.
      if (async && keys.length > 0 && keys.every((k) => held(k, d.result.startTs))) return false;
      continue;
    }
    if (d.result.status !== 'committed' || keys.length === 0) continue;
    if (f && (f.rolledBack || [...f.commits].some((c) => c !== d.result.commitTs))) return false;
    if (!keys.every((k) => held(k, d.result.startTs))) return false;
  }
  return true;
});

const firstCommitterWins = invariant('first committer wins: committed versions of a key never overlap', (w: WorldReader) =>
  storesOf(w).every((kv) => [...kv.values()].every(versionsDisjoint)));

/** Every committed read at startTs saw exactly what is now committed at or below startTs. */
const stableReads = invariant('stable snapshot reads: a read at ts saw exactly the versions committed at or below ts', (w: WorldReader) => {
  const stores = storesOf(w);
  for (const d of completed(w.history())) {
    if (d.result.status !== 'committed') continue;
    const keys = readKeys(d.op);
    for (let i = 0; i < keys.length; i++) {
      if (!sameVersion(d.result.reads[i] ?? null, committedAt(stores, keys[i]!, d.result.startTs))) return false;
    }
  }
  return true;
});

/**
 * Write skew, which snapshot isolation allows and serializability forbids: two committed
 * transactions each wrote a key the other read, and neither saw the other's write.
 */
const writeSkew = reachable('write skew happens (snapshot isolation allows it: Percolator is not serializable)', (w: WorldReader) => {
  const done = completed(w.history()).filter((d) => d.result.status === 'committed');
  const sawOther = (d: (typeof done)[number], other: (typeof done)[number]) =>
    d.result.reads.some((v) => v !== null && v.client === other.client && v.id === other.id);
  const readsWrittenBy = (d: (typeof done)[number], other: (typeof done)[number]) => readKeys(d.op).some((k) => writeKeys(other.op).includes(k));
  return done.some((a) => done.some((b) => a !== b && readsWrittenBy(a, b) && readsWrittenBy(b, a) && !sawOther(a, b) && !sawOther(b, a)));
});

function properties(p: P) {
  const keys = Array.from({ length: p.keys }, (_, k) => k);
  return [
    tsoUnique,
    answersConsistent(p.async),
    atomicity,
    firstCommitterWins,
    stableReads,
    snapshotIsolation(),
    noLostUpdate,
    // Every writer of these workloads writes exactly the keys it reads: snapshot isolation with
    // first-committer-wins is then serializable in commit-timestamp order (readers at their
    // start timestamp), and the TSO makes that order respect real time.
    ...(p.workload === 'transfer' || p.workload === 'transfers'
      ? [totalConserved(keys, p.initial), isolation('external-consistency', 'serializable in commit-timestamp order (transfers write exactly the keys they read)')]
      : []),
    txnGoals.committed,
    txnGoals.readsAWrite,
    ...(p.workload === 'skew' || p.workload === 'mixed' ? [writeSkew] : []),
    // Under 1PC on one store no transaction leaves a lock.
    ...(p.onePC && p.stores === 1 ? [] : [reachable('a lock is resolved by another transaction', (w: WorldReader) =>
      w.states<Coord>('coord').some((c) => [...c.txns.values()].some((tx) => tx.resolved.length > 0)))]),
  ];
}

// ---------------------------------------------------------------- the protocol

function roles(rules: Rules) {
  return { tso: tso(), store: store(rules), coord: coord(rules) };
}

export default spec.define({
  roles: roles(correct),
  clients: txnClients<P>({ count: (p) => p.clients, target: 'coord', ops: workload, perClient: (p) => p.perClient }),
  properties,
  variants: {
    'secondary-first': {
      doc: 'The coordinator commits the secondaries together with the primary instead of after it: when a reader has rolled the primary back meanwhile, a secondary is committed and the transaction aborted (atomicity; a reader sees a partial commit).',
      expose: { options: { network: 'bag' } },
      roles: roles({ ...correct, primaryFirst: false }),
    },
    'roll-forward-unchecked': {
      doc: "A reader that meets a lock rolls it forward (commits it at the reader's start timestamp) without asking the primary: it commits a transaction that is still undecided, or rolled back (atomicity, stable reads).",
      expose: { options: { network: 'bag' } },
      roles: roles({ ...correct, checkPrimary: false }),
    },
    'lost-update': {
      doc: 'Prewrite ignores versions committed after the start timestamp: two transfers that read the same balance both commit (first committer wins, no lost update, the bank total).',
      expose: { options: { network: 'bag' } },
      roles: roles({ ...correct, checkNewerVersions: false }),
    },
    'volatile-tso': {
      doc: 'The TSO keeps its counter in memory only: after a crash it hands out timestamps it already gave (PD persists a high-water mark and restarts above it).',
      expose: { options: { network: 'bag', crashes: 1 } },
      roles: { tso: { durable: undefined } },
    },
    'no-rollback-record': {
      doc: "Rolling back removes the lock but leaves no rollback record: a reader rolls back a transaction whose primary prewrite has not arrived, the prewrite then lands, and the transaction commits although the reader rolled its secondary back (atomicity). Percolator's rollback must be remembered (TiKV's protected rollback).",
      expose: { options: { network: 'bag' } },
      roles: roles({ ...correct, rollbackRecords: false }),
    },
    'async-no-max-ts': {
      doc: "Async commit without max_ts: a lock's minCommitTs is startTs + 1 whatever the store has served, so a transaction commits below a timestamp a reader has already read at, and the reader's snapshot changes under it (tikv#8589: a read at a later timestamp misses a commit with a smaller commit_ts).",
      expose: { params: { async: true }, options: { network: 'bag' } },
      roles: roles({ ...correct, useMaxTs: false }),
    },
    'async-unlisted-secondary': {
      doc: "Async commit where the primary lock does not list the last secondary: the commit decision (every listed lock present) is reachable before that secondary is prewritten, so a reader commits the transaction while the secondary's prewrite may still fail or carry a larger minCommitTs (atomicity).",
      expose: { params: { async: true }, options: { network: 'bag' } },
      roles: roles({ ...correct, listAllSecondaries: false }),
    },
    'async-abort-not-final': {
      doc: 'Async commit where a rejected prewrite leaves nothing behind: the coordinator tells its client "aborted", the same prewrite is delivered again after the conflicting lock is gone and succeeds, every lock is then present, and a reader\'s CheckTxnStatus commits the transaction the client was told had aborted (abort consistency). The bug TLC found in pingcap/tla-plus PR #38 (its trace ends in ServerCheckTxnStatus).',
      expose: { params: { async: true } },
      roles: roles({ ...correct, finalRejections: false }),
    },
  },
});

export type { Coord as PercolatorCoord, StoreState as PercolatorStore, Tso as PercolatorTso, Msg as PercolatorMsg };
