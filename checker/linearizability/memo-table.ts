/**
 * The memo of the Wing–Gong–Lowe search: the set of (linearized operations, model state) pairs
 * already explored. Reaching a pair again can lead nowhere new (Lowe's optimisation), so the
 * search skips it. The linearized set is a {@link LinearizedSet} kept by the caller; its hash is
 * maintained incrementally by the caller (XOR of one random word per operation), so a lookup
 * costs one probe sequence.
 *
 * Storage is flat and its size linear in the history: each pair's set is stored as its
 * canonical window record (a few words, see linearized-set.ts) appended to one Int32Array heap;
 * an open-addressing table of hashes and record numbers finds them, and the states sit in a
 * plain array by record number, read only on a full match.
 */
import { grown } from './interner.ts';
import type { LinearizedSet } from './linearized-set.ts';

export class MemoTable<S> {
  private readonly equal: (a: S, b: S) => boolean;
  /** per slot: the pair's hash (0 marks an empty slot) */
  private slotHash: Int32Array;
  /** per slot: its record number */
  private slotRecord: Int32Array;
  /** number of slots minus one (a power of two minus one) */
  private mask: number;
  /** the records, back to back; offsets[r] is where record r starts */
  private heap: Int32Array;
  private heapUsed = 0;
  private offsets: Int32Array;
  private readonly states: S[] = [];
  private count = 0;

  constructor(equal: (a: S, b: S) => boolean, expectedEntries = 1024) {
    this.equal = equal;
    let slots = 64;
    while (slots < expectedEntries * 2) slots *= 2;
    this.slotHash = new Int32Array(slots);
    this.slotRecord = new Int32Array(slots);
    this.mask = slots - 1;
    this.heap = new Int32Array(slots * 4);
    this.offsets = new Int32Array(slots);
  }

  /** Number of pairs stored. */
  get size(): number {
    return this.count;
  }

  /** Int32 words held by the table (its memory is about 4 bytes each, plus the states). */
  get words(): number {
    return this.slotHash.length * 2 + this.heap.length + this.offsets.length;
  }

  /**
   * Adds (set, state) unless present; `hash` must be derived from both. Returns true when the
   * pair is new.
   */
  add(set: LinearizedSet, hash: number, state: S): boolean {
    const h = hash === 0 ? 1 : hash; // 0 marks an empty slot
    const mask = this.mask;
    const slotHash = this.slotHash;
    let slot = (h ^ (h >>> 16)) & mask;
    for (;;) {
      const stored = slotHash[slot]!;
      if (stored === 0) break;
      if (stored === h) {
        const r = this.slotRecord[slot]!;
        if (set.matches(this.heap, this.offsets[r]!) && this.equal(this.states[r]!, state)) return false;
      }
      slot = (slot + 1) & mask;
    }
    const r = this.count++;
    const need = set.recordLength();
    if (this.heapUsed + need > this.heap.length) this.heap = grown(this.heap, this.heapUsed + need);
    if (r >= this.offsets.length) this.offsets = grown(this.offsets, r + 1);
    this.offsets[r] = this.heapUsed;
    this.heapUsed += set.window(this.heap, this.heapUsed);
    this.states.push(state);
    slotHash[slot] = h;
    this.slotRecord[slot] = r;
    if (this.count * 2 > mask) this.rehash();
    return true;
  }

  private rehash(): void {
    const oldHash = this.slotHash;
    const oldRecord = this.slotRecord;
    const slots = (this.mask + 1) * 2;
    const mask = slots - 1;
    const slotHash = new Int32Array(slots);
    const slotRecord = new Int32Array(slots);
    for (let i = 0; i < oldHash.length; i++) {
      const h = oldHash[i]!;
      if (h === 0) continue;
      let slot = (h ^ (h >>> 16)) & mask;
      while (slotHash[slot] !== 0) slot = (slot + 1) & mask;
      slotHash[slot] = h;
      slotRecord[slot] = oldRecord[i]!;
    }
    this.slotHash = slotHash;
    this.slotRecord = slotRecord;
    this.mask = mask;
  }
}
