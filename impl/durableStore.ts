/**
 * Where a node runtime keeps its durable fields: the last packed projection of them (the state
 * with every non-durable field reset to `init`), saved to a {@link DurableLog} and flushed before
 * the effects of the step that changed them go out.
 *
 * A save appends either the whole projection or, through `saveChange`, only what changed since
 * the save before (impl/durableDelta.ts: a log that grew by a batch costs the batch). Recovery
 * takes the last whole record (or the snapshot when none follows it) and hands over the change
 * records after it, which the runtime folds onto it in order. Every `compactEveryRecords` saves,
 * a compaction replaces the file with one snapshot of the whole projection.
 *
 * Recovery hands over damage instead of hiding it (a lost write too, when the runtime asks for its
 * detection: the log then keeps a high-water mark): a torn tail is cut, a corrupted or emptied log
 * is kept aside and rebuilt — from its latest intact record when that is a whole projection (an
 * intact whole record after a damaged one is the newest state there is), else from the records
 * before the damage (a change is read only against the records before it: the state handed over
 * is then older than the newest) — and `open()` returns the damage with the projection, for the
 * role's `onRecover` to judge.
 */
import { RecordType, openDurableLog, type DurableLog, type LogDamage } from './storage/index.ts';
import { UsageError, requireInt } from './net/usageError.ts';

/** What a store recovered: the projection to start from, and the damage it was found with. */
export interface StoreRecovery {
  /** The latest intact projection, if any. */
  readonly projection: Uint8Array | undefined;
  /** Changes to fold onto `projection`, oldest first (records of `saveChange`); none when absent. */
  readonly changes?: readonly Uint8Array[];
  /** The damage found (already kept aside by the store), or null when the log was sound. */
  readonly damage: LogDamage | null;
}

/** What the runtime asks of a store when it opens it. */
export interface StoreOpenOptions {
  /**
   * The role declares that its storage detects lost writes (`lostWrites: 'detected'`): report a
   * write the disk acknowledged and then lost as `lost-write` damage. The file store keeps a
   * high-water mark for it, which costs a second flush per save.
   */
  readonly detectLostWrites?: boolean;
}

/** A node's durable projection store (one per node). */
export interface DurableStore {
  /**
   * Opens the store and returns what it recovered. (A store may also return the bare projection,
   * or undefined for none: no damage.)
   */
  open(options?: StoreOpenOptions): Promise<StoreRecovery | Uint8Array | undefined>;
  /** Makes `projection` durable; resolves once it is flushed. */
  save(projection: Uint8Array): Promise<void>;
  /**
   * Makes durable a change to the state last saved (the runtime's durable delta); `whole()` packs
   * the whole projection, for a store that would rather write that now (a compaction). Resolves
   * once it is flushed. A store without it gets whole projections only.
   */
  saveChange?(change: Uint8Array, whole: () => Uint8Array): Promise<void>;
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
    async open(openOptions = {}) {
      if (log) throw new UsageError('fileStore.open', 'open', `${path} is already open`);
      const detectLostWrites = openOptions.detectLostWrites ?? false;
      const opened = await openDurableLog(path, { syncMode: options.syncMode ?? 'datasync', keep: 'latest', detectLostWrites });
      log = opened.log;
      const { records, recordTypes, snapshot, damage } = opened.recovered;
      let base = records.length - 1;
      while (base >= 0 && recordTypes[base] === RecordType.change) base--;
      const last = base >= 0 ? records[base] : snapshot;
      const changes = records.slice(base + 1).map((r) => new Uint8Array(r));
      return { projection: last ? new Uint8Array(last) : undefined, changes, damage };
    },
    async saveChange(change, whole) {
      if (!log) throw new UsageError('fileStore.saveChange', 'closed', `${path} is not open`);
      if (log.recordCount >= compactEvery) await log.compact(whole());
      else await log.commit(change, RecordType.change);
      saves++;
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
