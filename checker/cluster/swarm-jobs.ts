/**
 * The jobs of a swarm search (Holzmann, Joshi and Groce's swarm verification; Groce et al.'s swarm
 * testing): many small searches, each at its own point of the space of search strategies, so
 * that the workers search differently rather than the same way many times over. Jobs alternate
 * between two kinds:
 *
 * - walk jobs: ranges of walk indexes of the run's seed, walked uniformly, by PCT of depth 2 or
 *   3, with each walk's own swarm mix of event kinds (where the fault mix varies: crash, drop,
 *   duplicate and tick events weighted off, normal or favoured per walk), to the depth bound or
 *   half of it. Walks find bugs that need many steps of one kind.
 * - bounded exhaustive jobs (bounded-dfs.ts): a depth-first search to a depth bound (the run's,
 *   half or a quarter of it), with a successor order shuffled by the job's seed, a hash-compacted
 *   visited set keyed by the same seed, a budget of states, and a fault mix that may leave out
 *   some of the allowed fault kinds. They find bugs that need one precise schedule of a few
 *   dozen steps, which walks almost never draw.
 *
 * The strategies stay within the options the user gave (the variant's `expose` included): a job
 * never turns on a fault the run did not allow, nor goes deeper than its depth bound. A job's
 * work is decided by (seed, job) alone, so any worker running it, once or twice, does the same:
 * a retried job and a duplicate report change nothing.
 */
import type { CheckOptions, Options } from '../options.ts';
import { Rng, walkSeed } from '../rng.ts';
import type { WorldOptions } from '../world.ts';
import type { DfsPoint, FaultKind } from './bounded-dfs.ts';

/** How one walk job's walks choose their steps. */
export interface WalkStrategy {
  strategy: 'uniform' | 'pct';
  pctDepth?: number;
  swarm: boolean;
  maxDepth: number;
}

/** A bounded exhaustive job's point (see bounded-dfs.ts). */
export interface DfsStrategy extends DfsPoint {
  strategy: 'dfs';
}

export type Strategy = WalkStrategy | DfsStrategy;

export interface SwarmJob {
  id: number;
  /** Walks `from` (inclusive) to `to` (exclusive) of the run's seed; none (from = to) for a DFS job. */
  from: number;
  to: number;
  strategy: Strategy;
}

/** What a worker reports for a job (stored once per job id). */
export interface JobReport {
  id: number;
  worker: number;
  outcome: 'done' | 'violation' | 'deadlock' | 'error' | 'stopped';
  /** The failing walk, its property (violation) or message (error). */
  walk?: number;
  property?: string;
  error?: string;
  /** DFS jobs: the failing path's fingerprints, from the initial state (an error's: to the state being expanded). */
  path?: [number, number][];
  walks: number;
  /** Walk steps, or the successors a DFS job computed. */
  steps: number;
  /** Distinct states this job saw, and the deepest walk or state. */
  distinct: number;
  deepest: number;
  /** Goals reached: [goal index, depth]. */
  goals: [number, number][];
  /** DFS jobs: no state met the bound and the budget was not reached (see bounded-dfs.ts). */
  complete?: boolean;
}

/** New states after which a DFS job ends: a 4 MiB table (and 4 MiB of fingerprints for the coverage), seconds of work. */
export const DFS_BUDGET = 1 << 19;

/** The walk strategies walk jobs rotate through: the user's own first. */
export function strategies(o: Options): WalkStrategy[] {
  const own: WalkStrategy = { strategy: o.random.strategy === 'pct' ? 'pct' : 'uniform', ...(o.random.strategy === 'pct' && { pctDepth: o.random.pctDepth }), swarm: o.random.swarm, maxDepth: o.maxDepth };
  const half = Math.max(1, Math.floor(o.maxDepth / 2));
  return [
    own,
    { strategy: 'uniform', swarm: true, maxDepth: o.maxDepth },
    { strategy: 'pct', pctDepth: 2, swarm: false, maxDepth: o.maxDepth },
    { strategy: 'pct', pctDepth: 3, swarm: true, maxDepth: o.maxDepth },
    { strategy: 'uniform', swarm: false, maxDepth: half },
    { strategy: 'uniform', swarm: true, maxDepth: half },
  ];
}

