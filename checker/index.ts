/**
 * `pacta-check/checker`: check a protocol (`check`, `checkSync`, `assertSpec`, their options and
 * results) and check histories (linearizability, transactions, atomic commit; their readers and
 * models). The explorers, the world and the stores are internal. Trace replay and minimization
 * are in `pacta-check/traces`; the declarative history properties of a spec (`linearizable`,
 * `transactional`) are in `pacta-check`.
 */
export { check, checkSync, assertSpec, SpecCheckFailure, type SpecSource } from './check.ts';
export { OptionsError } from './options.ts';
export type { CheckOptions, Progress, Mode, Strategy } from './options.ts';
export type { CheckResult, Ok, Violation, Deadlock, Incomplete, ErrorResult, Stats, GoalStatus } from './result.ts';

// Histories: readers, and the recorder a test harness uses.
export { HistoryCheckerError, HistoryFormatError } from './history/errors.ts';
export { makeHistory, type History, type Operation, type OperationInit, type ProcessId } from './history/history.ts';
export { HistoryRecorder } from './history/recorder.ts';
export { parseEtcdLog } from './history/etcd-log.ts';
export { parseEdnKvHistory, parseEdnRegisterHistory } from './history/jepsen-edn.ts';
export { formatJsonHistory, JSON_HISTORY_FORMAT, parseJsonHistory } from './history/json-history.ts';
export type { KvInput, KvOutput, RegisterInput, RegisterOutput, RegisterValue } from './history/operations.ts';

// Linearizability.
export { checkLinearizability, formatExplanation, kvModel, registerModel, wholeObjectModel } from './linearizability/index.ts';
export type { LinearizabilityExplanation, LinearizabilityOptions, LinearizabilityResult, SequentialModel } from './linearizability/index.ts';

// Transactions.
export { checkTransactions, CONSISTENCY_MODELS, formatAnomaly, makeTransactionHistory } from './transactions/index.ts';
export { JSON_TRANSACTIONS_FORMAT, parseEdnTransactions, parseJsonTransactions } from './transactions/index.ts';
export type {
  ConsistencyModel, TransactionAnomaly, TransactionCheckOptions, TransactionCheckResult, TransactionHistory, TransactionInit, TxnOp,
} from './transactions/index.ts';

// Atomic commit.
export { checkAtomicCommit, checkAtomicCommitEvents, commitRunFromEvents } from './atomic-commit/index.ts';
export type { AtomicCommitResult, CommitEvent, CommitRun } from './atomic-commit/index.ts';
export { atomicCommit } from './history-properties.ts';
