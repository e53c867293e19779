/**
 * A history of operations on a concurrent object, as a linearizability checker sees it: each
 * operation was invoked by one process at a call time and either returned an output at a return
 * time or has an indeterminate outcome (the client crashed or timed out).
 */
import { HistoryCheckerError } from './errors.ts';

/** Who invoked an operation: a Jepsen process number, a client name, a node id. */
export type ProcessId = number | string;

/** Where an operation came from in a history file, for messages that point at lines. */
export interface OperationSource {
  /** 1-based line of the invocation. */
  readonly callLine?: number;
  /** 1-based line of the completion, when there is one. */
  readonly returnLine?: number;
}

/**
 * One operation. `output` is `undefined` exactly when the outcome is unknown: a crashed or
 * timed-out call (then `return` is usually `+Infinity`: the effect may land at any later time)
 * or a call known to have ended without a known result (Porcupine's timed-out etcd read).
 * Known outputs are never `undefined`; use `null` for "no value".
 */
export interface Operation<I = unknown, O = unknown> {
  /** Index of this operation in its history's `operations`. */
  readonly id: number;
  readonly process: ProcessId;
  readonly input: I;
  /** The result; `undefined` when the outcome is unknown. */
  readonly output: O | undefined;
  /** Invocation time (any unit; only the order matters). */
  readonly call: number;
  /** Completion time, `>= call`; `+Infinity` when the operation never returned. */
  readonly return: number;
  readonly source?: OperationSource;
}

/** A history: its operations (in any order; times decide real-time precedence). */
export interface History<I = unknown, O = unknown> {
  readonly operations: readonly Operation<I, O>[];
  /** The file it was read from, when it was read from one. */
  readonly file?: string;
}

/** True when the operation's result is unknown (crashed, timed out, never returned). */
export function isIndeterminate(op: Operation): boolean {
  return op.output === undefined;
}

/** True when `a` returned before `b` was called: every linearization must order a before b. */
export function precedes(a: Operation, b: Operation): boolean {
  return a.return < b.call;
}

/** An operation as a caller describes it to {@link makeHistory}: ids are assigned for it. */
export interface OperationInit<I, O> {
  readonly process: ProcessId;
  readonly input: I;
  readonly output?: O | undefined;
  readonly call: number;
  /** Omit (or pass `Infinity`) for an operation that never returned. */
  readonly return?: number;
  readonly source?: OperationSource;
}

/**
 * Builds a history from plain operation records, assigning ids in order and checking that
 * times make sense. Throws {@link HistoryCheckerError} `makeHistory/bad-time` otherwise.
 */
export function makeHistory<I, O>(ops: readonly OperationInit<I, O>[], file?: string): History<I, O> {
  const operations = ops.map((op, id): Operation<I, O> => {
    const ret = op.return ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(op.call) || Number.isNaN(ret) || ret < op.call) {
      throw new HistoryCheckerError(
        'makeHistory/bad-time',
        `operation ${id} has call ${op.call} and return ${ret}; need a finite call <= return`,
      );
    }
    return {
      id,
      process: op.process,
      input: op.input,
      output: op.output,
      call: op.call,
      return: ret,
      ...(op.source ? { source: op.source } : {}),
    };
  });
  return file === undefined ? { operations } : { operations, file };
}
