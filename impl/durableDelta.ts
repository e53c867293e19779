/**
 * The change between two durable views of a node's state, written as one log record instead of
 * the whole projection: a log that grew by a batch costs the batch, not the log. Recovery folds
 * the change records that follow the last whole projection onto it, in order.
 *
 * Format (the packed codec's primitives): varint n, the number of fields changed, then n times:
 * varint field (its index in the role's state struct), u8 how —
 * `0`: the field's whole value follows, packed with its schema;
 * `1` (a `t.array` field): varint kept (the leading items kept from the value before), varint
 * added, then the added items — a log that was cut back and appended to is a `1` too.
 * Items are compared by identity (states are immutable: a log that grew shares its old entries);
 * a field that is another object of the same bytes counts as unchanged.
 */
import { DecodeError, Reader, Writer, arrayItemSchema, structFieldSchemas, type Schema } from '../specs/core/index.ts';

interface Field {
  readonly name: string;
  readonly index: number;
  readonly schema: Schema<any>;
  /** The item schema of a `t.array` field. */
  readonly item: Schema<any> | undefined;
}

const WHOLE = 0;
const ARRAY = 1;

/** Encodes and applies changes of the `durable` fields of states of `schema` (a `t.struct`). */
export class DurableDelta {
  readonly #fields: Field[];
  readonly #byIndex: (Field | undefined)[];
  readonly #a = new Writer(64);
  readonly #b = new Writer(64);

  /** Null when `schema` is not a struct (the caller saves whole projections). */
  static of(schema: Schema<unknown>, durable: readonly string[]): DurableDelta | null {
    const fields = structFieldSchemas(schema);
    if (!fields) return null;
    return new DurableDelta(fields, durable);
  }

  private constructor(fields: readonly (readonly [string, Schema<any>])[], durable: readonly string[]) {
    this.#fields = [];
    this.#byIndex = [];
    fields.forEach(([name, schema], index) => {
      if (!durable.includes(name)) return;
      const f: Field = { name, index, schema, item: arrayItemSchema(schema) };
      this.#fields.push(f);
      this.#byIndex[index] = f;
    });
  }

  /** Writes the change from `saved` to `next` into `w`; returns how many fields changed (0: nothing to save, nothing written). */
  encode(w: Writer, saved: unknown, next: unknown): number {
    const a = saved as Record<string, unknown>;
    const b = next as Record<string, unknown>;
    let changed: Field[] | null = null;
    for (const f of this.#fields) {
      if (a[f.name] !== b[f.name] && !this.#same(f, a[f.name], b[f.name])) (changed ??= []).push(f);
    }
    if (changed === null) return 0;
    w.varint(changed.length);
    for (const f of changed) {
      const before = a[f.name];
      const after = b[f.name];
      w.varint(f.index);
      if (f.item && Array.isArray(before) && Array.isArray(after)) {
        const shared = Math.min(before.length, after.length);
        let kept = 0;
        while (kept < shared && after[kept] === before[kept]) kept++;
        w.u8(ARRAY);
        w.varint(kept);
        w.varint(after.length - kept);
        for (let i = kept; i < after.length; i++) f.item.encode(w, after[i], f.name);
      } else {
        w.u8(WHOLE);
        f.schema.encode(w, after, f.name);
      }
    }
    return changed.length;
  }

  /** `base` with the change read from `r` applied (throws a `DecodeError` on a change that does not fit it). */
  apply<S>(base: S, r: Reader): S {
    const out = { ...(base as Record<string, unknown>) };
    const n = r.varint();
    for (let k = 0; k < n; k++) {
      const at = r.pos;
      const f = this.#byIndex[r.varint()];
      if (!f) throw new DecodeError('a change of a field that is not durable', at);
      const how = r.u8();
      if (how === WHOLE) out[f.name] = f.schema.decode(r);
      else if (how === ARRAY && f.item) {
        const before = out[f.name] as readonly unknown[];
        const kept = r.varint();
        if (kept > before.length) throw new DecodeError(`a change keeps ${kept} items of ${f.name}, which has ${before.length}`, at);
        const added = r.length();
        const items = before.slice(0, kept);
        for (let i = 0; i < added; i++) items.push(f.item.decode(r));
        out[f.name] = items;
      } else throw new DecodeError(`unknown change ${how} of ${f.name}`, at);
    }
    return out as S;
  }

  /** Whether two values of field `f` are the same: arrays of the very same items, or the same bytes. */
  #same(f: Field, x: unknown, y: unknown): boolean {
    if (f.item) {
      if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
      for (let i = x.length - 1; i >= 0; i--) if (x[i] !== y[i]) return false;
      return true;
    }
    this.#a.reset();
    this.#b.reset();
    f.schema.encode(this.#a, x, f.name);
    f.schema.encode(this.#b, y, f.name);
    if (this.#a.pos !== this.#b.pos) return false;
    for (let i = 0; i < this.#a.pos; i++) if (this.#a.buf[i] !== this.#b.buf[i]) return false;
    return true;
  }
}
