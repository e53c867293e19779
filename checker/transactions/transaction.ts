/**
 * A history of transactions over read/write registers (Elle's rw-register workload): each
 * transaction reads and writes keys, and committed, aborted or ended with an unknown outcome.
 */
import { HistoryCheckerError } from '../history/errors.ts';
import type { ProcessId } from '../history/history.ts';

/** A key of the store. */
export type TxnKey = string | number;
/** A value written to a key. Values must be unique per key, so a read names its writer. */
export type TxnValue = string | number;

/** One micro-operation: read `key` (seeing `value`, `null` for the initial nil) or write it. */
export type TxnOp =
  | { readonly f: 'r'; readonly key: TxnKey; readonly value: TxnValue | null }
  | { readonly f: 'w'; readonly key: TxnKey; readonly value: TxnValue };

/** How a transaction ended: committed, aborted, or unknown (crashed, timed out). */
export type TxnStatus = 'committed' | 'aborted' | 'unknown';

/** One transaction. */
export interface Transaction {
  /** Index in the history's `transactions`. */
  readonly id: number;
  readonly process: ProcessId;
  /** Reads and writes in program order. Reads of transactions not committed carry no meaning. */
  readonly ops: readonly TxnOp[];
  readonly status: TxnStatus;
  /** When the client began the transaction. */
  readonly call: number;
  /** When it learned the outcome; `+Infinity` when it never did. */
  readonly return: number;
  /** The database's commit timestamp, when it exposes one (Spanner, Percolator). */
  readonly commitTs?: number;
  /** 1-based line in the file it came from. */
  readonly line?: number;
}

/** A history of transactions. */
export interface TransactionHistory {
  readonly transactions: readonly Transaction[];
  readonly file?: string;
}

/** A transaction as given to {@link makeTransactionHistory}: ids are assigned. */
export interface TransactionInit {
  readonly process: ProcessId;
  readonly ops: readonly TxnOp[];
  readonly status: TxnStatus;
  readonly call: number;
  /** Omit for a transaction that never returned. */
  readonly return?: number;
  readonly commitTs?: number;
  readonly line?: number;
}

/** Builds a transaction history, assigning ids. Throws `makeTransactionHistory/...` on bad times. */
export function makeTransactionHistory(txns: readonly TransactionInit[], file?: string): TransactionHistory {
  const transactions = txns.map((t, id): Transaction => {
    const ret = t.return ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(t.call) || !(ret >= t.call)) {
      throw new HistoryCheckerError('makeTransactionHistory/bad-time', `transaction ${id} has call ${t.call} and return ${ret}`);
    }
    return { ...t, id, return: ret };
  });
  return file === undefined ? { transactions } : { transactions, file };
}

/** Renders a transaction's operations Elle-style: `[r x 1] [w y 2]`. */
export function describeOps(ops: readonly TxnOp[]): string {
  return ops.map((op) => `[${op.f} ${String(op.key)} ${op.value === null ? 'nil' : JSON.stringify(op.value)}]`).join(' ');
}
