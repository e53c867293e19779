/** Linearizability checking: Wing–Gong–Lowe search with memoization and P-compositionality. */
export { checkLinearizability, formatExplanation, summarizeOperation } from './check-linearizability.ts';
export type {
  LinearizabilityExplanation,
  LinearizabilityOptions,
  LinearizabilityResult,
  OperationSummary,
} from './check-linearizability.ts';
export { ILLEGAL } from './model.ts';
export type { SequentialModel, StepResult } from './model.ts';
export { registerModel } from '../../specs/core/models/register.ts';
export type { RegisterState } from '../../specs/core/models/register.ts';
export { kvModel } from '../../specs/core/models/kv.ts';
export type { KvState } from '../../specs/core/models/kv.ts';
export { wholeObjectModel } from './whole-object-model.ts';
export type { WholeObjectState } from './whole-object-model.ts';
export { checkLinearizabilityBruteForce } from './brute-force.ts';
