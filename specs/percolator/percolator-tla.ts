/**
 * Percolator at the granularity of pingcap's TLA+ models, for counting states against TLC:
 * `percolator-tla` mirrors pingcap/tla-plus Percolator/Percolator.tla and
 * `optimized-commit-ts-tla` mirrors OptimizedCommitTS/OptimizedCommitTS.tla (copies under
 * ../shared/anchors/tlc/specs/pingcap/). Their default params are pingcap's Test2 config (2
 * clients with primary keys 1 and 2, keys {1, 2}): TLC finds 3,308 and 4,546 distinct states.
 * Test1 (3 clients, all with primary key 1, keys {1, 2, 3}, under SYMMETRY Permutations(Client)):
 * `--param clients=3 --param keys=3 --param primaries=1,1,1 --symmetry` (TLC: 773,718 and
 * 2,806,275).
 *
 * The models are shared memory, not messages: one client step reads and writes the keys'
 * columns at once. So the whole model is the state of one node (`db`), and each TLA+ action is
 * one local action of it, with one choice per existential (the client, and the key or lock it
 * picks): Start, Get (move to prewriting, clean up one stale lock, or read one key), Prewrite
 * (lock one pending key, or take the commit timestamp once all are locked), Commit (the
 * primary), Abort (at any time before committing: the client crashes or gives up, leaving its
 * locks to others). The clients are nodes of role `txn` (symmetric, stateless): their ids key the
 * db's per-client state, so `--symmetry` permutes them as TLC's symmetry set does, and each
 * client's primary key travels with it in its state.
 *
 * The algorithm (Percolator as in the TLA+): a client takes a start timestamp; while working it
 * reads keys (a key with a lock at or below its start timestamp must first be cleaned up: a
 * primary lock is rolled back; a secondary lock is rolled forward if its primary committed, else
 * its primary lock is rolled back first) and records the last read timestamp of each key (for the
 * snapshot-isolation check); it prewrites the primary first, then the secondaries (a key can be
 * locked only with no lock and no write at or after the start timestamp); it takes a commit
 * timestamp and commits the primary if its lock is still there. OptimizedCommitTS differs in
 * three ways: prewrites go to any pending key in any order, the commit timestamp is not taken
 * from the oracle but computed as one more than the largest last-read timestamp of the keys it
 * locked (the mechanism async commit's min_commit_ts relies on), and cleaning up a lock leaves a
 * rollback record in the write column, which a late lock or commit must respect.
 *
 * The snapshot-isolation check is TLA+'s: a commit at or below a key's last read timestamp
 * clears the key's `si` flag. Invariants: WriteConsistency, LockConsistency,
 * CommittedConsistency, AbortedConsistency, SnapshotIsolation, and for OptimizedCommitTS
 * RollbackConsistency and UniqueWrite (TypeInvariant holds by construction: the schema is the
 * type).
 */
import { add, invariant, protocol, reachable, remove, t, type NodeId } from '../core/index.ts';

const ClientState = t.enum('init', 'working', 'prewriting', 'committing', 'committed', 'aborted');

const Client = t.struct({
  state: ClientState,
  startTs: t.u32,
  commitTs: t.u32,
  /** The client's primary key (a constant: CLIENT_PRIMARY_KEY[c]). */
  primary: t.u32,
  /** Keys not prewritten yet. */
  pending: t.set(t.u32),
});
type Client = typeof Client.__type;

const Lock = t.struct({ ts: t.u32, primary: t.u32 });
type Lock = typeof Lock.__type;

/** A write-column record: a commit (`ts` = commit ts) or, in OptimizedCommitTS, a rollback (`ts` = start ts). */
const Write = t.union('type', {
  write: { ts: t.u32, startTs: t.u32 },
  rollback: { ts: t.u32 },
});
type Write = typeof Write.__type;

