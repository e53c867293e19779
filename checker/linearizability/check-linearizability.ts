/**
 * `checkLinearizability`: is a history linearizable with respect to a sequential model? Splits
 * the history by the model's partition (P-compositionality), runs the Wing–Gong–Lowe search on
 * each part under one time limit, and explains a failure.
 */
import { HistoryCheckerError } from '../history/errors.ts';
import type { History, Operation, ProcessId } from '../history/history.ts';
import { resolveModel, type ResolvedModel, type SequentialModel } from './model.ts';
import { startSearch, type LinearizabilitySearch, type SearchOutcome } from './wgl-search.ts';

/** Options of {@link checkLinearizability}. */
export interface LinearizabilityOptions {
  /** Give up after this many seconds and answer `unknown`. Default: no limit. */
  readonly timeLimitSeconds?: number;
  /** Use the model's partition function when it has one. Default: true. */
  readonly partition?: boolean;
  /**
   * Use the search's two sound reductions (read-only operations placed greedily, identical
   * operations in a fixed order). Default: true; false runs the plain Wing–Gong–Lowe search,
   * for comparison.
   */
  readonly reductions?: boolean;
}

/** An operation as shown in an explanation: plain data, safe to print as JSON. */
export interface OperationSummary {
  /** The operation's id in the history. */
  readonly id: number;
  readonly process: ProcessId;
  /** The model's description, e.g. `cas(1, 2) -> fail`. */
  readonly description: string;
  readonly call: number;
  /** `null` when the operation never returned. */
  readonly return: number | null;
  readonly callLine?: number;
  readonly returnLine?: number;
}

/**
 * Why a history is not linearizable: the longest linearization of a prefix that the search
 * found, the state it leaves, and the operations none of which can be linearized next without
 * the search eventually failing — among them `blocked`, the one whose return was reached.
 */
export interface LinearizabilityExplanation {
  /** The failing partition's key, or null when the history was not partitioned. */
  readonly partition: string | number | null;
  /** The longest linearizable prefix, in linearization order. */
  readonly longestPrefix: readonly OperationSummary[];
  /** The model state after that prefix. */
  readonly stateAfterPrefix: string;
  /** The operation that had to take effect before it returned, but could not. */
  readonly blocked: OperationSummary;
  /** The operations pending at that point (blocked included): none can be placed next. */
  readonly cannotPlace: readonly OperationSummary[];
}

/** The verdict of {@link checkLinearizability}. */
export interface LinearizabilityResult {
  readonly result: 'linearizable' | 'not-linearizable' | 'unknown';
  /** Operations in the history. */
  readonly operations: number;
  /** Parts checked independently (1 when not partitioned). */
  readonly partitions: number;
  /** Checking time (the search; reading the history excluded). */
  readonly seconds: number;
  /** When linearizable: one linearization per partition, as operation ids in order. */
  readonly linearization?: readonly (readonly number[])[];
  /** When not linearizable: why. */
  readonly explanation?: LinearizabilityExplanation;
  /** Model steps taken and (linearized set, state) pairs memoized, over all partitions. */
  readonly stats: { readonly steps: number; readonly memoized: number };
}

/** Summarizes an operation for explanations. */
export function summarizeOperation<I, O>(op: Operation<I, O>, describe: (input: I, output: O | undefined) => string): OperationSummary {
  return {
    id: op.id,
    process: op.process,
    description: describe(op.input, op.output),
    call: op.call,
    return: Number.isFinite(op.return) ? op.return : null,
    ...(op.source?.callLine !== undefined ? { callLine: op.source.callLine } : {}),
    ...(op.source?.returnLine !== undefined ? { returnLine: op.source.returnLine } : {}),
  };
}

function partitionHistory<S, I, O>(
  ops: readonly Operation<I, O>[],
  model: ResolvedModel<S, I, O>,
  usePartition: boolean,
): { key: string | number | null; ops: Operation<I, O>[] }[] {
  const part = model.partition;
  if (!usePartition || !part) return [{ key: null, ops: [...ops] }];
  const byKey = new Map<string | number, Operation<I, O>[]>();
  for (const op of ops) {
    const key = part(op.input);
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(op);
  }
  return [...byKey].map(([key, list]) => ({ key, ops: list }));
}

/**
 * Checks `history` against `model`. Never throws for a non-linearizable history: that is a
 * result. Throws {@link HistoryCheckerError} on misuse (bad options, operations with bad times).
 */
