/**
 * The operation vocabularies of the built-in sequential models (register, kv): what a history's
 * operations and results are, for the models that interpret them and the readers that produce
 * them. Plain data, JSON-friendly.
 */

/** A value a register holds. `null` is the register's initial "nil". */
export type RegisterValue = number | string;

/** An operation on a compare-and-set register (the etcd histories' object). */
export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: RegisterValue }
  | { readonly f: 'cas'; readonly from: RegisterValue; readonly to: RegisterValue };

/**
 * A register operation's result: a read returns the value read (`null` for nil), a write
 * returns `null`, a cas returns whether it swapped.
 */
export type RegisterOutput = RegisterValue | boolean | null;

/** An operation on a key-value map of strings (Porcupine's kv histories, plus cas). */
export type KvInput =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: string }
  | { readonly f: 'append'; readonly key: string; readonly value: string }
  | { readonly f: 'cas'; readonly key: string; readonly from: string; readonly to: string };

/**
 * A kv operation's result: `get` returns the value (`''` for a missing key, as in Porcupine),
 * `put` and `append` return `null`, `cas` returns whether it swapped.
 */
export type KvOutput = string | boolean | null;
