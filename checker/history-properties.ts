/**
 * History properties as checker properties: a spec with clients gets its client history (the
 * invocations and returns of the world, in order) checked on every explored state.
 *
 * Incremental where it is sound to be: adding an invocation can never make a history violate
 * linearizability or strict serializability (a pending operation may always be linearized
 * later or not at all), so only states whose history just gained a return are checked; and a
 * verdict is remembered per history, since many states share one history.
 */
import { invariant, type HistoryEntry, type Property, type TransactionalProperty, type WorldReader } from '../specs/core/index.ts';
import { checkAtomicCommit, type CommitRun } from './atomic-commit/index.ts';
import type { History, Operation } from './history/index.ts';
import { checkLinearizability, type SequentialModel } from './linearizability/index.ts';
import { checkTransactions, makeTransactionHistory, type ConsistencyModel, type TransactionInit, type TxnOp } from './transactions/index.ts';

/** The client history of a world as operations: call and return times are positions in it. */
export function operationsOf<I, O>(
  entries: readonly HistoryEntry[],
  mapOp: (op: unknown) => I = (x) => x as I,
  mapResult: (r: unknown) => O = (x) => x as O,
  keep: (op: unknown, result: unknown) => boolean = () => true,
): History<I, O> {
  const open = new Map<string, { process: number; op: unknown; call: number }>();
  const operations: Operation<I, O>[] = [];
  entries.forEach((e, t) => {
    const key = `${e.client}:${e.id}`;
    if (e.kind === 'invoke') {
      open.set(key, { process: e.client, op: e.op, call: t });
    } else {
      const o = open.get(key);
      if (!o) return;
      open.delete(key);
      if (!keep(o.op, e.result)) return;
      // A result the spec maps to undefined is indeterminate (Jepsen's :info): the operation may
      // take effect at any time after its call, even after this answer, as a pending one may.
      const output = mapResult(e.result);
      operations.push({ id: operations.length, process: o.process, input: mapOp(o.op), output, call: o.call, return: output === undefined ? Number.POSITIVE_INFINITY : t });
    }
  });
  // Operations still pending: their effect may or may not have happened.
  for (const o of open.values()) {
    if (keep(o.op, undefined)) operations.push({ id: operations.length, process: o.process, input: mapOp(o.op), output: undefined, call: o.call, return: Number.POSITIVE_INFINITY });
  }
  return { operations };
}

/** A bounded memo of verdicts by history. */
function memo<T>(limit = 100_000): (key: string, compute: () => T) => T {
  const map = new Map<string, T>();
  return (key, compute) => {
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (map.size >= limit) map.delete(map.keys().next().value!);
    map.set(key, value);
    return value;
  };
}

/** Whether the last entry of the history is a return (the only time a verdict can change). */
function justReturned(w: WorldReader): boolean {
  const h = w.history();
  return h.length > 0 && h[h.length - 1]!.kind === 'return';
}

/**
 * The client history is linearizable with respect to `model` (Wing–Gong–Lowe with
 * memoization; P-compositional when the model partitions). `mapOp` / `mapResult` translate the
 * spec's op and result values into the model's input and output.
 */
export function linearizable<S, I, O>(
  model: SequentialModel<S, I, O>,
  options: { name?: string; mapOp?: (op: unknown) => I; mapResult?: (result: unknown) => O; keep?: (op: unknown, result: unknown) => boolean } = {},
): Property {
  const verdict = memo<boolean>();
  return invariant(options.name ?? `linearizable (${model.name})`, (w) => {
    if (!justReturned(w)) return true;
    const h = w.history();
    return verdict(JSON.stringify(h), () => checkLinearizability(operationsOf(h, options.mapOp, options.mapResult, options.keep), model).result !== 'not-linearizable');
  });
}

/** How a spec's transactions look to the transaction checker. */
export interface TransactionView {
  /** The reads and writes of a completed transaction, from its op and result. */
  ops(op: unknown, result: unknown): readonly TxnOp[];
  /** committed, aborted, or unknown. */
  status(result: unknown): 'committed' | 'aborted' | 'unknown';
  /** The commit timestamp, when the protocol exposes one (for external consistency). */
  commitTs?(result: unknown): number | undefined;
}

function transactional(model: ConsistencyModel, view: TransactionView, name: string): Property {
  const verdict = memo<boolean>();
  return invariant(name, (w) => {
    if (!justReturned(w)) return true;
    const h = w.history();
    return verdict(JSON.stringify(h), () => {
      const calls = new Map<string, { process: number; op: unknown; call: number }>();
      const txns: TransactionInit[] = [];
      h.forEach((e, t) => {
        const key = `${e.client}:${e.id}`;
        if (e.kind === 'invoke') calls.set(key, { process: e.client, op: e.op, call: t });
        else {
          const c = calls.get(key);
          if (!c) return;
          calls.delete(key);
          const ts = view.commitTs?.(e.result);
          txns.push({ process: c.process, ops: view.ops(c.op, e.result), status: view.status(e.result), call: c.call, return: t, ...(ts === undefined ? {} : { commitTs: ts }) });
        }
      });
      // only `valid` is needed: search just what the model forbids
      return checkTransactions(makeTransactionHistory(txns), { model, exhaustive: false }).valid;
    });
  });
}

/**
 * A spec's declarative {@link TransactionalProperty} as a checker property: the spec turns the
 * history into transactions, and the same `checkTransactions` that `pacta txcheck` runs decides
 * the isolation level. Checked only when the history just gained a return (an invocation adds a
 * transaction of unknown outcome, which no other transaction has read yet); verdicts are kept
 * per history.
 */
export function transactionalProperty(p: TransactionalProperty): Property {
  const verdict = memo<boolean>();
  return invariant(p.name, (w) => {
    if (!justReturned(w)) return true;
    const h = w.history();
    return verdict(JSON.stringify(h), () => checkTransactions(makeTransactionHistory(p.transactions(h)), { model: p.model, exhaustive: false }).valid);
  });
}

/** The committed transactions of the client history are strictly serializable (Elle's anomalies with real-time edges). */
export function strictSerializable(view: TransactionView, name = 'strict serializable'): Property {
  return transactional('strict-serializable', view, name);
}

/** Serializable (no real-time order required). */
export function serializable(view: TransactionView, name = 'serializable'): Property {
  return transactional('serializable', view, name);
}

/** External consistency: strict serializability plus commit-timestamp order (Spanner). */
export function externallyConsistent(view: TransactionView, name = 'externally consistent'): Property {
  return transactional('external-consistency', view, name);
}

/**
 * Atomic commit on model states: agreement (no participant commits while another aborts)
 * and validity (commit only if every participant voted yes), from a projection of the world.
 */
export function atomicCommit(project: (w: WorldReader) => CommitRun, name = 'atomic commit'): Property {
  return invariant(name, (w) => checkAtomicCommit(project(w)).ok);
}
