/**
 * Generated list-append histories for the transaction checker's benchmark and tests: a
 * simulated database that runs each transaction atomically at the moment it completes (so the
 * history is strictly serializable), with concurrent clients, keys retired after a number of
 * appends (Elle's generator does the same, to keep reads short), some aborted transactions and
 * some of unknown outcome. Optionally with planted anomalies on fresh keys:
 * - G-single (read skew through three transactions): A appends p and q; B reads p (sees A)
 *   and appends r; C reads r (sees B) and reads q without A's append;
 * - G2 (write skew): A and B both read p and q empty; A appends to p, B to q.
 * The planted transactions overlap in time with each other, so the cycles need no real-time
 * edges. Everything comes from one seed.
 */
import { makeTransactionHistory, type TransactionHistory, type TransactionInit, type TxnOp, type TxnValue } from '../checker/transactions/transaction.ts';

/** Options of {@link generateListAppend}. */
export interface ListAppendOptions {
  /** Transactions (Jepsen operations: one invoke and one completion each). */
  readonly transactions: number;
  readonly seed?: number;
  /** Concurrent clients (default 10). */
  readonly concurrency?: number;
  /** Keys in use at once (default 32). */
  readonly activeKeys?: number;
  /** Appends to one key before it is retired (default 32). */
  readonly appendsPerKey?: number;
  /** Planted G-single and G2 cycles (default 0 each). */
  readonly gSingle?: number;
  readonly g2?: number;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates a list-append history (see the module comment). */
export function generateListAppend(options: ListAppendOptions): TransactionHistory {
  const random = rng(options.seed ?? 1);
  const concurrency = options.concurrency ?? 10;
  const activeKeys = options.activeKeys ?? 32;
  const appendsPerKey = options.appendsPerKey ?? 32;
  const planted = (options.gSingle ?? 0) + (options.g2 ?? 0);
  const total = options.transactions;
  const plain = total - 3 * (options.gSingle ?? 0) - 2 * (options.g2 ?? 0);

  const state = new Map<number, TxnValue[]>();
  const keys: number[] = [];
  let nextKey = 0;
  for (let i = 0; i < activeKeys; i++) keys.push(nextKey++);
  const writes = new Map<number, number>();
  let nextValue = 1;
  const txns: TransactionInit[] = [];
  let time = 0;
  interface Pending { slot: number; ops: TxnOp[]; call: number; fate: 'commit' | 'abort' | 'unknown' }
  const pending: (Pending | undefined)[] = new Array(concurrency);
  const out: (TransactionInit & { order: number })[] = [];
  let generated = 0;
  let plantEvery = planted > 0 ? Math.max(1, Math.floor(plain / (planted + 1))) : Infinity;
  let sincePlant = 0;
  let plantedG1 = 0;
  let plantedG2 = 0;

  const execute = (ops: TxnOp[], apply: boolean): TxnOp[] =>
    ops.map((op) => {
      const list = state.get(op.key as number) ?? [];
      if (op.f === 'r') return { f: 'r', key: op.key, value: list.slice() };
      if (apply) state.set(op.key as number, [...list, op.value as TxnValue]);
      return op;
    });

  const plant = (): void => {
    const k = (): number => nextKey++;
    const t0 = time;
    const span = { call: t0, return: t0 + 3 };
    time += 4;
    if (plantedG1 < (options.gSingle ?? 0) && (plantedG2 >= (options.g2 ?? 0) || plantedG1 <= plantedG2)) {
      plantedG1++;
      const [p, q, r] = [k(), k(), k()];
      out.push({ process: 1000 + out.length, ops: [{ f: 'append', key: p, value: 1 }, { f: 'append', key: q, value: 1 }], status: 'committed', ...span, order: out.length });
      out.push({ process: 1000 + out.length, ops: [{ f: 'r', key: p, value: [1] }, { f: 'append', key: r, value: 1 }], status: 'committed', ...span, order: out.length });
      out.push({ process: 1000 + out.length, ops: [{ f: 'r', key: r, value: [1] }, { f: 'r', key: q, value: [] }], status: 'committed', ...span, order: out.length });
    } else if (plantedG2 < (options.g2 ?? 0)) {
      plantedG2++;
      const [p, q] = [k(), k()];
      const reads: TxnOp[] = [{ f: 'r', key: p, value: [] }, { f: 'r', key: q, value: [] }];
      out.push({ process: 1000 + out.length, ops: [...reads, { f: 'append', key: p, value: 1 }], status: 'committed', ...span, order: out.length });
      out.push({ process: 1000 + out.length, ops: [...reads, { f: 'append', key: q, value: 1 }], status: 'committed', ...span, order: out.length });
    }
  };

  while (generated < plain || pending.some((p) => p)) {
    const slot = Math.floor(random() * concurrency);
    const p = pending[slot];
    time++;
    if (!p) {
      if (generated >= plain) continue;
      generated++;
      const ops: TxnOp[] = [];
      const length = 1 + Math.floor(random() * 4);
      for (let i = 0; i < length; i++) {
        // keys early in the pool are chosen more often (an exponential-ish distribution)
        const ki = Math.min(activeKeys - 1, Math.floor(-Math.log(1 - random()) * activeKeys * 0.3));
        const key = keys[ki]!;
        if (random() < 0.5) ops.push({ f: 'r', key, value: null });
        else {
          const n = writes.get(key) ?? 0;
          if (n >= appendsPerKey) {
            keys[ki] = nextKey++;
            i--;
            continue;
          }
          writes.set(key, n + 1);
          ops.push({ f: 'append', key, value: nextValue++ });
        }
      }
      const roll = random();
      pending[slot] = { slot, ops, call: time, fate: roll < 0.05 ? 'abort' : roll < 0.06 ? 'unknown' : 'commit' };
      if (++sincePlant >= plantEvery && plantedG1 + plantedG2 < planted) {
        sincePlant = 0;
        plant();
      }
      continue;
    }
    pending[slot] = undefined;
    if (p.fate === 'commit') {
      out.push({ process: slot, ops: execute(p.ops, true), status: 'committed', call: p.call, return: time, order: out.length });
    } else if (p.fate === 'abort') {
      out.push({ process: slot, ops: p.ops, status: 'aborted', call: p.call, return: time, order: out.length });
    } else {
      // unknown outcome: it may have happened; the client never learns, and moves on as a new process (Jepsen's convention)
      execute(p.ops, random() < 0.5);
      out.push({ process: slot + concurrency * (1 + out.length), ops: p.ops.map((op) => (op.f === 'r' ? { ...op, value: null } : op)), status: 'unknown', call: p.call, order: out.length });
    }
  }
  while (plantedG1 + plantedG2 < planted) plant();
  plantEvery = 0;
  out.sort((a, b) => a.call - b.call || a.order - b.order);
  for (const t of out) {
    const { order: _order, ...init } = t;
    txns.push(init);
  }
  return makeTransactionHistory(txns);
}

/** Renders a transaction history as Jepsen EDN (invocations and completions in time order). */
export function toEdn(history: TransactionHistory): string {
  const events: { time: number; line: string }[] = [];
  const mop = (op: TxnOp, completed: boolean): string => {
    const key = typeof op.key === 'number' ? String(op.key) : `:${op.key}`;
    const f = op.f === 'r' ? 'r' : op.f;
    if (op.f !== 'r') return `[:${f} ${key} ${JSON.stringify(op.value)}]`;
    return `[:r ${key} ${completed && op.value !== null ? `[${(op.value as TxnValue[]).join(' ')}]` : 'nil'}]`;
  };
  for (const t of history.transactions) {
    const invoke = t.ops.map((op) => mop(op, false)).join(' ');
    events.push({ time: t.call * 2, line: `{:type :invoke, :f :txn, :value [${invoke}], :process ${String(t.process)}}` });
    if (Number.isFinite(t.return)) {
      const type = t.status === 'committed' ? 'ok' : 'fail';
      events.push({ time: t.return * 2 + 1, line: `{:type :${type}, :f :txn, :value [${t.ops.map((op) => mop(op, t.status === 'committed')).join(' ')}], :process ${String(t.process)}}` });
    }
  }
  events.sort((a, b) => a.time - b.time);
  return `${events.map((e) => e.line).join('\n')}\n`;
}
