/** Transactional consistency: Elle-style dependency graphs, anomaly classes and model verdicts. */
export { checkTransactions, CONSISTENCY_MODELS, forbiddenAnomalies, formatAnomaly } from './check-transactions.ts';
export type {
  AnomalyType,
  ConsistencyModel,
  CycleAnomalyType,
  TransactionAnomaly,
  TransactionCheckOptions,
  TransactionCheckResult,
} from './check-transactions.ts';
export { buildDependencyGraph } from './dependency-graph.ts';
export type {
  Assumption,
  DependencyAnalysis,
  DependencyGraph,
  DependencyGraphOptions,
  DependencyReason,
  DependencyType,
  ReadAnomaly,
} from './dependency-graph.ts';
export { shortestCycle } from './cycles.ts';
export type { CycleClass, CycleCounts, CycleStep } from './cycles.ts';
export { describeOps, makeTransactionHistory } from './transaction.ts';
export type { Transaction, TransactionHistory, TransactionInit, TxnKey, TxnOp, TxnStatus, TxnValue } from './transaction.ts';
export { JSON_TRANSACTIONS_FORMAT, parseEdnTransactions, parseJsonTransactions } from './read-transactions.ts';
