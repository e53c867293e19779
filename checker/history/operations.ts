/**
 * The operation vocabularies of the built-in sequential models, shared by the readers (which
 * produce them) and the models (which interpret them). Plain data, JSON-friendly.
 */

import type { KvInput, KvOutput, RegisterInput, RegisterOutput, RegisterValue } from '../../specs/core/models/operations.ts';
export type { KvInput, KvOutput, RegisterInput, RegisterOutput, RegisterValue };

/** Result of decoding one raw operation: the typed value or a precise reason it is invalid. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });
const isRegisterValue = (v: unknown): v is RegisterValue =>
  (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string';
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Decodes a raw `{f, value?, from?, to?}` object (the JSON history format) as a register input. */
export function decodeRegisterInput(raw: unknown): Decoded<RegisterInput> {
  if (typeof raw !== 'object' || raw === null) return fail(`input must be an object, got ${show(raw)}`);
  const r = raw as Record<string, unknown>;
  switch (r.f) {
    case 'read':
      return { ok: true, value: { f: 'read' } };
    case 'write':
      return isRegisterValue(r.value)
        ? { ok: true, value: { f: 'write', value: r.value } }
        : fail(`write needs a number or string "value", got ${show(r.value)}`);
    case 'cas':
      return isRegisterValue(r.from) && isRegisterValue(r.to)
        ? { ok: true, value: { f: 'cas', from: r.from, to: r.to } }
        : fail(`cas needs number or string "from" and "to", got ${show(r.from)} and ${show(r.to)}`);
    default:
      return fail(`register operations are read, write and cas; got f = ${show(r.f)}`);
  }
}

/** Checks a known register output against its input's kind. */
export function decodeRegisterOutput(input: RegisterInput, raw: unknown): Decoded<RegisterOutput> {
  switch (input.f) {
    case 'read':
      return raw === null || isRegisterValue(raw)
        ? { ok: true, value: raw }
        : fail(`a read returns a number, a string or null, got ${show(raw)}`);
    case 'write':
      return raw === null ? { ok: true, value: null } : fail(`a write returns null, got ${show(raw)}`);
    case 'cas':
      return typeof raw === 'boolean' ? { ok: true, value: raw } : fail(`a cas returns true or false, got ${show(raw)}`);
  }
}

/** Decodes a raw `{f, key, value?, from?, to?}` object as a kv input. */
export function decodeKvInput(raw: unknown): Decoded<KvInput> {
  if (typeof raw !== 'object' || raw === null) return fail(`input must be an object, got ${show(raw)}`);
  const r = raw as Record<string, unknown>;
  if (typeof r.key !== 'string') return fail(`kv operations need a string "key", got ${show(r.key)}`);
  const key = r.key;
  switch (r.f) {
    case 'get':
      return { ok: true, value: { f: 'get', key } };
    case 'put':
    case 'append':
      return typeof r.value === 'string'
        ? { ok: true, value: { f: r.f, key, value: r.value } }
        : fail(`${r.f} needs a string "value", got ${show(r.value)}`);
    case 'cas':
      return typeof r.from === 'string' && typeof r.to === 'string'
        ? { ok: true, value: { f: 'cas', key, from: r.from, to: r.to } }
        : fail(`cas needs string "from" and "to", got ${show(r.from)} and ${show(r.to)}`);
    default:
      return fail(`kv operations are get, put, append and cas; got f = ${show(r.f)}`);
  }
}

/** Checks a known kv output against its input's kind. */
export function decodeKvOutput(input: KvInput, raw: unknown): Decoded<KvOutput> {
  switch (input.f) {
    case 'get':
      return typeof raw === 'string' ? { ok: true, value: raw } : fail(`a get returns a string, got ${show(raw)}`);
    case 'put':
    case 'append':
      return raw === null ? { ok: true, value: null } : fail(`${input.f} returns null, got ${show(raw)}`);
    case 'cas':
      return typeof raw === 'boolean' ? { ok: true, value: raw } : fail(`a cas returns true or false, got ${show(raw)}`);
  }
}

/** A pair of decoders that turn raw JSON inputs and outputs into a model's vocabulary. */
export interface OperationDecoder<I, O> {
  input(raw: unknown): Decoded<I>;
  output(input: I, raw: unknown): Decoded<O>;
}

/** Decoder for register histories. */
export const registerDecoder: OperationDecoder<RegisterInput, RegisterOutput> = {
  input: decodeRegisterInput,
  output: decodeRegisterOutput,
};

/** Decoder for kv histories. */
export const kvDecoder: OperationDecoder<KvInput, KvOutput> = {
  input: decodeKvInput,
  output: decodeKvOutput,
};