const Key = t.struct({
  /** key_data: the start timestamps of the versions written. */
  data: t.set(t.u32),
  /** key_lock: a set, as in the TLA+ (LockConsistency says it never holds two). */
  lock: t.set(Lock),
  /** key_write: a sequence, in append order. */
  write: t.array(Write),
  lastReadTs: t.u32,
  si: t.bool,
});
type Key = typeof Key.__type;

const Db = t.struct({
  nextTs: t.u32,
  clients: t.map(t.node('txn'), Client),
  /** Key k (1-based) at index k - 1. */
  keys: t.array(Key),
});
type Db = typeof Db.__type;

const params = {
  clients: 2,
  keys: 2,
  /** CLIENT_PRIMARY_KEY: the i-th client's primary key (a comma-separated list, cycled). */
  primaries: '1,2' as string,
};
type P = typeof params;

function primaryOf(p: P, i: number): number {
  const list = String(p.primaries).split(',').map((x) => Number(x.trim()));
  const k = list[i % list.length]!;
  if (!Number.isInteger(k) || k < 1 || k > p.keys) throw new Error(`param primaries: ${JSON.stringify(p.primaries)} names key ${k}, not in 1..${p.keys}`);
  return k;
}

// ---------------------------------------------------------------- key columns

const key = (db: Db, k: number): Key => db.keys[k - 1]!;
const setKey = (keys: readonly Key[], k: number, v: Key): readonly Key[] => keys.map((x, i) => (i === k - 1 ? v : x));
const hasLockLE = (kk: Key, ts: number) => kk.lock.some((l) => l.ts <= ts);
const hasLockEQ = (kk: Key, ts: number) => kk.lock.some((l) => l.ts === ts);
const findWriteWithStartTS = (kk: Key, ts: number) => kk.write.filter((w): w is Extract<Write, { type: 'write' }> => w.type === 'write' && w.startTs === ts);
const findWriteWithCommitTS = (kk: Key, ts: number) => kk.write.filter((w) => w.type === 'write' && w.ts === ts);
const hasRollback = (kk: Key, ts: number) => kk.write.some((w) => w.type === 'rollback' && w.ts === ts);
const sameLock = (a: Lock, b: Lock) => a.ts === b.ts && a.primary === b.primary;
const withoutLock = (locks: readonly Lock[], l: Lock) => locks.filter((x) => !sameLock(x, l));

/** checkSnapshotIsolation: a commit at or below the last read timestamp breaks the key's snapshot. */
const checkSi = (kk: Key, commitTs: number): boolean => (kk.lastReadTs >= commitTs ? false : kk.si);

interface Variant {
  /** OptimizedCommitTS: any prewrite order, commit ts from last reads, rollback records. */
  optimized: boolean;
}

/** One way a client's Get step can go: to prewriting, cleaning up one stale lock, or reading one key. */
type GetMove =
  | { c: NodeId; move: 'prewriting' }
  | { c: NodeId; move: 'cleanup'; k: number; l: Lock; w: number }
  | { c: NodeId; move: 'read'; k: number };

/** The successors of cleaning up stale lock `l` of key `k` (cleanupStaleLock), as new key arrays. */
function cleanup(db: Db, k: number, l: Lock, v: Variant): (readonly Key[])[] {
  const kk = key(db, k);
  // eraseLock: data and lock go; OptimizedCommitTS also appends a rollback record.
  const erase = (keys: readonly Key[], at: number): readonly Key[] => {
    const x = keys[at - 1]!;
    return setKey(keys, at, {
      ...x,
      data: remove(x.data, l.ts),
      lock: withoutLock(x.lock, l),
      write: v.optimized ? [...x.write, { type: 'rollback', ts: l.ts }] : x.write,
    });
  };
  if (l.primary === k) return [erase(db.keys, k)];
  const writes = findWriteWithStartTS(key(db, l.primary), l.ts);
  if (writes.length === 0) {
    const primaryFirst = v.optimized ? !hasRollback(key(db, l.primary), l.ts) : hasLockEQ(key(db, l.primary), l.ts);
    return [erase(db.keys, primaryFirst ? l.primary : k)];
  }
  // The primary committed: commit the secondary (one successor per such write, as \E w \in ws).
  return writes.map((w) => setKey(db.keys, k, { ...kk, lock: withoutLock(kk.lock, l), write: [...kk.write, w], si: checkSi(kk, w.ts) }));
}

