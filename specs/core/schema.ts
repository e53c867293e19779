/**
 * State and message schemas. A schema gives a TypeScript type by inference (`Infer<S>`) and
 * compiles to one packed, canonical codec: equal values give equal bytes (sets and maps are
 * sorted and de-duplicated on encode), so the bytes serve as state fingerprints in the checker,
 * frames on the wire in the executor, and the state of trace files. Because the schema knows
 * which fields hold node ids, symmetry reduction permutes them without help from the spec.
 */
import { DecodeError, EncodeError, type Reader, type Writer } from './bytes.ts';

/** A node's id: its index in the world's node list (roles in declaration order). */
export type NodeId = number;

/** JSON as it appears in trace files. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A schema for values of type `T`. Implementations are small classes so the codec's hot loop
 * stays monomorphic per kind and allocates nothing but the decoded values themselves.
 */
export abstract class Schema<T> {
  /** Phantom field carrying the value type for inference. */
  declare readonly __type: T;
  /** Short type description for error messages and docs, e.g. `set<node(rm)>`. */
  abstract readonly name: string;
  /** True when values may contain node ids (so symmetry must rewrite them). */
  abstract readonly hasNodes: boolean;
  abstract encode(w: Writer, v: T, path?: string): void;
  abstract decode(r: Reader): T;
  /** Total order consistent with the encoding's equality; used to sort sets and maps. */
  abstract compare(a: T, b: T): number;
  /** Rewrites every node id `n` to `perm[n]`. Returns `v` itself when nothing can change. */
  abstract mapNodes(v: T, perm: ArrayLike<number>): T;
  abstract toJSON(v: T): Json;
  /** Parses the JSON form, throwing a {@link SchemaError} that names the path on bad input. */
  abstract fromJSON(j: unknown, path: string): T;
  /** Calls `f` on every node id inside `v` (used to validate ids and to find references). */
  abstract forEachNode(v: T, f: (id: NodeId) => void): void;
  /**
   * Tells `sink` of every node id inside `v`, each with a hash of where it occurs: `ctx` refined
   * by the path to it and by the values beside it. For symmetry's tie-breaking, so the hashes
   * must not depend on which symmetric node holds which id: an element of a set or a map, whose
   * place follows the ids, is told apart by its content (`sink.valueHash`), not by its index.
   */
  abstract occurrences(v: T, ctx: number, sink: OccurrenceSink): void;
}

/** What {@link Schema.occurrences} reports to. */
export interface OccurrenceSink {
  /** Node `id` occurs in context `ctx`. */
  occurs(id: NodeId, ctx: number): void;
  /** A hash of `v`'s packed form with every symmetric node id blinded (so, rename-invariant). */
  valueHash(schema: Schema<unknown>, v: unknown): number;
}

