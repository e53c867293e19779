/**
 * What every explorer shares — exhaustive (BFS, DFS), parallel BFS, random walks and their
 * workers: the properties checked on each new state (invariants, `reachable` goals), the
 * counters, the limits, progress reports, and the statistics at the end. One place decides what
 * "a goal was reached", "the time is up" and "states per second" mean.
 */
import type { Property } from '../specs/core/protocol.ts';
import { collisionProbability } from './fingerprint.ts';
import type { Model } from './model.ts';
import type { Progress } from './options.ts';
import type { GoalStatus, Stats } from './result.ts';
import type { WorldState } from './world-state.ts';

/** Why a search stopped before it explored everything. */
export type LimitReason = 'max-states' | 'max-depth' | 'time' | 'interrupted' | 'memory';

const PROGRESS_MS = 250;

/** How often a search reads its resident memory (against `--max-memory`). */
const MEMORY_CHECK_MS = 20;

export class Search {
  readonly goals: GoalStatus[];
  /** Goals not reached yet (checking stops once every goal is reached). */
  goalsLeft: number;
  /** Successors computed (self-loops excluded), the initial state included. */
  generated = 0;
  /** The deepest level (BFS, counted as TLC does: the initial state is level 1) or walk seen. */
  depth = 0;
  spilledBytes = 0;
  readonly started = performance.now();
  private lastReport: number;
  /** When the process's resident memory was last read (see `limit`). */
  private lastMemoryCheck = Number.NEGATIVE_INFINITY;

  constructor(private readonly model: Model) {
    this.goals = model.goals.map((g) => ({ name: g.name, reached: false }));
    this.goalsLeft = this.goals.length;
    this.lastReport = this.started;
  }

  /**
   * Checks a new state, reached `depth` steps from the initial one: marks the goals it reaches
   * and returns the first invariant it violates.
   */
  examine(s: WorldState, depth: number): Property | undefined {
    if (this.goalsLeft > 0) this.reach(s, depth);
    return this.model.violated(s);
  }

  /** Marks the goals `s` reaches. */
  reach(s: WorldState, depth: number): void {
    const model = this.model;
    model.view.state = s;
    for (let g = 0; g < this.goals.length; g++) {
      if (!this.goals[g]!.reached && model.goals[g]!.check(model.view)) this.reached(g, depth);
    }
  }

  /** Goal `g` was reached at `depth` (by this thread, or as a worker reports). */
  reached(g: number, depth: number): void {
    const goal = this.goals[g]!;
    if (goal.reached) return;
    this.goals[g] = { name: goal.name, reached: true, depth };
    this.goalsLeft--;
  }

  /** The limit a search with `distinct` states has reached now, if any (max-states, time, interrupted, memory). */
  limit(distinct: number, now = performance.now()): LimitReason | null {
    const o = this.model.options;
    if (distinct >= o.maxStates) return 'max-states';
    if ((now - this.started) / 1000 > o.timeSeconds) return 'time';
    if (o.stop?.()) return 'interrupted';
    // The whole process (worker threads included): past the bound, stop with what was found
    // rather than be killed by the kernel with nothing. Read at most every 20 ms: read every
    // 1,024 states it was 1.6% of a parallel-commits-tla profile on a loaded machine.
    if (o.maxMemoryBytes !== Number.POSITIVE_INFINITY && now - this.lastMemoryCheck >= MEMORY_CHECK_MS) {
      this.lastMemoryCheck = now;
      if (process.memoryUsage.rss() > o.maxMemoryBytes) return 'memory';
    }
    return null;
  }

  /** Whether a state `depth` steps deep may still be expanded (the depth limit). */
  expands(depth: number): boolean {
    return depth < this.model.options.maxDepth;
  }

  /** Reports progress to the caller's `onProgress`, at most four times a second. */
  progress(distinct: number, depth: number, queue: number, now = performance.now()): void {
    const report = this.model.options.onProgress;
    if (!report || now - this.lastReport < PROGRESS_MS) return;
    this.lastReport = now;
    const seconds = (now - this.started) / 1000;
    report({ distinctStates: distinct, statesGenerated: this.generated, depth, queue, seconds, statesPerSecond: seconds > 0 ? distinct / seconds : 0 } satisfies Progress);
  }

  /**
   * The run's statistics. `keptBits` is how many of the 64 fingerprint bits the visited set
   * keeps (the collision probability grows fourfold per two bits dropped).
   */
  stats(distinct: number, bytesPerState: number, extra: { keptBits?: number; walks?: number; steps?: number } = {}): Stats {
    const seconds = (performance.now() - this.started) / 1000;
    const dropped = 64 - (extra.keptBits ?? 64);
    return {
      distinctStates: distinct,
      statesGenerated: this.generated,
      depth: this.depth,
      seconds,
      statesPerSecond: seconds > 0 ? distinct / seconds : 0,
      bytesPerState,
      ...(this.spilledBytes > 0 ? { spilledBytes: this.spilledBytes } : {}),
      collisionProbability: Math.min(1, collisionProbability(distinct) * 2 ** dropped),
      ...(extra.walks !== undefined ? { walks: extra.walks, steps: extra.steps ?? 0 } : {}),
    };
  }
}
