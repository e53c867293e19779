import { copyFile, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  LOG_HEADER_BYTES, LOG_HEADER_BYTES_V2, LOG_MAGIC, LOG_VERSION, RECORD_BYTES_MAX_DEFAULT, RecordType, encodeLogHeader, encodeRecord, logHeaderBytes, payloadIntact,
  readBaseSeq, readRecordHeader, recordHeaderBytes,
} from './recordFormat.ts';
import { loadMark, markPath } from './highWaterMark.ts';
import { syncDirectory } from './syncDirectory.ts';
import { crc32 } from 'node:zlib';
import { UsageError, requireInt } from '../net/usageError.ts';

export { syncDirectory };

/**
 * What was wrong with a log file:
 * - `torn-tail`: the file ends inside its last record, whose header checks out: a write cut by a
 *   crash. Its flush never completed, so nothing that depended on it went out.
 * - `corrupt-record`: a record (or the file header) fails its checksum, or declares an impossible
 *   length — wherever it is, the last record included. Records after it may be intact
 *   (`recordsAfter`); records before it are.
 * - `empty-log`: the file is shorter than its header (emptied), or missing while its marker
 *   (`<path>.created`, written when the log was made) or its high-water mark says a log existed.
 * - `lost-write` (only with `detectLostWrites`): every record checks out, but the log ends below
 *   its high-water mark (`<path>.mark`, highWaterMark.ts): a record whose flush had returned is
 *   gone (a flush that lied, a file cut at a record boundary), or cut into (the file ends inside a
 *   record the mark says was flushed: not a write torn by a crash).
 */
export type LogDamageKind = 'torn-tail' | 'corrupt-record' | 'empty-log' | 'lost-write';

/** Damage found by recovery. */
export interface LogDamage {
  readonly kind: LogDamageKind;
  /** Offset of the first damaged byte in the original file (0 for a bad file header or an empty log). */
  readonly offset: number;
  /** Intact records found after the damage. */
  readonly recordsAfter: number;
  /** What was found, in words (for reports). */
  readonly detail: string;
  /** Where the damaged file was kept for inspection (undefined when there was no file). */
  readonly keptAs?: string;
}

/** What recovery found in a log file, and what the log holds now. */
export interface Recovery {
  /** The snapshot the log holds now, if any. */
  readonly snapshot: Buffer | undefined;
  /** The records the log holds now after that snapshot (or since the start), oldest first. */
  readonly records: Buffer[];
  /** The type of each of `records` (`RecordType.entry` or `RecordType.change`). */
  readonly recordTypes: RecordType[];
  /** The damage found, or null for a clean file. */
  readonly damage: LogDamage | null;
  /** Bytes of the original file not carried into the recovered one (a torn tail, a damaged stretch). */
  readonly truncatedBytes: number;
  /** Size of the file after recovery: where the next record goes. */
  readonly sizeBytes: number;
  /** Whether recovery made the file (a new log, or a rebuilt one). */
  readonly created: boolean;
  /**
   * The number of the last record the log holds now (records are numbered from 1 since the log
   * was made, compactions and rebuilds included): at least the high-water mark, so that the next
   * record appended is numbered above it.
   */
  readonly lastSeq: number;
}

/** Options of {@link recoverLog}. */
export interface RecoverOptions {
  /** Longest record payload; a longer declared length is treated as corruption. Default 16 MiB. */
  readonly recordBytesMax?: number;
  /**
   * What a log rebuilt after corruption holds: `prefix` (default) — the snapshot and the records
   * before the damage; `latest` — the latest intact record anywhere in the file, as a snapshot (for
   * stores whose every record supersedes the ones before it, such as the node runtime's projections).
   */
  readonly keep?: 'prefix' | 'latest';
  /** Flush the rebuilt file and its directory (default true; false only for tests and benchmarks). */
  readonly sync?: boolean;
  /**
   * Compare the log with its high-water mark (`<path>.mark`) and report a log that ends below it
   * as `lost-write` (default false: the mark, when there is one, only keeps record numbers from
   * going back in a rebuilt log). `openDurableLog` then makes the mark when there is none and
   * writes it after every flush.
   */
  readonly detectLostWrites?: boolean;
}

/** An intact record found in a file. */
interface Found {
  readonly type: number;
  readonly payload: Buffer;
}

/** The outcome of {@link scanLog}: a pure reading of a file's bytes. */
export interface LogScan {
  readonly version: number;
  /** The number of the record before the file's first one (0 before version 3, or when the file header is damaged). */
  readonly baseSeq: number;
  /** The number of the last record of the intact prefix (`baseSeq` plus the records in it, superseded ones included). */
  readonly lastSeq: number;
  /** The snapshot and records before the first damage. */
  readonly snapshot: Buffer | undefined;
  readonly records: Buffer[];
  readonly recordTypes: RecordType[];
  /** Where the intact prefix ends. */
  readonly prefixEnd: number;
  /** The latest intact record anywhere in the file (after the damage too). */
  readonly latest: Found | undefined;
  readonly damage: Omit<LogDamage, 'keptAs'> | null;
}

