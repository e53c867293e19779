import { appendFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { LOG_HEADER_BYTES, LOG_VERSION, RecordType, encodeRecord, recordHeaderBytes } from './recordFormat.ts';
import { scanLog, type LogDamageKind } from './recoverLog.ts';
import { UsageError } from '../net/usageError.ts';

/**
 * Damages a closed version-2 log file the way the checker's `--disk-faults` damage kinds say
 * (checker/crashes.ts), so that a node restarted on it recovers what the model's restart hands
 * `onRecover`:
 * - `torn-tail`: a record cut short is appended (a write torn by the crash): recovery cuts it and
 *   keeps every complete record — the state the node crashed with;
 * - `corrupt-record`: the file header and every record's header are damaged (their checksums
 *   fail), so no record can be read — the model's corrupted disk, which hands back `init`;
 * - `empty-log`: the file is emptied to 0 bytes;
 * - `lost-write`: the last record is cut whole and the high-water mark left as it is (a flush that
 *   lied): a log that keeps a mark recovers the state before that record and reports the loss;
 *   one that keeps none reads clean.
 *
 * For executor replay of disk-fault traces and for tests; a real disk needs no help.
 */
export async function damageLog(path: string, kind: LogDamageKind): Promise<void> {
  const fn = 'damageLog';
  if (kind === 'empty-log') return truncate(path, 0);
  if (kind === 'torn-tail') {
    const record = encodeRecord(RecordType.entry, Buffer.from('torn write'));
    return appendFile(path, record.subarray(0, record.length - 4));
  }
  if (kind !== 'corrupt-record' && kind !== 'lost-write') throw new UsageError(fn, 'bad-kind', `unknown damage kind ${String(kind)}`);
  const bytes = await readFile(path);
  if (bytes.length < LOG_HEADER_BYTES || bytes.readUInt32BE(8) !== LOG_VERSION) {
    throw new UsageError(fn, 'not-a-log', `${path} is not a version-${LOG_VERSION} pacta log`);
  }
  if (kind === 'lost-write') return truncate(path, lastRecordAt(bytes, path));
  const headerBytes = recordHeaderBytes(LOG_VERSION);
  for (let pos = LOG_HEADER_BYTES; pos + headerBytes <= bytes.length; ) {
    const length = bytes.readUInt32BE(pos);
    bytes[pos + 4]! ^= 0x80; // the type byte: the header's own checksum no longer matches
    pos += headerBytes + length;
  }
  bytes[LOG_HEADER_BYTES - 1]! ^= 0x01; // and the file header's checksum (a log with no record yet)
  await writeFile(path, bytes);
}

/** Where the last record of an intact log starts. */
function lastRecordAt(bytes: Buffer, path: string): number {
  const scan = scanLog(bytes, path);
  if (scan.damage !== null || scan.prefixEnd === LOG_HEADER_BYTES) {
    throw new UsageError('damageLog', 'no-record', `${path} holds no intact last record to lose`);
  }
  let pos = LOG_HEADER_BYTES;
  for (;;) {
    const end = pos + recordHeaderBytes(LOG_VERSION) + bytes.readUInt32BE(pos);
    if (end >= scan.prefixEnd) return pos;
    pos = end;
  }
}
