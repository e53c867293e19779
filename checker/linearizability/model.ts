/**
 * The sequential specification a history is checked against: what one operation does to the
 * object's state when operations run one at a time.
 */

// The model contract lives in specs/core, so specs can declare linearizability properties.
import type { SequentialModel, StepResult } from '../../specs/core/sequential-model.ts';
export { ILLEGAL } from '../../specs/core/sequential-model.ts';
export type { SequentialModel, StepResult } from '../../specs/core/sequential-model.ts';
import { hashString } from '../../specs/core/models/hash.ts';
export { hashString };

/** A model with every optional part filled in (done once per check). */
export interface ResolvedModel<S, I, O> {
  readonly name: string;
  readonly init: () => S;
  readonly step: (state: S, input: I, output: O | undefined) => StepResult<S>;
  readonly readOnly: (input: I, output: O | undefined) => boolean;
  readonly equal: (a: S, b: S) => boolean;
  readonly hash: (state: S) => number;
  readonly partition: ((input: I) => string | number) | undefined;
  readonly describeOperation: (input: I, output: O | undefined) => string;
  readonly describeState: (state: S) => string;
}

/** Default state hash: cheap for primitives, JSON for objects. */
export function defaultHash(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? Math.imul(value | 0, 0x9e3779b1) ^ ((value / 4294967296) | 0) : hashString(String(value));
    case 'string':
      return hashString(value);
    case 'boolean':
      return value ? 0x2545f491 : 0x4f6cdd1d;
    case 'undefined':
      return 0x1b873593;
    case 'bigint':
      return hashString(value.toString());
    default:
      return value === null ? 0x68e31da4 : hashString(JSON.stringify(value));
  }
}

/** Default state equality: identity, else structural equality of the JSON forms. */
export function defaultEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

const describeJson = (v: unknown): string => (v === undefined ? '?' : JSON.stringify(v));

/** Fills in a model's optional parts. */
export function resolveModel<S, I, O>(model: SequentialModel<S, I, O>): ResolvedModel<S, I, O> {
  return {
    name: model.name,
    init: () => model.init(),
    step: model.step.bind(model),
    readOnly: model.readOnly ? model.readOnly.bind(model) : () => false,
    equal: model.equal ? model.equal.bind(model) : defaultEqual,
    hash: model.hash ? model.hash.bind(model) : defaultHash,
    partition: model.partition ? model.partition.bind(model) : undefined,
    describeOperation: model.describeOperation
      ? model.describeOperation.bind(model)
      : (input, output) => `${describeJson(input)} -> ${describeJson(output)}`,
    describeState: model.describeState ? model.describeState.bind(model) : describeJson,
  };
}
