/**
 * A key-value map of strings (Porcupine's kv model, plus cas), partitioned by key: each key is
 * an independent register, so the model's state is the value of one key (`''` when absent).
 * Use {@link wholeObjectModel} to check the map as one object instead.
 */
import type { KvInput, KvOutput } from '../history/operations.ts';
import { ILLEGAL, type SequentialModel, type StepResult } from './model.ts';

/** The value of one key; `''` when the key is absent. */
export type KvState = string;

/** get / put / append / cas on string keys and values, partitioned by key. */
export const kvModel: SequentialModel<KvState, KvInput, KvOutput> = {
  name: 'kv',
  init: () => '',
  step(state, input, output): StepResult<KvState> {
    switch (input.f) {
      case 'get':
        return output === undefined || output === state ? { ok: true, next: state } : ILLEGAL;
      case 'put':
        return { ok: true, next: input.value };
      case 'append':
        return { ok: true, next: state + input.value };
      case 'cas': {
        const matches = input.from === state;
        if (output !== undefined && output !== matches) return ILLEGAL;
        return { ok: true, next: matches ? input.to : state };
      }
    }
  },
  equal: (a, b) => a === b,
  // Length and last character: cheap, and append-only values differ in length anyway.
  hash: (s) => Math.imul(s.length, 0x9e3779b1) ^ (s.length > 0 ? s.charCodeAt(s.length - 1) : 0),
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
  describeState: (s) => JSON.stringify(s),
};
