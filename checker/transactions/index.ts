/** Transactional consistency: Elle-style dependency graphs, anomaly classes and model verdicts. */
export { checkTransactions, CONSISTENCY_MODELS, forbiddenAnomalies, formatAnomaly } from './check-transactions.ts';
export type { TransactionAnomaly, TransactionCheckOptions, TransactionCheckResult } from './check-transactions.ts';
export {
  ANOMALIES,
  ANOMALY_ALIASES,
  CYCLE_ANOMALIES,
  DIRECT_ANOMALIES,
  MODEL_ALIASES,
  impliedAnomalies,
  modelImplies,
  parseAnomaly,
  parseModel,
  ruledOutModels,
  weakestModels,
} from './models.ts';
export type { AnomalyType, ConsistencyModel, CycleAnomalyType, DirectAnomalyType } from './models.ts';
export { buildDependencyGraph } from './dependency-graph.ts';
export type { Assumption, DependencyAnalysis, DependencyGraph, DependencyGraphOptions, DependencyReason, DependencyType, ReadAnomaly } from './dependency-graph.ts';
export { cycleDot, explainSteps } from './explain.ts';
export type { CycleStep } from './explain.ts';
export { describeOps, makeTransactionHistory, showValue, WORKLOADS } from './transaction.ts';
export type { Transaction, TransactionHistory, TransactionInit, TxnKey, TxnOp, TxnStatus, TxnValue, Workload } from './transaction.ts';
export { resolveWorkload } from './workload.ts';
export { JSON_TRANSACTIONS_FORMAT, parseEdnTransactions, parseJsonTransactions } from './read-transactions.ts';
