/**
 * A history of transactions, in one of Elle's two workloads:
 * - **rw-register**: each key is a register; transactions read it (`[r k v]`, `null` for the
 *   initial nil) and overwrite it (`[w k v]`);
 * - **list-append**: each key is a list; transactions append a unique element (`[append k v]`)
 *   and read the whole list (`[r k [v1 v2 ...]]`, `null` or `[]` for the empty list). Because a
 *   read returns every element in order, one read gives a prefix of the key's version order.
 * Each transaction committed, aborted, or ended with an unknown outcome.
 */
import { HistoryCheckerError } from '../history/errors.ts';
import type { ProcessId } from '../history/history.ts';

/** A key of the store. */
export type TxnKey = string | number;
/** A value written to a key (or appended to it). Values must be unique per key, so a read names its writer. */
export type TxnValue = string | number;

/** The two workloads (Elle's names). */
export type Workload = 'rw-register' | 'list-append';
/** The workloads, as accepted by `--workload`. */
export const WORKLOADS: readonly Workload[] = ['list-append', 'rw-register'];

/**
 * One micro-operation: a read of `key` (a register value or `null` for nil; for list-append the
 * list, `null` meaning empty), a write (rw-register) or an append (list-append).
 */
export type TxnOp =
  | { readonly f: 'r'; readonly key: TxnKey; readonly value: TxnValue | readonly TxnValue[] | null }
  | { readonly f: 'w'; readonly key: TxnKey; readonly value: TxnValue }
  | { readonly f: 'append'; readonly key: TxnKey; readonly value: TxnValue };

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
  /** The workload, when the file or the caller says so; otherwise detected from the operations. */
  readonly workload?: Workload;
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

/** Renders a value Elle-style: `nil`, `3`, `"a"`, `[1 2 3]`. */
export function showValue(v: TxnValue | readonly TxnValue[] | null): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return `[${v.map((x) => JSON.stringify(x)).join(' ')}]`;
  return JSON.stringify(v);
}

/** Renders a transaction's operations Elle-style: `[r x 1] [w y 2] [append z 3]`. */
export function describeOps(ops: readonly TxnOp[]): string {
  return ops.map((op) => `[${op.f} ${String(op.key)} ${showValue(op.value)}]`).join(' ');
}
