/**
 * The linearized set's window records: canonical (equal sets give equal records, whatever order
 * they were built in, so the memo finds a pair again) and exact (different sets never match),
 * across many words and with never-returning operations; and the memo of a 20,000-operation
 * search stays linear in the history (a plain bitset per entry made it quadratic: 61k etcd
 * operations took 968 MB).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation } from '../history/history.ts';
import { parseEtcdLog } from '../history/etcd-log.ts';
import { generateEtcdLog } from '../../bench/etcd-histories.ts';
import { registerModel } from '../../specs/core/models/register.ts';
import { LinearizedSet } from './linearized-set.ts';
import { resolveModel } from './model.ts';
import { startSearch } from './wgl-search.ts';

const record = (s: LinearizedSet): number[] => {
  const into = new Int32Array(s.recordLength());
  expect(s.window(into, 0)).toBe(into.length);
  return [...into];
};

/** Operations with random intervals; `openOneIn`: one in that many never returns. */
const operations = (minLength: number, maxLength: number, openOneIn: number) =>
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: openOneIn })), { minLength, maxLength })
    .map((specs) => specs.map(([call, length, open], id): Operation => ({ id, process: id, call, return: open === 1 ? Number.POSITIVE_INFINITY : call + length, input: null, output: null })));

/**
 * Toggles members in and out; after each step, the record equals the one stored when the same
 * members were reached before (canonical), and no record stored for other members matches (exact).
 */
function checkToggles(ops: readonly Operation[], toggles: readonly number[]): void {
  const set = new LinearizedSet(ops);
  const members = new Set<number>();
  const seen = new Map<string, Int32Array>();
  for (const t of toggles) {
    const op = t % ops.length;
    if (members.has(op)) {
      set.remove(op);
      members.delete(op);
    } else {
      set.add(op);
      members.add(op);
    }
    for (let k = 0; k < ops.length; k++) expect(set.has(k)).toBe(members.has(k));
    const key = [...members].sort((a, b) => a - b).join(',');
    const r = Int32Array.from(record(set));
    const before = seen.get(key);
    if (before) expect([...r]).toEqual([...before]);
    for (const [other, stored] of seen) expect(set.matches(stored, 0), `${key} against ${other}`).toBe(other === key);
    seen.set(key, r);
  }
}

describe('LinearizedSet', () => {
  it('stores equal sets as equal records and tells different sets apart, under any add/remove sequence', () => {
    fc.assert(fc.property(operations(1, 160, 8), fc.array(fc.nat({ max: 40 }), { maxLength: 200 }), checkToggles), { numRuns: 60, seed: 25 });
  });

  it('the same with thousands of never-returning operations (several interned chunks)', () => {
    fc.assert(fc.property(operations(2100, 2400, 1), fc.array(fc.nat({ max: 40 }), { maxLength: 120 }), checkToggles), { numRuns: 3, seed: 25 });
  });

  it("keeps a 20,000-operation search's memo linear in the history", () => {
    const history = parseEtcdLog(generateEtcdLog({ operations: 20_000, seed: 3, infoRate: 0.01 }), 'generated.log');
    const outcome = startSearch(history.operations, resolveModel(registerModel), true).run(Number.POSITIVE_INFINITY, () => false)!;
    expect(outcome.result).toBe('linearizable');
    // A bitset per entry would be 625 words each; the windows are a few words.
    expect(outcome.memoWords! / history.operations.length).toBeLessThan(64);
  });
});
