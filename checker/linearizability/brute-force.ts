/**
 * A reference linearizability checker by exhaustive enumeration: tries every order of the
 * operations that respects real time (an operation that returned before another was called
 * comes first), with no memo, no partitioning and no reductions. Exponential; for tests that
 * cross-check the fast search on small histories.
 */
import { HistoryCheckerError } from '../history/errors.ts';
import type { History } from '../history/history.ts';
import { resolveModel, type SequentialModel } from './model.ts';

/** Largest history the brute-force checker accepts. */
const MAX_OPERATIONS = 12;

/** True when some real-time-respecting order of all operations is accepted by `model`. */
export function checkLinearizabilityBruteForce<S, I, O>(history: History<I, O>, model: SequentialModel<S, I, O>): boolean {
  const ops = history.operations;
  if (ops.length > MAX_OPERATIONS) {
    throw new HistoryCheckerError(
      'checkLinearizabilityBruteForce/too-large',
      `${ops.length} operations; the brute-force checker is for at most ${MAX_OPERATIONS}`,
    );
  }
  const m = resolveModel(model);
  const placed = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, count: number): boolean => {
    if (count === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      // every operation that returned before this one was called must already be placed
      const ready = ops.every((other, j) => placed[j] || j === i || !(other.return < ops[i]!.call));
      if (!ready) continue;
      const r = m.step(state, ops[i]!.input, ops[i]!.output);
      if (!r.ok) continue;
      placed[i] = true;
      const found = search(r.next, count + 1);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(m.init(), 0);
}