/** Mixes `x` into the context hash `ctx` (murmur3's finalizer over both). */
export function mixContext(ctx: number, x: number): number {
  let h = (ctx ^ Math.imul(x, 0x9e3779b1)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The value type of a schema. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A JSON value does not fit a schema, or a schema is defined wrongly. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

function jsonError(path: string, expected: string, got: unknown): SchemaError {
  const shown = JSON.stringify(got);
  return new SchemaError(`${path || 'value'}: expected ${expected}, got ${shown === undefined ? String(got) : shown.slice(0, 60)}`);
}

/** Values without node ids and whose JSON form is the value itself: numbers, strings, booleans. */
abstract class ScalarSchema<T extends Json> extends Schema<T> {
  readonly hasNodes = false;
  mapNodes(v: T): T {
    return v;
  }
  toJSON(v: T): Json {
    return v;
  }
  forEachNode(): void {}
  occurrences(): void {}
}

class U32Schema extends ScalarSchema<number> {
  readonly name = 'u32';
  encode(w: Writer, v: number, path = ''): void {
    if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) throw new EncodeError(`expected u32, got ${v}`, path);
    w.varint(v);
  }
  decode(r: Reader): number {
    return r.varint();
  }
  compare(a: number, b: number): number {
    return a - b;
  }
  fromJSON(j: unknown, path: string): number {
    if (typeof j !== 'number' || !Number.isInteger(j) || j < 0 || j > 0xffffffff) throw jsonError(path, 'u32', j);
    return j;
  }
}

/** Signed 32-bit integers, zigzag-encoded so small magnitudes take one byte. */
class IntSchema extends ScalarSchema<number> {
  readonly name = 'int';
  encode(w: Writer, v: number, path = ''): void {
    if (!(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff)) throw new EncodeError(`expected int, got ${v}`, path);
    w.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  decode(r: Reader): number {
    const z = r.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  compare(a: number, b: number): number {
    return a - b;
  }
  fromJSON(j: unknown, path: string): number {
    if (typeof j !== 'number' || !Number.isInteger(j) || j < -0x80000000 || j > 0x7fffffff) throw jsonError(path, 'int', j);
    return j;
  }
}

class BoolSchema extends ScalarSchema<boolean> {
  readonly name = 'bool';
  encode(w: Writer, v: boolean, path = ''): void {
    if (typeof v !== 'boolean') throw new EncodeError(`expected bool, got ${String(v)}`, path);
    w.u8(v ? 1 : 0);
  }
  decode(r: Reader): boolean {
    const at = r.pos;
    const b = r.u8();
    if (b > 1) throw new DecodeError(`bad bool byte ${b}`, at);
    return b === 1;
  }
  compare(a: boolean, b: boolean): number {
    return (a ? 1 : 0) - (b ? 1 : 0);
  }
  fromJSON(j: unknown, path: string): boolean {
    if (typeof j !== 'boolean') throw jsonError(path, 'bool', j);
    return j;
  }
}

class StringSchema extends ScalarSchema<string> {
  readonly name = 'string';
  encode(w: Writer, v: string, path = ''): void {
    if (typeof v !== 'string') throw new EncodeError(`expected string, got ${String(v)}`, path);
    w.string(v);
  }
  decode(r: Reader): string {
    return r.string();
  }
  compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  fromJSON(j: unknown, path: string): string {
    if (typeof j !== 'string') throw jsonError(path, 'string', j);
    return j;
  }
}

class EnumSchema<E extends string> extends ScalarSchema<E> {
  readonly name: string;
  private readonly index = new Map<string, number>();
  constructor(readonly values: readonly E[]) {
    super();
    if (values.length === 0 || values.length > 255) throw new SchemaError('t.enum: needs 1 to 255 values');
    values.forEach((v, i) => {
      if (this.index.has(v)) throw new SchemaError(`t.enum: duplicate value '${v}'`);
      this.index.set(v, i);
    });
    this.name = `enum(${values.join('|')})`;
  }
  encode(w: Writer, v: E, path = ''): void {
    const i = this.index.get(v);
    if (i === undefined) throw new EncodeError(`expected one of ${this.values.join(', ')}, got ${String(v)}`, path);
    w.u8(i);
  }
  decode(r: Reader): E {
    const at = r.pos;
    const i = r.u8();
    if (i >= this.values.length) throw new DecodeError(`enum index ${i} out of range`, at);
    return this.values[i]!;
  }
  compare(a: E, b: E): number {
    return this.index.get(a)! - this.index.get(b)!;
  }
  fromJSON(j: unknown, path: string): E {
    if (typeof j !== 'string' || !this.index.has(j)) throw jsonError(path, `one of ${this.values.join(', ')}`, j);
    return j as E;
  }
}

/** A node id, optionally tagged with the role it must belong to. */
export class NodeSchema extends Schema<NodeId> {
  readonly name: string;
  readonly hasNodes = true;
  constructor(readonly role: string | undefined) {
    super();
    this.name = role ? `node(${role})` : 'node';
  }
  encode(w: Writer, v: NodeId, path = ''): void {
    if (!(Number.isInteger(v) && v >= 0 && v < 0x10000)) throw new EncodeError(`expected a node id, got ${String(v)}`, path);
    w.varint(v);
  }
  decode(r: Reader): NodeId {
    const at = r.pos;
    const v = r.varint();
    if (v >= 0x10000) throw new DecodeError(`node id ${v} out of range`, at);
    return v;
  }
  compare(a: NodeId, b: NodeId): number {
    return a - b;
  }
  mapNodes(v: NodeId, perm: ArrayLike<number>): NodeId {
    return v < perm.length ? perm[v]! : v;
  }
  toJSON(v: NodeId): Json {
    return v;
  }
  fromJSON(j: unknown, path: string): NodeId {
    if (typeof j !== 'number' || !Number.isInteger(j) || j < 0 || j >= 0x10000) throw jsonError(path, 'a node id', j);
    return j;
  }
  forEachNode(v: NodeId, f: (id: NodeId) => void): void {
    f(v);
  }
  occurrences(v: NodeId, ctx: number, sink: OccurrenceSink): void {
    sink.occurs(v, ctx);
  }
}

class OptionSchema<T> extends Schema<T | null> {
  readonly name: string;
  readonly hasNodes: boolean;
  constructor(readonly inner: Schema<T>) {
    super();
    this.name = `option<${inner.name}>`;
    this.hasNodes = inner.hasNodes;
  }
  encode(w: Writer, v: T | null, path = ''): void {
    if (v === null || v === undefined) {
      w.u8(0);
    } else {
      w.u8(1);
      this.inner.encode(w, v, path);
    }
  }
  decode(r: Reader): T | null {
    const at = r.pos;
    const tag = r.u8();
    if (tag === 0) return null;
    if (tag !== 1) throw new DecodeError(`bad option tag ${tag}`, at);
    return this.inner.decode(r);
  }
  compare(a: T | null, b: T | null): number {
    if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
    if (b === null || b === undefined) return 1;
    return this.inner.compare(a, b);
  }
  mapNodes(v: T | null, perm: ArrayLike<number>): T | null {
    return v === null || v === undefined || !this.hasNodes ? v : this.inner.mapNodes(v, perm);
  }
  toJSON(v: T | null): Json {
    return v === null || v === undefined ? null : this.inner.toJSON(v);
  }
  fromJSON(j: unknown, path: string): T | null {
    return j === null ? null : this.inner.fromJSON(j, path);
  }
  forEachNode(v: T | null, f: (id: NodeId) => void): void {
    if (v !== null && v !== undefined) this.inner.forEachNode(v, f);
  }
  occurrences(v: T | null, ctx: number, sink: OccurrenceSink): void {
    if (v !== null && v !== undefined) this.inner.occurrences(v, ctx, sink);
  }
}

class ArraySchema<T> extends Schema<readonly T[]> {
  readonly name: string;
  readonly hasNodes: boolean;
  constructor(readonly item: Schema<T>) {
    super();
    this.name = `array<${item.name}>`;
    this.hasNodes = item.hasNodes;
  }
  encode(w: Writer, v: readonly T[], path = ''): void {
    if (!Array.isArray(v)) throw new EncodeError(`expected an array, got ${String(v)}`, path);
    w.varint(v.length);
    for (let i = 0; i < v.length; i++) this.item.encode(w, v[i]!, path);
  }
  decode(r: Reader): readonly T[] {
    const n = r.length();
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = this.item.decode(r);
    return out;
  }
  compare(a: readonly T[], b: readonly T[]): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = this.item.compare(a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  mapNodes(v: readonly T[], perm: ArrayLike<number>): readonly T[] {
    if (!this.hasNodes) return v;
    return v.map((x) => this.item.mapNodes(x, perm));
  }
  toJSON(v: readonly T[]): Json {
    return v.map((x) => this.item.toJSON(x));
  }
  fromJSON(j: unknown, path: string): readonly T[] {
    if (!Array.isArray(j)) throw jsonError(path, 'an array', j);
    return j.map((x, i) => this.item.fromJSON(x, `${path}[${i}]`));
  }
  forEachNode(v: readonly T[], f: (id: NodeId) => void): void {
    if (this.hasNodes) for (const x of v) this.item.forEachNode(x, f);
  }
  occurrences(v: readonly T[], ctx: number, sink: OccurrenceSink): void {
    if (this.hasNodes) for (let i = 0; i < v.length; i++) this.item.occurrences(v[i]!, mixContext(ctx, i + 1), sink);
  }
}

/**
 * A set, represented as a readonly array. Encoding sorts and de-duplicates, so any array order
 * gives the same bytes; decoding yields the sorted array and rejects unsorted input (a second
 * encoding of the same set would break canonicity).
 */
class SetSchema<T> extends Schema<readonly T[]> {
  readonly name: string;
  readonly hasNodes: boolean;
  constructor(readonly item: Schema<T>) {
    super();
    this.name = `set<${item.name}>`;
    this.hasNodes = item.hasNodes;
  }
  private canonical(v: readonly T[]): readonly T[] {
    for (let i = 1; i < v.length; i++) {
      if (this.item.compare(v[i - 1]!, v[i]!) >= 0) {
        const sorted = sortKeys([...v], this.item);
        const out: T[] = [sorted[0]!];
        for (let k = 1; k < sorted.length; k++) if (this.item.compare(out[out.length - 1]!, sorted[k]!) !== 0) out.push(sorted[k]!);
        return out;
      }
    }
    return v;
  }
  encode(w: Writer, v: readonly T[], path = ''): void {
    if (!Array.isArray(v)) throw new EncodeError(`expected a set (array), got ${String(v)}`, path);
    const c = this.canonical(v);
    w.varint(c.length);
    for (let i = 0; i < c.length; i++) this.item.encode(w, c[i]!, path);
  }
  decode(r: Reader): readonly T[] {
    const n = r.length();
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      out[i] = this.item.decode(r);
      if (i > 0 && this.item.compare(out[i - 1]!, out[i]!) >= 0) throw new DecodeError('set elements not in canonical order', at);
    }
    return out;
  }
  compare(a: readonly T[], b: readonly T[]): number {
    const ca = this.canonical(a);
    const cb = this.canonical(b);
    const n = Math.min(ca.length, cb.length);
    for (let i = 0; i < n; i++) {
      const c = this.item.compare(ca[i]!, cb[i]!);
      if (c !== 0) return c;
    }
    return ca.length - cb.length;
  }
  mapNodes(v: readonly T[], perm: ArrayLike<number>): readonly T[] {
    if (!this.hasNodes) return v;
    return this.canonical(v.map((x) => this.item.mapNodes(x, perm)));
  }
  toJSON(v: readonly T[]): Json {
    return this.canonical(v).map((x) => this.item.toJSON(x));
  }
  fromJSON(j: unknown, path: string): readonly T[] {
    if (!Array.isArray(j)) throw jsonError(path, 'a set (array)', j);
    return this.canonical(j.map((x, i) => this.item.fromJSON(x, `${path}[${i}]`)));
  }
  forEachNode(v: readonly T[], f: (id: NodeId) => void): void {
    if (this.hasNodes) for (const x of v) this.item.forEachNode(x, f);
  }
  occurrences(v: readonly T[], ctx: number, sink: OccurrenceSink): void {
    // A set's order follows the ids: its elements are told apart by their content.
    if (this.hasNodes) for (const x of v) this.item.occurrences(x, mixContext(ctx, sink.valueHash(this.item, x)), sink);
  }
}

/** A map with keys in canonical (sorted) order on the wire; a `ReadonlyMap` in memory. */
class MapSchema<K, V> extends Schema<ReadonlyMap<K, V>> {
  readonly name: string;
  readonly hasNodes: boolean;
  constructor(
    readonly key: Schema<K>,
    readonly value: Schema<V>,
  ) {
    super();
    this.name = `map<${key.name}, ${value.name}>`;
    this.hasNodes = key.hasNodes || value.hasNodes;
  }
  private sortedKeys(v: ReadonlyMap<K, V>): K[] {
    const keys = [...v.keys()];
    for (let i = 1; i < keys.length; i++) {
      if (this.key.compare(keys[i - 1]!, keys[i]!) >= 0) return sortKeys(keys, this.key);
    }
    return keys;
  }
  /** Whether `v`'s keys come in canonical order already (most maps are built that way). */
  private inOrder(v: ReadonlyMap<K, V>): boolean {
    let first = true;
    let prev: K | undefined;
    for (const k of v.keys()) {
      if (!first && this.key.compare(prev as K, k) >= 0) return false;
      first = false;
      prev = k;
    }
    return true;
  }
  encode(w: Writer, v: ReadonlyMap<K, V>, path = ''): void {
    if (!(v instanceof Map)) throw new EncodeError(`expected a Map, got ${String(v)}`, path);
    // Encoding runs for every generated state: a map in order is written without copying its keys.
    w.varint(v.size);
    if (this.inOrder(v)) {
      for (const [k, x] of v) {
        this.key.encode(w, k, path);
        this.value.encode(w, x, path);
      }
      return;
    }
    for (const k of this.sortedKeys(v)) {
      this.key.encode(w, k, path);
      this.value.encode(w, v.get(k)!, path);
    }
  }
  decode(r: Reader): ReadonlyMap<K, V> {
    const n = r.length(2);
    const out = new Map<K, V>();
    let prev: K | undefined;
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const k = this.key.decode(r);
      if (i > 0 && this.key.compare(prev as K, k) >= 0) throw new DecodeError('map keys not in canonical order', at);
      out.set(k, this.value.decode(r));
      prev = k;
    }
    return out;
  }
  compare(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): number {
    const ka = this.sortedKeys(a);
    const kb = this.sortedKeys(b);
    const n = Math.min(ka.length, kb.length);
    for (let i = 0; i < n; i++) {
      const c = this.key.compare(ka[i]!, kb[i]!) || this.value.compare(a.get(ka[i]!)!, b.get(kb[i]!)!);
      if (c !== 0) return c;
    }
    return ka.length - kb.length;
  }
  mapNodes(v: ReadonlyMap<K, V>, perm: ArrayLike<number>): ReadonlyMap<K, V> {
    if (!this.hasNodes) return v;
    const out = new Map<K, V>();
    for (const [k, x] of v) {
      const key = this.key.mapNodes(k, perm);
      const value = this.value.mapNodes(x, perm);
      // A renaming never merges keys; a blinding (many ids to one, for symmetry's sort keys)
      // does: keep the smallest value, so the result does not depend on the map's order.
      const kept = out.get(key);
      if (kept === undefined || this.value.compare(value, kept) < 0) out.set(key, value);
    }
    return out;
  }
  toJSON(v: ReadonlyMap<K, V>): Json {
    return this.sortedKeys(v).map((k) => [this.key.toJSON(k), this.value.toJSON(v.get(k)!)]);
  }
  fromJSON(j: unknown, path: string): ReadonlyMap<K, V> {
    if (!Array.isArray(j)) throw jsonError(path, 'a map as [[key, value], ...]', j);
    const out = new Map<K, V>();
    j.forEach((e, i) => {
      if (!Array.isArray(e) || e.length !== 2) throw jsonError(`${path}[${i}]`, 'a [key, value] pair', e);
      out.set(this.key.fromJSON(e[0], `${path}[${i}][0]`), this.value.fromJSON(e[1], `${path}[${i}][1]`));
    });
    return out;
  }
  forEachNode(v: ReadonlyMap<K, V>, f: (id: NodeId) => void): void {
    if (!this.hasNodes) return;
    for (const [k, x] of v) {
      this.key.forEachNode(k, f);
      this.value.forEachNode(x, f);
    }
  }
  occurrences(v: ReadonlyMap<K, V>, ctx: number, sink: OccurrenceSink): void {
    if (!this.hasNodes) return;
    // A key is placed by its value, a value by its key.
    for (const [k, x] of v) {
      if (this.key.hasNodes) this.key.occurrences(k, mixContext(ctx ^ 0x4b4559, sink.valueHash(this.value, x)), sink);
      if (this.value.hasNodes) this.value.occurrences(x, mixContext(ctx ^ 0x56414c, sink.valueHash(this.key, k)), sink);
    }
  }
}

/** Field schemas of a struct or of one union variant. */
export type Fields = Record<string, Schema<any>>;
export type InferFields<F extends Fields> = { readonly [K in keyof F]: Infer<F[K]> };

/** Shared field-list codec for structs and union variants (fields in declaration order). */
class FieldList {
  readonly names: string[];
  readonly schemas: Schema<any>[];
  readonly hasNodes: boolean;
  /** Straight-line versions of encode, decode and compare for these fields (null: use the loops below). */
  private readonly compiled: CompiledFields | null;
  /** `tag`: a union's tag field, which decoded values carry first. */
  constructor(fields: Fields, owner: string, readonly tag?: string) {
    this.names = Object.keys(fields);
    this.schemas = this.names.map((n) => {
      const s = fields[n];
      if (!(s instanceof Schema)) throw new SchemaError(`${owner}: field '${n}' is not a schema`);
      return s;
    });
    this.hasNodes = this.schemas.some((s) => s.hasNodes);
    this.compiled = compileFields(this.names, this.schemas, tag);
    if (this.compiled !== null) {
      this.encode = this.compiled.encode;
      this.compare = this.compiled.compare;
    }
  }
  /** A new value of these fields read from `r` (tagged `tagValue` for a union's variant). */
  decode(r: Reader, tagValue?: string): any {
    if (this.compiled !== null) return this.compiled.decode(r, tagValue);
    return this.decodeInto(r, this.tag === undefined ? {} : { [this.tag]: tagValue });
  }
  encode(w: Writer, v: any, path: string): void {
    if (v === null || typeof v !== 'object') throw new EncodeError(`expected an object, got ${String(v)}`, path);
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const x = v[name];
      if (x === undefined && !(this.schemas[i] instanceof OptionSchema)) {
        throw new EncodeError(`missing field '${name}'`, path);
      }
      try {
        this.schemas[i]!.encode(w, x);
      } catch (e) {
        throw e instanceof EncodeError ? e.within(path, name) : e;
      }
    }
  }
  decodeInto(r: Reader, out: any): any {
    for (let i = 0; i < this.names.length; i++) out[this.names[i]!] = this.schemas[i]!.decode(r);
    return out;
  }
  compare(a: any, b: any): number {
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const c = this.schemas[i]!.compare(a[name], b[name]);
      if (c !== 0) return c;
    }
    return 0;
  }
  mapInto(v: any, perm: ArrayLike<number>, out: any): any {
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const s = this.schemas[i]!;
      out[name] = s.hasNodes ? s.mapNodes(v[name], perm) : v[name];
    }
    return out;
  }
  toJSONInto(v: any, out: Record<string, Json>): Record<string, Json> {
    for (let i = 0; i < this.names.length; i++) out[this.names[i]!] = this.schemas[i]!.toJSON(v[this.names[i]!]);
    return out;
  }
  fromJSONInto(j: any, path: string, out: any): any {
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const x = j[name];
      if (x === undefined && !(this.schemas[i] instanceof OptionSchema)) throw new SchemaError(`${path || 'value'}: missing field '${name}'`);
      out[name] = this.schemas[i]!.fromJSON(x === undefined ? null : x, path ? `${path}.${name}` : name);
    }
    return out;
  }
  /** Encodes only the fields of `v` that are not the very values of `prev` (a value known to fit). */
  encodeChanged(w: Writer, prev: any, v: any, path: string): void {
    if (v === null || typeof v !== 'object') throw new EncodeError(`expected an object, got ${String(v)}`, path);
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const x = v[name];
      if (x === prev[name]) continue;
      if (x === undefined && !(this.schemas[i] instanceof OptionSchema)) {
        throw new EncodeError(`missing field '${name}'`, path);
      }
      try {
        encodeChangedValue(this.schemas[i]!, w, prev[name], x, '');
      } catch (e) {
        throw e instanceof EncodeError ? e.within(path, name) : e;
      }
    }
  }
  forEachNode(v: any, f: (id: NodeId) => void): void {
    for (let i = 0; i < this.names.length; i++) if (this.schemas[i]!.hasNodes) this.schemas[i]!.forEachNode(v[this.names[i]!], f);
  }
  occurrences(v: any, ctx: number, sink: OccurrenceSink): void {
    for (let i = 0; i < this.names.length; i++) {
      if (this.schemas[i]!.hasNodes) this.schemas[i]!.occurrences(v[this.names[i]!], mixContext(ctx, i + 1), sink);
    }
  }
}

