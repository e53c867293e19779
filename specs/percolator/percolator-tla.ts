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
import { add, invariant, protocol, reachable, remove, t, type NodeId, type ParamsOf } from '../core/index.ts';

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

/** `primaries` must list keys of the model, so a bad list is a param error before any state is made. */
const primaryKeys = (v: unknown, p: Readonly<Record<string, unknown>>): string | null => {
  const list = String(v).split(',').map((x) => x.trim());
  const bad = list.find((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > (p.keys as number));
  return bad === undefined ? null : `must be a comma-separated list of keys from 1 to keys (${String(p.keys)}); '${bad}' is not one`;
};

// Ranges: the TLA+ models' sizes (TLC's configurations use 2-3 of each).
const params = {
  clients: { default: 2, min: 1, max: 255 },
  keys: { default: 2, min: 1, max: 255 },
  /** CLIENT_PRIMARY_KEY: the i-th client's primary key (a comma-separated list, cycled). */
  primaries: { default: '1,2' as string, validate: primaryKeys },
};
type P = ParamsOf<typeof params>;

function primaryOf(p: P, i: number): number {
  const list = String(p.primaries).split(',').map((x) => Number(x.trim()));
  const k = list[i % list.length]!;
  if (!Number.isInteger(k) || k < 1 || k > p.keys) throw new Error(`param primaries: ${JSON.stringify(p.primaries)} names key ${k}, not in 1..${p.keys}`);
  return k;
}

// ---------------------------------------------------------------- key columns
// Plain loops, no closures: these run for every generated state.

function key(db: Db, k: number): Key {
  return db.keys[k - 1]!;
}
function setKey(keys: readonly Key[], k: number, v: Key): readonly Key[] {
  const out = keys.slice();
  out[k - 1] = v;
  return out;
}
function hasLockLE(kk: Key, ts: number): boolean {
  for (const l of kk.lock) if (l.ts <= ts) return true;
  return false;
}
function hasLockEQ(kk: Key, ts: number): boolean {
  for (const l of kk.lock) if (l.ts === ts) return true;
  return false;
}
type CommitRecord = Extract<Write, { type: 'write' }>;
function findWriteWithStartTS(kk: Key, ts: number): CommitRecord[] {
  const out: CommitRecord[] = [];
  for (const w of kk.write) if (w.type === 'write' && w.startTs === ts) out.push(w);
  return out;
}
function findWriteWithCommitTS(kk: Key, ts: number): CommitRecord[] {
  const out: CommitRecord[] = [];
  for (const w of kk.write) if (w.type === 'write' && w.ts === ts) out.push(w);
  return out;
}
function hasRollback(kk: Key, ts: number): boolean {
  for (const w of kk.write) if (w.type === 'rollback' && w.ts === ts) return true;
  return false;
}
function withoutLock(locks: readonly Lock[], l: Lock): readonly Lock[] {
  const out: Lock[] = [];
  for (const x of locks) if (x.ts !== l.ts || x.primary !== l.primary) out.push(x);
  return out;
}

/** checkSnapshotIsolation: a commit at or below the last read timestamp breaks the key's snapshot. */
function checkSi(kk: Key, commitTs: number): boolean {
  return kk.lastReadTs >= commitTs ? false : kk.si;
}

interface Variant {
  /** OptimizedCommitTS: any prewrite order, commit ts from last reads, rollback records. */
  optimized: boolean;
}

/** One way a client's Get step can go: to prewriting, cleaning up one stale lock, or reading one key. */
type GetMove =
  | { c: NodeId; move: 'prewriting' }
  | { c: NodeId; move: 'cleanup'; k: number; l: Lock; w: number }
  | { c: NodeId; move: 'read'; k: number };

/** eraseLock: the lock and its data go; OptimizedCommitTS also appends a rollback record. */
function erase(keys: readonly Key[], at: number, l: Lock, v: Variant): readonly Key[] {
  const x = keys[at - 1]!;
  return setKey(keys, at, {
    data: remove(x.data, l.ts),
    lock: withoutLock(x.lock, l),
    write: v.optimized ? [...x.write, { type: 'rollback', ts: l.ts }] : x.write,
    lastReadTs: x.lastReadTs,
    si: x.si,
  });
}

/** How many successors cleaning up stale lock `l` of key `k` has (one per committed write of its primary, else one). */
function cleanupCount(db: Db, k: number, l: Lock): number {
  if (l.primary === k) return 1;
  return Math.max(1, findWriteWithStartTS(key(db, l.primary), l.ts).length);
}

/** Successor `w` of cleaning up stale lock `l` of key `k` (cleanupStaleLock), as the new key array. */
function cleanup(db: Db, k: number, l: Lock, w: number, v: Variant): readonly Key[] {
  if (l.primary === k) return erase(db.keys, k, l, v);
  const primary = key(db, l.primary);
  const writes = findWriteWithStartTS(primary, l.ts);
  if (writes.length === 0) {
    // The primary did not commit: roll it back first (Percolator.tla: while its lock is there;
    // OptimizedCommitTS: until it has a rollback record), then this secondary.
    const primaryFirst = v.optimized ? !hasRollback(primary, l.ts) : hasLockEQ(primary, l.ts);
    return erase(db.keys, primaryFirst ? l.primary : k, l, v);
  }
  // The primary committed: commit the secondary (one successor per such write, as \E w \in ws).
  const kk = key(db, k);
  const rec = writes[w]!;
  return setKey(db.keys, k, { data: kk.data, lock: withoutLock(kk.lock, l), write: [...kk.write, rec], lastReadTs: kk.lastReadTs, si: checkSi(kk, rec.ts) });
}

function canLockKey(kk: Key, ts: number): boolean {
  if (kk.lock.length > 0) return false;
  for (const w of kk.write) if (w.ts >= ts) return false;
  return true;
}

function setClient(db: Db, c: NodeId, cl: Client, nextTs = db.nextTs, keys = db.keys): Db {
  const clients = new Map(db.clients);
  clients.set(c, cl);
  return { nextTs, clients, keys };
}

function makeSpec(name: string, summary: string, v: Variant) {
  const spec = protocol({ name, doc: summary, params, messages: t.union('kind', { none: {} }) });

  const txn = spec.role(t.unit)({ count: (p) => p.clients, symmetric: true, init: () => ({}) });

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
        choices: (s) => {
          const out: NodeId[] = [];
          for (const [c, cl] of s.clients) if (cl.state === 'init') out.push(c);
          return out;
        },
        do: (s, _out, _ctx, c: NodeId) => {
          const ts = s.nextTs + 1;
          const cl = s.clients.get(c)!;
          return setClient(s, c, { state: 'working', startTs: ts, commitTs: v.optimized ? ts : cl.commitTs, primary: cl.primary, pending: cl.pending }, ts);
        },
      },
      /** Get(c): move to prewriting, clean up one stale lock, or read one key. */
      get: {
        choices: (s) => {
          const moves: GetMove[] = [];
          for (const [c, cl] of s.clients) {
            if (cl.state !== 'working') continue;
            moves.push({ c, move: 'prewriting' });
            for (let k = 1; k <= s.keys.length; k++) {
              const kk = s.keys[k - 1]!;
              let stale = false;
              for (const l of kk.lock) {
                if (l.ts > cl.startTs) continue;
                stale = true;
                const n = cleanupCount(s, k, l);
                for (let w = 0; w < n; w++) moves.push({ c, move: 'cleanup', k, l, w });
              }
              if (!stale && kk.lastReadTs < cl.startTs) moves.push({ c, move: 'read', k });
            }
          }
          return moves;
        },
        do: (s, _out, _ctx, m: GetMove) => {
          switch (m.move) {
            case 'prewriting': {
              const cl = s.clients.get(m.c)!;
              return setClient(s, m.c, { state: 'prewriting', startTs: cl.startTs, commitTs: cl.commitTs, primary: cl.primary, pending: cl.pending });
            }
            case 'cleanup':
              return { nextTs: s.nextTs, clients: s.clients, keys: cleanup(s, m.k, m.l, m.w, v) };
            case 'read': {
              const kk = key(s, m.k);
              const startTs = s.clients.get(m.c)!.startTs;
              return { nextTs: s.nextTs, clients: s.clients, keys: setKey(s.keys, m.k, { data: kk.data, lock: kk.lock, write: kk.write, lastReadTs: startTs, si: kk.si }) };
            }
          }
        },
      },
      /** Prewrite(c): lock one pending key (the primary first, unless optimized), or take the commit timestamp. */
      prewrite: {
        choices: (s) => {
          const moves: { c: NodeId; k: number }[] = [];
          for (const [c, cl] of s.clients) {
            if (cl.state !== 'prewriting') continue;
            if (cl.pending.length === 0) {
              moves.push({ c, k: 0 });
              continue;
            }
            if (!v.optimized && cl.pending.includes(cl.primary)) {
              if (canLockKey(key(s, cl.primary), cl.startTs)) moves.push({ c, k: cl.primary });
              continue;
            }
            for (const k of cl.pending) if (canLockKey(key(s, k), cl.startTs)) moves.push({ c, k });
          }
          return moves;
        },
        do: (s, _out, _ctx, { c, k }: { c: NodeId; k: number }) => {
          const cl = s.clients.get(c)!;
          if (k === 0) {
            if (v.optimized) return setClient(s, c, { state: 'committing', startTs: cl.startTs, commitTs: cl.commitTs + 1, primary: cl.primary, pending: cl.pending });
            const ts = s.nextTs + 1;
            return setClient(s, c, { state: 'committing', startTs: cl.startTs, commitTs: ts, primary: cl.primary, pending: cl.pending }, ts);
          }
          const kk = key(s, k);
          const keys = setKey(s.keys, k, { data: add(kk.data, cl.startTs), lock: add(kk.lock, { ts: cl.startTs, primary: cl.primary }), write: kk.write, lastReadTs: kk.lastReadTs, si: kk.si });
          const commitTs = v.optimized ? Math.max(cl.commitTs, kk.lastReadTs) : cl.commitTs;
          return setClient(s, c, { state: cl.state, startTs: cl.startTs, commitTs, primary: cl.primary, pending: remove(cl.pending, k) }, s.nextTs, keys);
        },
      },
      /** Commit(c): commit the primary if its lock is still there. */
      commit: {
        choices: (s) => {
          const out: NodeId[] = [];
          for (const [c, cl] of s.clients) if (cl.state === 'committing' && hasLockEQ(key(s, cl.primary), cl.startTs)) out.push(c);
          return out;
        },
        do: (s, _out, _ctx, c: NodeId) => {
          const cl = s.clients.get(c)!;
          const kk = key(s, cl.primary);
          const keys = setKey(s.keys, cl.primary, {
            data: kk.data,
            lock: withoutLock(kk.lock, { ts: cl.startTs, primary: cl.primary }),
            write: [...kk.write, { type: 'write', ts: cl.commitTs, startTs: cl.startTs }],
            lastReadTs: kk.lastReadTs,
            si: checkSi(kk, cl.commitTs),
          });
          return setClient(s, c, { state: 'committed', startTs: cl.startTs, commitTs: cl.commitTs, primary: cl.primary, pending: cl.pending }, s.nextTs, keys);
        },
      },
      /** Abort(c): at any time before committing (a crash, a give-up, a failed transaction). */
      abort: {
        choices: (s) => {
          const out: NodeId[] = [];
          for (const [c, cl] of s.clients) if (cl.state !== 'committed' && cl.state !== 'aborted') out.push(c);
          return out;
        },
        do: (s, _out, _ctx, c: NodeId) => {
          const cl = s.clients.get(c)!;
          return setClient(s, c, { state: 'aborted', startTs: cl.startTs, commitTs: cl.commitTs, primary: cl.primary, pending: cl.pending });
        },
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
