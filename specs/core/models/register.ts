/**
 * The compare-and-set register of the Jepsen etcd histories, with Porcupine's semantics: the
 * register starts at nil; a read must return the current value; a write always succeeds; a
 * cas succeeds exactly when its `from` equals the current value, so a cas that returned false
 * is legal only if `from` differs from the current value; an unknown result is accepted, and
 * the operation has its effect (a cas swaps if `from` matches).
 */
import type { RegisterInput, RegisterOutput, RegisterValue } from './operations.ts';
import { ILLEGAL, type SequentialModel, type StepResult } from '../sequential-model.ts';
import { hashString } from './hash.ts';

/** The register's state: its value, `null` for nil. */
export type RegisterState = RegisterValue | null;

const show = (v: RegisterState): string => (v === null ? 'nil' : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** The etcd CAS register (read / write / cas, nil initially). */
export const registerModel: SequentialModel<RegisterState, RegisterInput, RegisterOutput> = {
  name: 'register',
  init: () => null,
  step(state, input, output): StepResult<RegisterState> {
    switch (input.f) {
      case 'read':
        return output === undefined || output === state ? { ok: true, next: state } : ILLEGAL;
      case 'write':
        return { ok: true, next: input.value };
      case 'cas': {
        const matches = input.from === state;
        if (output !== undefined && output !== matches) return ILLEGAL;
        return { ok: true, next: matches ? input.to : state };
      }
    }
  },
  // a read never changes the register, nor does a cas that reported failure
  readOnly: (input, output) => input.f === 'read' || (input.f === 'cas' && output === false),
  equal: (a, b) => a === b,
  hash: (s) => (typeof s === 'number' ? Math.imul(s | 0, 0x9e3779b1) : s === null ? 0x68e31da4 : hashString(s)),
  describeOperation(input, output) {
    const result = output === undefined ? '?' : output === null ? (input.f === 'read' ? 'nil' : 'ok') : typeof output === 'boolean' ? (output ? 'ok' : 'fail') : show(output);
    switch (input.f) {
      case 'read':
        return `read() -> ${result}`;
      case 'write':
        return `write(${show(input.value)})${output === undefined ? ' -> ?' : ''}`;
      case 'cas':
        return `cas(${show(input.from)}, ${show(input.to)}) -> ${result}`;
    }
  },
  describeState: show,
};
