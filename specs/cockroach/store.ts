/**
 * A CockroachDB range's replicated state, as the model keeps it: one key per range, its MVCC
 * versions and at most one write intent, the transaction records anchored on the key, and the
 * leaseholder's in-memory timestamp cache.
 *
 * Why not specs/txn/mvcc.ts's store: CockroachDB's intents are not Percolator's locks. An intent
 * belongs to a transaction (not to a start timestamp), its timestamp moves when the transaction is
 * pushed, and every value keeps its **local timestamp** (MVCCValueHeader.LocalTimestamp, v22.2):
 * the leaseholder's clock when the value was written, which observed timestamps are compared
 * against. The transaction clients, history and properties of specs/txn are reused as they are.
 */
import { t } from '../core/index.ts';
import { TxnValue } from '../txn/index.ts';

/** A transaction's id: its client's tag (`client.request`), as versions are tagged. */
export const TxnId = t.string;
export type TxnId = string;

/** A provisional value: the transaction, its (possibly pushed) timestamp, where its record is. */
export const Intent = t.struct({ txn: TxnId, ts: t.u32, local: t.u32, anchor: t.u32, value: TxnValue });
export type Intent = typeof Intent.__type;

/** A committed value at `ts`, written when the leaseholder's clock read `local`. */
export const Version = t.struct({ ts: t.u32, local: t.u32, value: TxnValue });
export type Version = typeof Version.__type;

/** A transaction record: PENDING → (STAGING with its in-flight writes) → COMMITTED or ABORTED. */
/** A transaction record's status. */
export const RecordStatus = t.enum('PENDING', 'STAGING', 'COMMITTED', 'ABORTED');

export const Record = t.struct({
  status: RecordStatus,
  /** PENDING: the timestamp pushers moved it to (it commits at or above it); otherwise its timestamp. */
  ts: t.u32,
  /** STAGING: the keys whose intents must all be at or below `ts` for it to be implicitly committed. */
  inFlight: t.array(t.u32),
});
export type Record = typeof Record.__type;

/** The timestamp cache of one key: the highest read timestamp, and which transaction read there (null: several, or the low-water mark). */
export const TsCache = t.struct({ ts: t.u32, txn: t.option(TxnId) });
export type TsCache = typeof TsCache.__type;

/** The latest version at or below `ts`, or null. */
export function versionAt(versions: readonly Version[], ts: number): Version | null {
  for (let i = versions.length - 1; i >= 0; i--) if (versions[i]!.ts <= ts) return versions[i]!;
  return null;
}

/** `versions` with `v` in timestamp order. */
export function insertVersion(versions: readonly Version[], v: Version): Version[] {
  let i = versions.length;
  while (i > 0 && versions[i - 1]!.ts > v.ts) i--;
  return [...versions.slice(0, i), v, ...versions.slice(i)];
}

/** The cache after a read at `ts` by `txn`. */
export function noteRead(c: TsCache, ts: number, txn: TxnId): TsCache {
  if (ts < c.ts || (ts === c.ts && c.txn === txn)) return c;
  return ts > c.ts ? { ts, txn } : { ts, txn: null };
}

/** The lowest timestamp `txn` may write at, given the cache: above every other transaction's read. */
export function writeFloor(c: TsCache, txn: TxnId): number {
  return c.txn === txn ? c.ts : c.ts + 1;
}