function canLockKey(kk: Key, ts: number): boolean {
  return kk.lock.length === 0 && !kk.write.some((w) => w.ts >= ts);
}

function makeSpec(name: string, summary: string, v: Variant) {
  const spec = protocol({ name, doc: summary, params, messages: t.union('kind', { none: {} }) });

  const txn = spec.role(t.unit)({ count: (p) => p.clients, symmetric: true, init: () => ({}) });

  const setClient = (db: Db, c: NodeId, cl: Client): Db => ({ ...db, clients: new Map(db.clients).set(c, cl) });
  const clientIds = (db: Db) => [...db.clients.keys()];
  const secondaries = (p: P, cl: Client) => Array.from({ length: p.keys }, (_, i) => i + 1).filter((k) => k !== cl.primary);

  const db = spec.role(Db)({
    count: 1,
    init: (ctx) => ({
      nextTs: 0,
      clients: new Map(ctx.nodes('txn').map((c, i) => [c, {
        state: 'init', startTs: 0, commitTs: 0, primary: primaryOf(ctx.params, i),
        pending: Array.from({ length: ctx.params.keys }, (_, k) => k + 1),
      } satisfies Client])),
      keys: Array.from({ length: ctx.params.keys }, (): Key => ({ data: [], lock: [], write: [], lastReadTs: 0, si: true })),
    }),
    actions: {
      /** Start(c): take a start timestamp. */
      start: {
        choices: (s) => clientIds(s).filter((c) => s.clients.get(c)!.state === 'init'),
        do: (s, _out, _ctx, c: NodeId) => {
          const ts = s.nextTs + 1;
          const cl = s.clients.get(c)!;
          return setClient({ ...s, nextTs: ts }, c, { ...cl, state: 'working', startTs: ts, commitTs: v.optimized ? ts : cl.commitTs });
        },
      },
      /** Get(c): move to prewriting, clean up one stale lock, or read one key. */
      get: {
        choices: (s, ctx) => {
          const moves: GetMove[] = [];
          for (const c of clientIds(s)) {
            const cl = s.clients.get(c)!;
            if (cl.state !== 'working') continue;
            moves.push({ c, move: 'prewriting' });
            const all = [cl.primary, ...secondaries(ctx.params, cl)];
            for (const k of all) {
              for (const l of key(s, k).lock) {
                if (l.ts > cl.startTs) continue;
                cleanup(s, k, l, v).forEach((_, w) => moves.push({ c, move: 'cleanup', k, l, w }));
              }
            }
            for (const k of all) {
              const kk = key(s, k);
              if (!hasLockLE(kk, cl.startTs) && kk.lastReadTs < cl.startTs) moves.push({ c, move: 'read', k });
            }
          }
          return moves;
        },
        do: (s, _out, _ctx, m: GetMove) => {
          switch (m.move) {
            case 'prewriting':
              return setClient(s, m.c, { ...s.clients.get(m.c)!, state: 'prewriting' });
            case 'cleanup':
              return { ...s, keys: cleanup(s, m.k, m.l, v)[m.w]! };
            case 'read':
              return { ...s, keys: setKey(s.keys, m.k, { ...key(s, m.k), lastReadTs: s.clients.get(m.c)!.startTs }) };
          }
        },
      },
      /** Prewrite(c): lock one pending key (the primary first, unless optimized), or take the commit timestamp. */
      prewrite: {
        choices: (s) => {
          const moves: { c: NodeId; k: number }[] = [];
          for (const c of clientIds(s)) {
            const cl = s.clients.get(c)!;
            if (cl.state !== 'prewriting') continue;
            if (cl.pending.length === 0) {
              moves.push({ c, k: 0 });
              continue;
            }
            const candidates = !v.optimized && cl.pending.includes(cl.primary) ? [cl.primary] : cl.pending;
            for (const k of candidates) if (canLockKey(key(s, k), cl.startTs)) moves.push({ c, k });
          }
          return moves;
        },
        do: (s, _out, _ctx, { c, k }: { c: NodeId; k: number }) => {
          const cl = s.clients.get(c)!;
          if (k === 0) {
            if (v.optimized) return setClient(s, c, { ...cl, state: 'committing', commitTs: cl.commitTs + 1 });
            const ts = s.nextTs + 1;
            return setClient({ ...s, nextTs: ts }, c, { ...cl, state: 'committing', commitTs: ts });
          }
          const kk = key(s, k);
          const keys = setKey(s.keys, k, { ...kk, lock: add(kk.lock, { ts: cl.startTs, primary: cl.primary }), data: add(kk.data, cl.startTs) });
          const commitTs = v.optimized ? Math.max(cl.commitTs, kk.lastReadTs) : cl.commitTs;
          return setClient({ ...s, keys }, c, { ...cl, pending: remove(cl.pending, k), commitTs });
        },
      },
      /** Commit(c): commit the primary if its lock is still there. */
      commit: {
        choices: (s) => clientIds(s).filter((c) => {
          const cl = s.clients.get(c)!;
          return cl.state === 'committing' && hasLockEQ(key(s, cl.primary), cl.startTs);
        }),
        do: (s, _out, _ctx, c: NodeId) => {
          const cl = s.clients.get(c)!;
          const kk = key(s, cl.primary);
          const keys = setKey(s.keys, cl.primary, {
            ...kk,
            write: [...kk.write, { type: 'write', ts: cl.commitTs, startTs: cl.startTs }],
            lock: withoutLock(kk.lock, { ts: cl.startTs, primary: cl.primary }),
            si: checkSi(kk, cl.commitTs),
          });
          return setClient({ ...s, keys }, c, { ...cl, state: 'committed' });
        },
      },
      /** Abort(c): at any time before committing (a crash, a give-up, a failed transaction). */
      abort: {
        choices: (s) => clientIds(s).filter((c) => s.clients.get(c)!.state !== 'committed' && s.clients.get(c)!.state !== 'aborted'),
        do: (s, _out, _ctx, c: NodeId) => setClient(s, c, { ...s.clients.get(c)!, state: 'aborted' }),
      },
    },
  });

  const dbOf = (w: { states<S>(role: string): S[] }): Db => w.states<Db>('db')[0]!;
  const writeConsistency = invariant('WriteConsistency', (w) => {
    for (const kk of dbOf(w).keys) {
      const writes = kk.write.filter((x): x is Extract<Write, { type: 'write' }> => x.type === 'write');
      for (const x of writes) if (!(x.startTs < x.ts)) return false;
      // Percolator.tla compares neighbours of the whole column; OptimizedCommitTS every ordered pair of commits.
      const seq = v.optimized ? writes : kk.write;
      for (let i = 0; i < seq.length; i++) {
        for (let j = i + 1; j < (v.optimized ? seq.length : Math.min(i + 2, seq.length)); j++) {
          const b = seq[j]!;
          if (b.type === 'write' && !(seq[i]!.ts < b.startTs)) return false;
        }
      }
    }
    return true;
  });
  const lockConsistency = invariant('LockConsistency', (w) => {
    const d = dbOf(w);
    if (d.keys.some((kk) => kk.lock.length > 1)) return false;
    for (const cl of d.clients.values()) {
      if (cl.state !== 'committing' || !hasLockEQ(key(d, cl.primary), cl.startTs)) continue;
      for (let k = 1; k <= d.keys.length; k++) if (k !== cl.primary && !hasLockEQ(key(d, k), cl.startTs)) return false;
    }
    return true;
  });
  const committedConsistency = invariant('CommittedConsistency', (w) => {
    const d = dbOf(w);
    for (const cl of d.clients.values()) {
      if (cl.state !== 'committed') continue;
      const isW = (x: Write) => x.type === 'write' && x.ts === cl.commitTs && x.startTs === cl.startTs;
      const pk = key(d, cl.primary);
      const primaryWrites = findWriteWithCommitTS(pk, cl.commitTs);
      if (hasLockLE(pk, cl.startTs) || primaryWrites.length !== 1 || !isW(primaryWrites[0]!) || !pk.data.includes(cl.startTs)) return false;
      for (let k = 1; k <= d.keys.length; k++) {
        if (k === cl.primary) continue;
        const kk = key(d, k);
        const ws = findWriteWithCommitTS(kk, cl.commitTs);
        const last = kk.write[kk.write.length - 1];
        const committedHere = !hasLockEQ(kk, cl.startTs) && ws.length === 1 && isW(ws[0]!) && !hasLockLE(kk, cl.startTs - 1);
        const lockedHere = hasLockEQ(kk, cl.startTs) && ws.length === 0 && (last === undefined || last.ts < cl.startTs);
        if (!(committedHere || lockedHere) || !kk.data.includes(cl.startTs)) return false;
      }
    }
    return true;
  });
  const abortedConsistency = invariant('AbortedConsistency', (w) => {
    const d = dbOf(w);
    for (const cl of d.clients.values()) {
      if (cl.state !== 'aborted' || cl.commitTs === 0) continue;
      const pk = key(d, cl.primary);
      if (v.optimized ? findWriteWithStartTS(pk, cl.startTs).length > 0 : findWriteWithCommitTS(pk, cl.commitTs).length > 0) return false;
    }
    return true;
  });
  const snapshotIsolation = invariant('SnapshotIsolation', (w) => dbOf(w).keys.every((kk) => kk.si));
  const rollbackConsistency = invariant('RollbackConsistency', (w) => {
    const d = dbOf(w);
    for (const cl of d.clients.values()) {
      if (cl.startTs === 0) continue;
      if (d.keys.some((kk) => findWriteWithStartTS(kk, cl.startTs).length > 0) && d.keys.some((kk) => hasRollback(kk, cl.startTs))) return false;
    }
    return true;
  });
  const uniqueWrite = invariant('UniqueWrite', (w) =>
    dbOf(w).keys.every((kk) => new Set(kk.write.map((x) => (x.type === 'write' ? x.startTs : x.ts))).size === kk.write.length));

  return spec.define({
    roles: { db, txn },
    properties: () => [
      writeConsistency, lockConsistency, committedConsistency, abortedConsistency,
      ...(v.optimized ? [rollbackConsistency, uniqueWrite] : []),
      snapshotIsolation,
      reachable('a client commits', (w) => [...dbOf(w).clients.values()].some((cl) => cl.state === 'committed')),
      reachable('a secondary lock is rolled forward by another client', (w) =>
        dbOf(w).keys.some((kk, i) => kk.write.some((x) => x.type === 'write' && [...dbOf(w).clients.values()].some((cl) => cl.startTs === x.startTs && cl.primary !== i + 1)))),
    ],
  });
}

/** pingcap/tla-plus Percolator/Percolator.tla, at its granularity. */
export default makeSpec('percolator-tla', "Percolator at the granularity of pingcap's Percolator.tla (TLC: Test2 3,308 states; Test1 773,718 under symmetry)", { optimized: false });

/** pingcap/tla-plus OptimizedCommitTS/OptimizedCommitTS.tla, at its granularity. */
export const optimizedCommitTs = makeSpec('optimized-commit-ts-tla', "Percolator with commit timestamps from last reads and rollback records, at the granularity of pingcap's OptimizedCommitTS.tla (TLC: Test2 4,546 states)", { optimized: true });