/** The fault kinds a world allows, which a DFS job's mix chooses among. */
export function faultKinds(w: WorldOptions): FaultKind[] {
  const kinds: FaultKind[] = [];
  if (w.network !== 'set' && w.drop) kinds.push('drop');
  if (w.network !== 'set' && w.dup) kinds.push('duplicate');
  if (w.crashes > 0) kinds.push('crash');
  if ((w.clientRestarts ?? 0) > 0) kinds.push('client-restart');
  if (w.maxTime > 0) kinds.push('tick');
  return kinds;
}

/**
 * The point of the `n`-th DFS job: its depth bound rotates through the run's bound, half and a
 * quarter of it (the run's bound twice as often: most bugs lie deeper than a quarter of it);
 * its seed follows from the run's seed and n; half the jobs leave out a random subset of the
 * allowed fault kinds (a smaller space, searched further).
 */
export function dfsStrategy(o: Options, n: number): DfsStrategy {
  const max = Number.isFinite(o.maxDepth) ? o.maxDepth : 100;
  const bounds = [max, Math.ceil(max / 2), max, Math.ceil(max / 4)];
  const seed = walkSeed(o.seed, n) ^ 0x2545f491;
  const rng = new Rng(seed);
  const allowed = faultKinds(o.world);
  const omit = allowed.length > 0 && rng.below(2) === 1 ? allowed.filter(() => rng.below(2) === 1) : [];
  return { strategy: 'dfs', bound: Math.max(1, bounds[n % bounds.length]!), seed: seed >>> 0, budget: DFS_BUDGET, omit };
}

/** Walks per job: enough to amortize a job's set-up, few enough that a lost job costs little. */
export function walksPerJob(walks: number, workers: number): number {
  return Math.max(8, Math.min(200, Math.ceil(walks / (workers * 16))));
}

/**
 * The jobs for `walks` walks (a bounded number ahead when the run is bounded by time only), from
 * job `firstId` and walk `firstWalk` on: even ids are walk jobs, odd ids DFS jobs, so a run with
 * a walk count has as many DFS jobs as walk jobs.
 */
export function makeJobs(o: Options, workers: number, firstId = 0, firstWalk = 0, count?: number): SwarmJob[] {
  const rotation = strategies(o);
  // `--walk W`: that one walk, under the run's own strategy, as one job.
  if (o.random.walk !== null) return firstId === 0 ? [{ id: 0, from: o.random.walk, to: o.random.walk + 1, strategy: rotation[0]! }] : [];
  const total = o.walks === Number.POSITIVE_INFINITY ? firstWalk + (count ?? 1000) : o.walks;
  const per = walksPerJob(o.walks === Number.POSITIVE_INFINITY ? 1000 : o.walks, workers);
  const jobs: SwarmJob[] = [];
  let id = firstId;
  for (let from = firstWalk; from < total; ) {
    if (id % 2 === 1) {
      jobs.push({ id, from, to: from, strategy: dfsStrategy(o, (id - 1) / 2) });
    } else {
      const to = Math.min(total, from + per);
      jobs.push({ id, from, to, strategy: rotation[(id / 2) % rotation.length]! });
      from = to;
    }
    id++;
  }
  // The DFS job that pairs with the last walk job.
  if (id % 2 === 1) jobs.push({ id, from: total, to: total, strategy: dfsStrategy(o, (id - 1) / 2) });
  return jobs;
}

/** check()'s options for walks under `s` (the run's own options otherwise). */
export function withStrategy(options: CheckOptions, s: WalkStrategy): CheckOptions {
  const { pctDepth: _drop, ...rest } = options;
  return { ...rest, strategy: s.strategy, ...(s.pctDepth !== undefined && { pctDepth: s.pctDepth }), swarm: s.swarm, maxDepth: s.maxDepth };
}

/** A job's strategy in words (progress, the result's `foundBy`, the benchmarks' tables). */
export function describeStrategy(s: Strategy): string {
  if (s.strategy === 'dfs') return `dfs bound ${s.bound} seed ${s.seed}${s.omit.length ? ` without ${s.omit.join(',')}` : ''}`;
  return `walks ${s.strategy}${s.pctDepth !== undefined ? ` depth ${s.pctDepth}` : ''}${s.swarm ? ' swarm' : ''} max-depth ${s.maxDepth}`;
}
