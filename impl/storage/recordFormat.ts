import { crc32 } from 'node:zlib';

/**
 * On-disk format of a durable log, version 1 (integers big-endian):
 *
 * ```
 * file:    | magic "PACTALOG" (8) | version u32 = 1 | crc32 of the 12 bytes before (4) | record* |
 * record:  | crc32 u32 | length u32 | type u8 | payload (length bytes) |
 *            crc32 covers length, type and payload
 * ```
 *
 * The checksum covers the length, so a damaged length is caught like damaged data.
 */
export const LOG_MAGIC = Buffer.from('PACTALOG', 'latin1');
export const LOG_VERSION = 1;
export const LOG_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 9;
/** Default limit on one record's payload: 16 MiB. */
export const RECORD_BYTES_MAX_DEFAULT = 16 << 20;

/** Record types. A snapshot supersedes every record before it. */
export const RecordType = { entry: 1, snapshot: 2 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** The 16-byte file header. */
export function encodeLogHeader(): Buffer {
  const header = Buffer.alloc(LOG_HEADER_BYTES);
  LOG_MAGIC.copy(header, 0);
  header.writeUInt32BE(LOG_VERSION, 8);
  header.writeUInt32BE(crc32(header.subarray(0, 12)), 12);
  return header;
}

/** One record, ready to write. */
export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32BE(payload.length, 4);
  record[8] = type;
  record.set(payload, RECORD_HEADER_BYTES);
  record.writeUInt32BE(crc32(record.subarray(4)), 0);
  return record;
}

/** The checksum a record should carry, computed over its bytes from the length field on. */
export function recordChecksum(recordFromLength: Buffer): number {
  return crc32(recordFromLength);
}
