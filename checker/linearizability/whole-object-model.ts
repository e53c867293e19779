/**
 * Turns a partitioned model into one over the whole object: the state maps each part's key to
 * that part's state. Checking with it gives the same verdicts as P-compositional checking,
 * exponentially slower; it exists to measure what partitioning buys and to cross-check it.
 */
import { HistoryCheckerError } from '../history/errors.ts';
import { hashString, resolveModel, type SequentialModel, type StepResult } from './model.ts';

/** The whole object's state: part key → part state (parts never touched are absent). */
export type WholeObjectState<S> = ReadonlyMap<string | number, S>;

/** The unpartitioned version of a partitioned `model`. */
export function wholeObjectModel<S, I, O>(model: SequentialModel<S, I, O>): SequentialModel<WholeObjectState<S>, I, O> {
  const part = model.partition;
  if (!part) {
    throw new HistoryCheckerError('wholeObjectModel/not-partitioned', `model ${model.name} has no partition function`);
  }
  const m = resolveModel(model);
  const initial = m.init();
  const get = (state: WholeObjectState<S>, key: string | number): S => (state.has(key) ? state.get(key)! : initial);
  return {
    name: `${model.name} (whole object)`,
    init: () => new Map(),
    step(state, input, output): StepResult<WholeObjectState<S>> {
      const key = part(input);
      const r = m.step(get(state, key), input, output);
      if (!r.ok) return r;
      const next = new Map(state);
      next.set(key, r.next);
      return { ok: true, next };
    },
    equal(a, b) {
      const keys = new Set([...a.keys(), ...b.keys()]);
      for (const k of keys) if (!m.equal(get(a, k), get(b, k))) return false;
      return true;
    },
    hash(state) {
      // order-independent; parts equal to the initial state contribute nothing, as if absent
      let h = 0;
      for (const [k, s] of state) {
        if (m.equal(s, initial)) continue;
        h = (h + (Math.imul(typeof k === 'number' ? k : hashString(k), 0x85ebca6b) ^ m.hash(s))) | 0;
      }
      return h;
    },
    readOnly: m.readOnly,
    describeOperation: m.describeOperation,
    describeState: (state) => `{${[...state].map(([k, s]) => `${JSON.stringify(k)}: ${m.describeState(s)}`).join(', ')}}`,
  };
}
