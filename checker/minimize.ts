/**
 * Counterexample minimization, in the spirit of DSLabs' trace minimizer and fast-check's
 * shrinking, but on traces from any explorer:
 *
 * 1. Delta debugging (Zeller & Hildebrandt's ddmin) over the events. A candidate event list is
 *    replayed from the initial state, skipping events that are no longer enabled, and kept when
 *    it still reaches the same failure (the same property violated, or a deadlock). The result
 *    is 1-minimal: no single event can go.
 * 2. Shortcuts: a bounded BFS from each state of the trace looking for a later state of the trace
 *    (by fingerprint), or for any failing state, in fewer steps than the trace takes.
 * 3. Preference: among traces of the same length, fewer crashes, then fewer message faults
 *    (drops, duplicates), then fewer distinct nodes, then fewer deliveries — first by trying to
 *    drop every fault at once, and at the end by re-routing short windows of the trace through
 *    the cheapest equivalent path.
 * The phases repeat until none improves the trace. The result always replays (`replayTrace`).
 *
 * A lasso (liveness) is shortened instead by liveness/shorten-lasso.ts: a shorter cycle that the
 * checker's fairness judgement still accepts, then a shortest stem to it.
 *
 * Limits: the BFS searches are bounded (`bfsStates` per search) and the whole run by `timeSeconds`;
 * on a timeout the best trace so far is returned. Minimization is local: it can miss a shorter
 * counterexample that shares nothing with the trace (BFS from the start is the way to find the
 * shortest one when the space allows).
 */
import type { Property } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';
import type { Model } from './model.ts';
import { concreteFingerprint, replayTrace, ReplayMismatch } from './replay.ts';
import { stepOf } from './trace-events.ts';
import { traceSteps, type ConcretePath } from './trace-builder.ts';
import { shortenLasso, type LassoRun } from './liveness/shorten-lasso.ts';
import type { EventRef, TraceEvent, WorldState } from './world.ts';

export interface MinimizeOptions {
  /** States each shortcut search may visit (default 20,000). */
  bfsStates?: number;
  /** Longest window re-routed by the preference pass (default 3 steps). */
  windowSteps?: number;
  /** Stop improving after this long and return the best trace so far (default 60 s). */
  timeSeconds?: number;
}

/** One phase's effect, for the report. */
export interface PhaseReport {
  phase: 'drop-faults' | 'ddmin' | 'shortcuts' | 'prefer' | 'lasso';
  /** Steps before and after the phase. */
  before: number;
  after: number;
  /** Replays (ddmin) or states visited (searches). */
  work: number;
  seconds: number;
}

export interface MinimizeResult {
  trace: TraceFile;
  /** Steps (events after the initial state) before and after. */
  before: number;
  after: number;
  seconds: number;
  phases: PhaseReport[];
  /** True when the time limit cut minimization short. */
  timedOut: boolean;
}

/** A run: the events taken and the states they led to (states[0] is the initial state). */
interface Run {
  events: TraceEvent[];
  states: WorldState[];
}

/** What a minimized trace must still show. */
interface Goal {
  reached(s: WorldState): boolean;
}

/** Minimizes a violation or deadlock trace of `model` (which must be the trace's model). */
export function minimizeTrace(model: Model, trace: TraceFile, options: MinimizeOptions = {}): MinimizeResult {
  if (trace.loopStart !== undefined) return minimizeLasso(model, trace, options);
  if (trace.bounded !== undefined) {
    // A bounded walk (random mode, liveness): its claim is a wait of `bounded.steps` steps, which
    // shortening would break. Kept as it is once it replays.
    if (!replayTrace(model, trace).ok) throw new ReplayMismatch('the bounded walk does not replay; run `pacta replay` on it to see where it diverges');
    const n = trace.steps.length - 1;
    return { trace, before: n, after: n, seconds: 0, phases: [], timedOut: false };
  }
  const started = performance.now();
  const deadline = started + (options.timeSeconds ?? 60) * 1000;
  const bfsStates = options.bfsStates ?? 20_000;
  const windowSteps = options.windowSteps ?? 3;
  const goal = goalOf(model, trace);
  const phases: PhaseReport[] = [];
  let timedOut = false;

  const original = trace.steps.slice(1).map((s) => s.event as TraceEvent);
  let best = execute(model, original, goal);
  if (!best) throw new ReplayMismatch('the trace does not reach its own failure when replayed; run `pacta replay` on it to see where it diverges');
  const before = original.length;

  const phase = (name: PhaseReport['phase'], f: (run: Run) => { run: Run; work: number }) => {
    if (performance.now() > deadline) {
      timedOut = true;
      return false;
    }
    const t0 = performance.now();
    const from = best!.events.length;
    const { run, work } = f(best!);
    const better = cost(model, run) < cost(model, best!);
    if (better) best = run;
    phases.push({ phase: name, before: from, after: best!.events.length, work, seconds: (performance.now() - t0) / 1000 });
    return better;
  };

  phase('drop-faults', (run) => dropFaults(model, run, goal));
  phase('ddmin', (run) => ddmin(model, run, goal, deadline));
  // ddmin's result is 1-minimal; only a shortcut or a re-route can open new room for it.
  for (let round = 0; round < 8 && !timedOut; round++) {
    let improved = phase('shortcuts', (run) => shortcuts(model, run, goal, bfsStates, deadline));
    improved = phase('prefer', (run) => prefer(model, run, goal, windowSteps, deadline)) || improved;
    if (!improved || !phase('ddmin', (run) => ddmin(model, run, goal, deadline))) break;
  }

  const seconds = (performance.now() - started) / 1000;
  const path: ConcretePath = { states: best.states, events: [{ kind: 'init' }, ...best.events] };
  const { schedule: _schedule, ...header } = trace;
  const out: TraceFile = {
    ...header,
    steps: traceSteps(model, path),
    minimized: { fromSteps: trace.minimized?.fromSteps ?? before, seconds: Number(((trace.minimized?.seconds ?? 0) + seconds).toFixed(3)) },
  };
  return { trace: out, before, after: best.events.length, seconds, phases, timedOut };
}