class StructSchema<F extends Fields> extends Schema<InferFields<F>> {
  readonly name: string;
  readonly hasNodes: boolean;
  readonly fieldList: FieldList;
  constructor(readonly fields: F) {
    super();
    this.fieldList = new FieldList(fields, 't.struct');
    this.hasNodes = this.fieldList.hasNodes;
    this.name = `{ ${this.fieldList.names.map((n, i) => `${n}: ${this.fieldList.schemas[i]!.name}`).join(', ')} }`;
  }
  encode(w: Writer, v: InferFields<F>, path = ''): void {
    this.fieldList.encode(w, v, path);
  }
  decode(r: Reader): InferFields<F> {
    return this.fieldList.decode(r);
  }
  compare(a: InferFields<F>, b: InferFields<F>): number {
    return this.fieldList.compare(a, b);
  }
  mapNodes(v: InferFields<F>, perm: ArrayLike<number>): InferFields<F> {
    return this.hasNodes ? this.fieldList.mapInto(v, perm, {}) : v;
  }
  toJSON(v: InferFields<F>): Json {
    return this.fieldList.toJSONInto(v, {});
  }
  fromJSON(j: unknown, path: string): InferFields<F> {
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw jsonError(path, 'an object', j);
    return this.fieldList.fromJSONInto(j, path, {});
  }
  forEachNode(v: InferFields<F>, f: (id: NodeId) => void): void {
    if (this.hasNodes) this.fieldList.forEachNode(v, f);
  }
  occurrences(v: InferFields<F>, ctx: number, sink: OccurrenceSink): void {
    if (this.hasNodes) this.fieldList.occurrences(v, ctx, sink);
  }
}

