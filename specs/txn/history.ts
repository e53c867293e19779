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

/** The transactions of a client history, in invocation order. */
export function transactionsOf(history: readonly HistoryEntry[]): TransactionRecord[] {
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
  return records.map((r): TransactionRecord => {
    const status = r.result?.status ?? 'unknown';
    const ops = microOps(r.client, r.id, r.op, r.result);
    if (status === 'unknown' || r.return === undefined) return { process: r.client, call: r.call, status: 'unknown', ops };
    const base = { process: r.client, call: r.call, return: r.return, status, ops };
    return status === 'committed' ? { ...base, commitTs: r.result!.commitTs } : base;
  });
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
