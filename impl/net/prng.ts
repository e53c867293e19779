/**
 * xoshiro128** (Blackman and Vigna, 2018), seeded through splitmix32: small, fast, and identical
 * on every platform, so one seed reproduces a run of injected faults exactly. Not cryptographic.
 */
export interface Prng {
  /** Next unsigned 32-bit integer. */
  nextU32(): number;
  /** Next float in [0, 1), with 32 bits of randomness. */
  nextFloat(): number;
  /** Next integer in [min, max] (inclusive). */
  nextInt(min: number, max: number): number;
}

/** Makes a {@link Prng} from any 32-bit seed (other numbers are reduced modulo 2^32). */
export function xoshiro128ss(seed: number): Prng {
  let x = seed >>> 0;
  const splitmix32 = (): number => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return xoshiro128ssFromState([splitmix32(), splitmix32(), splitmix32(), splitmix32()]);
}

/** Makes a {@link Prng} from its raw 128-bit state (not all zero); for reference vectors. */
export function xoshiro128ssFromState(state: readonly [number, number, number, number]): Prng {
  let [s0, s1, s2, s3] = state.map((v) => v | 0) as [number, number, number, number];
  const rotl = (v: number, k: number): number => (v << k) | (v >>> (32 - k));
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  return {
    nextU32,
    nextFloat: () => nextU32() / 0x1_0000_0000,
    nextInt: (min, max) => min + Math.floor((nextU32() / 0x1_0000_0000) * (max - min + 1)),
  };
}