/** The value type of a tagged union: one object type per variant, tagged by `Tag`. */
export type InferUnion<Tag extends string, V extends Record<string, Fields>> = {
  [K in keyof V & string]: { readonly [T in Tag]: K } & InferFields<V[K]>;
}[keyof V & string];

/** A tagged union (messages, events): the tag is encoded as the variant's declaration index. */
export class UnionSchema<Tag extends string, V extends Record<string, Fields>> extends Schema<InferUnion<Tag, V>> {
  readonly name: string;
  readonly hasNodes: boolean;
  readonly variants: string[];
  private readonly lists: FieldList[];
  private readonly index = new Map<string, number>();
  constructor(
    readonly tag: Tag,
    variants: V,
  ) {
    super();
    this.variants = Object.keys(variants);
    if (this.variants.length === 0 || this.variants.length > 255) throw new SchemaError('t.union: needs 1 to 255 variants');
    this.lists = this.variants.map((k, i) => {
      this.index.set(k, i);
      const fields = variants[k]!;
      if (tag in fields) throw new SchemaError(`t.union: variant '${k}' redefines the tag field '${tag}'`);
      return new FieldList(fields, `t.union variant '${k}'`, tag);
    });
    this.hasNodes = this.lists.some((l) => l.hasNodes);
    this.name = `union<${this.variants.join('|')}>`;
  }
  /** The field schemas of variant `kind` (for tools that render or convert messages by type). */
  fieldsOf(kind: string): Readonly<Record<string, Schema<unknown>>> | undefined {
    const i = this.index.get(kind);
    if (i === undefined) return undefined;
    const list = this.lists[i]!;
    return Object.fromEntries(list.names.map((n, k) => [n, list.schemas[k]!]));
  }