/**
 * Reads a whole log file's bytes: the intact prefix, the first damage and what lies after it.
 * Never returns a record that failed a checksum. Pure: no I/O.
 *
 * Throws a `UsageError` `openDurableLog/not-a-log` for a file that is not a pacta log (its magic
 * is off by more than one bit and no intact record can be found in it: someone else's file, which
 * must not be moved or rewritten) or a log of an unknown version, and
 * `openDurableLog/unknown-record-type` on an intact record of a type this version does not know.
 */
export function scanLog(bytes: Buffer, path: string, options: RecoverOptions = {}): LogScan {
  const recordBytesMax = options.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT;
  requireInt('openDurableLog', 'recordBytesMax', recordBytesMax, 0, 2 ** 31 - 1);
  const size = bytes.length;
  // The header's size depends on its version (a version-3 header is longer); a file shorter than
  // the header it starts is emptied, unless it is plainly someone else's.
  const fileHeaderBytes = size >= 12 ? logHeaderBytes(bytes.readUInt32BE(8)) : LOG_HEADER_BYTES_V2;
  if (size < fileHeaderBytes) {
    if (size >= LOG_HEADER_BYTES_V2 && bitsDiffer(bytes.subarray(0, 8), LOG_MAGIC) > 1) {
      throw new UsageError('openDurableLog', 'not-a-log', `${path} is not a pacta log (bad header)`);
    }
    return {
      version: LOG_VERSION, baseSeq: 0, lastSeq: 0, snapshot: undefined, records: [], recordTypes: [], prefixEnd: 0, latest: undefined,
      damage: { kind: 'empty-log', offset: 0, recordsAfter: 0, detail: `the file holds ${size} bytes, less than a log header: the log was emptied` },
    };
  }
  const headerOk = crc32(bytes.subarray(0, fileHeaderBytes - 4)) === bytes.readUInt32BE(fileHeaderBytes - 4) && bytes.subarray(0, 8).equals(LOG_MAGIC);
  const storedVersion = bytes.readUInt32BE(8);
  if (headerOk && storedVersion !== 1 && storedVersion !== 2 && storedVersion !== LOG_VERSION) {
    throw new UsageError('openDurableLog', 'not-a-log', `${path} is a pacta log of version ${storedVersion}, which this version cannot read`);
  }
  const version = headerOk || storedVersion === 1 || storedVersion === 2 ? storedVersion : LOG_VERSION;
  const baseSeq = headerOk ? readBaseSeq(bytes, version) : 0;
  const headerBytes = recordHeaderBytes(version);

  /** An intact record at `pos`, or why not: 'short' (file ends inside it, header intact), 'bad'. */
  const at = (pos: number): { found: Found; end: number } | 'short' | 'bad' => {
    if (size - pos < headerBytes) return 'short';
    const h = readRecordHeader(bytes, pos, version);
    if (h === null || h.length > recordBytesMax) return 'bad';
    if (h.payloadAt + h.length > size) return 'short';
    if (!payloadIntact(bytes, h, version)) return 'bad';
    return { found: { type: h.type, payload: bytes.subarray(h.payloadAt, h.payloadAt + h.length) }, end: h.payloadAt + h.length };
  };
  /** Counts the intact records from `from` on, resynchronizing byte by byte over damage. */
  const later = (from: number): { count: number; latest: Found | undefined } => {
    let count = 0;
    let latest: Found | undefined;
    for (let pos = from; pos < size; ) {
      const r = at(pos);
      if (typeof r === 'object') {
        known(r.found, pos);
        count++;
        latest = r.found;
        pos = r.end;
      } else pos++;
    }
    return { count, latest };
  };
  const known = (f: Found, pos: number): void => {
    if (f.type !== RecordType.entry && f.type !== RecordType.snapshot && f.type !== RecordType.change) {
      throw new UsageError('openDurableLog', 'unknown-record-type', `${path}: record type ${f.type} at byte ${pos} is not known to this version`);
    }
  };

  if (!headerOk) {
    const after = later(LOG_HEADER_BYTES_V2);
    if (after.count === 0 && bitsDiffer(bytes.subarray(0, 8), LOG_MAGIC) > 1) {
      throw new UsageError('openDurableLog', 'not-a-log', `${path} is not a pacta log (bad header)`);
    }
    return {
      version, baseSeq, lastSeq: baseSeq, snapshot: undefined, records: [], recordTypes: [], prefixEnd: 0, latest: after.latest,
      damage: { kind: 'corrupt-record', offset: 0, recordsAfter: after.count, detail: `the file header fails its checksum (${after.count} intact records after it)` },
    };
  }

  let snapshot: Buffer | undefined;
  let records: Buffer[] = [];
  let recordTypes: RecordType[] = [];
  let latest: Found | undefined;
  let pos = fileHeaderBytes;
  let damage: LogScan['damage'] = null;
  let lastSeq = baseSeq;
  while (pos < size) {
    const r = at(pos);
    if (typeof r === 'object') {
      known(r.found, pos);
      latest = r.found;
      lastSeq++;
      if (r.found.type === RecordType.snapshot) {
        snapshot = Buffer.from(r.found.payload);
        records = [];
        recordTypes = [];
      } else {
        records.push(Buffer.from(r.found.payload));
        recordTypes.push(r.found.type as RecordType);
      }
      pos = r.end;
      continue;
    }
    if (r === 'short') {
      // A version-1 header has no checksum of its own: a length that runs past the end may be a
      // damaged one, with intact records behind it.
      const after = version === 1 ? later(pos + 1) : { count: 0, latest: undefined };
      damage = after.count > 0
        ? { kind: 'corrupt-record', offset: pos, recordsAfter: after.count, detail: `the record at byte ${pos} declares a length past the end of the file, and ${after.count} intact records follow it` }
        : { kind: 'torn-tail', offset: pos, recordsAfter: 0, detail: `the file ends inside the record at byte ${pos} (${size - pos} of its bytes are there): a write cut by a crash` };
      if (after.latest) latest = after.latest;
      break;
    }
    // A bad checksum: resume after the record when its header is intact (v2), else byte by byte.
    const h = version === 1 ? null : readRecordHeader(bytes, pos, version);
    const resume = h !== null && h.length <= recordBytesMax ? h.payloadAt + h.length : pos + 1;
    const after = later(resume);
    if (after.latest) latest = after.latest;
    const what = h === null ? (version === 1 ? 'fails its checksum' : 'has a header that fails its checksum') : h.length > recordBytesMax ? `declares ${h.length} bytes, above the limit of ${recordBytesMax}` : 'has a payload that fails its checksum';
    damage = { kind: 'corrupt-record', offset: pos, recordsAfter: after.count, detail: `the record at byte ${pos} ${what} (${after.count} intact records after it)` };
    break;
  }
  return { version, baseSeq, lastSeq, snapshot, records, recordTypes, prefixEnd: pos, latest, damage };
}

