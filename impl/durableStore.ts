/**
 * Where a node runtime keeps its durable fields: the last packed projection of them (the state
 * with every non-durable field reset to `init`), saved to a {@link DurableLog} and flushed before
 * the effects of the step that changed them go out.
 *
 * Each save appends the whole projection as one record; recovery takes the last good record (or
 * the snapshot when none follows it). Every `compactEveryRecords` saves, a compaction replaces
 * the file with one snapshot, so the file holds at most that many projections.
 *
 * Recovery hands over damage instead of hiding it: a torn tail is cut, a corrupted or emptied log
 * is kept aside and rebuilt from its latest intact projection (every record is a whole
 * projection, so an intact record after a damaged one is the newest state there is), and
 * `open()` returns the damage with the projection, for the role's `onRecover` to judge.
 *
 * Limitation: a save costs the size of the whole durable projection, not of what changed (the
 * spec contract does not say which fields only grow). Fine for votes, terms and decisions; a
 * spec with a long durable log pays its length per change.
 */
import { openDurableLog, type DurableLog, type LogDamage } from './storage/index.ts';
import { UsageError, requireInt } from './net/usageError.ts';

/** What a store recovered: the projection to start from, and the damage it was found with. */
export interface StoreRecovery {
  /** The latest intact projection, if any. */
  readonly projection: Uint8Array | undefined;
  /** The damage found (already kept aside by the store), or null when the log was sound. */
  readonly damage: LogDamage | null;
}

/** A node's durable projection store (one per node). */
export interface DurableStore {
  /**
   * Opens the store and returns what it recovered. (A store may also return the bare projection,
   * or undefined for none: no damage.)
   */
  open(): Promise<StoreRecovery | Uint8Array | undefined>;
  /** Makes `projection` durable; resolves once it is flushed. */
  save(projection: Uint8Array): Promise<void>;
  /** Closes the store (idempotent); a later `open()` recovers it. */
  close(): Promise<void>;
  /** Saves and flushes so far. */
  readonly saves: number;
}

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** Flush mode of the log (`datasync` by default; `none` only for tests and benchmarks). */
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
  /** Compact the log into one snapshot after this many records. Default 64. */
  readonly compactEveryRecords?: number;
}

/** A {@link DurableStore} in an append-only log file at `path` (its directory must exist). */
export function fileStore(path: string, options: FileStoreOptions = {}): DurableStore {
  const compactEvery = options.compactEveryRecords ?? 64;
  requireInt('fileStore', 'compactEveryRecords', compactEvery, 1, 1 << 30);
  let log: DurableLog | undefined;
  let saves = 0;
  return {
    get saves() {
      return saves;
    },
    async open() {
      if (log) throw new UsageError('fileStore.open', 'open', `${path} is already open`);
      const opened = await openDurableLog(path, { syncMode: options.syncMode ?? 'datasync', keep: 'latest' });
      log = opened.log;
      const { records, snapshot, damage } = opened.recovered;
      const last = records.length > 0 ? records[records.length - 1] : snapshot;
      return { projection: last ? new Uint8Array(last) : undefined, damage };
    },
    async save(projection) {
      if (!log) throw new UsageError('fileStore.save', 'closed', `${path} is not open`);
      if (log.recordCount >= compactEvery) await log.compact(projection);
      else await log.commit(projection);
      saves++;
    },
    async close() {
      const l = log;
      log = undefined;
      if (l) await l.close();
    },
  };
}
