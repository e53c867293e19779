/**
 * The memo of the Wing–Gong–Lowe search: the set of (linearized operations, model state) pairs
 * already explored. Reaching a pair again can lead nowhere new (Lowe's optimisation), so the
 * search skips it. The linearized set is a bitset kept by the caller; its hash is maintained
 * incrementally by the caller (XOR of one random word per operation), so a lookup costs one
 * probe sequence.
 *
 * Storage is flat, for cache locality: an open-addressing table of fixed-size records
 * `[hash, bitset words...]` in one Int32Array, so a probe reads one cache line; the states sit
 * in a plain array indexed by record and are read only on a full match.
 */
export class MemoTable<S> {
  private readonly words: number;
  private readonly stride: number;
  private readonly equal: (a: S, b: S) => boolean;
  private table: Int32Array;
  /** states by record number (holey: only occupied records have one) */
  private states: S[];
  /** number of records the table holds, minus one (a power of two minus one) */
  private mask: number;
  private count = 0;

  constructor(words: number, equal: (a: S, b: S) => boolean, expectedEntries = 1024) {
    this.words = words;
    this.stride = words + 1;
    this.equal = equal;
    let records = 64;
    while (records < expectedEntries * 2) records *= 2;
    this.table = new Int32Array(records * this.stride);
    this.states = new Array<S>(records);
    this.mask = records - 1;
  }

  /** Number of pairs stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds (bits, state) unless present; `hash` must be derived from both. Returns true when the
   * pair is new.
   */
  add(bits: Int32Array, hash: number, state: S): boolean {
    const words = this.words;
    const stride = this.stride;
    const table = this.table;
    const mask = this.mask;
    const h = hash === 0 ? 1 : hash; // 0 marks an empty record
    let slot = (h ^ (h >>> 16)) & mask;
    for (;;) {
      const at = slot * stride;
      const stored = table[at]!;
      if (stored === 0) break;
      if (stored === h) {
        let w = 0;
        while (w < words && table[at + 1 + w] === bits[w]) w++;
        if (w === words && this.equal(this.states[slot]!, state)) return false;
      }
      slot = (slot + 1) & mask;
    }
    const at = slot * stride;
    table[at] = h;
    for (let w = 0; w < words; w++) table[at + 1 + w] = bits[w]!;
    this.states[slot] = state;
    if (++this.count * 2 > mask) this.grow();
    return true;
  }

  private grow(): void {
    const stride = this.stride;
    const old = this.table;
    const oldStates = this.states;
    const records = (this.mask + 1) * 2;
    const table = new Int32Array(records * stride);
    const states = new Array<S>(records);
    const mask = records - 1;
    for (let from = 0, at = 0; at < old.length; from++, at += stride) {
      const h = old[at]!;
      if (h === 0) continue;
      let slot = (h ^ (h >>> 16)) & mask;
      while (table[slot * stride] !== 0) slot = (slot + 1) & mask;
      table.set(old.subarray(at, at + stride), slot * stride);
      states[slot] = oldStates[from]!;
    }
    this.table = table;
    this.states = states;
    this.mask = mask;
  }
}
