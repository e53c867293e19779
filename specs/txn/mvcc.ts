/**
 * A multi-version key-value store, as the schemas and pure helpers that Percolator (TiKV),
 * Spanner and CockroachDB specs share.
 *
 * Per key the store keeps (Percolator's columns, TiKV's CF_LOCK / CF_WRITE with short values
 * inlined, CockroachDB's intents and MVCC versions):
 * - at most one **lock** (an intent): the provisional value of a transaction that has not been
 *   decided yet, its start timestamp, a pointer to its **primary** key (where the transaction's
 *   fate is decided: Percolator's primary lock, the anchor of CockroachDB's transaction record),
 *   a **TTL** (how long, in timestamp units past its start, its owner may still be alive), a
 *   minimum commit timestamp (async commit: no reader at or above it may be skipped), and, on an
 *   async-commit primary, the list of secondary keys;
 * - **write records** in commit-timestamp order: `put` (the transaction that started at
 *   `startTs` committed its value at `commitTs`) and `rollback` (the transaction that started at
 *   `startTs` is rolled back on this key: a late prewrite or commit of it must fail).
 *
 * Timestamps are non-negative integers (a TSO counter; an HLC or TrueTime timestamp packed into
 * one number is the user's choice). Values are a schema of the user's choice. Every helper is
 * pure: it returns a new key state, or the same object when nothing changes.
 */
import { t, type Schema } from '../core/index.ts';

/** A lock (an intent) on a key. */
export interface Lock<V> {
  readonly startTs: number;
  /** The key whose lock or write record decides the transaction. */
  readonly primary: number;
  /** The provisional value. */
  readonly value: V;
  /** Lifetime in timestamp units past `startTs` (0: expired as soon as anyone asks). */
  readonly ttl: number;
  /** A commit below this timestamp is impossible (async commit; 0 when unused). */
  readonly minCommitTs: number;
  /** Async commit, on the primary only: every secondary key of the transaction; otherwise null. */
  readonly secondaries: readonly number[] | null;
}

/** A write record: a committed version, or a rollback marker. */
export type WriteRecord<V> =
  | { readonly kind: 'put'; readonly startTs: number; readonly commitTs: number; readonly value: V }
  | { readonly kind: 'rollback'; readonly startTs: number };

/** What the store keeps for one key. */
export interface KeyState<V> {
  readonly lock: Lock<V> | null;
  /** In ascending order of {@link recordTs}. */
  readonly writes: readonly WriteRecord<V>[];
}

/** A store: the key states of the keys that have any (absent keys are {@link emptyKey}). */
export type Store<V> = ReadonlyMap<number, KeyState<V>>;

/** The schemas of the MVCC types for values of schema `value`. */
export function mvccSchemas<V>(value: Schema<V>) {
  const Lock = t.struct({
    startTs: t.u32,
    primary: t.u32,
    value,
    ttl: t.u32,
    minCommitTs: t.u32,
    secondaries: t.option(t.array(t.u32)),
  }) as Schema<Lock<V>>;
  const Write = t.union('kind', {
    put: { startTs: t.u32, commitTs: t.u32, value },
    rollback: { startTs: t.u32 },
  }) as unknown as Schema<WriteRecord<V>>;
  const Key = t.struct({ lock: t.option(Lock), writes: t.array(Write) }) as Schema<KeyState<V>>;
  const StoreSchema = t.map(t.u32, Key) as Schema<Store<V>>;
  return { Lock, Write, Key, Store: StoreSchema };
}

const EMPTY: KeyState<never> = Object.freeze({ lock: null, writes: Object.freeze([]) as readonly never[] });

/** The state of a key nobody has written or locked. */
export function emptyKey<V>(): KeyState<V> {
  return EMPTY;
}

/** The timestamp a write record sits at: its commit timestamp, or a rollback's start timestamp. */
export function recordTs(w: WriteRecord<unknown>): number {
  return w.kind === 'put' ? w.commitTs : w.startTs;
}

/** Key `key`'s state in `store`. */
export function keyOf<V>(store: Store<V>, key: number): KeyState<V> {
  return store.get(key) ?? (EMPTY as KeyState<V>);
}

/** `store` with key `key` set to `ks` (the same store when unchanged). */
export function withKey<V>(store: Store<V>, key: number, ks: KeyState<V>): Store<V> {
  if (store.get(key) === ks) return store;
  const out = new Map(store);
  out.set(key, ks);
  return out;
}

/** The write record (put or rollback) of the transaction that started at `startTs`, if any. */
export function recordOf<V>(ks: KeyState<V>, startTs: number): WriteRecord<V> | null {
  for (const w of ks.writes) if (w.startTs === startTs) return w;
  return null;
}

