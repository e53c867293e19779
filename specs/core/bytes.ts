/**
 * Byte buffers for the packed codec: a growable writer that is reused across encodes (no
 * per-state allocation once warm) and a bounds-checked reader whose only failure is a
 * {@link DecodeError}.
 */

/** The one error a decoder may throw: the bytes do not form a value of the schema. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte ${offset})`);
  }
}

/** A value does not fit its schema (a spec returned a state or message of the wrong shape). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly detail: string,
    readonly path: string,
  ) {
    super(path ? `${detail} at ${path}` : detail);
  }

  /**
   * This error, found inside `step` (a field name or `[i]`) of the value at `path`. Encoders
   * name the path only on the way out of a failure, so that encoding builds no path strings.
   */
  within(path: string, step: string): EncodeError {
    const here = step.startsWith('[') || !path ? `${path}${step}` : `${path}.${step}`;
    const inner = this.path;
    return new EncodeError(this.detail, !inner ? here : inner.startsWith('[') ? `${here}${inner}` : `${here}.${inner}`);
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A growable byte buffer. `reset()` rewinds it so the same memory serves the next value. */
export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Unsigned LEB128, up to 2^32 - 1. */
  varint(v: number): void {
    if (v < 0x80) {
      if (this.pos >= this.buf.length) this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    if (n <= 32) {
      // A loop beats TypedArray.set for the few bytes of a typical node state.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = src[i]!;
      this.pos = pos;
    } else {
      this.buf.set(src, this.pos);
      this.pos += n;
    }
  }

  /** Copies `len` bytes of `src` from `start`. */
  range(src: Uint8Array, start: number, len: number): void {
    this.ensure(len);
    if (len <= 64) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = start; i < start + len; i++) buf[pos++] = src[i]!;
      this.pos = pos;
    } else {
      this.buf.set(src.subarray(start, start + len), this.pos);
      this.pos += len;
    }
  }

  string(s: string): void {
    // A UTF-8 string takes at most 3 bytes per UTF-16 unit.
    const max = s.length * 3;
    this.ensure(max + 5);
    if (max < 0x80) {
      const at = this.pos++;
      const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(this.pos));
      this.buf[at] = written;
      this.pos += written;
    } else {
      const encoded = utf8Encoder.encode(s);
      this.varint(encoded.length);
      this.bytes(encoded);
    }
  }

  /** A copy of what was written since the last reset. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** A view (no copy) of what was written; valid until the next write. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** A bounds-checked cursor over bytes. Every failure is a {@link DecodeError}. */
export class Reader {
  pos: number;
  buf: Uint8Array;
  end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Points this reader at other bytes (so hot loops can reuse one reader). */
  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new DecodeError('unexpected end of input', this.pos);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new DecodeError('unexpected end of input in a varint', this.pos);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new DecodeError('varint exceeds 32 bits', this.pos);
        // Canonical form only: a trailing zero byte would give two encodings of one value.
        if (b === 0 && i > 0) throw new DecodeError('non-canonical varint', this.pos);
        return result;
      }
      scale *= 128;
    }
    throw new DecodeError('varint longer than 5 bytes', this.pos);
  }

  /** A length that must fit in the remaining input (never trusted beyond it). */
  length(minBytesPerItem = 1): number {
    const at = this.pos;
    const n = this.varint();
    if (n * minBytesPerItem > this.end - this.pos) {
      throw new DecodeError(`length ${n} exceeds the remaining ${this.end - this.pos} bytes`, at);
    }
    return n;
  }

  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new DecodeError('unexpected end of input', this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.length();
    const at = this.pos;
    const raw = this.bytes(n);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw new DecodeError('invalid UTF-8 in a string', at);
    }
  }
}

/** Lexicographic order on bytes; a shorter prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
