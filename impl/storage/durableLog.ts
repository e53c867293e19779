import { open, rename, type FileHandle } from 'node:fs/promises';
import { LOG_VERSION, RECORD_BYTES_MAX_DEFAULT, RecordType, encodeLogHeader, encodeRecord } from './recordFormat.ts';
import { compactPath, openForAppend, recoverLog, removeLeftovers, type RecoverOptions, type Recovery } from './recoverLog.ts';
import { HighWaterMark, markPath } from './highWaterMark.ts';
import { syncDirectory } from './syncDirectory.ts';
import { UsageError } from '../net/usageError.ts';

/** Options of {@link openDurableLog}. */
export interface DurableLogOptions extends RecoverOptions {
  /**
   * `datasync` (default) flushes data and the metadata needed to read it (fdatasync); `fsync`
   * flushes all metadata too; `none` skips flushing: a crash of the machine may then lose
   * committed records (only for tests and benchmarks).
   */
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
}

/** Counters of one open log. */
export interface DurableLogStats {
  /** Records appended since open. */
  appended: number;
  /** Flushes to the disk (one per group commit). */
  syncs: number;
  /** Bytes written since open, snapshots included. */
  bytesWritten: number;
  /** Compactions since open. */
  compactions: number;
  /** Writes of the high-water mark (one after each flush, with `detectLostWrites`). */
  marks: number;
}

/**
 * Opens (creating if needed) the append-only log at `path` and recovers it (see {@link recoverLog}):
 * a torn tail is cut, a damaged file is kept aside and the log rebuilt, and the damage is
 * returned in `recovered.damage` — never silently dropped. Returns the open log and what was
 * recovered. One process at a time: the log takes no file lock.
 */
export async function openDurableLog(path: string, options: DurableLogOptions = {}): Promise<{ log: DurableLog; recovered: Recovery }> {
  const syncMode = options.syncMode ?? 'datasync';
  if (!['datasync', 'fsync', 'none'].includes(syncMode)) {
    throw new UsageError('openDurableLog', 'bad-sync-mode', `syncMode must be datasync, fsync or none, got ${String(syncMode)}`);
  }
  // A compaction or rebuild cut by a crash leaves its temporary file: the log itself is intact, drop it.
  await removeLeftovers(path);
  const recovered = await recoverLog(path, { ...options, sync: syncMode !== 'none' });
  const mark = options.detectLostWrites ? await HighWaterMark.open(markPath(path), recovered.lastSeq, syncMode) : null;
  const fh = await openForAppend(path).catch(async (e: unknown) => {
    await mark?.close();
    throw e;
  });
  const log = new DurableLog(path, fh, recovered, options.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT, syncMode, mark);
  return { log, recovered };
}

interface Pending {
  readonly seq: number;
  readonly bytes: Buffer;
}

/**
 * An append-only log of records with checksums, for one node's durable fields. Made by
 * {@link openDurableLog}, which recovers the file first.
 *
 * `append` only buffers; `sync` makes everything appended before it durable, and `commit(record)`
 * does both. Await it before the effects that depend on the record go out (a vote, an ack):
 *
 * ```ts
 * await log.commit(packedVote);
 * transport.send(candidate, KIND_MESSAGE, voteGranted);
 * ```
 *
 * Concurrent syncs are grouped: while one flush runs, later appends wait and go out together in
 * the next write and flush. After a failed write or flush the log refuses all further calls
 * (after an fsync error the page cache can no longer be trusted); restart and recover.
 *
 * With `detectLostWrites`, once a flush (or a compaction) returned, the number of the last record
 * it made durable is written and flushed as the high-water mark (highWaterMark.ts), and only then
 * does `sync` resolve: a mark on disk proves the log's flush of that record returned, so a log
 * found below it lost a write the disk had acknowledged, never one still in flight at a crash.
 */
export class DurableLog {
  readonly path: string;
  readonly #recordBytesMax: number;
  readonly #syncMode: 'datasync' | 'fsync' | 'none';
  readonly #stats: DurableLogStats = { appended: 0, syncs: 0, bytesWritten: 0, compactions: 0, marks: 0 };
  readonly #mark: HighWaterMark | null;
  #fh: FileHandle;
  #sizeBytes: number;
  #records: number;
  #pending: Pending[] = [];
  /** Numbers of the last record appended and of the last one durable (records are numbered since the log was made). */
  #appendedSeq: number;
  #durableSeq: number;
  #chain: Promise<void> = Promise.resolve();
  /** Compactions called and not finished: a sync running now has one queued after it. */
  #compactionsQueued = 0;
  #failure: Error | undefined;
  #closed = false;

  constructor(path: string, fh: FileHandle, recovered: Recovery, recordBytesMax: number, syncMode: 'datasync' | 'fsync' | 'none', mark: HighWaterMark | null) {
    this.path = path;
    this.#mark = mark;
    this.#appendedSeq = recovered.lastSeq;
    this.#durableSeq = recovered.lastSeq;
    this.#fh = fh;
    this.#sizeBytes = recovered.sizeBytes;
    this.#records = recovered.records.length;
    this.#recordBytesMax = recordBytesMax;
    this.#syncMode = syncMode;
  }

  /** Records in the log after its snapshot, durable or not. */
  get recordCount(): number {
    return this.#records;
  }

  /** Bytes in the file, plus appended bytes not yet written. */
  get sizeBytes(): number {
    return this.#sizeBytes + this.#pending.reduce((s, p) => s + p.bytes.length, 0);
  }

