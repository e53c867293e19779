/**
 * The jobs of a swarm random search (Holzmann et al.'s swarm verification, Groce et al.'s swarm
 * testing): ranges of walk indexes of the run's seed, each walked under its own strategy, so
 * the workers search differently rather than the same way many times over. The strategies stay
 * within the options the user gave: they vary how walks choose (uniform, PCT of depth 2 or 3,
 * each walk's own swarm mix of event kinds, which is where the fault mix varies: crash, drop,
 * duplicate and tick events weighted off, normal or favoured per walk) and how deep they go
 * (the given depth bound, or half of it), never which faults are allowed. A job's walks are
 * decided by (seed, walk index, strategy) alone, so any worker running a job, once or twice,
 * walks the same walks: a retried job and a duplicate report change nothing.
 */
import type { CheckOptions, Options } from '../options.ts';

/** How one job's walks choose their steps. */
export interface Strategy {
  strategy: 'uniform' | 'pct';
  pctDepth?: number;
  swarm: boolean;
  maxDepth: number;
}

export interface WalkJob {
  id: number;
  /** Walks `from` (inclusive) to `to` (exclusive) of the run's seed. */
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
  walks: number;
  steps: number;
  /** Distinct states this job saw, and the deepest walk. */
  distinct: number;
  deepest: number;
  /** Goals reached: [goal index, depth]. */
  goals: [number, number][];
}

/** The strategies jobs rotate through: the user's own first. */
export function strategies(o: Options): Strategy[] {
  const own: Strategy = { strategy: o.random.strategy === 'pct' ? 'pct' : 'uniform', ...(o.random.strategy === 'pct' && { pctDepth: o.random.pctDepth }), swarm: o.random.swarm, maxDepth: o.maxDepth };
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

/** Walks per job: enough to amortize a job's set-up, few enough that a lost job costs little. */
export function walksPerJob(walks: number, workers: number): number {
  return Math.max(8, Math.min(200, Math.ceil(walks / (workers * 16))));
}

/** The jobs for `walks` walks (a bounded number ahead when the run is bounded by time only). */
export function makeJobs(o: Options, workers: number, firstId = 0, firstWalk = 0, count?: number): WalkJob[] {
  const rotation = strategies(o);
  const total = o.walks === Number.POSITIVE_INFINITY ? firstWalk + (count ?? 1000) : o.walks;
  const per = walksPerJob(o.walks === Number.POSITIVE_INFINITY ? 1000 : o.walks, workers);
  const jobs: WalkJob[] = [];
  for (let from = firstWalk, id = firstId; from < total; from += per, id++) {
    jobs.push({ id, from, to: Math.min(total, from + per), strategy: rotation[id % rotation.length]! });
  }
  return jobs;
}

/** check()'s options for walks under `s` (the run's own options otherwise). */
export function withStrategy(options: CheckOptions, s: Strategy): CheckOptions {
  const { pctDepth: _drop, ...rest } = options;
  return { ...rest, strategy: s.strategy, ...(s.pctDepth !== undefined && { pctDepth: s.pctDepth }), swarm: s.swarm, maxDepth: s.maxDepth };
}