function bitsDiffer(a: Buffer, b: Buffer): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) for (let x = a[i]! ^ b[i]!; x; x &= x - 1) n++;
  return n;
}

/**
 * Recovers the log at `path` and leaves it sound, ready to append to:
 * - a clean version-3 file is left as it is;
 * - a missing file is created (atomically: written beside, flushed, renamed into place) with its
 *   marker `<path>.created`; a missing file whose marker exists (or whose high-water mark is
 *   above 0) is an `empty-log` damage;
 * - a torn tail is cut (the whole file is first copied aside for inspection);
 * - corruption, an emptied file or (with `detectLostWrites`) a log that ends below its high-water
 *   mark: the file is renamed aside (`<path>.damaged-<n>`) and a new log is written with what
 *   `keep` says, its records numbered on from the mark;
 * - a clean version-1 or version-2 file is rewritten as version 3.
 * The damage is returned, never thrown; nothing is silently dropped. See {@link scanLog} for
 * what throws.
 */
export async function recoverLog(path: string, options: RecoverOptions = {}): Promise<Recovery> {
  const sync = options.sync ?? true;
  const marker = markerPath(path);
  // The mark is read even when lost writes are not detected: a rebuilt log numbers its records on
  // from it, so that a mark written by an earlier run never finds the log below it.
  const mark = (await loadMark(markPath(path)))?.mark ?? 0;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const existed = await exists(marker);
    await writeLogFile(path, encodeLogHeader(LOG_VERSION, mark), sync);
    await writeMarker(marker, sync);
    const detail = existed ? `the log is missing, but ${marker} says it existed` : `the log is missing, but its high-water mark says ${mark} records were flushed`;
    const damage: LogDamage | null = existed || (options.detectLostWrites && mark > 0) ? { kind: 'empty-log', offset: 0, recordsAfter: 0, detail } : null;
    return { snapshot: undefined, records: [], recordTypes: [], damage, truncatedBytes: 0, sizeBytes: LOG_HEADER_BYTES, created: true, lastSeq: mark };
  }
  const scan = scanLog(bytes, path, options);
  if (!(await exists(marker))) await writeMarker(marker, sync);
  let damage = scan.damage;
  if (options.detectLostWrites && mark > scan.lastSeq && (damage === null || damage.kind === 'torn-tail')) {
    const lost = mark - scan.lastSeq;
    damage = {
      kind: 'lost-write', offset: scan.prefixEnd, recordsAfter: 0,
      detail: damage === null
        ? `the log ends at record ${scan.lastSeq}, but its high-water mark says record ${mark} was flushed: ${lost === 1 ? 'a flushed write was' : `${lost} flushed records were`} lost (a flush that lied)`
        : `the file ends inside the record at byte ${scan.prefixEnd}, but its high-water mark says record ${mark} was flushed (the log holds ${scan.lastSeq}): a flushed record was cut into, not a write torn by a crash`,
    };
  }
  if (damage === null && scan.version === LOG_VERSION) {
    return {
      snapshot: scan.snapshot, records: scan.records, recordTypes: scan.recordTypes, damage: null, truncatedBytes: 0, sizeBytes: bytes.length, created: false,
      lastSeq: scan.lastSeq,
    };
  }
  if (damage?.kind === 'torn-tail' && scan.version === LOG_VERSION) {
    const keptAs = await asideName(path);
    await copyFile(path, keptAs);
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(scan.prefixEnd);
      if (sync) await fh.datasync();
    } finally {
      await fh.close();
    }
    return {
      snapshot: scan.snapshot, records: scan.records, recordTypes: scan.recordTypes, damage: { ...damage, keptAs }, truncatedBytes: bytes.length - scan.prefixEnd,
      sizeBytes: scan.prefixEnd, created: false, lastSeq: scan.lastSeq,
    };
  }
  // Rebuild: a damaged file goes aside untouched, an older version's file is replaced.
  let keptAs: string | undefined;
  if (damage !== null) {
    keptAs = await asideName(path);
    await rename(path, keptAs);
  }
  let snapshot = scan.snapshot;
  let records = scan.records;
  let recordTypes = scan.recordTypes;
  // `latest` takes the latest whole record; a change record is only read against those before it.
  if (damage?.kind === 'corrupt-record' && (options.keep ?? 'prefix') === 'latest' && scan.latest?.type !== RecordType.change) {
    snapshot = scan.latest ? Buffer.from(scan.latest.payload) : undefined;
    records = [];
    recordTypes = [];
  }
  // Number the records on from the highest number seen (the mark, or the records of the damaged
  // file): the rebuilt log's last record is at least the mark, so the next restart reads clean.
  const kept = (snapshot ? 1 : 0) + records.length;
  const lastSeq = Math.max(mark, scan.lastSeq + (damage?.recordsAfter ?? 0), kept);
  const parts = [encodeLogHeader(LOG_VERSION, lastSeq - kept)];
  if (snapshot) parts.push(encodeRecord(RecordType.snapshot, snapshot));
  records.forEach((r, i) => parts.push(encodeRecord(recordTypes[i]!, r)));
  const file = Buffer.concat(parts);
  await writeLogFile(path, file, sync);
  return {
    snapshot, records, recordTypes, damage: damage === null ? null : { ...damage, ...(keptAs ? { keptAs } : {}) },
    truncatedBytes: damage === null ? 0 : bytes.length - scan.prefixEnd, sizeBytes: file.length, created: true, lastSeq,
  };
}

