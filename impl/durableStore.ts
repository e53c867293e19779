/**
 * Where a node runtime keeps its durable fields: the last packed projection of them (the state
 * with every non-durable field reset to `init`), saved to a {@link DurableLog} and flushed before
 * the effects of the step that changed them go out.
 *
 * Each save appends the whole projection as one record; recovery takes the last good record (or
 * the snapshot when none follows it). Every `compactEveryRecords` saves, a compaction replaces
 * the file with one snapshot, so the file holds at most that many projections.
 *
 * Limitation: a save costs the size of the whole durable projection, not of what changed (the
 * spec contract does not say which fields only grow). Fine for votes, terms and decisions; a
 * spec with a long durable log pays its length per change.
 */
import { openDurableLog, type DurableLog } from './storage/index.ts';
import { UsageError, requireInt } from './net/usageError.ts';

/** A node's durable projection store (one per node). */
export interface DurableStore {
  /** Opens the store and returns the projection last saved, if any (a torn tail is discarded). */
  open(): Promise<Uint8Array | undefined>;
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
      const opened = await openDurableLog(path, { syncMode: options.syncMode ?? 'datasync' });
      log = opened.log;
      const { records, snapshot } = opened.recovered;
      const last = records.length > 0 ? records[records.length - 1] : snapshot;
      return last ? new Uint8Array(last) : undefined;
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
