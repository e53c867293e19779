/**
 * The sequential specification a history is checked against: what one operation does to the
 * object's state when operations run one at a time. Specs declare one with
 * `linearizable(model)` as a property; the checker runs the search (checker/linearizability).
 */

/** The outcome of applying one operation: legal (with the next state) or not. */
export type StepResult<S> = { readonly ok: true; readonly next: S } | { readonly ok: false };

/** A shared "illegal" result, so models need not allocate one per rejected step. */
export const ILLEGAL: StepResult<never> = Object.freeze({ ok: false });

/**
 * A sequential model. States must be immutable values: the checker keeps them and compares
 * them (`equal`, `hash`) to avoid re-exploring a (set of linearized operations, state) pair.
 */
export interface SequentialModel<S, I, O> {
  /** Short name used in messages, e.g. `register`. */
  readonly name: string;
  /** The initial state. */
  init(): S;
  /**
   * Applies `input` in `state`; legal when the model could have produced `output`.
   * `output` is `undefined` when the outcome is unknown (a crashed or timed-out call): accept
   * it and return the state the operation would lead to.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /**
   * True when this operation, with this output, never changes the state: wherever `step`
   * accepts it, `next` equals the state (a read; a cas that returned false). Optional; a
   * correct answer lets the search linearize such an operation as soon as it is legal instead
   * of branching on it, which is sound (moving a legal state-preserving operation earlier never
   * breaks a linearization) and often prunes most of the search. Answer false when unsure.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /** State equality; default: `===` for primitives, structural (JSON) for objects. */
  equal?(a: S, b: S): boolean;
  /** A 32-bit hash consistent with `equal`; default: derived from the value. Cheap is better. */
  hash?(state: S): number;
  /**
   * P-compositionality: when the object is a product of independent parts (a map of keys),
   * the part an operation touches. Each part is checked on its own, which is exponentially
   * cheaper; the history is linearizable iff every part is. `init` and `step` must then
   * describe one part.
   */
  partition?(input: I): string | number;
  /** Human-readable operation, e.g. `cas(1, 2) -> false`; `output` undefined = unknown. */
  describeOperation?(input: I, output: O | undefined): string;
  /** Human-readable state. */
  describeState?(state: S): string;
}