export function checkLinearizability<S, I, O>(
  history: History<I, O>,
  model: SequentialModel<S, I, O>,
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const limit = options.timeLimitSeconds;
  if (limit !== undefined && !(limit > 0)) {
    throw new HistoryCheckerError('checkLinearizability/bad-time-limit', `timeLimitSeconds must be > 0, got ${limit}`);
  }
  for (const op of history.operations) {
    if (!(op.return >= op.call) || !Number.isFinite(op.call)) {
      throw new HistoryCheckerError('checkLinearizability/bad-time', `operation ${op.id} has call ${op.call} and return ${op.return}`);
    }
  }
  const m = resolveModel(model);
  const start = performance.now();
  const deadline = limit === undefined ? Number.POSITIVE_INFINITY : start + limit * 1000;
  const shouldStop = (): boolean => performance.now() > deadline;
  const parts = partitionHistory(history.operations, m, options.partition ?? true);

  // Partitions share the thread in rounds of growing step budgets, so one hard linearizable
  // partition cannot hide an easy failing one (Porcupine runs them in parallel for this).
  const searches: { part: (typeof parts)[number]; search: LinearizabilitySearch<S> }[] = parts.map((part) => ({
    part,
    search: startSearch(part.ops, m, options.reductions ?? true),
  }));
  const finished: (SearchOutcome<S> | undefined)[] = new Array(parts.length);
  let steps = 0;
  let memoized = 0;
  let active = searches.length;
  for (let budget = parts.length === 1 ? Number.POSITIVE_INFINITY : 1024; active > 0; budget *= 2) {
    for (let i = 0; i < searches.length; i++) {
      if (finished[i]) continue;
      const outcome = searches[i]!.search.run(budget, shouldStop);
      if (!outcome) continue;
      finished[i] = outcome;
      active--;
      steps += outcome.steps;
      memoized += outcome.memoized;
      if (outcome.result === 'linearizable') continue;
      const seconds = (performance.now() - start) / 1000;
      const stats = { steps, memoized };
      if (outcome.result === 'unknown') {
        return { result: 'unknown', operations: history.operations.length, partitions: parts.length, seconds, stats };
      }
      const part = searches[i]!.part;
      const summary = (k: number): OperationSummary => summarizeOperation(part.ops[k]!, m.describeOperation);
      return {
        result: 'not-linearizable',
        operations: history.operations.length,
        partitions: parts.length,
        seconds,
        explanation: {
          partition: part.key,
          longestPrefix: outcome.longestPrefix!.map(summary),
          stateAfterPrefix: m.describeState(outcome.stateAfterPrefix as S),
          blocked: summary(outcome.blocked!),
          cannotPlace: outcome.pending!.map(summary),
        },
        stats,
      };
    }
  }
  return {
    result: 'linearizable',
    operations: history.operations.length,
    partitions: parts.length,
    seconds: (performance.now() - start) / 1000,
    linearization: searches.map(({ part }, i) => finished[i]!.linearization!.map((k) => part.ops[k]!.id)),
    stats: { steps, memoized },
  };
}

const where = (op: OperationSummary): string => {
  const lines = op.callLine === undefined ? '' : op.returnLine === undefined ? ` (line ${op.callLine})` : ` (lines ${op.callLine}-${op.returnLine})`;
  return `#${op.id} p${String(op.process)} ${op.description}${lines}`;
};

/** Renders an explanation as readable text (several lines, no trailing newline). */
export function formatExplanation(e: LinearizabilityExplanation): string {
  const out: string[] = [];
  if (e.partition !== null) out.push(`In partition ${JSON.stringify(e.partition)}:`);
  out.push(`Longest linearizable prefix (${e.longestPrefix.length} operations, in linearization order):`);
  if (e.longestPrefix.length === 0) out.push('  (none)');
  e.longestPrefix.forEach((op, i) => out.push(`  ${String(i + 1).padStart(3)}. ${where(op)}`));
  out.push(`State after it: ${e.stateAfterPrefix}`);
  out.push(`Stuck: ${where(e.blocked)} returns before it can be placed.`);
  out.push(`Pending operations, none of which can be placed next (${e.cannotPlace.length}):`);
  for (const op of e.cannotPlace) out.push(`  - ${where(op)}`);
  return out.join('\n');
}
