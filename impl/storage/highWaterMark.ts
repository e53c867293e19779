import { open, readFile, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { syncDirectory } from './syncDirectory.ts';

/**
 * A log's high-water mark: the number of its last record whose flush returned, kept apart from the
 * log in `<log>.mark` and flushed after the log's own flush (and before the effects that depend on
 * the records go out). A log whose last record is numbered below its mark lost a write the disk had
 * acknowledged (a flush that lied): recovery reports it as `lost-write` (recoverLog.ts).
 *
 * Format: two slots, each `| mark u64 | crc32 of the 8 bytes before u32 |` (big-endian), at bytes 0
 * and {@link MARK_SLOT_STRIDE} (a sector and a page apart, so that a write torn in one cannot touch
 * the other). Writes alternate between them, so the slot written last is never the one being
 * overwritten; the mark is the higher of the slots that check out (marks only grow). A torn or lost
 * write of the mark leaves the slot before it, which is at most the log's last record: recovery
 * reads clean, as it must, since the log itself lost nothing. A file whose slots both fail (its
 * creation was torn) is taken as no mark, which reads clean too: it is made again.
 */
export const MARK_SLOT_BYTES = 12;
export const MARK_SLOT_STRIDE = 4096;
const MARK_FILE_BYTES = MARK_SLOT_STRIDE + MARK_SLOT_BYTES;

/** The high-water mark file of the log at `logPath`. */
export function markPath(logPath: string): string {
  return `${logPath}.mark`;
}

/** What a mark file holds: the mark, and the slot it is in (the next write goes to the other). */
export interface MarkReading {
  readonly mark: number;
  readonly slot: 0 | 1;
}

function encodeSlot(mark: number): Buffer {
  const slot = Buffer.alloc(MARK_SLOT_BYTES);
  slot.writeBigUInt64BE(BigInt(mark), 0);
  slot.writeUInt32BE(crc32(slot.subarray(0, 8)), 8);
  return slot;
}

function decodeSlot(bytes: Buffer, at: number): number | null {
  if (bytes.length < at + MARK_SLOT_BYTES) return null;
  if (crc32(bytes.subarray(at, at + 8)) !== bytes.readUInt32BE(at + 8)) return null;
  const mark = bytes.readBigUInt64BE(at);
  return mark <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(mark) : null;
}

/** Reads a mark file's bytes: the higher slot that checks out, or null when none does. Pure. */
export function readMark(bytes: Buffer): MarkReading | null {
  const a = decodeSlot(bytes, 0);
  const b = decodeSlot(bytes, MARK_SLOT_STRIDE);
  if (a === null && b === null) return null;
  return b === null || (a !== null && a >= b) ? { mark: a!, slot: 0 } : { mark: b, slot: 1 };
}

/** Reads the mark file at `path`: null when there is none or no slot checks out. */
export async function loadMark(path: string): Promise<MarkReading | null> {
  try {
    return readMark(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** An open mark file, written by the durable log after each flush (durableLog.ts). */
export class HighWaterMark {
  readonly #fh: FileHandle;
  readonly #flush: 'datasync' | 'fsync' | 'none';
  #slot: 0 | 1;
  #mark: number;

  private constructor(fh: FileHandle, flush: 'datasync' | 'fsync' | 'none', reading: MarkReading) {
    this.#fh = fh;
    this.#flush = flush;
    this.#slot = reading.slot === 0 ? 1 : 0;
    this.#mark = reading.mark;
  }

  /**
   * Opens the mark file at `path`, making it (both slots at `mark`, flushed with its directory)
   * when there is none that reads; `mark` is the number of the log's last record after recovery.
   */
  static async open(path: string, mark: number, flush: 'datasync' | 'fsync' | 'none'): Promise<HighWaterMark> {
    let reading = await loadMark(path);
    if (reading === null) {
      const fh = await open(path, 'w');
      try {
        const bytes = Buffer.alloc(MARK_FILE_BYTES);
        encodeSlot(mark).copy(bytes, 0);
        encodeSlot(mark).copy(bytes, MARK_SLOT_STRIDE);
        await fh.write(bytes, 0, bytes.length, 0);
        if (flush !== 'none') await fh.sync();
      } finally {
        await fh.close();
      }
      if (flush !== 'none') await syncDirectory(path);
      reading = { mark, slot: 1 };
    }
    return new HighWaterMark(await open(path, 'r+'), flush, reading);
  }

  /** The mark last written (or read). */
  get mark(): number {
    return this.#mark;
  }

  /** Writes `mark` into the slot not written last and flushes it. */
  async write(mark: number): Promise<void> {
    const slot = encodeSlot(mark);
    const at = this.#slot * MARK_SLOT_STRIDE;
    let done = 0;
    while (done < slot.length) done += (await this.#fh.write(slot, done, slot.length - done, at + done)).bytesWritten;
    if (this.#flush === 'fsync') await this.#fh.sync();
    else if (this.#flush === 'datasync') await this.#fh.datasync();
    this.#slot = this.#slot === 0 ? 1 : 0;
    this.#mark = mark;
  }

  async close(): Promise<void> {
    await this.#fh.close();
  }
}