/** The marker written beside a log when it is made: a missing log whose marker exists was lost. */
export function markerPath(path: string): string {
  return `${path}.created`;
}

/** The temporary file a log is written to before it is renamed into place. */
export function compactPath(path: string): string {
  return `${path}.compact`;
}

/** Writes a whole log file crash-safely: beside it, flushed, renamed over it, directory flushed. */
async function writeLogFile(path: string, bytes: Buffer, sync: boolean): Promise<void> {
  const tmp = compactPath(path);
  const fh = await open(tmp, 'w');
  try {
    let done = 0;
    while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, done)).bytesWritten;
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (sync) await syncDirectory(path);
}

async function writeMarker(marker: string, sync: boolean): Promise<void> {
  await writeFile(marker, 'a pacta log was created beside this file; if the log goes missing, recovery reports it lost\n');
  if (sync) await syncDirectory(marker);
}

/** `<path>.damaged-<n>`, n one more than any kept so far. */
async function asideName(path: string): Promise<string> {
  const prefix = `${basename(path)}.damaged-`;
  let n = 0;
  for (const name of await readdir(dirname(path))) {
    if (name.startsWith(prefix)) n = Math.max(n, Number(name.slice(prefix.length)) || 0);
  }
  return `${path}.damaged-${n + 1}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Removes a leftover temporary file of an interrupted compaction or rebuild. */
export async function removeLeftovers(path: string): Promise<void> {
  await rm(compactPath(path), { force: true });
}

/** Opens a recovered log file for appending. */
export async function openForAppend(path: string): Promise<FileHandle> {
  return open(path, 'r+');
}
