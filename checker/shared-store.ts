/**
 * The visited set shared by worker threads: 62-bit fingerprints in an open-addressing table in
 * a SharedArrayBuffer, inserted with an atomic compare-and-swap on the slot's low word. The low
 * word is never 0 (0 marks an empty slot) and the high word's top bit is always set, so a reader
 * that finds a claimed slot whose high word is still 0 knows the writer is mid-insert and waits.
 *
 * The table does not grow while workers insert: the coordinator grows it between BFS levels,
 * and a worker stops early when the table passes its fill limit (see `full`).
 */
export class SharedStore {
  readonly table: Int32Array;
  /** [0]: distinct states inserted. */
  readonly counters: Int32Array;
  private readonly mask: number;
  /** Past this many entries, workers stop and let the coordinator grow the table. */
  readonly limit: number;

  constructor(
    readonly tableBuffer: SharedArrayBuffer,
    readonly counterBuffer: SharedArrayBuffer,
  ) {
    this.table = new Int32Array(tableBuffer);
    this.counters = new Int32Array(counterBuffer);
    const slots = this.table.length / 2;
    this.mask = slots - 1;
    this.limit = Math.floor(slots * 0.75);
  }

  /** A new store with `slots` slots (a power of two). */
  static create(slots: number): SharedStore {
    return new SharedStore(new SharedArrayBuffer(slots * 8), new SharedArrayBuffer(8));
  }

  get size(): number {
    return Atomics.load(this.counters, 0);
  }

  get slots(): number {
    return this.mask + 1;
  }

  /** True when the table is too full to take more insertions safely. */
  get full(): boolean {
    return Atomics.load(this.counters, 0) >= this.limit;
  }

  /** Inserts a fingerprint; true when it was not there before. */
  insert(hi: number, lo: number): boolean {
    hi |= 0x80000000;
    lo |= 1;
    const t = this.table;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const at = slot * 2;
      let l = Atomics.load(t, at);
      if (l === 0) {
        l = Atomics.compareExchange(t, at, 0, lo);
        if (l === 0) {
          Atomics.store(t, at + 1, hi);
          Atomics.add(this.counters, 0, 1);
          return true;
        }
      }
      if (l === lo && this.highAt(at) === hi) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The high word of a claimed slot, waiting while its writer is between the two stores. */
  private highAt(at: number): number {
    let h = Atomics.load(this.table, at + 1);
    while (h === 0) h = Atomics.load(this.table, at + 1);
    return h;
  }

  /** Whether a fingerprint is in the table (a concurrent insert of it may or may not be seen). */
  has(hi: number, lo: number): boolean {
    hi |= 0x80000000;
    lo |= 1;
    const t = this.table;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const at = slot * 2;
      const l = Atomics.load(t, at);
      if (l === 0) return false;
      if (l === lo && this.highAt(at) === hi) return true;
      slot = (slot + 1) & this.mask;
    }
  }

  /** A table of `slots` slots holding the same fingerprints (coordinator only, between levels). */
  grow(slots: number): SharedStore {
    const next = SharedStore.create(slots);
    const t = this.table;
    const n = next.table;
    const mask = slots - 1;
    for (let at = 0; at < t.length; at += 2) {
      const lo = t[at]!;
      if (lo === 0) continue;
      const hi = t[at + 1]!;
      let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
      while (n[slot * 2] !== 0) slot = (slot + 1) & mask;
      n[slot * 2] = lo;
      n[slot * 2 + 1] = hi;
    }
    next.counters[0] = this.counters[0]!;
    return next;
  }
}
