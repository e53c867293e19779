/**
 * Hash-consing of Int32 sequences: equal sequences get one id, and each distinct sequence is
 * stored once. The linearized set keeps its never-returning operations' bits as interned chunks
 * and interns the list of chunk ids, so a set is one number and a change to one bit stores one
 * chunk and one list (see linearized-set.ts).
 */
export class Interner {
  /** per slot: id + 1 (0 marks an empty slot) */
  private slots = new Int32Array(256);
  private slotHash = new Int32Array(256);
  private heap = new Int32Array(1024);
  private used = 0;
  private offsets = new Int32Array(64);
  private lengths = new Int32Array(64);
  private count = 0;

  /** Int32 words held (its memory is about 4 bytes each). */
  get words(): number {
    return this.slots.length * 2 + this.heap.length + this.offsets.length * 2;
  }

  /** The id of `from[at .. at + length)`, stored if new. */
  intern(from: Int32Array, at: number, length: number): number {
    let h = 0x811c9dc5 ^ length;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ from[at + i]!, 0x01000193);
    h = (h ^ (h >>> 15)) | 1; // never 0
    const mask = this.slots.length - 1;
    let slot = (h ^ (h >>> 16)) & mask;
    for (;;) {
      const s = this.slots[slot]!;
      if (s === 0) break;
      if (this.slotHash[slot] === h && this.equals(s - 1, from, at, length)) return s - 1;
      slot = (slot + 1) & mask;
    }
    const id = this.count++;
    if (id >= this.offsets.length) {
      this.offsets = grown(this.offsets, id + 1);
      this.lengths = grown(this.lengths, id + 1);
    }
    if (this.used + length > this.heap.length) this.heap = grown(this.heap, this.used + length);
    this.heap.set(from.subarray(at, at + length), this.used);
    this.offsets[id] = this.used;
    this.lengths[id] = length;
    this.used += length;
    this.slots[slot] = id + 1;
    this.slotHash[slot] = h;
    if (this.count * 2 > mask) this.rehash();
    return id;
  }

  private equals(id: number, from: Int32Array, at: number, length: number): boolean {
    if (this.lengths[id] !== length) return false;
    const o = this.offsets[id]!;
    for (let i = 0; i < length; i++) if (this.heap[o + i] !== from[at + i]) return false;
    return true;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    const mask = size - 1;
    const slots = new Int32Array(size);
    const slotHash = new Int32Array(size);
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s === 0) continue;
      const h = this.slotHash[i]!;
      let slot = (h ^ (h >>> 16)) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = s;
      slotHash[slot] = h;
    }
    this.slots = slots;
    this.slotHash = slotHash;
  }
}

/** A copy of `a` with room for at least `need` elements (doubling). */
export function grown(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  let length = a.length * 2;
  while (length < need) length *= 2;
  const b = new Int32Array(length);
  b.set(a);
  return b;
}