/**
 * A lasso (liveness): the reductions above would not keep its stem ending on the cycle's first
 * state, nor the cycle fair; shortenLasso shortens the cycle under the checker's own fairness
 * judgement, then finds the shortest stem to it (see checker/liveness/shorten-lasso.ts).
 */
function minimizeLasso(model: Model, trace: TraceFile, options: MinimizeOptions): MinimizeResult {
  const started = performance.now();
  const replayed = replayTrace(model, trace);
  if (!replayed.ok) throw new ReplayMismatch('the lasso does not replay; run `pacta replay` on it to see where it diverges');
  const name = trace.property!.name;
  const prop = model.liveness.find((p) => p.name === name)!;
  const bfsStates = options.bfsStates ?? 20_000;
  const run: LassoRun = { states: replayed.path.states, events: replayed.path.events.slice(1), loopStart: trace.loopStart! };
  const r = shortenLasso(model, prop, model.options.fairDelivery || prop.fairDelivery === true, run, {
    regionStates: bfsStates,
    stemStates: 5 * bfsStates,
    deadline: started + (options.timeSeconds ?? 60) * 1000,
  });
  const before = run.events.length;
  const after = r.run.events.length;
  const seconds = (performance.now() - started) / 1000;
  const phases: PhaseReport[] = [{ phase: 'lasso', before, after, work: r.regionStates + r.stemStates, seconds }];
  if (after === before) return { trace, before, after, seconds, phases, timedOut: false };
  const { schedule: _schedule, ...header } = trace;
  const out: TraceFile = {
    ...header,
    steps: traceSteps(model, { states: r.run.states, events: [{ kind: 'init' }, ...r.run.events] }),
    loopStart: r.run.loopStart,
    minimized: { fromSteps: trace.minimized?.fromSteps ?? before, seconds: Number(((trace.minimized?.seconds ?? 0) + seconds).toFixed(3)) },
  };
  const check = replayTrace(model, out);
  if (!check.ok) throw new Error(`minimize: the shortened lasso does not replay (step ${check.divergence.step}: ${check.divergence.reason})`);
  return { trace: out, before, after, seconds, phases, timedOut: performance.now() - started > (options.timeSeconds ?? 60) * 1000 };
}

function goalOf(model: Model, trace: TraceFile): Goal {
  if (trace.result === 'violation' && trace.property) {
    const name = trace.property.name;
    const prop: Property | undefined = model.invariants.find((p) => p.name === name);
    if (!prop) throw new ReplayMismatch(`the trace violates "${name}", which the spec does not define as an invariant`);
    return {
      reached(s) {
        model.view.state = s;
        return !prop.check(model.view);
      },
    };
  }
  if (trace.result === 'deadlock') return { reached: (s) => model.world.successors(s, () => true) === 0 };
  throw new ReplayMismatch('only violation and deadlock traces can be minimized (an error trace already ends at the step that threw)');
}

/**
 * Replays `events` from the initial state, skipping those no longer enabled, up to the first
 * state that reaches the goal. Returns the run taken, or null when the goal is never reached.
 */
function execute(model: Model, events: readonly TraceEvent[], goal: Goal): Run | null {
  let state = model.world.initial();
  const run: Run = { events: [], states: [state] };
  if (goal.reached(state)) return run;
  for (const e of events) {
    const next = stepOf(model.world, state, e);
    if (typeof next === 'string') continue;
    state = next;
    run.events.push(e);
    run.states.push(state);
    if (goal.reached(state)) return run;
  }
  return null;
}