  /** Whether every appended record is durable. */
  get isSynced(): boolean {
    return this.#durableSeq === this.#appendedSeq;
  }

  /** A copy of the counters. */
  get stats(): DurableLogStats {
    return { ...this.#stats };
  }

  /** Buffers one record (copied), an entry unless `type` says a change. Not durable until a later `sync()` resolves. */
  append(record: Uint8Array, type: typeof RecordType.entry | typeof RecordType.change = RecordType.entry): void {
    this.#check('DurableLog.append');
    if (!(record instanceof Uint8Array)) throw new UsageError('DurableLog.append', 'bad-record', 'record must be a Uint8Array');
    if (record.length > this.#recordBytesMax) {
      throw new UsageError('DurableLog.append', 'oversized', `record of ${record.length} bytes exceeds the limit of ${this.#recordBytesMax}`);
    }
    this.#pending.push({ seq: ++this.#appendedSeq, bytes: encodeRecord(type, record) });
    this.#records++;
    this.#stats.appended++;
  }

  /** Resolves once every record appended before this call is on disk. */
  sync(): Promise<void> {
    this.#check('DurableLog.sync');
    const target = this.#appendedSeq;
    return this.#enqueue(async () => {
      if (this.#durableSeq >= target) return;
      // Group commit: take everything appended so far, including records appended after the call;
      // but if a compaction is queued after this sync, records appended after it belong in the
      // compacted file, not in this one that it replaces.
      const take = this.#compactionsQueued > 0 ? this.#pending.filter((p) => p.seq <= target) : this.#pending;
      if (take.length === 0) return;
      const batch = take;
      this.#pending = take === this.#pending ? [] : this.#pending.filter((p) => p.seq > target);
      const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((p) => p.bytes));
      await writeAll(this.#fh, bytes, this.#sizeBytes);
      this.#sizeBytes += bytes.length;
      this.#stats.bytesWritten += bytes.length;
      await this.#flush(this.#fh);
      this.#durableSeq = batch[batch.length - 1]!.seq;
      await this.#writeMark();
    });
  }

  /** Appends `record` (if given; an entry unless `type` says a change) and resolves once it, and everything before it, is durable. */
  commit(record?: Uint8Array, type: typeof RecordType.entry | typeof RecordType.change = RecordType.entry): Promise<void> {
    if (record !== undefined) this.append(record, type);
    return this.sync();
  }

  /**
   * Replaces the log with one snapshot record, which supersedes every record appended before this
   * call (they are dropped, durable or not); records appended later follow it. Crash-safe: the new
   * file is written and flushed beside the log, then renamed over it, then the directory flushed.
   */
  compact(snapshot: Uint8Array): Promise<void> {
    this.#check('DurableLog.compact');
    if (!(snapshot instanceof Uint8Array) || snapshot.length > this.#recordBytesMax) {
      throw new UsageError('DurableLog.compact', 'bad-snapshot', `snapshot must be a Uint8Array of at most ${this.#recordBytesMax} bytes`);
    }
    // The snapshot is a record of its own, numbered after those it supersedes.
    const covered = this.#appendedSeq;
    const snapshotSeq = ++this.#appendedSeq;
    const record = encodeRecord(RecordType.snapshot, snapshot);
    this.#compactionsQueued++;
    const done = (): void => void this.#compactionsQueued--;
    return this.#enqueue(async () => {
      const tmp = compactPath(this.path);
      const fh = await open(tmp, 'w+');
      const bytes = Buffer.concat([encodeLogHeader(LOG_VERSION, snapshotSeq - 1), record]);
      try {
        await writeAll(fh, bytes, 0);
        await this.#flush(fh);
      } catch (e) {
        await fh.close();
        throw e;
      }
      await rename(tmp, this.path);
      if (this.#syncMode !== 'none') await syncDirectory(this.path);
      await this.#fh.close();
      this.#fh = fh;
      this.#sizeBytes = bytes.length;
      this.#stats.bytesWritten += bytes.length;
      this.#stats.compactions++;
      const kept = this.#pending.filter((p) => p.seq > covered);
      this.#pending = kept;
      this.#records = kept.length;
      this.#durableSeq = snapshotSeq;
      await this.#writeMark();
    }).finally(done);
  }

  /** Flushes what was appended, then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (!this.#failure && this.#appendedSeq > this.#durableSeq) await this.sync().catch(() => {});
    this.#closed = true;
    await this.#chain.catch(() => {});
    await this.#fh.close();
    await this.#mark?.close();
  }

  #check(fn: string): void {
    if (this.#closed) throw new UsageError(fn, 'closed', 'the log is closed');
    if (this.#failure) throw new UsageError(fn, 'failed', `the log failed earlier and must be reopened: ${this.#failure.message}`);
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(async () => {
      if (this.#failure) throw this.#failure;
      try {
        await op();
      } catch (e) {
        this.#failure = e instanceof Error ? e : new Error(String(e));
        throw this.#failure;
      }
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Writes the number of the last durable record as the high-water mark, when the log keeps one. */
  async #writeMark(): Promise<void> {
    if (this.#mark === null || this.#mark.mark >= this.#durableSeq) return;
    await this.#mark.write(this.#durableSeq);
    this.#stats.marks++;
  }

  async #flush(fh: FileHandle): Promise<void> {
    if (this.#syncMode === 'none') return;
    this.#stats.syncs++;
    if (this.#syncMode === 'fsync') await fh.sync();
    else await fh.datasync();
  }
}

async function writeAll(fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