  /** The declaration index of a variant (for compact display and channel bytes). */
  indexOf(kind: string): number | undefined {
    return this.index.get(kind);
  }
  encode(w: Writer, v: InferUnion<Tag, V>, path = ''): void {
    const kind = v === null || typeof v !== 'object' ? undefined : (v as any)[this.tag];
    const i = this.index.get(kind);
    if (i === undefined) throw new EncodeError(`unknown ${this.tag} '${String(kind)}' (expected one of ${this.variants.join(', ')})`, path);
    w.u8(i);
    this.lists[i]!.encode(w, v, path);
  }
  decode(r: Reader): InferUnion<Tag, V> {
    const at = r.pos;
    const i = r.u8();
    if (i >= this.lists.length) throw new DecodeError(`union tag ${i} out of range`, at);
    return this.lists[i]!.decode(r, this.variants[i]);
  }
  compare(a: InferUnion<Tag, V>, b: InferUnion<Tag, V>): number {
    const ia = this.index.get((a as any)[this.tag])!;
    const ib = this.index.get((b as any)[this.tag])!;
    return ia !== ib ? ia - ib : this.lists[ia]!.compare(a, b);
  }
  mapNodes(v: InferUnion<Tag, V>, perm: ArrayLike<number>): InferUnion<Tag, V> {
    if (!this.hasNodes) return v;
    const i = this.index.get((v as any)[this.tag])!;
    const list = this.lists[i]!;
    return list.hasNodes ? list.mapInto(v, perm, { [this.tag]: this.variants[i] }) : v;
  }
  toJSON(v: InferUnion<Tag, V>): Json {
    const i = this.index.get((v as any)[this.tag])!;
    return this.lists[i]!.toJSONInto(v, { [this.tag]: this.variants[i]! });
  }
  fromJSON(j: unknown, path: string): InferUnion<Tag, V> {
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw jsonError(path, 'an object', j);
    const kind = (j as any)[this.tag];
    const i = this.index.get(kind);
    if (i === undefined) throw jsonError(path ? `${path}.${this.tag}` : this.tag, `one of ${this.variants.join(', ')}`, kind);
    return this.lists[i]!.fromJSONInto(j, path, { [this.tag]: this.variants[i] });
  }
  forEachNode(v: InferUnion<Tag, V>, f: (id: NodeId) => void): void {
    if (!this.hasNodes) return;
    this.lists[this.index.get((v as any)[this.tag])!]!.forEachNode(v, f);
  }
  occurrences(v: InferUnion<Tag, V>, ctx: number, sink: OccurrenceSink): void {
    if (!this.hasNodes) return;
    const i = this.index.get((v as any)[this.tag])!;
    this.lists[i]!.occurrences(v, mixContext(ctx, i + 1), sink);
  }
}

