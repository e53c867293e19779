/**
 * The transaction vocabulary that MVCC specs share (Percolator, Spanner, CockroachDB): the
 * multi-version store, transaction clients, their history as the transaction checker reads it,
 * and properties over it. See README.md.
 */
export {
  mvccSchemas, emptyKey, recordTs, keyOf, withKey, recordOf, versionAt, latestVersion, lockBlocksRead, hasNewerVersion,
  withLock, commitLock, putVersion, rollbackKey, fatesOf, versionsDisjoint,
} from './mvcc.ts';
export type { Lock, WriteRecord, KeyState, Store, Fate } from './mvcc.ts';
export {
  TxnStep, TxnOp, TxnValue, TxnStatus, TxnResult, valueOf, tagOf, readKeys, writeKeys, numberOf, writesOf, txn, txnClients,
} from './clients.ts';
export { microOps, transactionsOf, transactionsOfOperations, transactionsDocument } from './history.ts';
export type { RecordOptions, RecordedOperation } from './history.ts';
export {
  isolation, snapshotIsolation, serializability, strictSerializability, completed, lostUpdates, noLostUpdate, totalConserved, txnGoals,
} from './properties.ts';