// ------------------------------------------------------------------ cost

const CRASH = new Set(['crash', 'restart']);
const FAULT = new Set(['drop', 'duplicate']);
const MESSAGE = new Set(['deliver', 'duplicate', 'drop']);

/** A comparable cost: length first, then crashes, faults, nodes touched, deliveries. */
function cost(_model: Model, run: Run): number {
  let crashes = 0;
  let faults = 0;
  let messages = 0;
  const nodes = new Set<number>();
  for (const e of run.events) {
    const r = e as Record<string, unknown>;
    if (CRASH.has(e.kind)) crashes++;
    if (FAULT.has(e.kind)) faults++;
    if (MESSAGE.has(e.kind)) messages++;
    if (typeof r.node === 'number') nodes.add(r.node);
    if (typeof r.to === 'number') nodes.add(r.to);
  }
  // Mixed radix, each digit capped so that a lower one never outweighs a higher one.
  const cap = (n: number) => Math.min(n, 999);
  return (((cap(run.events.length) * 1000 + cap(crashes)) * 1000 + cap(faults)) * 1000 + cap(nodes.size)) * 1000 + cap(messages);
}

// ------------------------------------------------------------------ phase: drop faults

function dropFaults(model: Model, run: Run, goal: Goal): { run: Run; work: number } {
  const kept = run.events.filter((e) => !CRASH.has(e.kind) && !FAULT.has(e.kind));
  if (kept.length === run.events.length) return { run, work: 0 };
  return { run: execute(model, kept, goal) ?? run, work: 1 };
}

// ------------------------------------------------------------------ phase: ddmin

/** ddmin over the run's events; keeps whichever smaller replay still fails. */
function ddmin(model: Model, run: Run, goal: Goal, deadline: number): { run: Run; work: number } {
  let current = run;
  let n = 2;
  let work = 0;
  const test = (events: TraceEvent[]): Run | null => {
    work++;
    return execute(model, events, goal);
  };
  while (current.events.length >= 2 && performance.now() < deadline) {
    const c = current.events;
    const chunks = split(c, n);
    let reduced = false;
    // Try each chunk alone, then each complement.
    for (let i = 0; i < chunks.length && !reduced; i++) {
      const r = test(chunks[i]!);
      if (r && r.events.length < c.length) {
        current = r;
        n = 2;
        reduced = true;
      }
    }
    for (let i = 0; i < chunks.length && !reduced; i++) {
      const r = test(chunks.filter((_, k) => k !== i).flat());
      if (r && r.events.length < c.length) {
        current = r;
        n = Math.max(n - 1, 2);
        reduced = true;
      }
    }
    if (reduced) continue;
    if (n >= c.length) break;
    n = Math.min(c.length, n * 2);
  }
  return { run: current, work };
}

function split<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((xs.length - start) / (n - i));
    if (end > start) out.push(xs.slice(start, end));
    start = end;
  }
  return out;
}

// ------------------------------------------------------------------ phase: shortcuts

interface Found {
  /** Trace index the path reaches (or -1 for a failing state off the trace). */
  target: number;
  events: TraceEvent[];
  states: WorldState[];
}

/** Repeatedly replaces a stretch of the run by a shorter path found by bounded BFS. */
function shortcuts(model: Model, run: Run, goal: Goal, budget: number, deadline: number): { run: Run; work: number } {
  let current = run;
  let work = 0;
  for (let i = 0; i < current.events.length && performance.now() < deadline; ) {
    const index = fingerprintIndex(model, current.states);
    const m = current.events.length;
    const found = bfs(model, current.states[i]!, m - i - 1, budget, (s, depth) => {
      if (goal.reached(s)) return depth < m - i ? { saving: m - i - depth, target: -1 } : null;
      const [hi, lo] = concreteFingerprint(model, s);
      const j = index.get(key(hi, lo));
      return j !== undefined && j - i > depth ? { saving: j - i - depth, target: j } : null;
    });
    work += found.visited;
    if (!found.best) {
      i++;
      continue;
    }
    const f = found.best;
    const tail = f.target < 0 ? { events: [], states: [] } : { events: current.events.slice(f.target), states: current.states.slice(f.target + 1) };
    current = {
      events: [...current.events.slice(0, i), ...f.events, ...tail.events],
      states: [...current.states.slice(0, i + 1), ...f.states, ...tail.states],
    };
    // Stay at i: the shorter trace may offer another shortcut from here.
  }
  return { run: current, work };
}

/**
 * BFS from `start` up to `maxDepth` steps and `budget` states. `score(s, depth)` rates a state
 * (null: not a target; else the steps it saves and the trace index it reaches, -1 for a failing
 * state); returns the path to the best one.
 */
