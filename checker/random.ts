/**
 * Random exploration: seeded walks from the initial state. Each step picks one enabled event:
 * uniformly (the default), by PCT priorities (`strategy: 'pct'`, see pct.ts), with each walk's
 * own swarm mix of event kinds and actions (`swarm`, see swarm.ts), or as fast-check draws it
 * (`strategy: 'fast-check'`, see fast-check-walks.ts: its schedules shrink). One seed decides
 * everything: walk w draws from `walkSeed(seed, w)`, so a violation replays from `--seed S
 * --walk W` alone, at once. Distinct states are still counted (fingerprints), to show how much
 * of the space the walks covered.
 *
 * Speed: successors come from a bounded transition memo (transition-cache.ts), so revisited
 * states cost no handler calls and no encoding. What is left per step is the choice itself.
 */
import { fingerprint, fp } from './fingerprint.ts';
import { Search } from './search.ts';
import type { Model } from './model.ts';
import { PctScheduler } from './pct.ts';
import type { GoalStatus, Stats } from './result.ts';
import { Rng, walkSeed } from './rng.ts';
import { StateStore } from './state-store.ts';
import { SwarmFeatures, SwarmMix } from './swarm.ts';
import { describeOptions, type ConcretePath } from './trace-builder.ts';
import { boundedLivenessReason, WalkMonitor, type Suspect } from './liveness/bounded.ts';
import type { LivenessProperty } from '../specs/core/protocol.ts';
import { TransitionCache, type Expansion, type StateEntry } from './transition-cache.ts';
import { HandlerError, type EventRef, type TraceEvent, type WorldState } from './world.ts';

export { Rng, walkSeed } from './rng.ts';

/** How the walk that ended a run chose its steps: logged in the trace so it can be read back. */
export interface WalkLog {
  strategy: 'uniform' | 'pct' | 'fast-check';
  /** The walk's swarm mix: feature → weight (0 off, 1 normal, 4 favoured). */
  swarm?: Record<string, number>;
  /** PCT: the actors' starting priorities and the change points. */
  pct?: { depth: number; priorities: Record<string, number>; changePoints: number[] };
  /** fast-check: how many shrinking steps led to this schedule, and its choice indices. */
  shrinks?: number;
  choices?: number[];
}

export type WalkOutcome =
  | { kind: 'done' }
  | { kind: 'violation'; property: string; path: ConcretePath; walk: number; log: WalkLog; bounded?: { kind: LivenessProperty['kind']; steps: number; terminal: boolean } }
  | { kind: 'deadlock'; path: ConcretePath; walk: number; log: WalkLog }
  | { kind: 'limit'; reason: 'time' | 'max-states' | 'interrupted' | 'memory' }
  | { kind: 'error'; error: string; path: ConcretePath; walk: number; log: WalkLog };

/** What random mode returns (check.ts turns it into a CheckResult). */
export interface RandomRun {
  outcome: WalkOutcome;
  stats: Stats;
  goals: GoalStatus[];
  /** Transition memo use: states remembered, and how often a step found its state there. */
  cache: { states: number; hits: number; misses: number };
}

const NO_REFS: EventRef[] = [];

/**
 * The machinery every strategy shares: turning states into entries (fingerprint, invariants,
 * goals, the visited set), expanding them into successors, and following a chosen successor.
 */
export class Walker {
  readonly store = new StateStore();
  readonly cache: TransitionCache;
  /** Goals, counters and statistics (shared with the other explorers). */
  readonly search: Search;
  readonly features: SwarmFeatures | null;
  private initialEntry: StateEntry | null = null;
  steps = 0;
  /** The deepest walk so far (steps from the initial state). */
  deepest = 0;

  constructor(readonly model: Model) {
    const o = model.options;
    this.cache = new TransitionCache(o.random.cacheStates);
    this.search = new Search(model);
    this.features = o.random.swarm ? new SwarmFeatures(model.world) : null;
  }

  get goals(): GoalStatus[] {
    return this.search.goals;
  }

  /** The entry of the initial state (remembered across walks). */
  initial(): StateEntry {
    if (this.initialEntry) return this.initialEntry;
    const e = this.entry(this.model.world.initial(), 0);
    if (e.cached) this.initialEntry = e;
    return e;
  }