class TupleSchema<T extends readonly unknown[]> extends Schema<T> {
  readonly name: string;
  readonly hasNodes: boolean;
  constructor(readonly items: { [K in keyof T]: Schema<T[K]> }) {
    super();
    this.name = `[${(items as readonly Schema<unknown>[]).map((s) => s.name).join(', ')}]`;
    this.hasNodes = (items as readonly Schema<unknown>[]).some((s) => s.hasNodes);
  }
  private get list(): readonly Schema<any>[] {
    return this.items as readonly Schema<any>[];
  }
  encode(w: Writer, v: T, path = ''): void {
    if (!Array.isArray(v) || v.length !== this.list.length) throw new EncodeError(`expected a ${this.list.length}-tuple`, path);
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!.encode(w, v[i]);
      } catch (e) {
        throw e instanceof EncodeError ? e.within(path, `[${i}]`) : e;
      }
    }
  }
  decode(r: Reader): T {
    return this.list.map((s) => s.decode(r)) as unknown as T;
  }
  compare(a: T, b: T): number {
    for (let i = 0; i < this.list.length; i++) {
      const c = this.list[i]!.compare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return 0;
  }
  mapNodes(v: T, perm: ArrayLike<number>): T {
    return this.hasNodes ? (this.list.map((s, i) => s.mapNodes(v[i], perm)) as unknown as T) : v;
  }
  toJSON(v: T): Json {
    return this.list.map((s, i) => s.toJSON(v[i]));
  }
  fromJSON(j: unknown, path: string): T {
    if (!Array.isArray(j) || j.length !== this.list.length) throw jsonError(path, `a ${this.list.length}-tuple`, j);
    return this.list.map((s, i) => s.fromJSON(j[i], `${path}[${i}]`)) as unknown as T;
  }
  forEachNode(v: T, f: (id: NodeId) => void): void {
    if (this.hasNodes) this.list.forEach((s, i) => s.forEachNode(v[i], f));
  }
  occurrences(v: T, ctx: number, sink: OccurrenceSink): void {
    if (this.hasNodes) this.list.forEach((s, i) => s.occurrences(v[i], mixContext(ctx, i + 1), sink));
  }
}

