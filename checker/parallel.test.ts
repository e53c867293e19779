/**
 * Parallel BFS on worker threads gives the same answers as one thread: the same distinct and
 * generated counts, depths and goals, and shortest counterexamples.
 */
import { describe, expect, it } from 'vitest';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { check, checkSync } from './check.ts';
import { SharedStore } from './shared-store.ts';

describe('parallel BFS', () => {
  it('counts equal the single-threaded run (two-phase rms=3..6, 2 workers)', async () => {
    for (const rms of [3, 4, 5, 6]) {
      const one = checkSync(twoPhase, { params: { rms } });
      const two = await check(twoPhase, { params: { rms }, workers: 2 }, 'two-phase');
      expect(two.result).toBe('ok');
      expect(two.stats.distinctStates).toBe(one.stats.distinctStates);
      expect(two.stats.statesGenerated).toBe(one.stats.statesGenerated);
      expect(two.stats.depth).toBe(one.stats.depth);
      expect(two.goals.map((g) => [g.name, g.reached, g.depth])).toEqual(one.goals.map((g) => [g.name, g.reached, g.depth]));
    }
  });

  it('a violation found by workers comes back with a shortest trace', async () => {
    const r = await check(twoPhase.variant('commit-early'), { params: { rms: 4 }, workers: 2 }, 'two-phase');
    expect(r.result).toBe('violation');
    if (r.result === 'violation') expect(r.trace!.steps).toHaveLength(4);
  });

  it('the shared table grows between levels without losing states', async () => {
    // A small first table forces several grow steps on 50,816 states.
    const r = await check(twoPhase, { params: { rms: 6 }, workers: 2 }, 'two-phase');
    expect(r.stats.distinctStates).toBe(50_816);
  });

  it('needs a module it can load in the workers', async () => {
    await expect(check(twoPhase, { workers: 2 }, 'relative/path.ts')).rejects.toThrow(/absolute path/);
  });
});

describe('SharedStore', () => {
  it('inserts each fingerprint once and keeps them across growth', () => {
    let s = SharedStore.create(1024);
    const fps: [number, number][] = Array.from({ length: 700 }, (_, i) => [Math.imul(i, 0x9e3779b1), Math.imul(i + 1, 0x85ebca6b)]);
    for (const [hi, lo] of fps) expect(s.insert(hi, lo)).toBe(true);
    expect(s.full).toBe(false);
    s = s.grow(4096);
    for (const [hi, lo] of fps) expect(s.insert(hi, lo)).toBe(false);
    expect(s.size).toBe(700);
  });
});
