/**
 * The seeded PRNG of random mode. One seed decides everything; each walk gets its own stream
 * derived from (seed, walk index), so any single walk can be re-run on its own (`--walk W`)
 * and walks never depend on how many came before them.
 */

/** A small, fast, seedable PRNG (splitmix32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x9e3779b9) | 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }
  /** A float in [0, 1). */
  unit(): number {
    return this.next() / 0x100000000;
  }
}

/** The seed of walk `walk` under run seed `seed` (both non-negative integers). */
export function walkSeed(seed: number, walk: number): number {
  // Mix the high part of large seeds too, so seeds above 2^32 do not alias.
  const hi = Math.floor(seed / 0x100000000);
  return mix(mix(seed >>> 0) ^ mix(hi + 0x632be5ab) ^ Math.imul(walk + 1, 0x9e3779b1)) >>> 0;
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h;
}
