/**
 * The visited set: 64-bit fingerprints in an open-addressing hash table of typed arrays, plus a
 * parent link per state so that paths are rebuilt without storing states. A state is known by
 * its index (order of first visit); index 0 is the first initial state.
 */
export class StateStore {
  /** Slot → state index + 1 (0 = empty). */
  private slots: Int32Array;
  private mask: number;
  private his: Uint32Array;
  private los: Uint32Array;
  private parents: Int32Array;
  private depths: Uint16Array;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1024;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = new Int32Array(cap);
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
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    const slots = this.slots;
    for (;;) {
      const e = slots[slot]!;
      if (e === 0) break;
      if (this.los[e - 1] === lo && this.his[e - 1] === hi) return -1;
      slot = (slot + 1) & this.mask;
    }
    const index = this.size++;
    if (index >= this.his.length) this.growEntries();
    this.his[index] = hi;
    this.los[index] = lo;
    this.parents[index] = parent;
    this.depths[index] = depth > 0xffff ? 0xffff : depth;
    slots[slot] = index + 1;
    if (this.size * 2 > slots.length) this.rehash();
    return index;
  }

  /** The index of a fingerprint, or -1. */
  find(hi: number, lo: number): number {
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const e = this.slots[slot]!;
      if (e === 0) return -1;
      if (this.los[e - 1] === lo && this.his[e - 1] === hi) return e - 1;
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
    return (this.slots.byteLength + this.size * (4 + 4 + 4 + 2)) / this.size;
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
    const cap = this.slots.length * 2;
    const slots = new Int32Array(cap);
    const mask = cap - 1;
    for (let index = 0; index < this.size; index++) {
      let slot = (this.los[index]! ^ Math.imul(this.his[index]!, 0x9e3779b1)) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
