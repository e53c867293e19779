/**
 * The set of operations the Wing–Gong–Lowe search has linearized, kept so that a memo entry
 * costs memory in proportion to the search's window, not to the history.
 *
 * A plain bitset over n operations makes each of the search's ~n memo entries n bits long: memory
 * quadratic in the history (61k etcd operations took 968 MB, 122k went past 3 GB). But the sets
 * the search reaches have a shape. Number the operations that return by call time: an operation
 * can only be linearized before the first return still in the search's list, so every linearized
 * one was called before the earliest-returning pending one returned. So that part of the set is
 * "every operation below some call rank" plus a few operations concurrent with the oldest pending
 * one: a run of full words, a short window, then zeros. A record stores the window and its offset.
 *
 * Operations that never return (a Jepsen `:info`, 15% of Porcupine's etcd operations; it may take
 * effect at any later time) break that shape: which of them took effect is scattered over the
 * whole history. Their bits are cut into chunks of 1,024 that are hash-consed, and the list of
 * chunk ids is hash-consed too, so that part of a record is one id, and changing one bit stores
 * one chunk and one list (the list is 1/1,024 of their number).
 *
 * Records are canonical: two equal sets write equal records, so the memo finds a pair again.
 */
import type { Operation } from '../history/history.ts';
import { Interner } from './interner.ts';

/** Words per hash-consed chunk of the never-returning operations' bits. */
const CHUNK_WORDS = 32;

/** The linearized set of one search, with its window and its interned part kept up to date. */
export class LinearizedSet {
  /** The full bitset, by bit position (see the module comment). */
  private readonly bits: Int32Array;
  /** Bit position of each operation. */
  private readonly position: Int32Array;
  /** Words [0, finiteWords) hold the operations that return; the rest, those that never do. */
  private readonly finiteWords: number;
  /** Words below this one are all ones (finite part). */
  private fullBelow = 0;
  /** The last non-zero word of the finite part, or fullBelow - 1 when none is above the full run. */
  private finiteTop = -1;
  /** The never-returning part: the current id of each chunk, or -1 when it changed since. */
  private readonly chunkIds: Int32Array;
  private readonly dirtyChunks: number[] = [];
  private readonly chunks = new Interner();
  private readonly lists = new Interner();
  /** The id of the never-returning part's list of chunk ids, or -1 when it changed since. */
  private openId = -1;

  constructor(ops: readonly Operation[]) {
    const n = ops.length;
    const finite: number[] = [];
    const open: number[] = [];
    for (let k = 0; k < n; k++) (Number.isFinite(ops[k]!.return) ? finite : open).push(k);
    const byCall = (a: number, b: number): number => ops[a]!.call - ops[b]!.call || a - b;
    finite.sort(byCall);
    open.sort(byCall);
    this.finiteWords = (finite.length + 31) >>> 5;
    this.position = new Int32Array(n);
    finite.forEach((op, rank) => (this.position[op] = rank));
    open.forEach((op, rank) => (this.position[op] = this.finiteWords * 32 + rank));
    const openWords = (open.length + 31) >>> 5;
    this.bits = new Int32Array(this.finiteWords + openWords);
    this.chunkIds = new Int32Array(Math.ceil(openWords / CHUNK_WORDS)).fill(-1);
    for (let c = 0; c < this.chunkIds.length; c++) this.dirtyChunks.push(c);
  }

  has(op: number): boolean {
    const p = this.position[op]!;
    return (this.bits[p >>> 5]! & (1 << (p & 31))) !== 0;
  }

  add(op: number): void {
    const p = this.position[op]!;
    const w = p >>> 5;
    const bits = this.bits;
    bits[w]! |= 1 << (p & 31);
    if (w < this.finiteWords) {
      if (w > this.finiteTop) this.finiteTop = w;
      while (this.fullBelow < this.finiteWords && bits[this.fullBelow] === -1) this.fullBelow++;
      if (this.finiteTop < this.fullBelow - 1) this.finiteTop = this.fullBelow - 1;
    } else {
      this.openChanged(w);
    }
  }

  remove(op: number): void {
    const p = this.position[op]!;
    const w = p >>> 5;
    const bits = this.bits;
    bits[w]! &= ~(1 << (p & 31));
    if (w < this.finiteWords) {
      if (w < this.fullBelow) this.fullBelow = w;
      while (this.finiteTop >= this.fullBelow && bits[this.finiteTop] === 0) this.finiteTop--;
    } else {
      this.openChanged(w);
    }
  }

  private openChanged(word: number): void {
    const c = ((word - this.finiteWords) / CHUNK_WORDS) | 0;
    if (this.chunkIds[c] !== -1) {
      this.chunkIds[c] = -1;
      this.dirtyChunks.push(c);
    }
    this.openId = -1;
  }

  /** The id of the never-returning part (interning what changed since the last call). */
  private openPart(): number {
    if (this.openId >= 0) return this.openId;
    for (const c of this.dirtyChunks) {
      const at = this.finiteWords + c * CHUNK_WORDS;
      this.chunkIds[c] = this.chunks.intern(this.bits, at, Math.min(CHUNK_WORDS, this.bits.length - at));
    }
    this.dirtyChunks.length = 0;
    return (this.openId = this.lists.intern(this.chunkIds, 0, this.chunkIds.length));
  }

  /**
   * The canonical record of the set: `[fullBelow, windowLength, openPartId]` then the window's
   * words. Written into `into` at `at`; returns its length ({@link recordLength}).
   */
  window(into: Int32Array, at: number): number {
    into[at] = this.fullBelow;
    into[at + 1] = this.finiteTop - this.fullBelow + 1;
    into[at + 2] = this.openPart();
    let k = at + 3;
    for (let w = this.fullBelow; w <= this.finiteTop; w++) into[k++] = this.bits[w]!;
    return k - at;
  }

  /** The length of the record {@link window} writes now. */
  recordLength(): number {
    return 3 + (this.finiteTop - this.fullBelow + 1);
  }

  /** Whether the record stored in `from` at `at` is this set's. */
  matches(from: Int32Array, at: number): boolean {
    if (from[at] !== this.fullBelow || from[at + 1] !== this.finiteTop - this.fullBelow + 1) return false;
    let k = at + 3;
    const bits = this.bits;
    for (let w = this.fullBelow; w <= this.finiteTop; w++) if (from[k++] !== bits[w]) return false;
    return from[at + 2] === this.openPart();
  }

  /** Int32 words held by the interned chunks and lists. */
  get internedWords(): number {
    return this.chunks.words + this.lists.words;
  }
}
