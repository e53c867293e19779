/**
 * Properties of transaction histories, for specs whose clients send {@link TxnOp}s.
 *
 * The isolation levels are declarative ({@link transactional} from the spec contract): the
 * checker decides them with the transaction checker that `pacta txcheck` runs on recorded
 * histories, on every explored history. The invariants below are checks the transaction
 * checker cannot make from a read/write-register history alone.
 */
import {
  invariant, reachable, transactional,
  type HistoryEntry, type IsolationLevel, type Property, type TransactionalProperty,
} from '../core/index.ts';
import { numberOf, type TxnOp, type TxnResult } from './clients.ts';
import { transactionsOf } from './history.ts';

/** The client history satisfies `level`, decided by the transaction checker. */
export function isolation(level: IsolationLevel, name?: string): TransactionalProperty {
  return transactional(level, transactionsOf, { name: name ?? `${level} (transaction checker)` });
}

/** Snapshot isolation of the client history (G0, G1, G-single, G-nonadjacent, lost update and internal anomalies forbidden). */
export const snapshotIsolation = (name?: string): TransactionalProperty => isolation('snapshot-isolation', name);
/** Serializability of the client history (also G2). */
export const serializability = (name?: string): TransactionalProperty => isolation('serializable', name);
/** Strict serializability: serializable in an order that respects real time. */
export const strictSerializability = (name?: string): TransactionalProperty => isolation('strict-serializable', name);

interface Done {
  client: number;
  id: number;
  op: TxnOp;
  result: TxnResult;
}

/** The transactions of a history that returned, with their results. */
export function completed(history: readonly HistoryEntry[]): Done[] {
  const open = new Map<string, { client: number; id: number; op: TxnOp }>();
  const out: Done[] = [];
  for (const e of history) {
    const key = `${e.client}:${e.id}`;
    if (e.kind === 'invoke') open.set(key, { client: e.client, id: e.id, op: e.op as TxnOp });
    else {
      const o = open.get(key);
      if (!o) continue;
      open.delete(key);
      out.push({ ...o, result: e.result as TxnResult });
    }
  }
  return out;
}

/**
 * The versions read-then-overwritten by committed transactions: per key, per version read
 * (its tag, or `nil`), the transactions that read it and then wrote the key. Two of them is a
 * lost update, which snapshot isolation forbids (first committer wins) but which a
 * read/write-register history shows only as a G2 cycle unless the version order is known.
 */
export function lostUpdates(history: readonly HistoryEntry[]): { key: number; version: string; writers: string[] }[] {
  const seen = new Map<string, string[]>();
  for (const d of completed(history)) {
    if (d.result.status !== 'committed') continue;
    const readOf = new Map<number, string>();
    let r = 0;
    for (const s of d.op.steps) {
      if (s.f !== 'w') {
        const v = d.result.reads[r++] ?? null;
        if (!readOf.has(s.key)) readOf.set(s.key, v === null ? 'nil' : `${v.client}.${v.id}`);
      }
      if (s.f !== 'r' && readOf.has(s.key)) {
        const k = `${s.key}@${readOf.get(s.key)!}`;
        const list = seen.get(k) ?? [];
        list.push(`${d.client}.${d.id}`);
        seen.set(k, list);
      }
    }
  }
  const out: { key: number; version: string; writers: string[] }[] = [];
  for (const [k, writers] of seen) {
    if (writers.length < 2) continue;
    const at = k.indexOf('@');
    out.push({ key: Number(k.slice(0, at)), version: k.slice(at + 1), writers });
  }
  return out;
}

/** No two committed transactions read the same version of a key and both overwrote it. */
export const noLostUpdate: Property = invariant('no lost update: no two committed transactions overwrite the same version they read', (w) => lostUpdates(w.history()).length === 0);

/**
 * The bank's promise: every committed transaction that reads all of `keys` (each with initial
 * number `initial` before any write) sees them sum to `keys.length × initial`.
 */
export function totalConserved(keys: readonly number[], initial: number, name = 'bank: every snapshot of all accounts sums to the initial total'): Property {
  const total = keys.length * initial;
  return invariant(name, (w) => {
    for (const d of completed(w.history())) {
      if (d.result.status !== 'committed') continue;
      const seen = new Map<number, number>();
      let r = 0;
      for (const s of d.op.steps) {
        if (s.f === 'w') continue;
        const v = d.result.reads[r++] ?? null;
        if (!seen.has(s.key)) seen.set(s.key, numberOf(v, initial));
      }
      if (!keys.every((k) => seen.has(k))) continue;
      let sum = 0;
      for (const k of keys) sum += seen.get(k)!;
      if (sum !== total) return false;
    }
    return true;
  });
}

/** Goals: a transaction commits; one commits after reading another's write; one aborts. */
export const txnGoals = {
  committed: reachable('a transaction commits', (w) => completed(w.history()).some((d) => d.result.status === 'committed')),
  readsAWrite: reachable('a committed transaction reads a committed write', (w) =>
    completed(w.history()).some((d) => d.result.status === 'committed' && d.result.reads.some((v) => v !== null))),
  aborted: reachable('a transaction aborts', (w) => completed(w.history()).some((d) => d.result.status === 'aborted')),
};
