/**
 * A client history of transactions (invocations and returns of {@link TxnOp}s, as the checker's
 * world or the executor's cluster records them) in the shape the transaction checker reads: the
 * records of a `pacta-transactions` file, which `pacta txcheck` checks.
 *
 * Each step becomes micro-operations: `r k` reads k and sees the version's tag (null: never
 * written); `w k` writes the transaction's tag; `add k` is a read then a write of k. A
 * transaction that never returned (its client is still waiting: the coordinator crashed, or the
 * run ended) is `unknown`, with its writes (their tags are known from the request) and its reads
 * unknown (nil); the checker counts it as committed when another transaction read its writes.
 * The same records come from a history recorded on a running cluster ({@link transactionsOfOperations}).
 */
import type { HistoryEntry, TransactionMicroOp, TransactionRecord } from '../core/index.ts';
import { tagOf, type TxnOp, type TxnResult, type TxnValue } from './clients.ts';

/** The micro-operations of transaction `op` of client `client`, request `id`, given its result (undefined: unknown). */
export function microOps(client: number, id: number, op: TxnOp, result: TxnResult | undefined): TransactionMicroOp[] {
  const mine = tagOf({ client, id });
  const reads = result && result.status === 'committed' ? result.reads : undefined;
  const out: TransactionMicroOp[] = [];
  let r = 0;
  for (const s of op.steps) {
    if (s.f !== 'w') {
      const v: TxnValue | null | undefined = reads?.[r++];
      out.push({ f: 'r', key: s.key, value: v ? tagOf(v) : null });
    }
    if (s.f !== 'r') out.push({ f: 'w', key: s.key, value: mine });
  }
  return out;
}

/** Which transactions become records, and which records carry a commit timestamp. */
export interface RecordOptions {
  /** Keep only the transactions this accepts (default: all). `result` is undefined for one that never returned. */
  keep?(op: TxnOp, result: TxnResult | undefined): boolean;
  /**
   * Whether a committed transaction's record carries its commit timestamp (default: every
   * committed one). The external-consistency model orders the stamped ones by it, so a protocol
   * stamps only the transactions whose timestamps it promises to order by real time.
   */
  stamp?(op: TxnOp, result: TxnResult): boolean;
}

/** The record of one transaction, given its call and return (undefined: never returned). */
function record(client: number, id: number, op: TxnOp, call: number, ret: number | undefined, result: TxnResult | undefined, options: RecordOptions): TransactionRecord {
  const status = result?.status ?? 'unknown';
  const ops = microOps(client, id, op, result);
  if (status === 'unknown' || ret === undefined) return { process: client, call, status: 'unknown', ops };
  const base = { process: client, call, return: ret, status, ops };
  return status === 'committed' && (options.stamp?.(op, result!) ?? true) ? { ...base, commitTs: result!.commitTs } : base;
}

/** The transactions of a client history, in invocation order; call and return times are positions in it. */
export function transactionsOf(history: readonly HistoryEntry[], options: RecordOptions = {}): TransactionRecord[] {
  const records: { client: number; id: number; op: TxnOp; call: number; result?: TxnResult; return?: number }[] = [];
  const open = new Map<string, number>();
  history.forEach((e, i) => {
    const key = `${e.client}:${e.id}`;
    if (e.kind === 'invoke') {
      open.set(key, records.length);
      records.push({ client: e.client, id: e.id, op: e.op as TxnOp, call: i });
    } else {
      const k = open.get(key);
      if (k === undefined) return;
      open.delete(key);
      records[k]!.result = e.result as TxnResult;
      records[k]!.return = i;
    }
  });
  return records
    .filter((r) => options.keep?.(r.op, r.result) ?? true)
    .map((r) => record(r.client, r.id, r.op, r.call, r.return, r.result, options));
}

/** One operation of a history recorded from a running cluster (impl's `HistoryOperation`, restated: specs do not import impl). */
export interface RecordedOperation {
  /** The client's index among the cluster's clients. */
  readonly process: number;
  readonly input: unknown;
  /** Undefined: the outcome is unknown (the call timed out). */
  readonly output: unknown;
  readonly call: number;
  /** `Infinity` when no reply came. */
  readonly return: number;
}

/**
 * The transactions of a history recorded from a running cluster (`cluster.history().operations`:
 * times in ms), in the order given; a record's process is the client's node id. A version's tag names the client's node id and its request
 * id, which the cluster's clients number 0, 1, 2, ... per client: `client(process)` gives the node
 * id (default: the process number itself; on a cluster, `cluster.layout.clients.role.base + process`).
 */
export function transactionsOfOperations(operations: readonly RecordedOperation[], options: RecordOptions & { client?(process: number): number } = {}): TransactionRecord[] {
  const next = new Map<number, number>();
  const out: TransactionRecord[] = [];
  for (const o of operations) {
    const id = next.get(o.process) ?? 0;
    next.set(o.process, id + 1);
    const op = o.input as TxnOp;
    const result = o.output as TxnResult | undefined;
    if (!(options.keep?.(op, result) ?? true)) continue;
    const client = options.client?.(o.process) ?? o.process;
    out.push(record(client, id, op, o.call, Number.isFinite(o.return) ? o.return : undefined, result, options));
  }
  return out;
}

/** The `pacta-transactions` JSON document of some transactions (`pacta txcheck FILE` reads it). */
export function transactionsDocument(txns: readonly TransactionRecord[]): {
  format: 'pacta-transactions';
  version: 1;
  transactions: unknown[];
} {
  return {
    format: 'pacta-transactions',
    version: 1,
    transactions: txns.map((t) => ({
      process: t.process,
      call: t.call,
      ...(t.return !== undefined ? { return: t.return } : {}),
      status: t.status,
      ...(t.commitTs !== undefined ? { commitTs: t.commitTs } : {}),
      ops: t.ops.map((o) => [o.f, o.key, o.value]),
    })),
  };
}
