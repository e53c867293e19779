import { describe, it, expect } from 'vitest';
import { xoshiro128ss, xoshiro128ssFromState } from './prng.ts';

describe('xoshiro128**', () => {
  it('matches the reference output for state (1, 2, 3, 4)', () => {
    const prng = xoshiro128ssFromState([1, 2, 3, 4]);
    expect(Array.from({ length: 5 }, () => prng.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883]);
  });

  it('is reproducible per seed, differs across seeds, and stays in range', () => {
    const a = xoshiro128ss(7);
    const b = xoshiro128ss(7);
    const c = xoshiro128ss(8);
    const xs = Array.from({ length: 1000 }, () => a.nextFloat());
    expect(Array.from({ length: 1000 }, () => b.nextFloat())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c.nextFloat())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    const ints = Array.from({ length: 1000 }, () => a.nextInt(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
  });
});