const u32 = new U32Schema();
const int = new IntSchema();
const bool = new BoolSchema();
const string = new StringSchema();
const unit = new StructSchema({});

/** Schema constructors. */
export const t = {
  /** Unsigned 32-bit integer (varint). */
  u32,
  /** Signed 32-bit integer (zigzag varint). */
  int,
  bool,
  /** UTF-8 string. */
  string,
  /** The empty struct, for states that carry nothing. */
  unit,
  /** One of a fixed list of strings, encoded as its index. */
  enum: <const E extends string>(...values: E[]): Schema<E> => new EnumSchema<E>(values),
  /** A node id; `role` documents (and lets tools check) which role it names. */
  node: (role?: string): Schema<NodeId> => new NodeSchema(role),
  /** `T | null`. */
  option: <T>(inner: Schema<T>): Schema<T | null> => new OptionSchema(inner),
  /** An ordered list. */
  array: <T>(item: Schema<T>): Schema<readonly T[]> => new ArraySchema(item),
  /** A set as a readonly array, canonical (sorted, de-duplicated) on encode. */
  set: <T>(item: Schema<T>): Schema<readonly T[]> => new SetSchema(item),
  /** A map, canonical (keys sorted) on encode. */
  map: <K, V>(key: Schema<K>, value: Schema<V>): Schema<ReadonlyMap<K, V>> => new MapSchema(key, value),
  /** A fixed-length tuple. */
  tuple: <T extends readonly unknown[]>(...items: { [K in keyof T]: Schema<T[K]> }): Schema<T> => new TupleSchema<T>(items),
  struct: <F extends Fields>(fields: F): Schema<InferFields<F>> => new StructSchema(fields),
  /** A tagged union: `t.union('kind', { prepared: { rm: t.node('rm') }, commit: {} })`. */
  union: <const Tag extends string, V extends Record<string, Fields>>(tag: Tag, variants: V): UnionSchema<Tag, V> =>
    new UnionSchema(tag, variants),
};

/**
 * Checks that `next` fits `s` when `prev` is known to: for a struct, only the fields of `next` that
 * are not the very values of `prev` are encoded (into `w`), so a step that changes a small field
 * of a large state costs that field. Throws an `EncodeError` as `encode` does; returns false when
 * `s` is not a struct (the caller encodes the whole value).
 */
export function encodeChangedFields(s: Schema<unknown>, w: Writer, prev: unknown, next: unknown, path = ''): boolean {
  if (!(s instanceof StructSchema) || prev === null || typeof prev !== 'object') return false;
  s.fieldList.encodeChanged(w, prev, next, path);
  return true;
}

