/**
 * The visited set: 64-bit fingerprints in an open-addressing hash table of typed arrays, plus a
 * parent link per state so that paths are rebuilt without storing states. A state is known by
 * its index (order of first visit); index 0 is the first initial state.
 *
 * A slot holds both fingerprint lanes, so a lookup of a visited state (the usual case) touches
 * one cache line; the slot's state index lives in a parallel array read only on insertion. A
 * state's fingerprint is kept only in its slot: rebuilding a path (once per counterexample)
 * finds the fingerprints of the path's states in one pass over the table.
 */
export class StateStore {
  /** Slot pairs [high lane, low lane]; (0, 0) marks an empty slot (no fingerprint is (0, 0)). */
  private slots: Int32Array;
  /** Slot → state index. */
  private indexes: Int32Array;
  private mask: number;
  private parents: Int32Array;
  private depths: Uint16Array;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1024;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = new Int32Array(cap * 2);
    this.indexes = new Int32Array(cap);
    this.mask = cap - 1;
    this.parents = new Int32Array(initialCapacity);
    this.depths = new Uint16Array(initialCapacity);
  }

  /**
   * Inserts a fingerprint; returns its new index, or -1 when it was already there (the usual
   * case, so that path allocates nothing).
   */
  insert(hi: number, lo: number, parent: number, depth: number): number {
    const found = this.probe(hi, lo);
    if (found >= 0) return -1;
    const slot = -found - 1;
    const slots = this.slots;
    const index = this.size++;
    if (index >= this.parents.length) this.growEntries();
    this.parents[index] = parent;
    this.depths[index] = depth > 0xffff ? 0xffff : depth;
    slots[slot * 2] = hi | 0;
    slots[slot * 2 + 1] = lo | 0;
    this.indexes[slot] = index;
    if (this.size * 2 > this.indexes.length) this.rehash();
    return index;
  }

  /** Whether a fingerprint is in the set. */
  has(hi: number, lo: number): boolean {
    return this.probe(hi, lo) >= 0;
  }

  /** The index of a fingerprint, or -1. */
  find(hi: number, lo: number): number {
    const slot = this.probe(hi, lo);
    return slot < 0 ? -1 : this.indexes[slot]!;
  }

  parent(index: number): number {
    return this.parents[index]!;
  }

  depth(index: number): number {
    return this.depths[index]!;
  }

  /** The fingerprints [high, low] (unsigned) of the states `indexes`, in that order: one pass over the table. */
  fingerprintsOf(indexes: readonly number[]): [number, number][] {
    const wanted = new Map<number, number[]>();
    indexes.forEach((index, at) => wanted.set(index, [...(wanted.get(index) ?? []), at]));
    const out: [number, number][] = new Array(indexes.length);
    this.forEach((hi, lo, index) => {
      for (const at of wanted.get(index) ?? []) out[at] = [hi, lo];
    });
    return out;
  }

  /** Calls `f` with every fingerprint (unsigned lanes) and its state index, in table order. */
  forEach(f: (hi: number, lo: number, index: number) => void): void {
    const slots = this.slots;
    for (let slot = 0; slot < this.indexes.length; slot++) {
      const hi = slots[slot * 2]!;
      const lo = slots[slot * 2 + 1]!;
      if (hi !== 0 || lo !== 0) f(hi >>> 0, lo >>> 0, this.indexes[slot]!);
    }
  }

  /** Bytes held per stored state (table slots at the current load, plus the entry arrays). */
  bytesPerState(): number {
    if (this.size === 0) return 0;
    return (this.slots.byteLength + this.indexes.byteLength + this.size * (4 + 2)) / this.size;
  }

  /** The slot holding a fingerprint, or -(the empty slot where it would go) - 1. */
  private probe(hi: number, lo: number): number {
    const slots = this.slots;
    const h = hi | 0;
    const l = lo | 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = slots[slot * 2]!;
      const sl = slots[slot * 2 + 1]!;
      if (sh === h && sl === l) return slot;
      if (sh === 0 && sl === 0) return -slot - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  private growEntries(): void {
    const cap = this.parents.length * 2;
    const parents = new Int32Array(cap);
    parents.set(this.parents);
    const depths = new Uint16Array(cap);
    depths.set(this.depths);
    this.parents = parents;
    this.depths = depths;
  }

  private rehash(): void {
    // Between 1 M and 16 M slots grow fourfold (each rehash is a pass of random writes over the
    // table); past that, twofold, so a large table does not sit mostly empty.
    const now = this.indexes.length;
    const cap = now * (now >= 1 << 20 && now < 1 << 24 ? 4 : 2);
    const slots = new Int32Array(cap * 2);
    const indexes = new Int32Array(cap);
    const mask = cap - 1;
    const old = this.slots;
    for (let from = 0; from < now; from++) {
      const hi = old[from * 2]!;
      const lo = old[from * 2 + 1]!;
      if (hi === 0 && lo === 0) continue;
      let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
      while (slots[slot * 2] !== 0 || slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = hi;
      slots[slot * 2 + 1] = lo;
      indexes[slot] = this.indexes[from]!;
    }
    this.slots = slots;
    this.indexes = indexes;
    this.mask = mask;
  }
}
