/**
 * Parallel BFS on worker threads gives the same answers as one thread: the same distinct and
 * generated counts, depths and goals, and shortest counterexamples.
 */
import { describe, expect, it } from 'vitest';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { check, checkSync } from './check.ts';
import { Model } from './model.ts';
import { normalizeOptions } from './options.ts';
import { parallelBfs } from './parallel.ts';
import { SharedStore } from './shared-store.ts';

/** How worker threads find two-phase (the CLI passes the catalogue's module the same way). */
const twoPhaseSource = { ref: 'two-phase', module: new URL('../specs/two-phase/two-phase.ts', import.meta.url).href };

/** Parallel BFS with the workers started from the first level (check() waits for big levels). */
async function onWorkers(options: Parameters<typeof checkSync>[1], spec = twoPhase) {
  const model = new Model(spec, normalizeOptions(spec, options));
  return parallelBfs(model, twoPhaseSource.module, 2, 0);
}

describe('parallel BFS', () => {
  it('worker threads give the single-threaded counts (two-phase rms=3..6, 2 workers from the first level)', async () => {
    for (const rms of [3, 4, 5, 6]) {
      const one = checkSync(twoPhase, { params: { rms } });
      const r = await onWorkers({ params: { rms }, workers: 2 });
      expect(r.outcome.kind).toBe('done');
      expect(r.stats.distinctStates).toBe(one.stats.distinctStates);
      expect(r.stats.statesGenerated).toBe(one.stats.statesGenerated);
      expect(r.stats.depth).toBe(one.stats.depth);
      expect(r.goals.map((g) => [g.name, g.reached, g.depth])).toEqual(one.goals.map((g) => [g.name, g.reached, g.depth]));
    }
  });

  it('a search started on one thread hands a large level to the workers: the same counts and goals', async () => {
    const one = checkSync(twoPhase, { params: { rms: 6 } });
    for (const spawnAt of [50, 2000]) {
      const model = new Model(twoPhase, normalizeOptions(twoPhase, { params: { rms: 6 } }));
      const r = await parallelBfs(model, twoPhaseSource.module, 2, spawnAt);
      expect(r.outcome.kind).toBe('done');
      expect(r.stats.distinctStates).toBe(one.stats.distinctStates);
      expect(r.stats.statesGenerated).toBe(one.stats.statesGenerated);
      expect(r.stats.depth).toBe(one.stats.depth);
      expect(r.goals.map((g) => [g.name, g.reached, g.depth])).toEqual(one.goals.map((g) => [g.name, g.reached, g.depth]));
    }
    const broken = twoPhase.variant('abort-after-commit');
    const r = await parallelBfs(new Model(broken, normalizeOptions(broken, { params: { rms: 5 } })), twoPhaseSource.module, 2, 200);
    expect(r.outcome.kind).toBe('violation');
    const single = checkSync(broken, { params: { rms: 5 } });
    expect(single.result).toBe('violation');
    if (r.outcome.kind === 'violation' && single.result === 'violation') expect(r.outcome.path).toHaveLength(single.trace!.steps.length);
  });

  it('worker threads explore with the reference semantics too (fastPath: false): the fast single-threaded counts', async () => {
    const one = checkSync(twoPhase, { params: { rms: 5 } });
    const fromStart = await onWorkers({ params: { rms: 5 }, workers: 2, fastPath: false });
    const model = new Model(twoPhase, normalizeOptions(twoPhase, { params: { rms: 5 }, fastPath: false }));
    const handedOff = await parallelBfs(model, twoPhaseSource.module, 2, 200);
    for (const r of [fromStart, handedOff]) {
      expect(r.outcome.kind).toBe('done');
      expect(r.stats.distinctStates).toBe(one.stats.distinctStates);
      expect(r.stats.statesGenerated).toBe(one.stats.statesGenerated);
      expect(r.stats.depth).toBe(one.stats.depth);
    }
  });

  it('levels past the frontier memory budget go to disk and come back: the same counts', async () => {
    const one = checkSync(twoPhase, { params: { rms: 6 } });
    const r = await onWorkers({ params: { rms: 6 }, workers: 2, frontierMemoryBytes: 64 << 10 });
    expect(r.outcome.kind).toBe('done');
    expect(r.stats.spilledBytes).toBeGreaterThan(64 << 10);
    expect(r.stats.distinctStates).toBe(one.stats.distinctStates);
    expect(r.stats.statesGenerated).toBe(one.stats.statesGenerated);
    expect(r.stats.depth).toBe(one.stats.depth);
  });

  it('check() with workers gives the same results (small levels: the coordinator alone)', async () => {
    for (const rms of [3, 5]) {
      const one = checkSync(twoPhase, { params: { rms } });
      const two = await check(twoPhase, { params: { rms }, workers: 2 }, twoPhaseSource);
      expect(two.result).toBe('ok');
      expect(two.stats.distinctStates).toBe(one.stats.distinctStates);
      expect(two.stats.statesGenerated).toBe(one.stats.statesGenerated);
      expect(two.stats.depth).toBe(one.stats.depth);
      expect(two.goals.map((g) => [g.name, g.reached, g.depth])).toEqual(one.goals.map((g) => [g.name, g.reached, g.depth]));
    }
  });

  it('a violation found by workers comes back with a shortest trace', async () => {
    const r = await check(twoPhase.variant('commit-early'), { params: { rms: 4 }, workers: 2 }, twoPhaseSource);
    expect(r.result).toBe('violation');
    if (r.result === 'violation') expect(r.trace!.steps).toHaveLength(4);
  });

  it('a violation found on worker threads comes back with a shortest trace', async () => {
    const r = await onWorkers({ params: { rms: 4 } }, twoPhase.variant('commit-early'));
    expect(r.outcome.kind).toBe('violation');
    if (r.outcome.kind === 'violation') expect(r.outcome.path).toHaveLength(4);
  });

  it("the run's time includes the workers' part, not only the one-thread re-run that builds the trace", async () => {
    const started = performance.now();
    const r = await onWorkers({ params: { rms: 4 } }, twoPhase.variant('commit-early'));
    const total = (performance.now() - started) / 1000;
    expect(r.outcome.kind).toBe('violation');
    // The workers' start-up alone (loading the spec) is most of this run; the re-run takes milliseconds.
    expect(r.stats.seconds).toBeGreaterThan(0.5 * total);
    expect(r.stats.seconds).toBeLessThanOrEqual(total + 0.001);
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
    const r = await check(twoPhase.variant('commit-early'), { mode: 'random', seed: 3, params: { rms: 5 }, workers: 2 }, twoPhaseSource);
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
    const r = await check(twoPhase, { mode: 'random', seed: 1, walks: 200, workers: 2 }, twoPhaseSource);
    const alone = checkSync(twoPhase, { mode: 'random', seed: 1, walks: 200 });
    expect(r.result).toBe('ok');
    expect(r.exhaustive).toBe(false);
    expect(r.stats.walks).toBe(200);
    expect(r.stats.steps).toBe(alone.stats.steps); // the same 200 walks, split between workers
    expect(r.goals.map((g) => g.reached)).toEqual(alone.goals.map((g) => g.reached));
  });
});
