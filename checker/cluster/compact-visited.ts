/**
 * The visited set of one bounded depth-first swarm job: hash compaction as in Spin (Wolper and
 * Leroy; Holzmann, Joshi and Groce's swarm verification), keyed by the job's own hash seed. A
 * state's 64-bit fingerprint is mixed with the seed into a table slot and a 32-bit key, and only
 * the key is kept. Two states whose keys meet in one probe chain are taken for one, so a job may
 * skip part of the space; a job with another seed skips another part, which is why a swarm gives
 * each job its own seed. Memory is fixed when the job starts (4 bytes a slot, at most half of
 * them used), so a job's budget is a number of states.
 */
import { fmix } from '../fingerprint.ts';

export class CompactVisited {
  private readonly keys: Uint32Array;
  private readonly mask: number;
  size = 0;

  /** A table for at least `states` states under hash seed `seed`. */
  constructor(
    readonly states: number,
    private readonly seed: number,
  ) {
    let cap = 1024;
    while (cap < states * 2) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** Whether the table holds as many states as it was made for. */
  get full(): boolean {
    return this.size >= this.states;
  }

  /** Whether the state with fingerprint (hi, lo) is in the set. */
  has(hi: number, lo: number): boolean {
    return this.probe(hi, lo) < 0;
  }

  /** Adds the state with fingerprint (hi, lo); false when it was there already. */
  add(hi: number, lo: number): boolean {
    const slot = this.probe(hi, lo);
    if (slot < 0) return false;
    this.keys[slot] = this.key;
    this.size++;
    return true;
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.keys.byteLength;
  }

  /** The key of the fingerprint last probed. */
  private key = 0;

  /** The empty slot where (hi, lo) goes, or -1 when its key is there. */
  private probe(hi: number, lo: number): number {
    const key = (mix(lo ^ Math.imul(this.seed, 0x9e3779b1), hi) | 1) >>> 0; // never 0, the empty mark
    this.key = key;
    const keys = this.keys;
    for (let slot = mix(hi ^ this.seed, lo) & this.mask; ; slot = (slot + 1) & this.mask) {
      const k = keys[slot]!;
      if (k === 0) return slot;
      if (k === key) return -1;
    }
  }
}

/** Murmur3's finalizer over two words. */
function mix(a: number, b: number): number {
  return fmix(Math.imul(a ^ (b >>> 15), 0xcc9e2d51) ^ b);
}
