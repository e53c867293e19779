/**
 * One worker's share of a partitioned BFS's visited set: the states whose fingerprint falls in
 * its range, in the single-machine explorers' typed-array table (StateStore), with the parent's
 * fingerprint beside each state. A parent usually belongs to another worker, so a state index
 * cannot serve as the link; the coordinator rebuilds a counterexample by asking each state's
 * owner for its parent's fingerprint, one step at a time back to the initial state.
 */
import { StateStore } from '../state-store.ts';

/** Which of `members` workers owns a fingerprint: ranges of the high 32 bits, equal in size. */
export function ownerOf(hi: number, members: number): number {
  return Math.floor(((hi >>> 0) * members) / 0x1_0000_0000);
}

export class OwnedStates {
  readonly store = new StateStore(1 << 16);
  /** Parent fingerprint lanes by state index; (0, 0) for the initial state (no fingerprint is (0, 0)). */
  private parentHi = new Int32Array(1 << 16);
  private parentLo = new Int32Array(1 << 16);

  get size(): number {
    return this.store.size;
  }

  has(hi: number, lo: number): boolean {
    return this.store.has(hi, lo);
  }

  /** Inserts a state at `depth` reached from `parent`; false when it was already there. */
  insert(hi: number, lo: number, parentHi: number, parentLo: number, depth: number): boolean {
    const index = this.store.insert(hi, lo, -1, depth);
    if (index < 0) return false;
    if (index >= this.parentHi.length) {
      const hiLanes = new Int32Array(this.parentHi.length * 2);
      hiLanes.set(this.parentHi);
      const loLanes = new Int32Array(this.parentLo.length * 2);
      loLanes.set(this.parentLo);
      this.parentHi = hiLanes;
      this.parentLo = loLanes;
    }
    this.parentHi[index] = parentHi;
    this.parentLo[index] = parentLo;
    return true;
  }

  /** The parent's fingerprint [hi, lo] (unsigned) of a state held here; null for the initial state or an unknown one. */
  parentOf(hi: number, lo: number): [number, number] | null {
    const index = this.store.find(hi, lo);
    if (index < 0) return null;
    const ph = this.parentHi[index]! >>> 0;
    const pl = this.parentLo[index]! >>> 0;
    return ph === 0 && pl === 0 ? null : [ph, pl];
  }

  /** Bytes this share of the visited set holds: the table and entry arrays, plus the parent links. */
  bytes(): number {
    return this.store.bytesPerState() * this.store.size + this.parentHi.byteLength + this.parentLo.byteLength;
  }
}
