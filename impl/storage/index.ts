/** Durable storage: one append-only, checksummed log file per node, with recovery and compaction. */
export { openDurableLog, type DurableLog, type DurableLogOptions, type DurableLogStats } from './durableLog.ts';
export { recoverLog, scanLog, markerPath, type Recovery, type RecoverOptions, type LogDamage, type LogDamageKind, type LogScan } from './recoverLog.ts';
export { RECORD_BYTES_MAX_DEFAULT, LOG_HEADER_BYTES, RECORD_HEADER_BYTES, RecordType } from './recordFormat.ts';
