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

describe('parallel random mode', () => {
  it('workers share the walks of one seed; a violation comes back with the trace of its walk', async () => {
    const r = await check(twoPhase.variant('commit-early'), { mode: 'random', seed: 3, params: { rms: 5 }, workers: 2 }, 'two-phase');
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    const walk = (r.trace as { walk?: number }).walk!;
    expect(walk).toBeGreaterThanOrEqual(0);
    // The same walk alone, single-threaded, gives the same trace.
    const alone = checkSync(twoPhase.variant('commit-early'), { mode: 'random', seed: 3, params: { rms: 5 }, walk });
    expect(alone.result).toBe('violation');
    if (alone.result === 'violation') expect(alone.trace!.steps.map((s) => s.fingerprint)).toEqual(r.trace!.steps.map((s) => s.fingerprint));
  });

  it('a clean run counts every walk of every worker', async () => {
    const r = await check(twoPhase, { mode: 'random', seed: 1, walks: 200, workers: 2 }, 'two-phase');
    const alone = checkSync(twoPhase, { mode: 'random', seed: 1, walks: 200 });
    expect(r.result).toBe('incomplete');
    expect(r.stats.walks).toBe(200);
    expect(r.stats.steps).toBe(alone.stats.steps); // the same 200 walks, split between workers
    expect(r.goals.map((g) => g.reached)).toEqual(alone.goals.map((g) => g.reached));
  });
});
