import { open, type FileHandle } from 'node:fs/promises';
import {
  LOG_HEADER_BYTES,
  RECORD_BYTES_MAX_DEFAULT,
  RECORD_HEADER_BYTES,
  RecordType,
  encodeLogHeader,
  recordChecksum,
} from './recordFormat.ts';
import { UsageError, requireInt } from '../net/usageError.ts';

/** What recovery found in a log file. */
export interface Recovery {
  /** The latest snapshot's bytes, if the log has one. */
  readonly snapshot: Buffer | undefined;
  /** The records appended after that snapshot (or since the start), oldest first. */
  readonly records: Buffer[];
  /**
   * Why the file was cut, if it was: `torn` (it ended inside a record: a write cut by a crash) or
   * `corrupt` (a checksum mismatch or an impossible length).
   */
  readonly tail: 'clean' | 'torn' | 'corrupt';
  /** Bytes discarded from the end of the file. */
  readonly truncatedBytes: number;
  /** Size of the file after recovery: where the next record goes. */
  readonly sizeBytes: number;
  /** Whether the file was created (or its torn header rewritten) by this recovery. */
  readonly created: boolean;
}

/** Options of {@link recoverLog}. */
export interface RecoverOptions {
  /** Longest record payload; a longer declared length is treated as corruption. Default 16 MiB. */
  readonly recordBytesMax?: number;
}

const READ_CHUNK_BYTES = 1 << 20;

/**
 * Reads every good record of a log file through an open handle and truncates the file after the
 * last one (a torn or corrupted tail), fsyncing the truncation. A missing or torn header (the file
 * is shorter than a header, and what is there matches it) is written anew.
 *
 * Never throws on damaged records, and never returns one: every record returned passed its
 * checksum, and records after the first bad one are discarded (they cannot be told apart from a
 * torn write). Allocations are bounded by `recordBytesMax` per record. Throws a `UsageError`
 * `openDurableLog/not-a-log` if the header is damaged or belongs to another format (refusing to
 * start beats silently starting empty), and `openDurableLog/unknown-record-type` on a sound record
 * of a type this version does not know (written by a newer version).
 */
export async function recoverFromHandle(fh: FileHandle, path: string, options: RecoverOptions = {}): Promise<Recovery> {
  const recordBytesMax = options.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT;
  requireInt('openDurableLog', 'recordBytesMax', recordBytesMax, 0, 2 ** 31 - 1);
  const size = (await fh.stat()).size;
  const expectedHeader = encodeLogHeader();
  if (size < LOG_HEADER_BYTES) {
    const present = Buffer.alloc(size);
    if (size > 0) await fh.read(present, 0, size, 0);
    if (!present.equals(expectedHeader.subarray(0, size))) {
      throw new UsageError('openDurableLog', 'not-a-log', `${path} is not a pacta log (bad header)`);
    }
    await fh.truncate(0);
    await fh.write(expectedHeader, 0, LOG_HEADER_BYTES, 0);
    await fh.datasync();
    return { snapshot: undefined, records: [], tail: 'clean', truncatedBytes: 0, sizeBytes: LOG_HEADER_BYTES, created: true };
  }
  const header = Buffer.alloc(LOG_HEADER_BYTES);
  await fh.read(header, 0, LOG_HEADER_BYTES, 0);
  if (!header.equals(expectedHeader)) {
    throw new UsageError('openDurableLog', 'not-a-log', `${path} is not a version-1 pacta log (bad header)`);
  }

  // A window over the file, refilled as records are parsed.
  let window = Buffer.alloc(0);
  let windowStart = 0;
  const ensure = async (pos: number, n: number): Promise<boolean> => {
    if (pos + n > size) return false;
    if (pos >= windowStart && pos + n <= windowStart + window.length) return true;
    const length = Math.min(Math.max(n, READ_CHUNK_BYTES), size - pos);
    window = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(window, got, length - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    windowStart = pos;
    return got >= n;
  };

  let snapshot: Buffer | undefined;
  let records: Buffer[] = [];
  let pos = LOG_HEADER_BYTES;
  let tail: Recovery['tail'] = 'clean';
  while (pos < size) {
    if (!(await ensure(pos, RECORD_HEADER_BYTES))) {
      tail = 'torn';
      break;
    }
    const at = pos - windowStart;
    const length = window.readUInt32BE(at + 4);
    if (length > recordBytesMax) {
      tail = 'corrupt';
      break;
    }
    if (!(await ensure(pos, RECORD_HEADER_BYTES + length))) {
      tail = 'torn';
      break;
    }
    const start = pos - windowStart;
    const stored = window.readUInt32BE(start);
    if (recordChecksum(window.subarray(start + 4, start + RECORD_HEADER_BYTES + length)) !== stored) {
      tail = 'corrupt';
      break;
    }
    const type = window[start + 8];
    // Copy out: the window is reused.
    const payload = Buffer.from(window.subarray(start + RECORD_HEADER_BYTES, start + RECORD_HEADER_BYTES + length));
    if (type === RecordType.entry) records.push(payload);
    else if (type === RecordType.snapshot) {
      snapshot = payload;
      records = [];
    } else {
      throw new UsageError('openDurableLog', 'unknown-record-type', `${path}: record type ${type} at byte ${pos} is not known to this version`);
    }
    pos += RECORD_HEADER_BYTES + length;
  }
  if (pos < size) {
    await fh.truncate(pos);
    await fh.datasync();
  }
  return { snapshot, records, tail, truncatedBytes: size - pos, sizeBytes: pos, created: false };
}

/** Recovers the log at `path` (see {@link recoverFromHandle}), creating it if missing. */
export async function recoverLog(path: string, options: RecoverOptions = {}): Promise<Recovery> {
  const fh = await openOrCreate(path);
  try {
    return await recoverFromHandle(fh, path, options);
  } finally {
    await fh.close();
  }
}

/** Opens `path` read-write, creating it (empty) if it does not exist. */
export async function openOrCreate(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return open(path, 'wx+');
  }
}