  /** The entry for `state`, reached at `depth`: from the cache, or new (checked and counted). */
  entry(state: WorldState, depth: number): StateEntry {
    const model = this.model;
    const bytes = model.world.encode(state);
    fingerprint(bytes, 0, bytes.length);
    const hi = fp.hi;
    const lo = fp.lo;
    const known = this.cache.get(hi, lo);
    if (known) return known;
    if (model.symmetry) {
      const packed = model.pack(state);
      fingerprint(packed, 0, packed.length);
    }
    this.store.insert(fp.hi, fp.lo, -1, Math.min(depth, 0xffff));
    const e: StateEntry = { hi, lo, state, bad: this.search.examine(state, depth), expansion: null, cached: false };
    this.cache.add(e);
    return e;
  }

  /** The successors of an entry (computed once for cached entries). */
  expand(e: StateEntry): Expansion {
    if (e.expansion) return e.expansion;
    const world = this.model.world;
    const states: WorldState[] = [];
    const refs: EventRef[] = [];
    const enabled = world.successors(e.state, (next) => {
      states.push(next);
      const ev = world.event;
      refs.push({ kind: ev.kind, node: ev.node, envelope: ev.envelope, action: ev.action, arg: ev.arg });
    });
    const count = states.length;
    const actors = new Int32Array(count);
    const features = this.features ? new Int32Array(count) : null;
    for (let i = 0; i < count; i++) {
      const r = refs[i]!;
      actors[i] = r.kind === 'tick' ? world.nodeCount : r.node;
      if (features) features[i] = this.features!.of(r);
    }
    const exp: Expansion = { count, enabled, states, refs: count ? refs : NO_REFS, actors, features, next: new Array(count) };
    if (e.cached) e.expansion = exp;
    return exp;
  }

  /** The entry of successor `k` of `from`, linked for next time when both are cached. */
  follow(from: StateEntry, exp: Expansion, k: number, depth: number): StateEntry {
    if (depth > this.deepest) this.deepest = depth;
    const linked = exp.next[k];
    if (linked) return linked;
    const e = this.entry(exp.states[k]!, depth);
    if (from.cached && e.cached) exp.next[k] = e;
    return e;
  }

  /** A walk's entries and events as a concrete path with trace events. */
  path(entries: StateEntry[], refs: EventRef[]): ConcretePath {
    const world = this.model.world;
    const states = entries.map((e) => e.state);
    const events: TraceEvent[] = [{ kind: 'init' }];
    refs.forEach((ref, i) => {
      events.push(world.describe(states[i]!, ref));
    });
    return { states, events };
  }

  /** Statistics of the run so far (`depth`: the deepest walk). */
  stats(walks: number): Stats {
    const size = this.store.size;
    this.search.generated = this.steps;
    this.search.depth = this.deepest;
    return this.search.stats(size, size ? this.store.bytesPerState() : 0, { walks, steps: this.steps });
  }

  cacheStats(): RandomRun['cache'] {
    return { states: this.cache.size, hits: this.cache.hits, misses: this.cache.misses };
  }
}

/**
 * Runs random walks under the model's options (uniform, PCT, swarm; fast-check elsewhere).
 * `walker` carries the transition memo and visited set across calls (a cluster worker runs a
 * job's walks in slices on one walker; see cluster/swarm-member.ts).
 */
