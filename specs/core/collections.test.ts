/**
 * `equalValues` is the equality of the `compareValues` order, computed without sorting keys:
 * checked on arbitrary plain values, on equal values rebuilt with their keys in another order,
 * and on values that differ in one place.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareValues, equalValues, has } from './collections.ts';

/** A deep copy with every object's keys inserted in reverse order. */
function reordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reordered);
  if (v !== null && typeof v === 'object') {
    // fromEntries defines keys: a generated "__proto__" key stays a key, not a prototype.
    return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reordered((v as Record<string, unknown>)[k])]));
  }
  return v;
}

const value = fc.jsonValue({ maxDepth: 3 });

describe('equalValues', () => {
  it('agrees with compareValues on arbitrary pairs and on near-copies', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(equalValues(a, b)).toBe(compareValues(a, b) === 0);
        expect(equalValues(a, reordered(a))).toBe(true);
        expect(equalValues(reordered(a), a)).toBe(true);
        const changed = { wrap: a, extra: 1 };
        expect(equalValues({ wrap: a }, changed)).toBe(false);
        expect(equalValues(changed, { wrap: a })).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('treats null and undefined alike and keeps NaN equal to itself, as compareValues does', () => {
    expect(equalValues(null, undefined)).toBe(true);
    expect(equalValues({ a: null }, { a: undefined })).toBe(true);
    expect(equalValues(Number.NaN, Number.NaN)).toBe(compareValues(Number.NaN, Number.NaN) === 0);
    expect(equalValues([1, 2], { 0: 1, 1: 2 })).toBe(compareValues([1, 2], { 0: 1, 1: 2 }) === 0);
    expect(equalValues(new Map([[1, 'a']]), new Map([[1, 'a']]))).toBe(true);
    expect(has([{ x: 1, y: 2 }], { y: 2, x: 1 })).toBe(true);
  });
});
