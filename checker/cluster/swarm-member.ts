/**
 * A worker's part in a swarm search: claim a job (moved atomically from the run's queue to this
 * worker's claimed list, where the coordinator finds it again if this worker's heartbeat
 * expires), run it in short slices (the stop flag is seen between them): a walk job with random
 * mode's walker, a DFS job with bounded-dfs.ts. Then add the fingerprints it saw to the run's
 * HyperLogLog (coverage), store the report under the job's id unless one is there already
 * (HSETNX: a job run twice reports once), tell the coordinator, and release the claim.
 */
import type { Redis } from 'ioredis';
import type { Protocol } from '../../specs/core/index.ts';
import { Model } from '../model.ts';
import { normalizeOptions, type CheckOptions } from '../options.ts';
import { randomWalks, Walker } from '../random.ts';
import type { RunKeys } from './redis-link.ts';
import { BoundedDfs } from './bounded-dfs.ts';
import { withStrategy, type DfsStrategy, type JobReport, type SwarmJob } from './swarm-jobs.ts';

/** Walks run between two looks at the event loop (heartbeat) and the stop flag. */
const SLICE_WALKS = 4;
/** DFS steps (states arrived at) between two looks at the stop flag. */
const SLICE_STATES = 4000;
/** Fingerprints per PFADD. */
const COVERAGE_BATCH = 10_000;

/** Serves walk jobs until the queue stays empty and the coordinator ends the run (or a stop). */
export async function serveSwarm(spec: Protocol, redis: Redis, k: RunKeys, worker: number, options: CheckOptions, stop: () => boolean): Promise<void> {
  const models = new Map<string, Model>();
  for (;;) {
    // EXISTS counts the keys there: 1 means the coordinator is alive and no stop was asked.
    if (stop() || (await redis.exists(k.stop, k.coordinator)) !== 1) return;
    const text = await redis.lmove(k.jobs, k.claimed(worker), 'LEFT', 'RIGHT');
    if (text === null) {
      await new Promise((r) => setTimeout(r, 100)); // a lost job may be put back
      continue;
    }
    const job = JSON.parse(text) as SwarmJob;
    const s = job.strategy;
    // DFS jobs use the run's own options (only the world matters to them); walk jobs their strategy's.
    const key = s.strategy === 'dfs' ? 'dfs' : JSON.stringify(s);
    let model = models.get(key);
    if (!model) {
      model = new Model(spec, normalizeOptions(spec, s.strategy === 'dfs' ? options : withStrategy(options, s)));
      models.set(key, model);
    }
    const stopped = async () => stop() || (await redis.exists(k.stop)) === 1;
    const { report, seen } = s.strategy !== 'dfs'
      ? await walkJob(model, job, worker, stopped)
      : (await redis.exists(k.searched)) === 1
        ? { report: { id: job.id, worker, outcome: 'done' as const, walks: 0, steps: 0, distinct: 0, deepest: 0, goals: [] }, seen: [] }
        : await dfsJob(model, job, s, worker, stopped);
    // A DFS job that searched every state with every fault kind: the DFS jobs after it would find nothing new.
    if (report.complete && s.strategy === 'dfs' && s.omit.length === 0) await redis.set(k.searched, '1', 'EX', 86_400);
    if (report.outcome !== 'stopped') {
      // Coverage: every fingerprint the job saw goes into the run's HyperLogLog (adding one twice changes nothing).
      for (let i = 0; i < seen.length; i += COVERAGE_BATCH) await redis.pfadd(k.coverage, ...seen.slice(i, i + COVERAGE_BATCH));
      await redis.hsetnx(k.results, String(job.id), JSON.stringify(report));
      await redis.rpush(k.reports, JSON.stringify({ kind: 'job', id: job.id, worker }));
    }
    await redis.lrem(k.claimed(worker), 1, text);
  }
}

/** Walks a job's range in slices on one walker (its memo and visited set carry over). */
async function walkJob(model: Model, job: SwarmJob, worker: number, stopped: () => Promise<boolean>): Promise<{ report: JobReport; seen: string[] }> {
  const walker = new Walker(model);
  let walks = 0;
  let steps = 0;
  let deepest = 0;
  let outcome: JobReport['outcome'] = 'done';
  let failure: Pick<JobReport, 'walk' | 'property' | 'error'> = {};
  for (let from = job.from; from < job.to; from += SLICE_WALKS) {
    if (await stopped()) {
      outcome = 'stopped';
      break;
    }
    const o = model.options;
    // The same model (world, memo) with this slice's range: walks from..to of the seed, one by one.
    const slice = Object.assign(Object.create(Object.getPrototypeOf(model) as object) as Model, model, {
      options: { ...o, walks: Math.min(job.to, from + SLICE_WALKS), random: { ...o.random, walk: null, offset: from, stride: 1 } },
    });
    const run = randomWalks(slice, walker);
    walks += run.stats.walks ?? 0;
    steps = run.stats.steps ?? steps;
    deepest = Math.max(deepest, run.stats.depth);
    const r = run.outcome;
    if (r.kind === 'violation' || r.kind === 'deadlock' || r.kind === 'error') {
      outcome = r.kind;
      failure = { walk: r.walk, ...(r.kind === 'violation' && { property: r.property }), ...(r.kind === 'error' && { error: r.error }) };
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  const seen: string[] = [];
  walker.store.forEach((hi, lo) => seen.push(`${hi.toString(36)}.${lo.toString(36)}`));
  const goals: [number, number][] = [];
  walker.goals.forEach((g, i) => {
    if (g.reached) goals.push([i, g.depth ?? 0]);
  });
  return { report: { id: job.id, worker, outcome, ...failure, walks, steps, distinct: walker.store.size, deepest, goals }, seen };
}

/** Runs a DFS job in slices. */
async function dfsJob(model: Model, job: SwarmJob, point: DfsStrategy, worker: number, stopped: () => Promise<boolean>): Promise<{ report: JobReport; seen: string[] }> {
  const dfs = new BoundedDfs(model, point);
  let outcome: JobReport['outcome'] = 'done';
  while (!dfs.run(SLICE_STATES)) {
    if (await stopped()) {
      outcome = 'stopped';
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  const o = dfs.outcome;
  let failure: Pick<JobReport, 'property' | 'error' | 'path'> = {};
  if (outcome !== 'stopped' && (o.kind === 'violation' || o.kind === 'deadlock' || o.kind === 'error')) {
    outcome = o.kind;
    failure = { path: o.path, ...(o.kind === 'violation' && { property: o.property }), ...(o.kind === 'error' && { error: o.error }) };
  }
  const seen: string[] = [];
  dfs.forEachSeen((hi, lo) => seen.push(`${hi.toString(36)}.${lo.toString(36)}`));
  const goals: [number, number][] = [];
  dfs.search.goals.forEach((g, i) => {
    if (g.reached) goals.push([i, g.depth ?? 0]);
  });
  const complete = o.kind === 'done' && o.complete;
  return { report: { id: job.id, worker, outcome, ...failure, walks: 0, steps: dfs.generated, distinct: dfs.distinct, deepest: dfs.deepest, goals, ...(complete && { complete }) }, seen };
}