export function randomWalks(model: Model, walker: Walker = new Walker(model)): RandomRun {
  const o = model.options;
  const r = o.random;
  const world = model.world;
  const actorNames = [...Array.from({ length: world.nodeCount }, (_, id) => world.nodeName(id)), 'clock'];
  const first = r.walk ?? 0;
  const last = r.walk === null ? o.walks : r.walk + 1;
  const entries: StateEntry[] = [];
  const refs: EventRef[] = [];
  let masked = new Int32Array(16);
  let outcome: WalkOutcome = { kind: 'done' };
  let walks = 0;
  // Liveness: each finished walk is judged (bounded: a suspicion, see liveness/bounded.ts).
  const monitor = model.liveness.length > 0 && boundedLivenessReason(model) === null ? new WalkMonitor(model) : null;
  const suspected = (s: Suspect, w: number, log: WalkLog): WalkOutcome => ({
    kind: 'violation', property: s.property.name, path: walker.path(entries, refs), walk: w, log,
    bounded: { kind: s.property.kind, steps: s.steps, terminal: s.terminal },
  });

  const stride = r.walk === null ? r.stride : 1;
  walking: for (let w = first + (r.walk === null ? r.offset : 0); w < last; w += stride) {
    walks++;
    const rng = new Rng(walkSeed(o.seed, w));
    const mix = walker.features ? SwarmMix.draw(walker.features, rng) : null;
    const pct = r.strategy === 'pct' ? new PctScheduler(world.nodeCount + 1, r.pctDepth, o.maxDepth, rng) : null;
    const log = (): WalkLog => ({
      strategy: r.strategy,
      ...(mix && { swarm: mix.toJSON() }),
      ...(pct && { pct: { depth: r.pctDepth, ...pct.toJSON(actorNames) } }),
    });
    entries.length = 0;
    refs.length = 0;
    monitor?.reset();
    try {
      let e = walker.initial();
      entries.push(e);
      monitor?.see(e.state);
      if (e.bad) {
        outcome = { kind: 'violation', property: e.bad.name, path: walker.path(entries, refs), walk: w, log: log() };
        break;
      }
      let full = true;
      for (let depth = 1; depth <= o.maxDepth; depth++) {
        const exp = walker.expand(e);
        const n = exp.count;
        const quiet = monitor?.quiescent(exp.refs, e.state);
        if (quiet) {
          outcome = suspected(quiet, w, log());
          break walking;
        }
        if (n === 0) {
          if (exp.enabled === 0 && o.deadlock) {
            outcome = { kind: 'deadlock', path: walker.path(entries, refs), walk: w, log: log() };
            break walking;
          }
          full = false;
          break;
        }
        let k: number;
        if (pct) {
          let actors: Int32Array = exp.actors;
          if (mix) {
            // Swarm and PCT together: the top actor among events the mix leaves on.
            if (masked.length < n) masked = new Int32Array(n * 2);
            let on = 0;
            for (let i = 0; i < n; i++) {
              const off = mix.weights[exp.features![i]!] === 0;
              masked[i] = off ? -1 : exp.actors[i]!;
              if (!off) on++;
            }
            if (on > 0) actors = masked;
          }
          k = pct.choose(actors, n, depth, rng);
        } else if (mix) {
          k = mix.choose(exp.features!, n, rng);
        } else {
          k = rng.below(n);
        }
        refs.push(exp.refs[k]!);
        e = walker.follow(e, exp, k, depth);
        entries.push(e);
        monitor?.see(e.state);
        walker.steps++;
        if (e.bad) {
          outcome = { kind: 'violation', property: e.bad.name, path: walker.path(entries, refs), walk: w, log: log() };
          break walking;
        }
      }
      const late = full && monitor ? monitor.finish() : null;
      if (late) {
        outcome = suspected(late, w, log());
        break;
      }
    } catch (err) {
      if (!(err instanceof HandlerError)) throw err;
      outcome = { kind: 'error', error: err.message, path: walker.path(entries, refs), walk: w, log: log() };
      break;
    }
    if ((walks & 31) === 0) {
      const now = performance.now();
      const limit = walker.search.limit(walker.store.size, now);
      // A run bounded only by time (no walk count) ends normally when the time is up.
      if (limit === 'time') {
        if (o.walks !== Number.POSITIVE_INFINITY) outcome = { kind: 'limit', reason: 'time' };
        break;
      }
      if (limit === 'max-states' || limit === 'interrupted' || limit === 'memory') {
        outcome = { kind: 'limit', reason: limit };
        break;
      }
      walker.search.generated = walker.steps;
      walker.search.progress(walker.store.size, walker.deepest, 0, now);
    }
  }
  return { outcome, goals: walker.goals, stats: walker.stats(walks), cache: walker.cacheStats() };
}

/** The options of a random run as trace files record them (the world's, plus the strategy). */
export function randomOptions(model: Model): Record<string, unknown> {
  const r = model.options.random;
  return {
    ...describeOptions(model),
    ...(r.strategy !== 'uniform' && { strategy: r.strategy }),
    ...(r.strategy === 'pct' && { pctDepth: r.pctDepth }),
    ...(r.swarm && { swarm: true }),
  };
}
