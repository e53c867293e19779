import { crc32 } from 'node:zlib';

/**
 * On-disk format of a durable log, version 3 (integers big-endian):
 *
 * ```
 * file:    | magic "PACTALOG" (8) | version u32 = 3 | base sequence u64 | crc32 of the 20 bytes before (4) | record* |
 * record:  | length u32 | type u8 | crc32 of the payload u32 | crc32 of the 9 bytes before u32 | payload |
 * ```
 *
 * Records are numbered from 1 in the order they were appended since the log was made; the base
 * sequence is the number of the record before the file's first one, so the n-th record of the file
 * is number base + n. A compaction or a rebuild writes a new file whose base carries the count on:
 * the number of the last record is what the high-water mark (highWaterMark.ts) is compared with.
 *
 * The record header has a checksum of its own, so recovery tells a torn write from corruption:
 * a record whose header checks out and whose payload runs past the end of the file was cut by a
 * crash (a torn tail: its write never completed, so nothing that depended on it went out); a
 * header or a payload that fails its checksum is corruption, wherever it is in the file.
 *
 * Version 2 (the same records after a 16-byte header with no base sequence: `| magic | version u32
 * = 2 | crc32 of the 12 bytes before |`, base 0) and version 1 (that header, and records `| crc32 |
 * length u32 | type u8 | payload |`, the crc32 covering length, type and payload) are still read,
 * and rewritten as version 3 when they are opened.
 */
export const LOG_MAGIC = Buffer.from('PACTALOG', 'latin1');
export const LOG_VERSION = 3;
/** The file header of the current version. */
export const LOG_HEADER_BYTES = 24;
/** The file header of versions 1 and 2 (no base sequence). */
export const LOG_HEADER_BYTES_V2 = 16;
export const RECORD_HEADER_BYTES = 13;
/** Record header of a version-1 log. */
export const RECORD_HEADER_BYTES_V1 = 9;
/** Default limit on one record's payload: 16 MiB. */
export const RECORD_BYTES_MAX_DEFAULT = 16 << 20;

/**
 * Record types. A snapshot supersedes every record before it. A change is read against the
 * records before it (the node runtime's durable deltas, impl/durableDelta.ts): a log rebuilt after
 * corruption keeps a change only with everything before it (`keep: 'prefix'`).
 */
export const RecordType = { entry: 1, snapshot: 2, change: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/**
 * The file header: of the current version with base sequence `baseSeq`, or (for tests of the
 * migration) the 16-byte header of an older `version`.
 */
export function encodeLogHeader(version: number = LOG_VERSION, baseSeq = 0): Buffer {
  const bytes = logHeaderBytes(version);
  const header = Buffer.alloc(bytes);
  LOG_MAGIC.copy(header, 0);
  header.writeUInt32BE(version, 8);
  if (bytes === LOG_HEADER_BYTES) header.writeBigUInt64BE(BigInt(baseSeq), 12);
  header.writeUInt32BE(crc32(header.subarray(0, bytes - 4)), bytes - 4);
  return header;
}

/** The file header size of a log version (an unknown version is taken as the current one). */
export function logHeaderBytes(version: number): number {
  return version === 1 || version === 2 ? LOG_HEADER_BYTES_V2 : LOG_HEADER_BYTES;
}

/** The base sequence of a file header that checked out (0 before version 3). */
export function readBaseSeq(bytes: Buffer, version: number): number {
  return logHeaderBytes(version) === LOG_HEADER_BYTES ? Number(bytes.readBigUInt64BE(12)) : 0;
}

/** One record, ready to write. */
export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32BE(payload.length, 0);
  record[4] = type;
  record.writeUInt32BE(crc32(payload), 5);
  record.writeUInt32BE(crc32(record.subarray(0, 9)), 9);
  record.set(payload, RECORD_HEADER_BYTES);
  return record;
}

/** One version-1 record (for tests of the migration). */
export function encodeRecordV1(type: RecordType, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES_V1 + payload.length);
  record.writeUInt32BE(payload.length, 4);
  record[8] = type;
  record.set(payload, RECORD_HEADER_BYTES_V1);
  record.writeUInt32BE(crc32(record.subarray(4)), 0);
  return record;
}

/** What a record header at some offset says. */
export interface RecordHeader {
  readonly length: number;
  readonly type: number;
  /** Where the payload starts. */
  readonly payloadAt: number;
  /** The payload's checksum as stored (v2), or the record's (v1). */
  readonly crc: number;
}

/**
 * Reads the record header at `pos` of `bytes` (the caller checked that enough bytes are there);
 * null when it fails its own checksum (v2 only: a v1 header has none).
 */
export function readRecordHeader(bytes: Buffer, pos: number, version: number): RecordHeader | null {
  if (version === 1) {
    return { crc: bytes.readUInt32BE(pos), length: bytes.readUInt32BE(pos + 4), type: bytes[pos + 8]!, payloadAt: pos + RECORD_HEADER_BYTES_V1 };
  }
  if (crc32(bytes.subarray(pos, pos + 9)) !== bytes.readUInt32BE(pos + 9)) return null;
  return { length: bytes.readUInt32BE(pos), type: bytes[pos + 4]!, crc: bytes.readUInt32BE(pos + 5), payloadAt: pos + RECORD_HEADER_BYTES };
}

/** Whether the payload after `header` matches its checksum. */
export function payloadIntact(bytes: Buffer, header: RecordHeader, version: number): boolean {
  const end = header.payloadAt + header.length;
  if (version === 1) return crc32(bytes.subarray(header.payloadAt - 5, end)) === header.crc;
  return crc32(bytes.subarray(header.payloadAt, end)) === header.crc;
}

/** The record header size of a log version. */
export function recordHeaderBytes(version: number): number {
  return version === 1 ? RECORD_HEADER_BYTES_V1 : RECORD_HEADER_BYTES;
}
