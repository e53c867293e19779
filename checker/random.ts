/**
 * Random exploration: seeded walks from the initial state, each step a uniformly chosen enabled
 * event. One seed decides everything, so a violation replays from `--seed` alone. Distinct
 * states are still counted (fingerprints), to show how much of the space the walks covered.
 */
import { collisionProbability, fingerprint, fp } from './fingerprint.ts';
import type { Model } from './model.ts';
import type { GoalStatus, Stats } from './result.ts';
import { StateStore } from './state-store.ts';
import type { ConcretePath } from './trace-builder.ts';
import { HandlerError, type EventRef, type TraceEvent, type WorldState } from './world.ts';

export type WalkOutcome =
  | { kind: 'done' }
  | { kind: 'violation'; property: string; path: ConcretePath; walk: number }
  | { kind: 'deadlock'; path: ConcretePath; walk: number }
  | { kind: 'limit'; reason: 'time' | 'max-states' }
  | { kind: 'error'; error: string; path: ConcretePath; walk: number };

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
}

export function randomWalks(model: Model): { outcome: WalkOutcome; stats: Stats; goals: GoalStatus[] } {
  const o = model.options;
  const world = model.world;
  const rng = new Rng(o.seed);
  const store = new StateStore();
  const goals: GoalStatus[] = model.goals.map((g) => ({ name: g.name, reached: false }));
  const started = performance.now();
  let steps = 0;
  let walks = 0;
  let outcome: WalkOutcome = { kind: 'done' };
  const candidates: WorldState[] = [];
  const refs: EventRef[] = [];

  const note = (s: WorldState, depth: number) => {
    const bytes = model.pack(s);
    fingerprint(bytes, 0, bytes.length);
    store.insert(fp.hi, fp.lo, -1, depth);
    if (goals.length) {
      model.view.state = s;
      goals.forEach((g, i) => {
        if (!g.reached && model.goals[i]!.check(model.view)) {
          g.reached = true;
          g.depth = depth;
        }
      });
    }
  };

  walking: while (walks < o.walks) {
    walks++;
    let state = world.initial();
    const states: WorldState[] = [state];
    const events: EventRef[] = [];
    const path = (): ConcretePath => ({ states, events: describeAll(model, states, events) });
    try {
      note(state, 0);
      const bad0 = model.violated(state);
      if (bad0) {
        outcome = { kind: 'violation', property: bad0.name, path: path(), walk: walks };
        break;
      }
      for (let depth = 1; depth <= o.maxDepth; depth++) {
        candidates.length = 0;
        refs.length = 0;
        const enabled = world.successors(state, (next) => {
          candidates.push(next);
          refs.push({ ...world.event });
        });
        if (candidates.length === 0) {
          if (enabled === 0 && o.deadlock) {
            outcome = { kind: 'deadlock', path: path(), walk: walks };
            break walking;
          }
          break;
        }
        const k = rng.below(candidates.length);
        state = candidates[k]!;
        states.push(state);
        events.push(refs[k]!);
        steps++;
        note(state, depth);
        const bad = model.violated(state);
        if (bad) {
          outcome = { kind: 'violation', property: bad.name, path: path(), walk: walks };
          break walking;
        }
      }
    } catch (e) {
      if (!(e instanceof HandlerError)) throw e;
      outcome = { kind: 'error', error: e.message, path: path(), walk: walks };
      break;
    }
    if ((performance.now() - started) / 1000 > o.timeSeconds) {
      if (o.walks !== Number.POSITIVE_INFINITY) outcome = { kind: 'limit', reason: 'time' };
      break;
    }
    if (store.size >= o.maxStates) {
      outcome = { kind: 'limit', reason: 'max-states' };
      break;
    }
    if (o.onProgress && (walks & 255) === 0) {
      const seconds = (performance.now() - started) / 1000;
      o.onProgress({ distinctStates: store.size, statesGenerated: steps, depth: 0, queue: 0, seconds, statesPerSecond: store.size / seconds });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    outcome,
    goals,
    stats: {
      distinctStates: store.size,
      statesGenerated: steps,
      depth: o.maxDepth,
      seconds,
      statesPerSecond: seconds > 0 ? store.size / seconds : 0,
      bytesPerState: store.size ? store.bytesPerState() : 0,
      collisionProbability: collisionProbability(store.size),
      walks,
      steps,
    },
  };
}

/** Trace events for a walk: each event described in the state it was taken from. */
function describeAll(model: Model, states: WorldState[], events: EventRef[]): TraceEvent[] {
  const world = model.world;
  const out: TraceEvent[] = [{ kind: 'init' }];
  events.forEach((ref, i) => {
    Object.assign(world.event, ref);
    out.push(world.describe(states[i]!));
  });
  return out;
}