/**
 * Checks `next` against `s` given `prev`, a value of `s` known to fit, by encoding what is not the
 * very same value: of an array, the items after the leading ones it shares with `prev` (a log
 * that grew by a batch costs the batch, not the log); of a map, the entries whose value is not
 * the same object; of anything else, the whole value. The bytes written are for checking only.
 */
function encodeChangedValue(s: Schema<any>, w: Writer, prev: unknown, next: unknown, path: string): void {
  if (s instanceof ArraySchema && Array.isArray(prev) && Array.isArray(next)) {
    const shared = Math.min(prev.length, next.length);
    let k = 0;
    while (k < shared && next[k] === prev[k]) k++;
    for (let i = k; i < next.length; i++) s.item.encode(w, next[i], path);
    return;
  }
  if (s instanceof MapSchema && prev instanceof Map && next instanceof Map) {
    for (const [key, value] of next) {
      if (prev.get(key) === value && prev.has(key)) continue;
      s.key.encode(w, key, path);
      s.value.encode(w, value, path);
    }
    return;
  }
  s.encode(w, next, path);
}

/** A struct schema's fields as [name, schema] in encoding order; undefined when `s` is not a struct. */
export function structFieldSchemas(s: Schema<unknown>): (readonly [string, Schema<any>])[] | undefined {
  return s instanceof StructSchema ? s.fieldList.names.map((n, i) => [n, s.fieldList.schemas[i]!] as const) : undefined;
}

/** An array schema's item schema; undefined when `s` is not a `t.array` (a set's order is canonical, not appended to). */
export function arrayItemSchema(s: Schema<unknown>): Schema<any> | undefined {
  return s instanceof ArraySchema ? s.item : undefined;
}

/** True when `s` is a struct schema (so its fields can be inspected, e.g. for `durable`). */
export function structFields(s: Schema<unknown>): string[] | undefined {
  return s instanceof StructSchema ? [...s.fieldList.names] : undefined;
}

/** Sorts keys by `schema.compare` in place; small arrays by insertion, since `Array.sort` allocates a work array per call. */
function sortKeys<K>(keys: K[], schema: Schema<K>): K[] {
  if (keys.length > 16) return keys.sort((a, b) => schema.compare(a, b));
  for (let i = 1; i < keys.length; i++) {
    const x = keys[i]!;
    let j = i - 1;
    while (j >= 0 && schema.compare(keys[j]!, x) > 0) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = x;
  }
  return keys;
}

interface CompiledFields {
  encode(w: Writer, v: any, path: string): void;
  decode(r: Reader, tagValue?: string): any;
  compare(a: any, b: any): number;
}

/**
 * Encode, decode and compare for one list of fields, as straight-line code: each field read by
 * its literal name and each field schema called from its own call site. The generic loops read
 * fields by computed name and call every schema from one site, which the engine cannot specialize;
 * these run for every generated state. The code is made from the spec's own field names (quoted by
 * JSON.stringify), never from data. Returns null where code cannot be made (a field named
 * `__proto__`, or an engine that forbids `new Function`): the loops serve then.
 */
function compileFields(names: readonly string[], schemas: readonly Schema<any>[], tag: string | undefined): CompiledFields | null {
  if (names.includes('__proto__') || tag === '__proto__') return null;
  const key = names.map((n) => JSON.stringify(n));
  const field = names.map((_, i) => `s${i}`);
  const encode = [
    'return function encodeFields(w, v, path) {',
    "  if (v === null || typeof v !== 'object') throw new EncodeError('expected an object, got ' + String(v), path);",
    '  let at = -1;',
    '  try {',
    '    let x;',
    ...names.map((n, i) => [
      `    x = v[${key[i]}];`,
      schemas[i] instanceof OptionSchema ? '' : `    if (x === undefined) { at = -1; throw new EncodeError(${JSON.stringify(`missing field '${n}'`)}, path); }`,
      `    at = ${i}; ${field[i]}.encode(w, x);`,
    ].join('\n')),
    '  } catch (e) {',
    '    throw at >= 0 && e instanceof EncodeError ? e.within(path, names[at]) : e;',
    '  }',
    '};',
  ].join('\n');
  const tagEntry = tag === undefined ? '' : `${JSON.stringify(tag)}: t, `;
  const decode = `return function decodeFields(r, t) { return { ${tagEntry}${names.map((_, i) => `${key[i]}: ${field[i]}.decode(r)`).join(', ')} }; };`;
  const compare = [
    'return function compareFields(a, b) {',
    '  let c;',
    ...names.map((_, i) => `  c = ${field[i]}.compare(a[${key[i]}], b[${key[i]}]); if (c !== 0) return c;`),
    '  return 0;',
    '};',
  ].join('\n');
  try {
    const make = (body: string) => new Function('EncodeError', 'names', ...field, body)(EncodeError, names, ...schemas);
    return { encode: make(encode), decode: make(decode), compare: make(compare) };
  } catch {
    return null;
  }
}