/** The latest committed version at or below `ts` (snapshot read, ignoring locks), or null. */
export function versionAt<V>(ks: KeyState<V>, ts: number): Extract<WriteRecord<V>, { kind: 'put' }> | null {
  for (let i = ks.writes.length - 1; i >= 0; i--) {
    const w = ks.writes[i]!;
    if (w.kind === 'put' && w.commitTs <= ts) return w;
  }
  return null;
}

/** The latest committed version, or null. */
export function latestVersion<V>(ks: KeyState<V>): Extract<WriteRecord<V>, { kind: 'put' }> | null {
  return versionAt(ks, Number.POSITIVE_INFINITY);
}

/**
 * Whether a read at `ts` must first resolve the key's lock: a lock that started at or below
 * `ts` may commit at or below it — unless its minimum commit timestamp is above `ts` (then
 * whatever it commits is invisible at `ts`).
 */
export function lockBlocksRead(lock: Lock<unknown> | null, ts: number): lock is Lock<unknown> {
  return lock !== null && lock.startTs <= ts && !(lock.minCommitTs > ts);
}

/** A write-write conflict for a transaction that started at `startTs`: a version committed at or after it. */
export function hasNewerVersion(ks: KeyState<unknown>, startTs: number): boolean {
  for (let i = ks.writes.length - 1; i >= 0; i--) {
    const w = ks.writes[i]!;
    if (w.kind === 'put' && w.commitTs >= startTs) return true;
    if (recordTs(w) < startTs) return false;
  }
  return false;
}

/** Inserts a write record in timestamp order. */
function insertRecord<V>(writes: readonly WriteRecord<V>[], w: WriteRecord<V>): readonly WriteRecord<V>[] {
  const ts = recordTs(w);
  let i = writes.length;
  while (i > 0 && recordTs(writes[i - 1]!) > ts) i--;
  return [...writes.slice(0, i), w, ...writes.slice(i)];
}

/** The key with `lock` placed (replacing any lock). */
export function withLock<V>(ks: KeyState<V>, lock: Lock<V>): KeyState<V> {
  return { lock, writes: ks.writes };
}

/** Commits the lock of transaction `startTs` at `commitTs`: a put record replaces the lock. Unchanged when that lock is not there. */
export function commitLock<V>(ks: KeyState<V>, startTs: number, commitTs: number): KeyState<V> {
  const lock = ks.lock;
  if (lock === null || lock.startTs !== startTs) return ks;
  return { lock: null, writes: insertRecord(ks.writes, { kind: 'put', startTs, commitTs, value: lock.value }) };
}

/** Writes a committed version directly, with no lock before it (one-phase commit). */
export function putVersion<V>(ks: KeyState<V>, startTs: number, commitTs: number, value: V): KeyState<V> {
  return { lock: ks.lock, writes: insertRecord(ks.writes, { kind: 'put', startTs, commitTs, value }) };
}

/**
 * Rolls transaction `startTs` back on this key: its lock (if there) goes, and a rollback record
 * stays (unless the transaction already has a record here), so that a late prewrite or commit
 * of it fails. With `record: false` the lock goes and nothing stays (the bug of protocols that
 * forget the rollback).
 */
export function rollbackKey<V>(ks: KeyState<V>, startTs: number, record = true): KeyState<V> {
  const lock = ks.lock !== null && ks.lock.startTs === startTs ? null : ks.lock;
  const writes = record && recordOf(ks, startTs) === null ? insertRecord(ks.writes, { kind: 'rollback', startTs }) : ks.writes;
  return lock === ks.lock && writes === ks.writes ? ks : { lock, writes };
}

/** The transaction fates written in a store: per start timestamp, its commit timestamps and whether it has a rollback record. */
export interface Fate {
  readonly commits: ReadonlySet<number>;
  readonly rolledBack: boolean;
}

/** Collects the fates written in some stores (keys of different stores must be disjoint). */
export function fatesOf<V>(stores: readonly Store<V>[]): Map<number, Fate> {
  const out = new Map<number, { commits: Set<number>; rolledBack: boolean }>();
  for (const store of stores) {
    for (const ks of store.values()) {
      for (const w of ks.writes) {
        let f = out.get(w.startTs);
        if (!f) out.set(w.startTs, (f = { commits: new Set(), rolledBack: false }));
        if (w.kind === 'put') f.commits.add(w.commitTs);
        else f.rolledBack = true;
      }
    }
  }
  return out;
}

/**
 * First-committer-wins on one key: the committed versions' [start, commit] intervals do not
 * overlap (each version started after the previous one committed), and each commits after it
 * started. A lost update breaks it.
 */
export function versionsDisjoint(ks: KeyState<unknown>): boolean {
  let lastCommit = -1;
  for (const w of ks.writes) {
    if (w.kind !== 'put') continue;
    if (!(w.startTs < w.commitTs) || !(lastCommit < w.startTs)) return false;
    lastCommit = w.commitTs;
  }
  return true;
}
