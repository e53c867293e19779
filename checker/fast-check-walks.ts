/**
 * Random mode with fast-check drawing the schedules (`strategy: 'fast-check'`). A schedule is an
 * array of choice indices, `fc.array(fc.nat())`; choice c at a state with n successors takes
 * successor c mod n, and the walk ends when the choices run out. fast-check's own shrinking
 * then works on schedules natively: shorter arrays are shorter walks, smaller indices are
 * earlier events, so the counterexample it reports is already small — no replay-based
 * minimizer involved. The shrunk schedule is logged in the trace (`choices`).
 */
import { createRequire } from 'node:module';
import type * as FastCheck from 'fast-check';
import type { Model } from './model.ts';
import { walkSeed, Walker, type RandomRun, type WalkOutcome } from './random.ts';
import type { StateEntry } from './transition-cache.ts';
import { HandlerError, type EventRef } from './world.ts';

let fastCheckModule: typeof FastCheck | undefined;
/** fast-check (its CommonJS build) loads with the first fast-check run: every other check starts without it. */
function fastCheck(): typeof FastCheck {
  return (fastCheckModule ??= createRequire(import.meta.url)('fast-check') as typeof FastCheck);
}

/** Runs fast-check over schedules; returns its shrunk counterexample as a walk outcome. */
export function fastCheckWalks(model: Model): RandomRun {
  const o = model.options;
  const walker = new Walker(model);
  const maxLength = Math.min(o.maxDepth, 10_000);
  let walks = 0;

  /** Follows a schedule; returns the first bad entry's index, or -1, plus the walk. */
  const run = (choices: readonly number[]) => {
    const entries: StateEntry[] = [];
    const refs: EventRef[] = [];
    let e = walker.initial();
    entries.push(e);
    if (e.bad) return { bad: 0, entries, refs, deadlock: false };
    for (let i = 0; i < choices.length; i++) {
      const exp = walker.expand(e);
      if (exp.count === 0) return { bad: -1, entries, refs, deadlock: exp.enabled === 0 && o.deadlock };
      const k = choices[i]! % exp.count;
      refs.push(exp.refs[k]!);
      e = walker.follow(e, exp, k, i + 1);
      entries.push(e);
      walker.steps++;
      if (e.bad) return { bad: i + 1, entries, refs, deadlock: false };
    }
    return { bad: -1, entries, refs, deadlock: false };
  };

  const fc = fastCheck();
  const property = fc.property(fc.array(fc.nat(), { maxLength, size: 'max' }), (choices) => {
    walks++;
    const r = run(choices);
    return r.bad < 0 && !r.deadlock;
  });
  const plugins = Number.isFinite(o.timeSeconds) ? [fc.interruptAfterTimeLimit(o.timeSeconds * 1000)] : [];
  const details = fc.check(property, {
    seed: walkSeed(o.seed, 0) | 0,
    numRuns: o.walks === Number.POSITIVE_INFINITY ? 2 ** 31 - 1 : o.walks,
    plugins,
  });

  let outcome: WalkOutcome = { kind: 'done' };
  if (details.failed && details.counterexample) {
    const [choices] = details.counterexample as [number[]];
    const log = { strategy: 'fast-check' as const, shrinks: details.numShrinks, choices: [...choices] };
    try {
      const r = run(choices);
      const path = walker.path(r.entries, r.refs);
      if (r.bad >= 0) outcome = { kind: 'violation', property: r.entries[r.bad]!.bad!.name, path, walk: details.numRuns - 1, log };
      else if (r.deadlock) outcome = { kind: 'deadlock', path, walk: details.numRuns - 1, log };
    } catch (err) {
      if (!(err instanceof HandlerError)) throw err;
      // A handler threw on this schedule: the path up to the throw comes from a shorter prefix.
      outcome = { kind: 'error', error: err.message, path: errorPath(choices), walk: details.numRuns - 1, log };
    }
  } else if (details.interrupted && o.walks !== Number.POSITIVE_INFINITY) {
    outcome = { kind: 'limit', reason: 'time' };
  }
  return { outcome, goals: walker.goals, stats: walker.stats(walks), cache: walker.cacheStats() };

  function errorPath(choices: readonly number[]) {
    // The longest prefix that runs without throwing leads to the state where the handler threw.
    for (let n = choices.length - 1; n >= 0; n--) {
      try {
        const r = run(choices.slice(0, n));
        return walker.path(r.entries, r.refs);
      } catch (err) {
        if (!(err instanceof HandlerError)) throw err;
      }
    }
    return { states: [], events: [] };
  }
}
