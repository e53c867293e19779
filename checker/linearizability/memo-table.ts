/**
 * The memo of the Wing–Gong–Lowe search: the set of (linearized operations, model state) pairs
 * already explored. Reaching a pair again can lead nowhere new (Lowe's optimisation), so the
 * search skips it. The linearized set is a bitset kept by the caller; its hash is maintained
 * incrementally (XOR of one random word per operation), so adding a pair costs one probe.
 *
 * Storage is flat: an open-addressing table of entry numbers, and per entry its hash, its
 * bitset words (in one Int32Array arena) and its state. No per-entry objects.
 */
export class MemoTable<S> {
  private readonly words: number;
  private readonly equal: (a: S, b: S) => boolean;
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private arena: Int32Array;
  private readonly states: S[] = [];
  private count = 0;

  constructor(words: number, equal: (a: S, b: S) => boolean, initialCapacity = 1024) {
    this.words = words;
    this.equal = equal;
    let size = 16;
    while (size < initialCapacity * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    this.hashes = new Int32Array(initialCapacity);
    this.arena = new Int32Array(initialCapacity * words);
  }

  /** Number of pairs stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds (bits, state) unless present. `hash` must be derived from both. Returns true when the
   * pair is new.
   */
  add(bits: Int32Array, hash: number, state: S): boolean {
    const words = this.words;
    const hashes = this.hashes;
    const arena = this.arena;
    const slots = this.slots;
    const mask = this.mask;
    let slot = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const e = slots[slot]! - 1;
      if (e < 0) break;
      if (hashes[e] === hash) {
        let same = true;
        const base = e * words;
        for (let w = 0; w < words; w++) {
          if (arena[base + w] !== bits[w]) {
            same = false;
            break;
          }
        }
        if (same && this.equal(this.states[e]!, state)) return false;
      }
      slot = (slot + 1) & mask;
    }
    const e = this.count++;
    if (e >= hashes.length) this.growEntries();
    this.hashes[e] = hash;
    this.arena.set(bits.subarray(0, words), e * words);
    this.states.push(state);
    slots[slot] = e + 1;
    if (this.count * 2 > mask) this.rehash();
    return true;
  }

  private growEntries(): void {
    const capacity = this.hashes.length * 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const arena = new Int32Array(capacity * this.words);
    arena.set(this.arena);
    this.arena = arena;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let e = 0; e < this.count; e++) {
      const h = this.hashes[e]!;
      let slot = (h ^ (h >>> 15)) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
