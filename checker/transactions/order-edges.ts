/**
 * Order edges between transactions: process order (one client's transactions in sequence),
 * real-time order (one finished before the other began), commit-timestamp order. Real-time
 * precedence is quadratic as a relation; only its transitive reduction is kept, computed in one
 * sweep over calls and returns (Elle's approach): a completed transaction stays in a buffer
 * until a transaction that began after it completes, since that one then stands for it.
 */
import type { Transaction } from './transaction.ts';

/**
 * Pairs (a, b) with a.return < b.call, transitively reduced, among `txns`. Transactions that
 * never returned precede nothing.
 */
export function realtimePairs(txns: readonly Transaction[], emit: (a: Transaction, b: Transaction) => void): void {
  const m = txns.length;
  if (m < 2) return;
  // events: 2k = call of txns[k], 2k+1 = return; calls sort before returns at the same time
  // (a.return < b.call is strict)
  const events: number[] = [];
  for (let k = 0; k < m; k++) {
    events.push(2 * k);
    if (Number.isFinite(txns[k]!.return)) events.push(2 * k + 1);
  }
  const time = (ev: number): number => (ev & 1 ? txns[ev >> 1]!.return : txns[ev >> 1]!.call);
  let sorted = true;
  for (let i = 1; i < events.length && sorted; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    const d = time(a) - time(b);
    if (d > 0 || (d === 0 && (a & 1) > (b & 1))) sorted = false;
  }
  if (!sorted) events.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b);
  const buffer = new Set<number>();
  const preds: (number[] | undefined)[] = new Array(m);
  for (const ev of events) {
    const k = ev >> 1;
    if ((ev & 1) === 0) {
      if (buffer.size === 0) continue;
      const list = [...buffer];
      preds[k] = list;
      for (const a of list) emit(txns[a]!, txns[k]!);
    } else {
      const list = preds[k];
      if (list) for (const a of list) buffer.delete(a);
      preds[k] = undefined;
      buffer.add(k);
    }
  }
}

/** Consecutive transactions of each process, in call order. */
export function processPairs(txns: readonly Transaction[], emit: (a: Transaction, b: Transaction) => void): void {
  const last = new Map<Transaction['process'], Transaction>();
  const byCall = isSortedBy(txns, (t) => t.call) ? txns : [...txns].sort((a, b) => a.call - b.call || a.id - b.id);
  for (const t of byCall) {
    const prev = last.get(t.process);
    if (prev) emit(prev, t);
    last.set(t.process, t);
  }
}

/** Consecutive commit timestamps (strictly increasing) among transactions that have one. */
export function timestampPairs(txns: readonly Transaction[], emit: (a: Transaction, b: Transaction) => void): void {
  const stamped = txns.filter((t) => t.commitTs !== undefined).sort((a, b) => a.commitTs! - b.commitTs! || a.id - b.id);
  // a transaction precedes every one with a larger timestamp: link each to the next larger group
  let groupStart = 0;
  for (let i = 1; i <= stamped.length; i++) {
    if (i < stamped.length && stamped[i]!.commitTs === stamped[groupStart]!.commitTs) continue;
    if (i < stamped.length) {
      let next = i;
      while (next < stamped.length && stamped[next]!.commitTs === stamped[i]!.commitTs) next++;
      for (let a = groupStart; a < i; a++) for (let b = i; b < next; b++) emit(stamped[a]!, stamped[b]!);
    }
    groupStart = i;
  }
}

function isSortedBy<T>(xs: readonly T[], f: (x: T) => number): boolean {
  for (let i = 1; i < xs.length; i++) if (f(xs[i - 1]!) > f(xs[i]!)) return false;
  return true;
}
