/**
 * A key-value map of strings (Porcupine's kv model, plus cas), partitioned by key: each key is
 * an independent register, so the model's state is the value of one key (`''` when absent).
 * Use {@link wholeObjectModel} to check the map as one object instead.
 */
import type { KvInput, KvOutput } from './operations.ts';
import { ILLEGAL, type SequentialModel, type StepResult } from '../sequential-model.ts';

/**
 * The value of one key (`''` when absent) with its polynomial hash, kept incrementally: appends
 * in different orders give values of equal length that only a content hash tells apart, and
 * hashing the whole value at every step would cost its length.
 */
export interface KvState {
  readonly value: string;
  readonly hash: number;
}

const BASE = 0x01000193;

/** Polynomial hash of `s`, and BASE^length, both mod 2^32. */
function polyHash(s: string): { hash: number; power: number } {
  let hash = 0;
  let power = 1;
  for (let i = 0; i < s.length; i++) {
    hash = (Math.imul(hash, BASE) + s.charCodeAt(i)) | 0;
    power = Math.imul(power, BASE);
  }
  return { hash, power };
}

const EMPTY: KvState = Object.freeze({ value: '', hash: 0 });
const set = (value: string): KvState => ({ value, hash: polyHash(value).hash });
function append(state: KvState, suffix: string): KvState {
  const h = polyHash(suffix);
  return { value: state.value + suffix, hash: (Math.imul(state.hash, h.power) + h.hash) | 0 };
}

/** get / put / append / cas on string keys and values, partitioned by key. */
export const kvModel: SequentialModel<KvState, KvInput, KvOutput> = {
  name: 'kv',
  init: () => EMPTY,
  step(state, input, output): StepResult<KvState> {
    switch (input.f) {
      case 'get':
        return output === undefined || output === state.value ? { ok: true, next: state } : ILLEGAL;
      case 'put':
        return { ok: true, next: set(input.value) };
      case 'append':
        return { ok: true, next: append(state, input.value) };
      case 'cas': {
        const matches = input.from === state.value;
        if (output !== undefined && output !== matches) return ILLEGAL;
        return { ok: true, next: matches ? set(input.to) : state };
      }
    }
  },
  readOnly: (input, output) => input.f === 'get' || (input.f === 'cas' && output === false),
  equal: (a, b) => a === b || (a.hash === b.hash && a.value === b.value),
  hash: (s) => s.hash,
  partition: (input) => input.key,
  describeOperation(input, output) {
    const q = JSON.stringify;
    const result = output === undefined ? ' -> ?' : '';
    switch (input.f) {
      case 'get':
        return `get(${q(input.key)}) -> ${output === undefined ? '?' : q(output)}`;
      case 'put':
        return `put(${q(input.key)}, ${q(input.value)})${result}`;
      case 'append':
        return `append(${q(input.key)}, ${q(input.value)})${result}`;
      case 'cas':
        return `cas(${q(input.key)}, ${q(input.from)}, ${q(input.to)}) -> ${output === undefined ? '?' : output ? 'ok' : 'fail'}`;
    }
  },
  describeState: (s) => JSON.stringify(s.value),
};
