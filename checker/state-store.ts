/**
 * The visited set: 64-bit fingerprints in an open-addressing hash table of typed arrays, plus a
 * parent link per state so that paths are rebuilt without storing states. A state is known by
 * its index (order of first visit); index 0 is the first initial state.
 */
export class StateStore {
  /**
   * Slot pairs [state index + 1 (0 = empty), low fingerprint lane]: a probe compares the low
   * lane in the slot's own cache line and touches the entry arrays only on a likely match.
   */
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
    this.slots = new Int32Array(cap * 2);
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
    const low = lo | 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const e = slots[slot * 2]!;
      if (e === 0) break;
      if (slots[slot * 2 + 1] === low && this.his[e - 1] === hi) return -1;
      slot = (slot + 1) & this.mask;
    }
    const index = this.size++;
    if (index >= this.his.length) this.growEntries();
    this.his[index] = hi;
    this.los[index] = lo;
    this.parents[index] = parent;
    this.depths[index] = depth > 0xffff ? 0xffff : depth;
    slots[slot * 2] = index + 1;
    slots[slot * 2 + 1] = low;
    if (this.size * 4 > slots.length) this.rehash();
    return index;
  }

  /** The index of a fingerprint, or -1. */
  find(hi: number, lo: number): number {
    const low = lo | 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const e = this.slots[slot * 2]!;
      if (e === 0) return -1;
      if (this.slots[slot * 2 + 1] === low && this.his[e - 1] === hi) return e - 1;
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
    const cap = this.slots.length; // twice the slots: the array holds pairs
    const slots = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let index = 0; index < this.size; index++) {
      const lo = this.los[index]!;
      let slot = (lo ^ Math.imul(this.his[index]!, 0x9e3779b1)) & mask;
      while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = index + 1;
      slots[slot * 2 + 1] = lo | 0;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
