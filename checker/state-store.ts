/**
 * The visited set: 64-bit fingerprints in an open-addressing hash table of typed arrays, plus a
 * parent link per state so that paths are rebuilt without storing states. A state is known by
 * its index (order of first visit); index 0 is the first initial state.
 *
 * A slot holds both fingerprint lanes, so a lookup of a visited state (the usual case) touches
 * one cache line; the slot's state index lives in a parallel array read only on insertion.
 */
export class StateStore {
  /** Slot pairs [high lane, low lane]; (0, 0) marks an empty slot (no fingerprint is (0, 0)). */
  private slots: Int32Array;
  /** Slot → state index. */
  private indexes: Int32Array;
  private mask: number;
  private his: Uint32Array;
  private los: Uint32Array;
  private parents: Int32Array;
  private depths: Uint16Array;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1024;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = new Int32Array(cap * 2);
    this.indexes = new Int32Array(cap);
    this.mask = cap - 1;
    this.his = new Uint32Array(initialCapacity);
    this.los = new Uint32Array(initialCapacity);
    this.parents = new Int32Array(initialCapacity);
    this.depths = new Uint16Array(initialCapacity);
  }

  /**
   * Inserts a fingerprint; returns its new index, or -1 when it was already there (the usual
   * case, so that path allocates nothing).
   */
  insert(hi: number, lo: number, parent: number, depth: number): number {
    const slots = this.slots;
    const h = hi | 0;
    const l = lo | 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = slots[slot * 2]!;
      const sl = slots[slot * 2 + 1]!;
      if (sh === h && sl === l) return -1;
      if (sh === 0 && sl === 0) break;
      slot = (slot + 1) & this.mask;
    }
    const index = this.size++;
    if (index >= this.his.length) this.growEntries();
    this.his[index] = hi;
    this.los[index] = lo;
    this.parents[index] = parent;
    this.depths[index] = depth > 0xffff ? 0xffff : depth;
    slots[slot * 2] = h;
    slots[slot * 2 + 1] = l;
    this.indexes[slot] = index;
    if (this.size * 2 > this.indexes.length) this.rehash();
    return index;
  }

  /** Whether a fingerprint is in the set. */
  has(hi: number, lo: number): boolean {
    return this.slotOf(hi, lo) >= 0;
  }

  /** The index of a fingerprint, or -1. */
  find(hi: number, lo: number): number {
    const slot = this.slotOf(hi, lo);
    return slot < 0 ? -1 : this.indexes[slot]!;
  }

  /** The slot holding a fingerprint, or -1. */
  private slotOf(hi: number, lo: number): number {
    const slots = this.slots;
    const h = hi | 0;
    const l = lo | 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = slots[slot * 2]!;
      const sl = slots[slot * 2 + 1]!;
      if (sh === h && sl === l) return slot;
      if (sh === 0 && sl === 0) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  parent(index: number): number {
    return this.parents[index]!;
  }

  depth(index: number): number {
    return this.depths[index]!;
  }

  hi(index: number): number {
    return this.his[index]!;
  }

  lo(index: number): number {
    return this.los[index]!;
  }

  /** Bytes held per stored state (table slots at the current load, plus the entry arrays). */
  bytesPerState(): number {
    if (this.size === 0) return 0;
    return (this.slots.byteLength + this.indexes.byteLength + this.size * (4 + 4 + 4 + 2)) / this.size;
  }

  private growEntries(): void {
    const cap = this.his.length * 2;
    const grow = <T extends Uint32Array | Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.his = grow(this.his, (n) => new Uint32Array(n));
    this.los = grow(this.los, (n) => new Uint32Array(n));
    this.parents = grow(this.parents, (n) => new Int32Array(n));
    this.depths = grow(this.depths, (n) => new Uint16Array(n));
  }

  private rehash(): void {
    // Between 1 M and 16 M slots grow fourfold (each rehash is a pass of random writes over the
    // table); past that, twofold, so a large table does not sit mostly empty.
    const now = this.indexes.length;
    const cap = now * (now >= 1 << 20 && now < 1 << 24 ? 4 : 2);
    const slots = new Int32Array(cap * 2);
    const indexes = new Int32Array(cap);
    const mask = cap - 1;
    for (let index = 0; index < this.size; index++) {
      const hi = this.his[index]!;
      const lo = this.los[index]!;
      let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
      while (slots[slot * 2] !== 0 || slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = hi | 0;
      slots[slot * 2 + 1] = lo | 0;
      indexes[slot] = index;
    }
    this.slots = slots;
    this.indexes = indexes;
    this.mask = mask;
  }
}
