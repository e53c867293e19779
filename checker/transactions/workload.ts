/** Telling the workload of a history from its operations, and refusing mixed ones. */
import { HistoryFormatError } from '../history/errors.ts';
import { T } from './analysis.ts';
import type { TransactionHistory, TxnOp, Workload } from './transaction.ts';

/** The workload an operation belongs to, or undefined when it fits both (a read of nil). */
function workloadOf(op: TxnOp): Workload | undefined {
  if (op.f === 'append' || (op.f === 'r' && Array.isArray(op.value))) return 'list-append';
  if (op.f === 'w' || (op.f === 'r' && op.value !== null)) return 'rw-register';
  return undefined;
}

/**
 * The history's workload: `given` (or the history's own) when every operation fits it, else
 * the one its operations show; rw-register when nothing tells (reads of nil only). Throws
 * {@link HistoryFormatError} naming the line of an operation that does not fit, or the two
 * lines that disagree.
 */
export function resolveWorkload(history: TransactionHistory, given?: Workload): Workload {
  const file = history.file ?? '<transactions>';
  const expected = given ?? history.workload;
  let seen: { workload: Workload; line: number; what: string } | undefined;
  for (const t of history.transactions) {
    for (const op of t.ops) {
      const w = workloadOf(op);
      if (!w) continue;
      if (seen && seen.workload === w && !expected) continue;
      const what = (): string => (op.f === 'r' ? `a read of ${Array.isArray(op.value) ? 'a list' : 'a single value'} (${T(t.id)}, key ${String(op.key)})` : `[${op.f} ...] (${T(t.id)})`);
      const line = t.line ?? 0;
      if (expected && w !== expected) throw new HistoryFormatError(file, line, `${what()} belongs to the ${w} workload, not ${expected}`);
      if (!seen) seen = { workload: w, line, what: what() };
      else if (seen.workload !== w) {
        throw new HistoryFormatError(file, line, `mixed workloads: ${what()} is ${w}, but ${seen.what}${seen.line ? ` on line ${seen.line}` : ''} is ${seen.workload}`);
      }
    }
  }
  return expected ?? seen?.workload ?? 'rw-register';
}
