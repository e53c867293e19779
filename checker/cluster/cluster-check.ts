/**
 * `check(spec, { cluster: 'redis://...' })`: the same check on worker processes (`pacta worker`)
 * that meet through Redis: BFS becomes a partitioned BFS (partitioned-bfs.ts), random mode a swarm
 * of walk jobs (swarm-search.ts). The result is the single-machine CheckResult, built by the same
 * functions, with what each worker did and what went through Redis in `stats.cluster`.
 */
import type { Protocol } from '../../specs/core/index.ts';
import { searchResult, walksResult } from '../check.ts';
import { minimizeTrace } from '../minimize.ts';
import { Model } from '../model.ts';
import { normalizeOptions, OptionsError, type CheckOptions } from '../options.ts';
import { randomWalks } from '../random.ts';
import type { CheckResult, ClusterStats } from '../result.ts';
import { ClusterRun } from './cluster-run.ts';
import { partitionedBfs } from './partitioned-bfs.ts';
import { clusterUrl, encodeOptions } from './redis-link.ts';
import { swarmSearch } from './swarm-search.ts';
import { withStrategy, type JobReport } from './swarm-jobs.ts';
import type { SearchOutcome } from '../exhaustive.ts';
import { concretize } from '../trace-builder.ts';
import { HandlerError, type TraceEvent } from '../world.ts';

/** How long the coordinator spends minimizing a swarm's counterexample. */
const MINIMIZE_SECONDS = 20;

/**
 * Runs the check of `spec` on a cluster. `specRef` is how workers load the spec: a bundled name
 * or an absolute file path that resolves the same way on every machine.
 */
export async function clusterCheck(spec: Protocol, given: CheckOptions, specRef: string): Promise<CheckResult> {
  const url = clusterUrl(given.cluster);
  const { cluster: _url, workers, onProgress: _progress, stop: _stop, ...published } = given;
  const model = new Model(spec, normalizeOptions(spec, published));
  const o = model.options;
  if (o.mode === 'dfs') {
    throw new OptionsError(`option 'cluster': a cluster runs --mode bfs (partitioned, exhaustive: it finds what DFS finds, with a shortest trace) or --mode random (a swarm of walk jobs and bounded DFS jobs), not --mode dfs`);
  }
  if (o.mode === 'random' && o.random.strategy === 'fast-check') {
    throw new OptionsError(`option 'cluster': a swarm runs uniform and PCT walks and bounded DFS jobs; fast-check schedules (they shrink in one process) run without --cluster`);
  }
  // Liveness needs the whole state graph in one process; a BFS on one machine would check it here.
  if (o.mode === 'bfs' && model.liveness.length > 0 && o.liveness && !model.symmetry) {
    const names = model.liveness.map((p) => `'${p.name}'`).join(', ');
    throw new OptionsError(`option 'cluster': a partitioned BFS checks safety only, and this spec has liveness properties (${names}) that need the whole state graph in one process: add --no-liveness, or run without --cluster`);
  }
  // The coordinator's own progress reports and stop requests (the workers get neither).
  const local = new Model(spec, normalizeOptions(spec, { ...published, ...(given.onProgress && { onProgress: given.onProgress }), ...(given.stop && { stop: given.stop }) }));
  const run = await ClusterRun.open(url, { kind: o.mode === 'random' ? 'swarm' : 'bfs', spec: specRef, variant: spec.variantName ?? null, options: encodeOptions(published) }, workers);
  try {
    if (o.mode === 'random') return await swarm(spec, local, published, specRef, run);
    const r = await partitionedBfs(local, run);
    return withCluster(searchResult(local, specRef, r), r.cluster);
  } finally {
    await run.close();
  }
}

async function swarm(spec: Protocol, model: Model, published: CheckOptions, specRef: string, run: ClusterRun): Promise<CheckResult> {
  const found = await swarmSearch(model, run);
  if (found.finding === null) return withCluster(walksResult(model, specRef, found.run), found.cluster);
  const { report, strategy } = found.finding;
  let again: Model;
  let result: CheckResult;
  if (strategy.strategy === 'dfs') {
    // A DFS job's path, followed here by its fingerprints (the run's options build the same world).
    again = new Model(spec, normalizeOptions(spec, published));
    result = searchResult(again, specRef, { outcome: dfsOutcome(again, report), stats: found.run.stats, goals: found.run.goals });
  } else {
    // The failing walk, re-run here under its job's strategy: the same seed and index give the same walk.
    again = new Model(spec, normalizeOptions(spec, { ...withStrategy(published, strategy), walk: report.walk! }));
    const walked = randomWalks(again);
    result = walksResult(again, specRef, { ...walked, stats: found.run.stats, goals: found.run.goals });
  }
  if ((result.result === 'violation' || result.result === 'deadlock') && result.trace && result.trace.bounded === undefined) {
    const shorter = minimizeTrace(again, result.trace, { timeSeconds: MINIMIZE_SECONDS });
    result.trace = shorter.trace;
  }
  return withCluster(result, found.cluster);
}

/** A DFS job's failure as an exhaustive search's outcome (check.ts turns its fingerprint path into the trace). */
function dfsOutcome(model: Model, report: JobReport): SearchOutcome {
  const path = report.path!;
  if (report.outcome === 'violation') return { kind: 'violation', property: report.property!, path };
  if (report.outcome === 'deadlock') return { kind: 'deadlock', path };
  // A handler threw while the path's last state was expanded: find the event here.
  const last = concretize(model, path).states.at(-1)!;
  let event: TraceEvent | null = null;
  try {
    model.world.successors(last, () => {});
  } catch (e) {
    if (!(e instanceof HandlerError)) throw e;
    event = model.world.describe(last);
  }
  return { kind: 'error', error: report.error!, path, event };
}

function withCluster(result: CheckResult, cluster: ClusterStats): CheckResult {
  return { ...result, stats: { ...result.stats, cluster } };
}