function bfs(
  model: Model,
  start: WorldState,
  maxDepth: number,
  budget: number,
  score: (s: WorldState, depth: number) => { saving: number; target: number } | null,
): { best: Found | null; visited: number } {
  const world = model.world;
  const seen = new Set<number>();
  const [h0, l0] = concreteFingerprint(model, start);
  seen.add(key(h0, l0));
  type Node = { state: WorldState; parent: Node | null; ref: EventRef | null; depth: number };
  let level: Node[] = [{ state: start, parent: null, ref: null, depth: 0 }];
  let best: { node: Node; saving: number; target: number } | null = null;
  let visited = 1;
  for (let depth = 1; depth <= maxDepth && level.length && visited < budget; depth++) {
    // A target at this depth saves at most (maxDepth + 1 - depth): stop when that cannot win.
    const sofar = best as { saving: number } | null; // assigned inside the visitor: TS cannot see it
    if (sofar && sofar.saving >= maxDepth + 1 - depth) break;
    const next: Node[] = [];
    for (const node of level) {
      world.successors(node.state, (s) => {
        const [hi, lo] = concreteFingerprint(model, s);
        const k = key(hi, lo);
        if (seen.has(k)) return false;
        seen.add(k);
        visited++;
        const child: Node = { state: s, parent: node, ref: copyRef(world.event), depth };
        const sc = score(s, depth);
        if (!sc) next.push(child);
        else if (!best || sc.saving > best.saving) best = { node: child, ...sc };
        return visited >= budget;
      });
      if (visited >= budget) break;
    }
    level = next;
  }
  if (!best) return { best: null, visited };
  const b = best as { node: Node; saving: number; target: number };
  const events: TraceEvent[] = [];
  const states: WorldState[] = [];
  for (let n: Node | null = b.node; n && n.parent; n = n.parent) {
    events.push(describeRef(model, n.parent.state, n.ref!));
    states.push(n.state);
  }
  events.reverse();
  states.reverse();
  return { best: { target: b.target, events, states }, visited };
}

function copyRef(ev: EventRef): EventRef {
  return { kind: ev.kind, node: ev.node, envelope: ev.envelope, action: ev.action, arg: ev.arg };
}

/** The trace event of a remembered event reference taken in `parent`. */
function describeRef(model: Model, parent: WorldState, ref: EventRef): TraceEvent {
  return model.world.describe(parent, ref);
}

function fingerprintIndex(model: Model, states: WorldState[]): Map<number, number> {
  const index = new Map<number, number>();
  // Later occurrences win: jumping to the last visit of a state saves the most.
  states.forEach((s, i) => {
    const [hi, lo] = concreteFingerprint(model, s);
    index.set(key(hi, lo), i);
  });
  return index;
}

function key(hi: number, lo: number): number {
  return (hi & 0x1fffff) * 0x100000000 + lo;
}

// ------------------------------------------------------------------ phase: prefer

/**
 * Re-routes windows of up to `w` steps through the cheapest path between the same two states
 * (or, for the last window, to any failing state), by exhaustive enumeration of short paths.
 */
function prefer(model: Model, run: Run, goal: Goal, w: number, deadline: number): { run: Run; work: number } {
  let current = run;
  let work = 0;
  for (let i = 0; i < current.events.length && performance.now() < deadline; i++) {
    for (let len = Math.min(w, current.events.length - i); len >= 1; len--) {
      const end = i + len;
      const isLast = end === current.events.length;
      const [th, tl] = concreteFingerprint(model, current.states[end]!);
      const target = key(th, tl);
      let bestRun = current;
      let bestCost = cost(model, current);
      const refs: EventRef[] = [];
      const states: WorldState[] = [];
      const world = model.world;
      const dfs = (s: WorldState, depth: number) => {
        if (depth === len) return;
        world.successors(s, (next) => {
          work++;
          refs.push(copyRef(world.event));
          states.push(next);
          const [hi, lo] = concreteFingerprint(model, next);
          const hit = isLast ? goal.reached(next) : key(hi, lo) === target;
          if (hit) {
            const from = [current.states[i]!, ...states];
            const events = refs.map((r, k) => describeRef(model, from[k]!, r));
            const candidate: Run = {
              events: [...current.events.slice(0, i), ...events, ...current.events.slice(end)],
              states: [...current.states.slice(0, i + 1), ...states, ...current.states.slice(end + 1)],
            };
            const c = cost(model, candidate);
            if (c < bestCost) {
              bestCost = c;
              bestRun = candidate;
            }
          } else if (!(isLast && goal.reached(next))) {
            dfs(next, depth + 1);
          }
          refs.pop();
          states.pop();
        });
      };
      dfs(current.states[i]!, 0);
      if (bestRun !== current) current = bestRun;
    }
  }
  return { run: current, work };
}
